//! `segment-ld-bridge`: the native command line around the core.

use segment_ld_bridge::config::{
    read_document, BridgeConfig, ConfigProblem, Destination, CONFIG_VARS, VAR_BRIDGE_CONFIG,
    VAR_CLIENT_SIDE_ID, VAR_EVENTS_HOST,
};
use segment_ld_bridge::inbound;
use segment_ld_bridge::mapping::Mapping;
use segment_ld_bridge::pipeline;
use segment_ld_bridge::track_event::TrackEventMapping;
use segment_ld_bridge::trigger::Trigger;
use serde_json::{json, Map, Value};
use std::io::Read;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

const USAGE: &str = "\
segment-ld-bridge: Segment track events to LaunchDarkly custom metric events

Usage:
  segment-ld-bridge preview [EVENTS_FILE] [--config FILE | --client-side-id ID
                            [--events-base URL] [--mapping MAPPING_FILE]]
                            [--source SOURCE_ID] [--received-at UNIX_MS]
      Prints {\"requests\":[{url,headers,body}],\"outcomes\":[{index,status,reason,message}]}:
      what the bridge would send to LaunchDarkly for the events (one event, a JSON array, or
      {\"batch\":[...]}) read from EVENTS_FILE or standard input. Nothing is sent.
      --config          a configuration document (JSON: destinations, subscriptions, sources)
      --client-side-id  one LaunchDarkly environment (default: $LD_CLIENT_SIDE_ID)
      --events-base     us (default), eu, federal, a base URL or a host (default: $LD_EVENTS_HOST)
      --mapping         a Track Event field mapping in Segment's JSON format, laid over the preset
      --source          route as a request to /segment/SOURCE_ID
      --received-at     creationDate for events without a timestamp (default: now)
  segment-ld-bridge check [--config FILE]
      Validates the configuration: a JSON document, or by default the [vars] of ./wrangler.toml
      (BRIDGE_CONFIG, or LD_CLIENT_SIDE_ID / LD_EVENTS_HOST / TRACK_EVENT_MAPPING). Prints every
      problem with its location. Exit status 1 when there is one.
  segment-ld-bridge trigger 'EXPRESSION' [EVENT_FILE]
      Prints true or false: whether the event (file or standard input) matches the trigger.
  segment-ld-bridge transform --mapping FILE [PAYLOAD_FILE]
      Prints the result of a Segment mapping on a payload (file or standard input).
  segment-ld-bridge --help | --version

Exit status: 0 done, 1 `check` found problems, 2 bad arguments, input, trigger or mapping
(the error is printed on standard error).";

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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(CliError { status, message }) => {
            eprintln!("{message}");
            ExitCode::from(status)
        }
    }
}

fn run(args: &[String]) -> Result<String, CliError> {
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => Ok(USAGE.to_string()),
        Some("-V" | "--version") => Ok(format!("segment-ld-bridge {}", env!("CARGO_PKG_VERSION"))),
        Some("preview") => preview(&Options::parse(
            rest,
            &[
                "--config",
                "--client-side-id",
                "--events-base",
                "--mapping",
                "--source",
                "--received-at",
            ],
        )?),
        Some("check") => check(&Options::parse(rest, &["--config"])?),
        Some("trigger") => trigger(&Options::parse(rest, &[])?),
        Some("transform") => transform(&Options::parse(rest, &["--mapping"])?),
        Some(other) => Err(usage_error(format!(
            "segment-ld-bridge: unknown command {other:?}; see segment-ld-bridge --help"
        ))),
    }
}

/// `--name value` options and positional arguments.
struct Options {
    named: Vec<(String, String)>,
    positional: Vec<String>,
}

impl Options {
    fn parse(args: &[String], known: &[&str]) -> Result<Options, CliError> {
        let mut named = Vec::new();
        let mut positional = Vec::new();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            if let Some((name, value)) = arg.split_once('=').filter(|_| arg.starts_with("--")) {
                named.push((check_option(name, known)?, value.to_string()));
            } else if arg.starts_with("--") {
                let name = check_option(arg, known)?;
                let value = rest
                    .next()
                    .ok_or_else(|| usage_error(format!("{arg} needs a value")))?;
                named.push((name, value.clone()));
            } else {
                positional.push(arg.clone());
            }
        }
        Ok(Options { named, positional })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.named
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn at_most(&self, count: usize, what: &str) -> Result<(), CliError> {
        if self.positional.len() > count {
            return Err(usage_error(format!("too many arguments: {what}")));
        }
        Ok(())
    }
}

