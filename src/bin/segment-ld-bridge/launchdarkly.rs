//! `segment-ld-bridge launchdarkly pull` and `launchdarkly correlate`: the commands that read
//! LaunchDarkly's REST API with the access token of `LD_API_TOKEN`. What they make of the answers
//! is the core's (`segment_ld_bridge::launchdarkly_project`); the requests are `rest`'s.

use crate::rest::{now_ms, RateLimiter, Rest, Token};
use clap::{Args, Subcommand};
use segment_ld_bridge::config::{read_document, BridgeConfig, Destination};
use segment_ld_bridge::inbound;
use segment_ld_bridge::launchdarkly::EventsBase;
use segment_ld_bridge::launchdarkly_project::{
    context_kinds_path, context_path, context_search_body, context_search_path, correlation_report,
    environment_destination, environment_path, environments_path, merge_destinations, metrics_path,
    metrics_to_catalogue, pulled_at, sample_contexts, ApiBase, ApiError, CatalogueSource,
    ContextKind, ContextRecord, ContextRef, Environment, KindExamples, Metric, Page, Reading,
    API_BASE_US, EXAMPLE_KEYS, TOKEN_VAR,
};
use segment_ld_bridge::track_event::TrackEventMapping;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The exit statuses of these commands.
pub const EXIT_STATUS: &str = "\
Exit status: 0 done, 1 LaunchDarkly's API failed or refused (401, 403, 404, 429, 5xx, network)
or an --environment is not in the project, 2 bad arguments or input (the error is printed on
standard error). The access token is never printed.";

/// Reads LaunchDarkly's REST API with the access token in LD_API_TOKEN
#[derive(Args)]
#[command(after_help = EXIT_STATUS)]
pub struct LaunchDarklyArgs {
    #[command(subcommand)]
    command: LaunchDarklyCommand,
}

#[derive(Subcommand)]
enum LaunchDarklyCommand {
    Pull(PullArgs),
    Correlate(CorrelateArgs),
}

/// Prints (or merges into --write FILE) the destinations and metric catalogue of a project
///
/// Reads the project's environments and metrics (every page) and prints a configuration
/// document with one destination per environment (or per --environment): named by the
/// environment's key, with its client-side ID (never its SDK or mobile key), its events host,
/// and the project's custom metrics (pageview and click metrics have no event key and are
/// left out; standard error says how many). The token is read from LD_API_TOKEN.
#[derive(Args)]
#[command(args_override_self = true, verbatim_doc_comment, after_help = EXIT_STATUS)]
struct PullArgs {
    /// The project's key
    #[arg(long, value_name = "PROJECT_KEY")]
    project: String,
    /// Only this environment (repeatable) [default: every environment]
    #[arg(long = "environment", value_name = "ENV_KEY")]
    environments: Vec<String>,
    /// LaunchDarkly's API: https://app.launchdarkly.com, https://app.eu.launchdarkly.com or
    /// https://app.launchdarkly.us (the events host follows)
    #[arg(long, value_name = "URL", default_value = API_BASE_US)]
    api_base: String,
    /// The events_host to write (us, eu, federal or a URL) [default: the API base's; us for
    /// an API base that is not LaunchDarkly's]
    #[arg(long, value_name = "URL")]
    events_base: Option<String>,
    /// Merge into this configuration document (created when missing) instead of printing:
    /// destinations of the same name get the pulled client_side_id and catalogue, everything
    /// else is kept
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
}

/// Checks that LaunchDarkly knows the context keys Segment's events carry
///
/// Computes each event's context keys with the configured mapping (--config, else Segment's
/// preset), asks LaunchDarkly's Contexts API about at most --sample distinct keys (4 at a time,
/// waiting out rate limits), and reports the share of events whose context keys LaunchDarkly
/// has seen (an event counts when at least one of its keys is known; per kind too), the
/// unknown keys, known keys beside unknown ones for a kind under one half, and context kinds the
/// project does not define. Only context keys are printed, never attributes.
/// EVENTS_FILE (or standard input): one event, a JSON array, {"batch": [...]}, or one JSON
/// event per line (a Segment export).
#[derive(Args)]
#[command(args_override_self = true, verbatim_doc_comment, after_help = EXIT_STATUS)]
struct CorrelateArgs {
    /// The events (default: standard input)
    events_file: Option<PathBuf>,
    /// The project's key
    #[arg(long, value_name = "PROJECT_KEY")]
    project: String,
    /// The environment's key
    #[arg(long, value_name = "ENV_KEY")]
    environment: String,
    /// A configuration document whose subscriptions' mappings make the context keys
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Look up at most this many distinct context keys (the first ones met)
    #[arg(long, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    sample: u32,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
    /// LaunchDarkly's API (see pull)
    #[arg(long, value_name = "URL", default_value = API_BASE_US)]
    api_base: String,
}

