//! `segment-ld-bridge`: the native command line around the core.
//!
//! Native only: its dependencies (clap, toml, ureq) are not built for wasm32, where the Worker
//! and the playground are the adapters, so on wasm32 this binary is an empty stub.
//!
//! Modules: this file (the program, `preview`, `check`, `trigger`, `transform`), `launchdarkly`
//! (`launchdarkly pull` and `launchdarkly correlate`), `rest` (their HTTP client).

#[cfg(not(target_arch = "wasm32"))]
mod launchdarkly;
#[cfg(not(target_arch = "wasm32"))]
mod rest;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use clap::{Args, CommandFactory, Parser, Subcommand};
    use segment_ld_bridge::api::{dev_mode_on, DEV_MODE_WARNING, VAR_DEV_MODE};
    use segment_ld_bridge::config::refreshed::{
        RefreshSetup, REFRESH_VARS, STORE_BINDINGS, VAR_API_TOKEN, VAR_PROJECT_KEY,
    };
    use segment_ld_bridge::config::UnknownKeyPolicy;
    use segment_ld_bridge::config::{
        read_document, BridgeConfig, ConfigProblem, Destination, SourceHint, CONFIG_VARS,
        VAR_CLIENT_SIDE_ID, VAR_EVENTS_HOST, VAR_SHARED_SECRET, VAR_TIMESTAMP_EARLIEST,
        VAR_TIMESTAMP_MAX_FUTURE_SECONDS, VAR_WRITE_KEY,
    };
    use segment_ld_bridge::delivery::{
        dead_letter_ttl_seconds, RetryPolicy, VAR_DEAD_LETTER_TTL_DAYS,
    };
    use segment_ld_bridge::inbound;
    use segment_ld_bridge::mapping::Mapping;
    use segment_ld_bridge::pipeline;
    use segment_ld_bridge::track_event::TrackEventMapping;
    use segment_ld_bridge::trigger::Trigger;
    use serde_json::{json, Map, Value};
    use std::io::Read;
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;
    use std::time::{SystemTime, UNIX_EPOCH};

    /// Exit status 2 is also clap's, for the arguments it refuses.
    const EXIT_STATUS: &str = "\
Exit status: 0 done, 1 `check` found problems or LaunchDarkly's API failed (`launchdarkly`),
2 bad arguments, input, trigger or mapping (the error is printed on standard error).";

    /// Segment track events to LaunchDarkly custom metric events.
    #[derive(Parser)]
    #[command(
        name = "segment-ld-bridge",
        version,
        after_help = EXIT_STATUS
    )]
    struct Cli {
        #[command(subcommand)]
        command: Option<Command>,
    }

    #[derive(Subcommand)]
    enum Command {
        Preview(PreviewArgs),
        Check(CheckArgs),
        Trigger(TriggerArgs),
        Transform(TransformArgs),
        #[command(name = "launchdarkly")]
        LaunchDarkly(crate::launchdarkly::LaunchDarklyArgs),
    }

    /// Prints what the bridge would send to LaunchDarkly for the events; nothing is sent
    ///
    /// Prints {"requests":[{destination,method,url,headers,body}],
    ///         "outcomes":[{index,status,reason,message}]}
    /// for the events (one event, a JSON array, or {"batch":[...]}) read from EVENTS_FILE or
    /// standard input. The destinations are those of --config FILE, or one: --client-side-id ID
    /// (with --events-base and --mapping).
    #[derive(Args)]
    #[command(args_override_self = true, verbatim_doc_comment, after_help = EXIT_STATUS)]
    struct PreviewArgs {
        /// The events (default: standard input)
        events_file: Option<PathBuf>,
        /// A configuration document (JSON); not with --client-side-id or --mapping
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// One LaunchDarkly environment [default: $LD_CLIENT_SIDE_ID]
        #[arg(long, value_name = "ID")]
        client_side_id: Option<String>,
        /// us (default), eu, federal, a base URL or a host [default: $LD_EVENTS_HOST]
        #[arg(long, value_name = "URL")]
        events_base: Option<String>,
        /// A Track Event field mapping (Segment's JSON format) laid over the preset
        #[arg(long, value_name = "MAPPING_FILE")]
        mapping: Option<PathBuf>,
        /// Route as a request to /segment/SOURCE_ID
        #[arg(long, value_name = "SOURCE_ID")]
        source: Option<String>,
        /// creationDate for events without a timestamp [default: now]
        #[arg(long, value_name = "UNIX_MS", allow_negative_numbers = true)]
        received_at: Option<i64>,
    }

    /// Validates the configuration and prints every problem with its location
    ///
    /// Reads a JSON document (--config), or by default the [vars] of ./wrangler.toml
    /// (BRIDGE_CONFIG, or LD_CLIENT_SIDE_ID / LD_EVENTS_HOST / TRACK_EVENT_MAPPING).
    /// Exit status 1 when there is a problem.
    #[derive(Args)]
    #[command(args_override_self = true, verbatim_doc_comment, after_help = EXIT_STATUS)]
    struct CheckArgs {
        /// A configuration document (JSON) instead of the [vars] of ./wrangler.toml
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    }

    /// Prints true or false: whether the event matches the trigger.
    #[derive(Args)]
    #[command(after_help = EXIT_STATUS)]
    struct TriggerArgs {
        /// A Segment subscription trigger, e.g. 'type = "track" and event = "Order Completed"'
        expression: String,
        /// The event (default: standard input)
        event_file: Option<PathBuf>,
    }

    /// Prints the result of a Segment mapping on a payload.
    #[derive(Args)]
    #[command(args_override_self = true, after_help = EXIT_STATUS)]
    struct TransformArgs {
        /// The mapping, in Segment's JSON format
        #[arg(long, value_name = "FILE")]
        mapping: PathBuf,
        /// The payload (default: standard input)
        payload_file: Option<PathBuf>,
    }

    /// A failure that ends the command with an exit status and a message.
    struct CliError {
        status: u8,
        message: String,
    }

    impl<E: std::fmt::Display> From<E> for CliError {
        fn from(error: E) -> Self {
            usage_error(error.to_string())
        }
    }

    fn usage_error(message: impl Into<String>) -> CliError {
        CliError {
            status: 2,
            message: message.into(),
        }
    }

    /// Parses the arguments (clap answers --help, --version and usage errors itself, with exit
    /// status 0 or 2) and runs the command.
    pub fn main() -> ExitCode {
        let output = match Cli::parse().command {
            None => Ok(Cli::command().render_long_help().to_string()),
            Some(Command::Preview(args)) => preview(&args),
            Some(Command::Check(args)) => check(&args),
            Some(Command::Trigger(args)) => trigger(&args),
            Some(Command::Transform(args)) => transform(&args),
            Some(Command::LaunchDarkly(args)) => {
                crate::launchdarkly::run(&args).map_err(|failure| CliError {
                    status: failure.status,
                    message: failure.message,
                })
            }
        };
        match output {
            Ok(output) => {
                println!("{}", output.trim_end_matches('\n'));
                ExitCode::SUCCESS
            }
            Err(CliError { status, message }) => {
                eprintln!("{}", message.trim_end_matches('\n'));
                ExitCode::from(status)
            }
        }
    }

    fn preview(args: &PreviewArgs) -> Result<String, CliError> {
        let config = match &args.config {
            Some(path) => {
                if args.client_side_id.is_some() || args.mapping.is_some() {
                    return Err(usage_error(
                        "--config names the destinations and mappings: leave out --client-side-id and --mapping",
                    ));
                }
                config_from_file(path).map_err(|problems| usage_error(problems_text(&problems)))?
            }
            None => config_from_flags(args)?,
        };
        let received_at = args.received_at.unwrap_or_else(now_millis);
        let input = read_input(args.events_file.as_deref())?;
        let events = inbound::parse_events(input.as_bytes())?;
        let hint = match &args.source {
            Some(id) => SourceHint::SourceId(id),
            None => SourceHint::None,
        };
        let route = config
            .route(hint)
            .map_err(|error| usage_error(error.message))?;
        let processed = pipeline::process(
            &config,
            &route,
            pipeline::Events::Parsed(&events),
            pipeline::Options::at(received_at),
        );
        // The payloads as the requests they become, with headers as an object and the body as
        // JSON, for reading; the core wrote the body, so it parses (else it is shown as text).
        let requests: Vec<Value> = processed
            .payloads
            .iter()
            .map(|planned| {
                let headers: Map<String, Value> = planned
                    .headers()
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), Value::from(value.into_owned())))
                    .collect();
                let body: Value = serde_json::from_str(&planned.body)
                    .unwrap_or_else(|_| Value::String(planned.body.clone()));
                json!({
                    "destination": planned.destination,
                    "method": "POST",
                    "url": planned.url,
                    "headers": headers,
                    "body": body,
                })
            })
            .collect();
        Ok(serde_json::to_string_pretty(&json!({
            "requests": requests,
            "outcomes": processed.outcomes,
        }))?)
    }

    fn config_from_flags(args: &PreviewArgs) -> Result<BridgeConfig, CliError> {
        let client_side_id = args
            .client_side_id
            .clone()
            .or_else(|| std::env::var(VAR_CLIENT_SIDE_ID).ok())
            .ok_or_else(|| {
                usage_error(format!(
                    "give --config FILE or --client-side-id ID (or set {VAR_CLIENT_SIDE_ID})"
                ))
            })?;
        let events_base = args
            .events_base
            .clone()
            .or_else(|| std::env::var(VAR_EVENTS_HOST).ok())
            .unwrap_or_default();
        let destination = Destination::new(&client_side_id, &events_base)
            .map_err(|problems| usage_error(problems_text(&problems)))?;
        let mapping = match &args.mapping {
            None => TrackEventMapping::preset()?,
            Some(path) => {
                let value = read_json(path)?;
                TrackEventMapping::with_overrides(&value)
                    .map_err(|error| usage_error(format!("{}: {error}", path.display())))?
            }
        };
        Ok(BridgeConfig::single(destination, mapping))
    }

    fn config_from_file(path: &Path) -> Result<BridgeConfig, Vec<ConfigProblem>> {
        let document = read_json(path).map_err(|error| {
            vec![ConfigProblem {
                location: path.display().to_string(),
                message: error.message,
            }]
        })?;
        read_document(&document)
    }

    fn check(args: &CheckArgs) -> Result<String, CliError> {
        let (what, result, deployment) = match &args.config {
            Some(path) => (
                path.display().to_string(),
                config_from_file(path),
                DeploymentCheck::default(),
            ),
            None => {
                let (result, deployment) = config_from_wrangler_toml()?;
                ("wrangler.toml [vars]".to_string(), result, deployment)
            }
        };
        // What the Worker refuses too: a deployment that authenticates no event.
        let result = result.and_then(|config| match config.authentication_problem() {
            Some(problem) => Err(vec![problem]),
            None => Ok(config),
        });
        let result = match (result, deployment.problems) {
            (Ok(config), problems) if problems.is_empty() => Ok(config),
            (Ok(_), problems) => Err(problems),
            (Err(mut problems), more) => {
                problems.extend(more);
                Err(problems)
            }
        };
        match result {
            Ok(config) => {
                let mut report = format!(
                    "{what}: ok ({} destinations, {} subscriptions, {} sources)",
                    config.destinations.len(),
                    config.subscriptions.len(),
                    config.sources.len()
                );
                for warning in &config.warnings {
                    report.push_str(&format!("\nwarning: {warning}"));
                }
                for destination in &config.destinations {
                    if let Some(catalogue) = &destination.catalogue {
                        let line = catalogue.describe();
                        report.push_str(&format!("\ncatalogue of {:?}: {line}", destination.name));
                    }
                }
                for line in deployment.lines {
                    report.push_str(&format!("\n{line}"));
                }
                for name in config.secret_names().into_iter().chain(deployment.secrets) {
                    report.push_str(&format!(
                        "\nnote: the Worker secret {name} must be set (wrangler secret put {name})"
                    ));
                }
                Ok(report)
            }
            Err(problems) => {
                let mut message = format!(
                    "{what}: {} problem{}\n{}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    problems_text(&problems)
                );
                if args.config.is_none() && problems.iter().any(|p| p.location == "sources") {
                    message.push_str(&format!(
                        "\nnote: check cannot see Worker secrets; if {} or {} is set with `wrangler secret put`, export it to check too",
                        SECRET_VARS[0], SECRET_VARS[1]
                    ));
                }
                Err(CliError { status: 1, message })
            }
        }
    }

    /// The simple configuration's Worker secrets.
    const SECRET_VARS: [&str; 2] = [VAR_SHARED_SECRET, VAR_WRITE_KEY];

    /// Reads the configuration variables from `./wrangler.toml` as the Worker would see them
    /// (secrets and `--var` overrides aside), and what else [`DeploymentCheck`] finds there.
    fn config_from_wrangler_toml(
    ) -> Result<(Result<BridgeConfig, Vec<ConfigProblem>>, DeploymentCheck), CliError> {
        let text = std::fs::read_to_string("wrangler.toml").map_err(|error| {
            usage_error(format!("wrangler.toml: {error} (or give --config FILE)"))
        })?;
        let manifest: toml::Table = toml::from_str(&text)
            .map_err(|error| usage_error(format!("wrangler.toml: {error}")))?;
        let vars = manifest
            .get("vars")
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default();
        let deployment = DeploymentCheck::of(&manifest, &vars);
        let mut values = Vec::new();
        let timestamp_vars = [VAR_TIMESTAMP_EARLIEST, VAR_TIMESTAMP_MAX_FUTURE_SECONDS];
        for name in CONFIG_VARS.into_iter().chain(timestamp_vars) {
            // The simple configuration's secrets are never in wrangler.toml: `check` sees them
            // only when they are exported to it.
            let value = if SECRET_VARS.contains(&name) {
                var_or_exported(&vars, name)
            } else {
                var_text(&vars, name)
            };
            values.push((name, value));
        }
        // Worker secrets are not in wrangler.toml: `check` takes them as set (the Worker itself
        // answers 503 naming any that is missing).
        let config =
            BridgeConfig::from_vars(
                |name| match values.iter().find(|(known, _)| *known == name) {
                    Some((_, value)) => value.clone(),
                    None => Some("<worker secret>".to_string()),
                },
            );
        Ok((config, deployment))
    }

    /// A `[vars]` value as the Worker reads it (`env.var`, else the JSON of `env.object_var`): a
    /// string as it is, anything else (a number, a boolean, a table such as `BRIDGE_CONFIG`) as
    /// its JSON text.
    fn var_text(vars: &toml::Table, name: &str) -> Option<String> {
        match vars.get(name)? {
            toml::Value::String(text) => Some(text.clone()),
            other => serde_json::to_string(other).ok(),
        }
    }

    /// A secret as `check` can see it: in `[vars]` (where it should not be), else exported to
    /// `check`.
    fn var_or_exported(vars: &toml::Table, name: &str) -> Option<String> {
        var_text(vars, name).or_else(|| std::env::var(name).ok())
    }

    /// What `check` finds in wrangler.toml besides the configuration, by the core's rules for
    /// the same variables and bindings: the delivery policy (the Worker answers 503 without
    /// it), the dead letters' expiry (the Worker logs an error and keeps the default), dev mode
    /// (a warning), and the catalogue refresh (the Worker runs without it: `/health` says
    /// `invalid_settings`).
    #[derive(Default)]
    struct DeploymentCheck {
        problems: Vec<ConfigProblem>,
        /// Lines of the report: what the catalogue refresh will do, and warnings.
        lines: Vec<String>,
        /// Worker secrets `check` cannot see and takes as set.
        secrets: Vec<&'static str>,
    }

    impl DeploymentCheck {
        fn of(manifest: &toml::Table, vars: &toml::Table) -> DeploymentCheck {
            let var = |name: &str| var_text(vars, name);
            let mut check = DeploymentCheck::default();
            if let Err(problems) = RetryPolicy::from_vars(var) {
                check.problems.extend(problems);
            }
            if let Err(problem) = dead_letter_ttl_seconds(var(VAR_DEAD_LETTER_TTL_DAYS).as_deref())
            {
                check.problems.push(problem);
            }
            if dev_mode_on(var(VAR_DEV_MODE).as_deref()) {
                check.lines.push(format!("warning: {DEV_MODE_WARNING}"));
            }
            check.refresh(manifest, vars);
            check
        }

        /// The catalogue refresh, when wrangler.toml means it (its token or project in
        /// `[vars]`, one of its options set, or a Cron Trigger, which only the refresh uses;
        /// not a token exported for the `launchdarkly` commands alone). Its two secrets are
        /// read from `[vars]` or from what is exported to `check`, else taken as set.
        fn refresh(&mut self, manifest: &toml::Table, vars: &toml::Table) {
            let var = |name: &str| var_text(vars, name);
            let crons = manifest
                .get("triggers")
                .and_then(|triggers| triggers.get("crons"))
                .and_then(toml::Value::as_array)
                .map_or(0, Vec::len);
            let seen =
                |name: &str| var_or_exported(vars, name).filter(|value| !value.trim().is_empty());
            if crons == 0 && REFRESH_VARS.iter().all(|name| var(name).is_none()) {
                return;
            }
            let (token, project) = (seen(VAR_API_TOKEN), seen(VAR_PROJECT_KEY));
            if var(VAR_API_TOKEN).is_some() {
                self.lines.push(format!("warning: {VAR_API_TOKEN} is in wrangler.toml: an access token belongs in a Worker secret (wrangler secret put {VAR_API_TOKEN}), not in a file that is committed"));
            }
            self.secrets = [(VAR_API_TOKEN, &token), (VAR_PROJECT_KEY, &project)]
                .into_iter()
                .filter(|(_, value)| value.is_none())
                .map(|(name, _)| name)
                .collect();
            let bound = manifest
                .get("kv_namespaces")
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|namespace| namespace.get("binding").and_then(toml::Value::as_str))
                .any(|binding| STORE_BINDINGS.contains(&binding));
            // A secret taken as set: a placeholder that reads as a token and a project key.
            let taken_as_set = |value: &Option<String>| {
                Some(value.clone().unwrap_or_else(|| "worker-secret".to_string()))
            };
            let setup = RefreshSetup::from_vars(
                |name| match name {
                    VAR_API_TOKEN => taken_as_set(&token),
                    VAR_PROJECT_KEY => taken_as_set(&project),
                    _ => var(name),
                },
                bound,
            );
            match setup {
                RefreshSetup::On(settings) => {
                    let project = match &project {
                        Some(key) => format!("project {key:?}"),
                        None => format!("the project the Worker secret {VAR_PROJECT_KEY} names,"),
                    };
                    let unknown = match settings.unknown_keys {
                        UnknownKeyPolicy::Send => "sent and reported",
                        UnknownKeyPolicy::Drop => "dropped and reported",
                    };
                    let given_to = if settings.replaces_hand_written {
                        "every destination of the project"
                    } else {
                        "the project's destinations without a catalogue of their own"
                    };
                    self.lines.push(format!(
                        "catalogue refresh: the metrics of {project} from {}, given to {given_to}; unknown event keys {unknown}",
                        settings.api_base.as_str()
                    ));
                    if crons == 0 {
                        self.lines.push("warning: no [triggers] crons: the Worker refreshes the catalogue on its Cron Trigger only (crons = [\"*/15 * * * *\"])".to_string());
                    }
                }
                RefreshSetup::Invalid(problems) => self.problems.extend(problems),
                RefreshSetup::Off => {}
            }
        }
    }

    fn trigger(args: &TriggerArgs) -> Result<String, CliError> {
        let trigger = Trigger::parse(&args.expression)
            .map_err(|error| usage_error(format!("invalid trigger: {error}")))?;
        let event: Value = serde_json::from_str(&read_input(args.event_file.as_deref())?)
            .map_err(|error| usage_error(format!("the event is not valid JSON: {error}")))?;
        for warning in trigger.warnings() {
            eprintln!("warning: {warning}");
        }
        Ok(trigger.matches(&event).to_string())
    }

    fn transform(args: &TransformArgs) -> Result<String, CliError> {
        let path = &args.mapping;
        let mapping = Mapping::compile(&read_json(path)?).map_err(|errors| {
            usage_error(format!("{}: invalid mapping\n{errors}", path.display()))
        })?;
        let payload: Value = serde_json::from_str(&read_input(args.payload_file.as_deref())?)
            .map_err(|error| usage_error(format!("the payload is not valid JSON: {error}")))?;
        let result = mapping
            .apply(&payload)
            .map_err(|error| usage_error(format!("the mapping failed: {error}")))?;
        Ok(serde_json::to_string_pretty(&result)?)
    }

    fn problems_text(problems: &[ConfigProblem]) -> String {
        problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn read_input(path: Option<&Path>) -> Result<String, CliError> {
        match path {
            Some(path) => read_file(path),
            None => {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                Ok(text)
            }
        }
    }

    fn read_json(path: &Path) -> Result<Value, CliError> {
        serde_json::from_str(&read_file(path)?)
            .map_err(|error| usage_error(format!("{}: not valid JSON: {error}", path.display())))
    }

    fn read_file(path: &Path) -> Result<String, CliError> {
        std::fs::read_to_string(path)
            .map_err(|error| usage_error(format!("{}: {error}", path.display())))
    }

    fn now_millis() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as i64)
            .unwrap_or(0)
    }

    #[cfg(test)]
    mod tests {
        use super::Cli;
        use clap::CommandFactory;

        #[test]
        fn the_command_line_definition_is_consistent() {
            Cli::command().debug_assert();
        }
    }
}
