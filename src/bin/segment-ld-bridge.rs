//! `segment-ld-bridge`: the native command line around the core.
//!
//! `preview` shows exactly what the bridge would send to LaunchDarkly for some Segment events,
//! without sending anything.

use segment_ld_bridge::config::BridgeConfig;
use segment_ld_bridge::config::{Destination, VAR_CLIENT_SIDE_ID, VAR_EVENTS_HOST};
use segment_ld_bridge::pipeline;
use segment_ld_bridge::segment;
use segment_ld_bridge::track_event::TrackEventMapping;
use serde_json::{json, Map, Value};
use std::io::Read;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

const USAGE: &str = "\
segment-ld-bridge: Segment track events to LaunchDarkly custom metric events

Usage:
  segment-ld-bridge preview [EVENTS_FILE] [--client-side-id ID] [--events-base URL]
                            [--mapping MAPPING_FILE] [--received-at UNIX_MS]
      Prints {\"requests\":[{url,headers,body}],\"outcomes\":[{index,status,reason,message}]}:
      what the bridge would send to LaunchDarkly for the events (one event, a JSON array, or
      {\"batch\":[...]}) read from EVENTS_FILE or standard input. Nothing is sent.
      --client-side-id  the LaunchDarkly environment (default: $LD_CLIENT_SIDE_ID)
      --events-base     us (default), eu, federal, a base URL or a host (default: $LD_EVENTS_HOST)
      --mapping         a Track Event field mapping in Segment's JSON format, laid over the preset
      --received-at     creationDate for events without a timestamp (default: now)
  segment-ld-bridge --help | --version

Exit status: 0 done, 2 bad arguments or input (the error is printed on standard error).";

/// A failure that ends the command with exit status 2 and a message.
struct CliError(String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(error: E) -> Self {
        CliError(error.to_string())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(CliError(message)) => {
            eprintln!("segment-ld-bridge: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<String, CliError> {
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => Ok(USAGE.to_string()),
        Some("-V" | "--version") => Ok(format!("segment-ld-bridge {}", env!("CARGO_PKG_VERSION"))),
        Some("preview") => preview(&Options::parse(
            &args[1..],
            &[
                "--client-side-id",
                "--events-base",
                "--mapping",
                "--received-at",
            ],
        )?),
        Some(other) => Err(CliError(format!(
            "unknown command {other:?}; see segment-ld-bridge --help"
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
                    .ok_or_else(|| CliError(format!("{arg} needs a value")))?;
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
}

fn check_option(name: &str, known: &[&str]) -> Result<String, CliError> {
    if known.contains(&name) {
        Ok(name.to_string())
    } else {
        Err(CliError(format!(
            "unknown option {name}; this command takes {}",
            known.join(", ")
        )))
    }
}

fn preview(options: &Options) -> Result<String, CliError> {
    if options.positional.len() > 1 {
        return Err(CliError(
            "preview takes at most one events file".to_string(),
        ));
    }
    let client_side_id = options
        .get("--client-side-id")
        .map(str::to_string)
        .or_else(|| std::env::var(VAR_CLIENT_SIDE_ID).ok())
        .ok_or_else(|| {
            CliError(format!(
                "give --client-side-id ID (or set {VAR_CLIENT_SIDE_ID})"
            ))
        })?;
    let events_base = options
        .get("--events-base")
        .map(str::to_string)
        .or_else(|| std::env::var(VAR_EVENTS_HOST).ok())
        .unwrap_or_default();
    let destination = Destination::new(&client_side_id, &events_base).map_err(|problems| {
        CliError(
            problems
                .iter()
                .map(|problem| problem.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let mapping = match options.get("--mapping") {
        None => TrackEventMapping::preset()?,
        Some(path) => {
            let text = read_file(path)?;
            let value: Value = serde_json::from_str(&text)
                .map_err(|error| CliError(format!("{path}: not valid JSON: {error}")))?;
            TrackEventMapping::with_overrides(&value)
                .map_err(|error| CliError(format!("{path}: {error}")))?
        }
    };
    let received_at = match options.get("--received-at") {
        Some(text) => text
            .parse::<i64>()
            .map_err(|_| CliError(format!("--received-at {text:?} is not Unix milliseconds")))?,
        None => now_millis(),
    };
    let input = match options.positional.first() {
        Some(path) => read_file(path)?,
        None => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
    };
    let events = segment::parse_events(input.as_bytes())?;
    let config = BridgeConfig {
        destination,
        mapping,
    };
    let processed = pipeline::process(&config, &events, received_at);
    let requests: Vec<Value> = processed
        .deliveries
        .iter()
        .map(|planned| {
            let headers: Map<String, Value> = planned
                .request
                .headers
                .iter()
                .map(|(name, value)| (name.to_string(), Value::String(value.clone())))
                .collect();
            let body: Value =
                serde_json::from_str(&planned.request.body).unwrap_or(Value::Null); // ok: the core wrote this JSON
            json!({"method": planned.request.method, "url": planned.request.url, "headers": headers, "body": body})
        })
        .collect();
    Ok(serde_json::to_string_pretty(&json!({
        "requests": requests,
        "outcomes": processed.outcomes,
    }))?)
}

fn read_file(path: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|error| CliError(format!("{path}: {error}")))
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}