/// How a command ends when it fails.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub status: u8,
    /// The message (one line, the token redacted).
    pub message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        status: 2,
        message: message.into(),
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure {
            status: 1,
            message: error.to_string(),
        }
    }
}

/// Lookups of contexts that run at once.
const CONCURRENCY: usize = 4;
/// A 429 asking for a longer wait than this ends `correlate`.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Attempts of one lookup through 429s.
const MAX_ATTEMPTS: usize = 6;

/// Runs a `launchdarkly` command. Whatever it prints, on either stream, never holds the token.
pub fn run(args: &LaunchDarklyArgs) -> Result<String, Failure> {
    let token = token()?;
    let redact = |text: String| redact(&text, token.expose());
    let result = match &args.command {
        LaunchDarklyCommand::Pull(pull_args) => pull(pull_args, token_copy(&token)),
        LaunchDarklyCommand::Correlate(correlate_args) => {
            correlate(correlate_args, token_copy(&token))
        }
    };
    result.map(redact).map_err(|failure| Failure {
        status: failure.status,
        message: redact(failure.message),
    })
}

fn token_copy(token: &Token) -> Token {
    Token::new(token.expose().to_string())
}

/// Replaces the token wherever it appears (a proxy or a server could echo it).
fn redact(text: &str, token: &str) -> String {
    if token.len() < 4 {
        return text.to_string();
    }
    text.replace(token, "<LD_API_TOKEN>")
}

fn token() -> Result<Token, Failure> {
    let value = std::env::var(TOKEN_VAR).unwrap_or_default();
    let value = value.trim();
    if value.is_empty() {
        return Err(usage(format!(
            "set {TOKEN_VAR} to a LaunchDarkly API access token (Account settings > Authorization; the Reader role is enough)"
        )));
    }
    let lower = value.to_ascii_lowercase();
    for (prefix, what) in [("sdk-", "an SDK key"), ("mob-", "a mobile key")] {
        if lower.starts_with(prefix) {
            return Err(usage(format!(
                "{TOKEN_VAR} holds {what}, not an API access token (api-...): create an access token (Account settings > Authorization)"
            )));
        }
    }
    if value.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(usage(format!(
            "{TOKEN_VAR} is not an access token (it has spaces or characters outside ASCII)"
        )));
    }
    Ok(Token::new(value.to_string()))
}

fn api_base(text: &str) -> Result<ApiBase, Failure> {
    ApiBase::parse(text).map_err(|error| usage(error.to_string()))
}

// ---------------------------------------------------------------------------------------------
// pull
// ---------------------------------------------------------------------------------------------