fn check_option(name: &str, known: &[&str]) -> Result<String, CliError> {
    if known.contains(&name) {
        return Ok(name.to_string());
    }
    let takes = if known.is_empty() {
        "no options".to_string()
    } else {
        known.join(", ")
    };
    Err(usage_error(format!(
        "unknown option {name}; this command takes {takes}"
    )))
}

fn preview(options: &Options) -> Result<String, CliError> {
    options.at_most(1, "preview takes at most one events file")?;
    let config = match options.get("--config") {
        Some(path) => {
            if options.get("--client-side-id").is_some() || options.get("--mapping").is_some() {
                return Err(usage_error(
                    "--config names the destinations and mappings: leave out --client-side-id and --mapping",
                ));
            }
            config_from_file(path).map_err(|problems| usage_error(problems_text(&problems)))?
        }
        None => config_from_flags(options)?,
    };
    let received_at = match options.get("--received-at") {
        Some(text) => text
            .parse::<i64>()
            .map_err(|_| usage_error(format!("--received-at {text:?} is not Unix milliseconds")))?,
        None => now_millis(),
    };
    let input = read_input(options.positional.first())?;
    let events = inbound::parse_events(input.as_bytes())?;
    let hint = match options.get("--source") {
        Some(id) => segment_ld_bridge::config::SourceHint::SourceId(id),
        None => segment_ld_bridge::config::SourceHint::None,
    };
    let route = config
        .route(hint)
        .map_err(|error| usage_error(error.message))?;
    let processed = pipeline::process_routed(&config, &route, &events, received_at);
    let requests: Vec<Value> = processed
        .deliveries
        .iter()
        .map(|planned| {
            let headers: Map<String, Value> = planned
                .request
                .headers
                .iter()
                .map(|(name, value)| (name.to_string(), Value::from(value.as_ref())))
                .collect();
            let body: Value = serde_json::from_str(&planned.request.body).unwrap_or(Value::Null); // ok: the core wrote this JSON
            json!({
                "destination": planned.destination,
                "method": planned.request.method,
                "url": planned.request.url,
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

fn config_from_flags(options: &Options) -> Result<BridgeConfig, CliError> {
    let client_side_id = options
        .get("--client-side-id")
        .map(str::to_string)
        .or_else(|| std::env::var(VAR_CLIENT_SIDE_ID).ok())
        .ok_or_else(|| {
            usage_error(format!(
                "give --config FILE or --client-side-id ID (or set {VAR_CLIENT_SIDE_ID})"
            ))
        })?;
    let events_base = options
        .get("--events-base")
        .map(str::to_string)
        .or_else(|| std::env::var(VAR_EVENTS_HOST).ok())
        .unwrap_or_default();
    let destination = Destination::new(&client_side_id, &events_base)
        .map_err(|problems| usage_error(problems_text(&problems)))?;
    let mapping = match options.get("--mapping") {
        None => TrackEventMapping::preset()?,
        Some(path) => {
            let value = read_json(path)?;
            TrackEventMapping::with_overrides(&value)
                .map_err(|error| usage_error(format!("{path}: {error}")))?
        }
    };
    Ok(BridgeConfig::single(destination, mapping))
}

fn config_from_file(path: &str) -> Result<BridgeConfig, Vec<ConfigProblem>> {
    let document = read_json(path).map_err(|error| {
        vec![ConfigProblem {
            location: path.to_string(),
            message: error.message,
        }]
    })?;
    read_document(&document)
}

fn check(options: &Options) -> Result<String, CliError> {
    options.at_most(0, "check takes --config FILE or nothing")?;
    let (what, result) = match options.get("--config") {
        Some(path) => (path.to_string(), config_from_file(path)),
        None => (
            "wrangler.toml [vars]".to_string(),
            config_from_wrangler_toml()?,
        ),
    };
    // What the Worker refuses too: a deployment that authenticates no event.
    let result = result.and_then(|config| match config.authentication_problem() {
        Some(problem) => Err(vec![problem]),
        None => Ok(config),
    });
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
            for name in config.secret_names() {
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
            if options.get("--config").is_none() && problems.iter().any(|p| p.location == "sources")
            {
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
const SECRET_VARS: [&str; 2] = [
    segment_ld_bridge::config::VAR_SHARED_SECRET,
    segment_ld_bridge::config::VAR_WRITE_KEY,
];

/// Reads the configuration variables from `./wrangler.toml` as the Worker would see them
/// (secrets and `--var` overrides aside).
fn config_from_wrangler_toml() -> Result<Result<BridgeConfig, Vec<ConfigProblem>>, CliError> {
    let text = std::fs::read_to_string("wrangler.toml")
        .map_err(|error| usage_error(format!("wrangler.toml: {error} (or give --config FILE)")))?;
    let manifest: toml::Table =
        toml::from_str(&text).map_err(|error| usage_error(format!("wrangler.toml: {error}")))?;
    let vars = manifest
        .get("vars")
        .and_then(toml::Value::as_table)
        .cloned()
        .unwrap_or_default();
    let mut values = Vec::new();
    let timestamp_vars = [
        segment_ld_bridge::config::VAR_TIMESTAMP_EARLIEST,
        segment_ld_bridge::config::VAR_TIMESTAMP_MAX_FUTURE_SECONDS,
    ];
    for name in CONFIG_VARS.into_iter().chain(timestamp_vars) {
        let value = match vars.get(name) {
            // The simple configuration's secrets are never in wrangler.toml: `check` sees them
            // only when they are exported to it.
            None if SECRET_VARS.contains(&name) => std::env::var(name).ok(),
            None => None,
            Some(toml::Value::String(text)) => Some(text.clone()),
            Some(table) if name == VAR_BRIDGE_CONFIG => Some(serde_json::to_string(table)?),
            Some(_) => Some(String::new()),
        };
        values.push((name, value));
    }
    // Worker secrets are not in wrangler.toml: `check` takes them as set (the Worker itself
    // answers 503 naming any that is missing).
    Ok(BridgeConfig::from_vars(|name| {
        match values.iter().find(|(known, _)| *known == name) {
            Some((_, value)) => value.clone(),
            None => Some("<worker secret>".to_string()),
        }
    }))
}

fn trigger(options: &Options) -> Result<String, CliError> {
    options.at_most(2, "trigger takes an expression and at most one event file")?;
    let expression = options
        .positional
        .first()
        .ok_or_else(|| usage_error("give a trigger expression, e.g. 'type = \"track\"'"))?;
    let trigger = Trigger::parse(expression)
        .map_err(|error| usage_error(format!("invalid trigger: {error}")))?;
    let event: Value = serde_json::from_str(&read_input(options.positional.get(1))?)
        .map_err(|error| usage_error(format!("the event is not valid JSON: {error}")))?;
    for warning in trigger.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(trigger.matches(&event).to_string())
}

fn transform(options: &Options) -> Result<String, CliError> {
    options.at_most(1, "transform takes at most one payload file")?;
    let path = options
        .get("--mapping")
        .ok_or_else(|| usage_error("give --mapping FILE"))?;
    let mapping = Mapping::compile(&read_json(path)?)
        .map_err(|errors| usage_error(format!("{path}: invalid mapping\n{errors}")))?;
    let payload: Value = serde_json::from_str(&read_input(options.positional.first())?)
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

fn read_input(path: Option<&String>) -> Result<String, CliError> {
    match path {
        Some(path) => read_file(path),
        None => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            Ok(text)
        }
    }
}

fn read_json(path: &str) -> Result<Value, CliError> {
    serde_json::from_str(&read_file(path)?)
        .map_err(|error| usage_error(format!("{path}: not valid JSON: {error}")))
}

fn read_file(path: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|error| usage_error(format!("{path}: {error}")))
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}