fn pull(args: &PullArgs, token: Token) -> Result<String, Failure> {
    let base = api_base(&args.api_base)?;
    // A base that is not LaunchDarkly's (a proxy, a test server) says nothing of the events
    // host: "us", and a note says so once the pull succeeded.
    let mut host_note = None;
    let events_host = match &args.events_base {
        Some(text) => {
            EventsBase::parse(text).map_err(|error| usage(format!("--events-base: {error}")))?;
            text.trim().to_string()
        }
        None => match base.events_host() {
            Some(host) => host.to_string(),
            None => {
                host_note = Some(format!(
                    "note: {} is not one of LaunchDarkly's API bases: events_host is \"us\" (give --events-base to choose)",
                    base.as_str()
                ));
                "us".to_string()
            }
        },
    };
    // The file is read before LaunchDarkly is asked, so that a bad one costs no request.
    let existing = match &args.write {
        Some(path) => Some(read_document_file(path)?),
        None => None,
    };
    // Standard error is redacted too (run() redacts the rest).
    let secret = token.expose().to_string();
    let say = |text: &str| eprintln!("{}", redact(text, &secret));
    let rest = Rest::new(base.clone(), token);
    let project = &args.project;
    let environments: Vec<Environment> = rest.get_all(
        &environments_path(project),
        &Reading::new(
            format!("the environments of project {project:?}"),
            format!("project {project:?}"),
        ),
    )?;
    let chosen = choose_environments(&environments, &args.environments, project)?;
    let metrics: Vec<Metric> = rest.get_all(
        &metrics_path(project),
        &Reading::new(
            format!("the metrics of project {project:?}"),
            format!("project {project:?}"),
        ),
    )?;
    let catalogue = metrics_to_catalogue(&metrics);
    let pulled_at = pulled_at(now_ms());
    let destinations: Vec<Value> = chosen
        .iter()
        .map(|environment| {
            environment_destination(
                environment,
                &catalogue,
                &events_host,
                &CatalogueSource {
                    project: project.clone(),
                    environment: environment.key.clone(),
                    api_base: base.as_str().to_string(),
                    pulled_at: pulled_at.clone(),
                },
            )
        })
        .collect();
    let mut summary = format!(
        "project {project:?}: {} environment{} ({}), {} custom metric{} on {} event key{}",
        chosen.len(),
        plural(chosen.len()),
        chosen
            .iter()
            .map(|environment| environment.key.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        catalogue.metrics.len(),
        plural(catalogue.metrics.len()),
        catalogue.event_keys().len(),
        plural(catalogue.event_keys().len()),
    );
    if !catalogue.left_out.is_empty() {
        summary.push_str(&format!(
            "; {} metric{} left out (pageview and click metrics have no event key, so no track event can feed them: {})",
            catalogue.left_out.len(),
            plural(catalogue.left_out.len()),
            catalogue
                .left_out
                .iter()
                .map(|metric| format!("{} ({})", metric.key, metric.kind))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(host_note) = host_note {
        say(&host_note);
    }
    match (&args.write, existing) {
        (Some(path), Some(mut document)) => {
            let merged = merge_destinations(&mut document, destinations)
                .map_err(|error| usage(format!("{}: {error}", path.display())))?;
            write_document(path, &document)?;
            let mut report = format!("{}: ", path.display());
            if !merged.updated.is_empty() {
                report.push_str(&format!("updated {}; ", merged.updated.join(", ")));
            }
            if !merged.added.is_empty() {
                report.push_str(&format!("added {}; ", merged.added.join(", ")));
            }
            report.push_str(&summary);
            Ok(report)
        }
        _ => {
            say(&summary);
            let document = serde_json::json!({ "destinations": destinations });
            serde_json::to_string_pretty(&document)
                .map_err(|error| usage(format!("the document: {error}")))
        }
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

/// The environments asked for (in the order asked), or all of them.
fn choose_environments(
    environments: &[Environment],
    wanted: &[String],
    project: &str,
) -> Result<Vec<Environment>, Failure> {
    if wanted.is_empty() {
        return Ok(environments.to_vec());
    }
    let mut chosen: Vec<Environment> = Vec::new();
    for key in wanted {
        match environments
            .iter()
            .find(|environment| environment.key == *key)
        {
            Some(environment) if !chosen.contains(environment) => chosen.push(environment.clone()),
            Some(_) => {}
            None => {
                let known: Vec<String> = environments
                    .iter()
                    .map(|environment| format!("{:?}", environment.key))
                    .collect();
                return Err(Failure {
                    status: 1,
                    message: format!(
                        "project {project:?} has no environment {key:?}; its environments are {}",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                });
            }
        }
    }
    Ok(chosen)
}

/// The document in `path`, or `null` when there is no such file.
fn read_document_file(path: &Path) -> Result<Value, Failure> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(Value::Null),
        Ok(text) => serde_json::from_str(&text)
            .map_err(|error| usage(format!("{}: not valid JSON: {error}", path.display()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Value::Null),
        Err(error) => Err(usage(format!("{}: {error}", path.display()))),
    }
}

/// Writes the document (pretty JSON and a final newline) through a temporary file beside it,
/// so that a failure never leaves half a document.
fn write_document(path: &Path, document: &Value) -> Result<(), Failure> {
    let failed = |error: std::io::Error| usage(format!("{}: {error}", path.display()));
    let mut text = serde_json::to_string_pretty(document)
        .map_err(|error| usage(format!("the document: {error}")))?;
    text.push('\n');
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, text).map_err(failed)?;
    std::fs::rename(&temporary, path).map_err(failed)
}

// ---------------------------------------------------------------------------------------------
// correlate
// ---------------------------------------------------------------------------------------------

fn correlate(args: &CorrelateArgs, token: Token) -> Result<String, Failure> {
    let base = api_base(&args.api_base)?;
    let config = match &args.config {
        Some(path) => {
            let document = read_document_file(path)?;
            read_document(&document).map_err(|problems| {
                usage(format!(
                    "{}: {}",
                    path.display(),
                    problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            })?
        }
        None => preset_config()?,
    };
    let text = match &args.events_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|error| usage(format!("{}: {error}", path.display())))?,
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|error| usage(format!("standard input: {error}")))?;
            text
        }
    };
    let events = read_events_text(&text).map_err(usage)?;
    let now = now_ms();
    let contexts: Vec<Vec<ContextRef>> = events
        .iter()
        .map(|event| event_contexts(&config, event, now))
        .collect();
    let (_, sample) = sample_contexts(&contexts, args.sample as usize);

    let rest = Rest::new(base, token);
    let limiter = RateLimiter::new(MAX_RATE_LIMIT_WAIT, MAX_ATTEMPTS);
    let (project, environment) = (&args.project, &args.environment);
    // Without this, a mistyped environment would make every key look unknown (404).
    let _: Environment = limiter.run(|| {
        rest.get(
            &rest.base().url(&environment_path(project, environment)),
            &Reading::new(
                format!("environment {environment:?} of project {project:?}"),
                format!("environment {environment:?} of project {project:?}"),
            ),
        )
    })?;
    let kinds: Vec<ContextKind> = limiter.run(|| {
        rest.get_all(
            &context_kinds_path(project),
            &Reading::new(
                format!("the context kinds of project {project:?}"),
                format!("project {project:?}"),
            ),
        )
    })?;
    let kinds: Vec<String> = kinds.into_iter().map(|kind| kind.key).collect();
    let lookups = look_up(&rest, &limiter, project, environment, &sample)?;
    let mut report = correlation_report(&contexts, &lookups, &kinds);
    for (kind, segment_keys) in report.kinds_to_compare() {
        let reading = Reading::new(
            format!("the {kind:?} contexts of environment {environment:?}"),
            format!("environment {environment:?} of project {project:?}"),
        );
        let page: Page<ContextRecord> = limiter.run(|| {
            rest.post(
                &rest.base().url(&context_search_path(project, environment)),
                &context_search_body(&kind, EXAMPLE_KEYS),
                &reading,
            )
        })?;
        let mut launchdarkly_keys: Vec<String> = Vec::new();
        for key in page
            .items
            .iter()
            .filter_map(|record| record.key_of_kind(&kind))
        {
            if !launchdarkly_keys.contains(&key) && launchdarkly_keys.len() < EXAMPLE_KEYS {
                launchdarkly_keys.push(key);
            }
        }
        report.examples.push(KindExamples {
            kind,
            launchdarkly_keys,
            segment_keys,
        });
    }
    if args.json {
        serde_json::to_string_pretty(&report).map_err(|error| usage(format!("the report: {error}")))
    } else {
        Ok(report.text(project, environment))
    }
}

/// The configuration without --config: Segment's preset to one placeholder destination (only
/// the context keys are used).
fn preset_config() -> Result<BridgeConfig, Failure> {
    let destination = Destination::new("correlate", "").map_err(|problems| {
        usage(
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let mapping = TrackEventMapping::preset().map_err(|error| usage(error.to_string()))?;
    Ok(BridgeConfig::single(destination, mapping))
}

/// The context keys of one event: those of the LaunchDarkly event of every enabled subscription
/// whose trigger matches it (none for an event no subscription takes or the mapping rejects).
fn event_contexts(config: &BridgeConfig, event: &Value, now_ms: i64) -> Vec<ContextRef> {
    let mut contexts: Vec<ContextRef> = Vec::new();
    for subscription in &config.subscriptions {
        if !subscription.enabled
            || subscription.destinations.is_empty()
            || !subscription.trigger.matches(event)
        {
            continue;
        }
        if let Ok(mapped) = subscription.mapping.map_event(event, now_ms) {
            for (kind, key) in mapped.context_keys.iter() {
                let context = ContextRef::new(kind, key);
                if !contexts.contains(&context) {
                    contexts.push(context);
                }
            }
        }
    }
    contexts
}

/// Reads Segment events: one JSON text (an event, an array, or `{"batch": [...]}`), or several
/// one after the other (one event per line, as a Segment export has them).
fn read_events_text(text: &str) -> Result<Vec<Value>, String> {
    let mut values = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        values.push(value.map_err(|error| format!("the events are not valid JSON: {error}"))?);
    }
    match values.len() {
        0 => Err("no events: give one event, a JSON array, {\"batch\": [...]} or one JSON event per line".to_string()),
        1 => inbound::parse_events(text.as_bytes())
            .map_err(|error| format!("the events: {error}")),
        _ => {
            let mut events = Vec::new();
            for value in values {
                match value {
                    Value::Array(items) => events.extend(items),
                    Value::Object(mut object) if object.get("batch").is_some_and(Value::is_array) => {
                        if let Some(Value::Array(items)) = object.remove("batch") {
                            events.extend(items);
                        }
                    }
                    other => events.push(other),
                }
            }
            Ok(events)
        }
    }
}

/// Looks each context up, [`CONCURRENCY`] at a time: known when LaunchDarkly has a record of
/// it (a non-empty `items`), unknown on an empty `items` or a 404. The first failure ends it.
fn look_up(
    rest: &Rest,
    limiter: &RateLimiter,
    project: &str,
    environment: &str,
    sample: &[ContextRef],
) -> Result<BTreeMap<ContextRef, bool>, ApiError> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Result<(ContextRef, bool), ApiError>>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..CONCURRENCY.min(sample.len()) {
            scope.spawn(|| loop {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let Some(context) = sample.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    return;
                };
                let reading = Reading::new(
                    format!(
                        "the {:?} context {:?} in environment {environment:?}",
                        context.kind, context.key
                    ),
                    format!("environment {environment:?} of project {project:?}"),
                );
                let url = rest
                    .base()
                    .url(&context_path(project, environment, context));
                let result = limiter
                    .run(|| rest.get_optional::<Page<ContextRecord>>(&url, &reading))
                    .map(|page| {
                        let known = page.is_some_and(|page| !page.items.is_empty());
                        (context.clone(), known)
                    });
                if result.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                if let Ok(mut results) = results.lock() {
                    results.push(result);
                }
            });
        }
    });
    let results = results.into_inner().map_err(|_| ApiError::BadAnswer {
        what: "the contexts".to_string(),
        detail: "a lookup thread failed".to_string(),
    })?;
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_read_in_every_form() {
        let one = r#"{"type":"track","event":"E","userId":"1"}"#;
        assert_eq!(read_events_text(one).unwrap().len(), 1);
        assert_eq!(
            read_events_text(&format!("[{one},{one}]")).unwrap().len(),
            2
        );
        assert_eq!(
            read_events_text(&format!("{{\"batch\": [{one},{one},{one}]}}"))
                .unwrap()
                .len(),
            3
        );
        let lines = format!("{one}\n{one}\n\n{one}\n");
        assert_eq!(read_events_text(&lines).unwrap().len(), 3);
        assert!(read_events_text("").unwrap_err().contains("no events"));
        assert!(read_events_text("{\"a\":")
            .unwrap_err()
            .contains("not valid JSON"));
    }

    #[test]
    fn the_preset_gives_user_and_unauthenticated_user_keys() {
        let config = preset_config().unwrap();
        let event = json!({"type": "track", "event": "E", "userId": "8817", "anonymousId": "a-1"});
        let mut contexts = event_contexts(&config, &event, 0);
        contexts.sort();
        assert_eq!(
            contexts,
            [
                ContextRef::new("unauthenticatedUser", "a-1"),
                ContextRef::new("user", "8817")
            ]
        );
        let page = json!({"type": "page", "userId": "8817"});
        assert!(event_contexts(&config, &page, 0).is_empty());
    }

    #[test]
    fn the_token_is_redacted() {
        assert_eq!(
            redact("x api-123 y api-123", "api-123"),
            "x <LD_API_TOKEN> y <LD_API_TOKEN>"
        );
    }
}
