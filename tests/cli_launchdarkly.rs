//! `segment-ld-bridge launchdarkly pull` and `launchdarkly correlate`, run as a process against
//! a stand-in of LaunchDarkly's REST API (tests/support/launchdarkly-rest-standin.rs).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

#[path = "support/launchdarkly-rest-standin.rs"]
mod standin;

use serde_json::{json, Value};
use standin::{Fault, Project, StandIn};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const TOKEN: &str = "api-5ec7e7aa-standin-token-0123456789";
const SDK_KEY: &str = "sdk-0f0f0f0f-secret-server-side-key";
const MOBILE_KEY: &str = "mob-1a1a1a1a-secret-mobile-key";
/// Attributes of the stand-in's contexts: personal data that must never be printed.
const ATTRIBUTES: [&str; 4] = [
    "Ada Lovelace",
    "ada.private@example.org",
    "Grace Hopper",
    "grace.private@example.org",
];

fn environment(key: &str, id: &str) -> Value {
    json!({"_id": id, "key": key, "name": key.to_uppercase(), "apiKey": SDK_KEY,
           "mobileKey": MOBILE_KEY, "color": "417505", "defaultTtl": 0, "secureMode": false,
           "_links": {"self": {"href": format!("/api/v2/projects/default/environments/{key}")}}})
}

fn record(kind: &str, key: &str, name: &str, email: &str) -> Value {
    json!({"context": {"kind": kind, "key": key, "name": name, "email": email},
           "lastSeen": "2026-11-29T10:00:00Z", "applicationId": "JSClient/3.0.0",
           "associatedContexts": 1, "_links": {}})
}

fn project() -> Project {
    Project {
        key: "default".into(),
        token: TOKEN.into(),
        environments: vec![
            environment("production", "5f0c1a2b3c4d5e6f7a8b9c0d"),
            environment("test", "5f0c1a2b3c4d5e6f7a8b9c0e"),
            environment("staging", "5f0c1a2b3c4d5e6f7a8b9c0f"),
        ],
        metrics: vec![
            json!({"_id": "m1", "key": "revenue", "name": "Revenue", "kind": "custom",
                   "eventKey": "Order Completed", "isNumeric": true, "unit": "USD",
                   "successCriteria": "HigherThanBaseline", "unitAggregationType": "sum",
                   "randomizationUnits": ["user"], "experimentCount": 2, "tags": [],
                   "_creationDate": 1, "_links": {}}),
            json!({"_id": "m2", "key": "orders", "name": "Orders", "kind": "custom",
                   "eventKey": "Order Completed", "isNumeric": false,
                   "randomizationUnits": ["user", "organization"], "activeExperimentCount": 1,
                   "tags": [], "_links": {}}),
            json!({"_id": "m3", "key": "home-visits", "name": "Home page", "kind": "pageview",
                   "urls": [{"kind": "exact", "url": "https://example.com/"}], "_links": {}}),
            json!({"_id": "m4", "key": "cta-clicks", "name": "CTA", "kind": "click",
                   "selector": "#cta", "_links": {}}),
            json!({"_id": "m5", "key": "signups", "name": "Sign-ups", "kind": "custom",
                   "eventKey": "Signed Up", "isNumeric": false, "randomizationUnits": ["user"],
                   "_links": {}}),
        ],
        context_kinds: vec!["user".into(), "organization".into()],
        contexts: vec![
            (
                "production".into(),
                record(
                    "user",
                    "ada@example.com",
                    "Ada Lovelace",
                    "ada.private@example.org",
                ),
            ),
            (
                "production".into(),
                record(
                    "user",
                    "grace@example.com",
                    "Grace Hopper",
                    "grace.private@example.org",
                ),
            ),
        ],
        page_size: 2,
        unknown_as_empty: false,
    }
}

fn run(args: &[&str], stdin: &str, token: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_segment-ld-bridge"));
    command
        .args(args)
        .env_remove("LD_API_TOKEN")
        .env_remove("LD_CLIENT_SIDE_ID")
        .env_remove("LD_EVENTS_HOST")
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(token) = token {
        command.env("LD_API_TOKEN", token);
    }
    let mut child = command.spawn().expect("the CLI starts");
    // The CLI may exit before it reads its input: a broken pipe is fine.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    let output = child.wait_with_output().expect("the CLI ends");
    assert_no_secrets(&output);
    output
}

/// Neither stream ever holds the token, an environment's SDK or mobile key, or a context's
/// attributes (every run goes through this).
fn assert_no_secrets(output: &Output) {
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for secret in [
        TOKEN, SDK_KEY, MOBILE_KEY, "5ec7e7aa", "0f0f0f0f", "1a1a1a1a",
    ]
    .into_iter()
    .chain(ATTRIBUTES)
    {
        assert!(!printed.contains(secret), "{secret:?} printed:\n{printed}");
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "segment-ld-bridge-cli-ld-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn pull(standin: &StandIn, extra: &[&str]) -> Output {
    let mut args = vec![
        "launchdarkly",
        "pull",
        "--project",
        "default",
        "--api-base",
        &standin.base,
    ];
    args.extend_from_slice(extra);
    run(&args, "", Some(TOKEN))
}

fn names(document: &Value) -> Vec<String> {
    document["destinations"]
        .as_array()
        .expect("destinations")
        .iter()
        .map(|destination| destination["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn pull_prints_a_destination_per_environment_with_the_custom_metrics() {
    let standin = StandIn::start(project(), Vec::new());
    let output = pull(&standin, &[]);
    let printed = succeeded(&output);
    assert!(printed.ends_with("}\n"), "pretty JSON with a final newline");
    let document: Value = serde_json::from_str(&printed).expect("JSON");
    assert_eq!(names(&document), ["production", "test", "staging"]);
    let production = &document["destinations"][0];
    assert_eq!(production["client_side_id"], "5f0c1a2b3c4d5e6f7a8b9c0d");
    // The stand-in is not one of LaunchDarkly's API bases: "us", and a note says so.
    assert_eq!(production["events_host"], "us");
    assert!(
        stderr(&output).contains("give --events-base"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        production["metric_event_keys"],
        json!(["Order Completed", "Signed Up"])
    );
    assert_eq!(
        production["metrics"],
        json!([
            {"key": "revenue", "name": "Revenue", "event_key": "Order Completed", "numeric": true,
             "randomization_units": ["user"], "unit_aggregation_type": "sum"},
            {"key": "orders", "name": "Orders", "event_key": "Order Completed", "numeric": false,
             "randomization_units": ["user", "organization"], "active_experiments": 1},
            {"key": "signups", "name": "Sign-ups", "event_key": "Signed Up", "numeric": false,
             "randomization_units": ["user"]}
        ])
    );
    assert_eq!(production["unknown_event_keys"], "send");
    let source = &production["catalogue_source"];
    assert_eq!(source["project"], "default");
    assert_eq!(source["environment"], "production");
    assert_eq!(source["api_base"], standin.base.as_str());
    assert!(source["pulled_at"]
        .as_str()
        .expect("pulled_at")
        .ends_with('Z'));
    assert_eq!(
        document["destinations"][2]["catalogue_source"]["environment"],
        "staging"
    );
    // Pageview and click metrics are left out, and standard error says how many.
    assert!(
        stderr(&output).contains("2 metrics left out")
            && stderr(&output).contains("home-visits (pageview)")
            && stderr(&output).contains("cta-clicks (click)"),
        "{}",
        stderr(&output)
    );
    // Every page was read: 2 of environments, 3 of metrics, with the token as it is.
    let requests = standin.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/v2/projects/default/environments",
            "/api/v2/projects/default/environments?limit=2&offset=2",
            "/api/v2/metrics/default",
            "/api/v2/metrics/default?limit=2&offset=2",
            "/api/v2/metrics/default?limit=2&offset=4",
        ]
    );
    assert!(requests
        .iter()
        .all(|r| r.authorization.as_deref() == Some(TOKEN)));
}

/// A list longer than the CLI reads (1,000 pages) is not taken for the whole list: `pull` fails
/// and says so, rather than writing a catalogue without the metrics past it.
#[test]
fn pull_refuses_a_list_longer_than_it_reads() {
    let mut long = project();
    long.page_size = 1;
    long.metrics = (0..=1000)
        .map(|i| {
            json!({"key": format!("m{i}"), "name": "M", "kind": "custom", "eventKey": "E",
                        "isNumeric": false, "randomizationUnits": ["user"], "_links": {}})
        })
        .collect();
    let standin = StandIn::start(long, Vec::new());
    let output = pull(&standin, &[]);
    assert!(!output.status.success(), "{}", stdout(&output));
    let error = stderr(&output);
    assert!(error.contains("more than 1000 pages"), "{error}");
    assert_no_secrets(&output);
    let metric_pages = (standin.requests().iter())
        .filter(|r| r.path.starts_with("/api/v2/metrics/"))
        .count();
    assert_eq!(metric_pages, 1000);
}

#[test]
fn pull_writes_the_events_host_given_or_the_api_bases() {
    let standin = StandIn::start(project(), Vec::new());
    let output = pull(
        &standin,
        &[
            "--events-base",
            "http://127.0.0.1:8799",
            "--environment",
            "test",
        ],
    );
    let document: Value = serde_json::from_str(&succeeded(&output)).expect("JSON");
    assert_eq!(
        document["destinations"][0]["events_host"],
        "http://127.0.0.1:8799"
    );
    assert!(!stderr(&output).contains("give --events-base"));
    let output = pull(&standin, &["--events-base", "ftp://nowhere"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--events-base"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn pull_takes_the_environments_asked_for_and_refuses_unknown_ones() {
    let standin = StandIn::start(project(), Vec::new());
    let output = pull(
        &standin,
        &["--environment", "staging", "--environment", "production"],
    );
    let document: Value = serde_json::from_str(&succeeded(&output)).expect("JSON");
    assert_eq!(names(&document), ["staging", "production"]);
    let output = pull(&standin, &["--environment", "prod"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        r#"project "default" has no environment "prod"; its environments are "production", "test", "staging""#
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn pull_write_merges_into_a_document_that_check_accepts() {
    let standin = StandIn::start(project(), Vec::new());
    let dir = temp_dir("merge");
    let file = dir.join("bridge.json");
    let before = json!({
        "destinations": [
            {"name": "production", "client_side_id": "old-id", "events_host": "eu",
             "metric_event_keys": ["Old Key"], "unknown_event_keys": "drop"},
            {"name": "sandbox", "client_side_id": "sandbox-id"}
        ],
        "subscriptions": [
            {"name": "Orders", "trigger": "type = \"track\" and event = \"Order Completed\"",
             "destinations": ["production"]},
            {"name": "Everything", "destinations": ["sandbox"]}
        ],
        "sources": [{"name": "web", "write_keys": ["wk-web"], "default": true}]
    });
    std::fs::write(&file, serde_json::to_string_pretty(&before).unwrap()).unwrap();
    let output = pull(
        &standin,
        &[
            "--environment",
            "production",
            "--environment",
            "test",
            "--write",
            file.to_str().unwrap(),
        ],
    );
    let report = succeeded(&output);
    assert!(
        report.contains("updated production; added test;") && report.contains("left out"),
        "{report}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.ends_with("}\n"));
    for secret in [TOKEN, SDK_KEY, MOBILE_KEY] {
        assert!(!text.contains(secret));
    }
    let after: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(names(&after), ["production", "sandbox", "test"]);
    let production = &after["destinations"][0];
    assert_eq!(production["client_side_id"], "5f0c1a2b3c4d5e6f7a8b9c0d");
    assert_eq!(production["events_host"], "eu", "kept");
    assert_eq!(production["unknown_event_keys"], "drop", "kept");
    assert_eq!(
        production["metric_event_keys"],
        json!(["Order Completed", "Signed Up"])
    );
    assert_eq!(production["metrics"].as_array().unwrap().len(), 3);
    assert_eq!(after["destinations"][1], before["destinations"][1]);
    assert_eq!(after["subscriptions"], before["subscriptions"]);
    assert_eq!(after["sources"], before["sources"]);
    // The bridge reads the merged document.
    let checked = run(&["check", "--config", file.to_str().unwrap()], "", None);
    let report = succeeded(&checked);
    assert!(
        report.contains("ok (3 destinations, 2 subscriptions, 1 sources)"),
        "{report}"
    );
}

#[test]
fn pull_write_creates_a_missing_file_and_refuses_a_broken_one() {
    let standin = StandIn::start(project(), Vec::new());
    let dir = temp_dir("create");
    let file = dir.join("new.json");
    succeeded(&pull(&standin, &["--write", file.to_str().unwrap()]));
    let created: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(names(&created), ["production", "test", "staging"]);
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"destinations\": [").unwrap();
    let requests_before = standin.requests().len();
    let output = pull(&standin, &["--write", broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not valid JSON"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        standin.requests().len(),
        requests_before,
        "no request for a bad file"
    );
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "{\"destinations\": ["
    );
}

/// One failed run: exit status 1, nothing on standard output, one line on standard error.
fn failure(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    assert!(stdout(output).is_empty(), "{}", stdout(output));
    let message = stderr(output);
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    message
}

#[test]
fn api_errors_are_one_line_messages_with_exit_status_1() {
    // 401: a token LaunchDarkly does not know (the wrong one is not printed either).
    let standin = StandIn::start(project(), Vec::new());
    let wrong = "api-00000000-wrong-token-abcdef";
    let output = run(
        &[
            "launchdarkly",
            "pull",
            "--project",
            "default",
            "--api-base",
            &standin.base,
        ],
        "",
        Some(wrong),
    );
    let message = failure(&output);
    assert!(
        message.contains("401") && message.contains("LD_API_TOKEN"),
        "{message}"
    );
    assert!(!message.contains(wrong));
    // 404: an unknown project.
    let output = run(
        &[
            "launchdarkly",
            "pull",
            "--project",
            "nope",
            "--api-base",
            &standin.base,
        ],
        "",
        Some(TOKEN),
    );
    let message = failure(&output);
    assert!(
        message.contains("project \"nope\" was not found (404)"),
        "{message}"
    );
    // 403, 429, 500 on demand.
    let mut limited = Fault::new("/api/v2/metrics", 429, 1);
    limited.reset_in_ms = Some(42_000);
    for (fault, expected) in [
        (Fault::new("/environments", 403, 1), "403 forbidden"),
        (limited, "rate limit was reached (429)"),
        (
            Fault::new("/api/v2/metrics", 500, 1),
            "LaunchDarkly failed (500)",
        ),
        (
            Fault::new("/api/v2/metrics", 503, 1),
            "LaunchDarkly failed (503)",
        ),
    ] {
        let standin = StandIn::start(project(), vec![fault]);
        let message = failure(&pull(&standin, &[]));
        assert!(message.contains(expected), "{message}");
        if expected.contains("429") {
            // The reset time, and the seconds to wait.
            assert!(message.contains("it resets at 20"), "{message}");
            assert!(
                message.contains("(42 s from now)") || message.contains("(41 s from now)"),
                "{message}"
            );
        }
    }
    // No answer at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let base = format!("http://{address}");
    let output = run(
        &[
            "launchdarkly",
            "pull",
            "--project",
            "default",
            "--api-base",
            &base,
        ],
        "",
        Some(TOKEN),
    );
    let message = failure(&output);
    assert!(
        message.contains("could not reach LaunchDarkly"),
        "{message}"
    );
}

#[test]
fn the_token_must_be_there_and_be_an_access_token() {
    let standin = StandIn::start(project(), Vec::new());
    let args = [
        "launchdarkly",
        "pull",
        "--project",
        "default",
        "--api-base",
        &standin.base,
    ];
    let output = run(&args, "", None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("set LD_API_TOKEN"),
        "{}",
        stderr(&output)
    );
    let output = run(&args, "", Some(SDK_KEY));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("holds an SDK key"),
        "{}",
        stderr(&output)
    );
    assert!(standin.requests().is_empty(), "an SDK key is never sent");
    let output = run(
        &[
            "launchdarkly",
            "pull",
            "--project",
            "default",
            "--api-base",
            "app.launchdarkly.com",
        ],
        "",
        Some(TOKEN),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is not an http:// or https:// URL"));
}

fn correlate(standin: &StandIn, extra: &[&str], stdin: &str) -> Output {
    let mut args = vec![
        "launchdarkly",
        "correlate",
        "--project",
        "default",
        "--environment",
        "production",
        "--api-base",
        &standin.base,
    ];
    args.extend_from_slice(extra);
    run(&args, stdin, Some(TOKEN))
}

fn track(user_id: &str) -> Value {
    json!({"type": "track", "event": "Order Completed", "userId": user_id,
           "properties": {"revenue": 10}})
}

#[test]
fn correlate_shows_database_ids_against_email_keys() {
    // Segment's userIds are database ids, LaunchDarkly's context keys are emails.
    let standin = StandIn::start(project(), Vec::new());
    // The README's export.ndjson.
    let events = r#"{"type":"track","event":"Order Completed","userId":"8817","properties":{"revenue":10}}
{"type":"track","event":"Order Completed","userId":"8818","properties":{"revenue":25}}
{"type":"track","event":"Order Completed","userId":"8817","properties":{"revenue":5}}
{"type":"page","userId":"8817","name":"Home"}
"#;
    let output = correlate(&standin, &[], events);
    let report = succeeded(&output);
    // The README's worked example, exactly.
    assert_eq!(
        report,
        r#"LaunchDarkly project "default", environment "production"
events: 4 read, 3 with context keys looked up
context keys: 2 distinct, 2 looked up, 0 known to LaunchDarkly, 2 unknown
events whose context keys LaunchDarkly knows: 0%
  "user": 0% of events (0 of 2 keys known)
  (an event counts as known when LaunchDarkly has seen at least one of its context keys; an experiment counts it only by the key of its randomization unit's kind)
unknown keys:
  user: "8817"
  user: "8818"
fewer than half of the "user" keys match; compare:
  LaunchDarkly knows: "ada@example.com", "grace@example.com"
  Segment sends:      "8817", "8818"
  if these name the same people differently, map the context key to the identifier your LaunchDarkly SDK uses (the Track Event mapping's user_key), or evaluate flags with Segment's userId as the context key
"#
    );
    // Keys only: the search's records carry names and emails, never printed (run checks it).
    let search = standin
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/contexts/search"))
        .expect("a search");
    assert_eq!(search.method, "POST");
    let body: Value = serde_json::from_str(&search.body).unwrap();
    assert_eq!(body, json!({"filter": "kind anyOf [\"user\"]", "limit": 5}));
}

#[test]
fn correlate_json_has_the_documented_fields() {
    let standin = StandIn::start(project(), Vec::new());
    let events = json!({"batch": [track("ada@example.com"), track("8817"),
        {"type": "track", "event": "Signed Up", "anonymousId": "anon-1"}]});
    let output = correlate(&standin, &["--json"], &events.to_string());
    let report: Value = serde_json::from_str(&succeeded(&output)).expect("JSON");
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "events",
            "events_checked",
            "distinct_keys",
            "sampled_keys",
            "known_keys",
            "unknown_keys",
            "share_of_events_known",
            "by_kind",
            "undefined_context_kinds",
            "examples"
        ]
    );
    assert_eq!(report["events"], 3);
    assert_eq!(report["distinct_keys"], 4);
    assert_eq!(report["known_keys"], 1);
    assert_eq!(
        report["unknown_keys"],
        json!([{"kind": "user", "key": "8817"}, {"kind": "unauthenticatedUser", "key": "anon-1"},
               {"kind": "user", "key": "anon-1"}])
    );
    assert_eq!(report["share_of_events_known"], json!(0.3333));
    assert_eq!(
        report["undefined_context_kinds"],
        json!(["unauthenticatedUser"])
    );
    assert_eq!(report["by_kind"][0]["kind"], "user");
    assert_eq!(report["by_kind"][0]["share_of_events_known"], json!(0.3333));
    let examples = report["examples"].as_array().unwrap();
    assert_eq!(examples[0]["kind"], "user");
    assert_eq!(examples[0]["segment_keys"], json!(["8817", "anon-1"]));
    assert_eq!(
        examples[0]["launchdarkly_keys"],
        json!(["ada@example.com", "grace@example.com"])
    );
    assert_eq!(examples[1]["kind"], "unauthenticatedUser");
    assert_eq!(examples[1]["launchdarkly_keys"], json!([]));
}

#[test]
fn correlate_looks_up_at_most_the_sample() {
    let mut project = project();
    project.unknown_as_empty = true;
    let standin = StandIn::start(project, Vec::new());
    let lines: Vec<String> = (0..12)
        .map(|n| track(&format!("{n}")).to_string())
        .collect();
    let output = correlate(&standin, &["--sample", "5", "--json"], &lines.join("\n"));
    let report: Value = serde_json::from_str(&succeeded(&output)).expect("JSON");
    assert_eq!(report["events"], 12);
    assert_eq!(report["distinct_keys"], 12);
    assert_eq!(report["sampled_keys"], 5);
    assert_eq!(report["events_checked"], 5);
    assert_eq!(report["unknown_keys"].as_array().unwrap().len(), 5);
    let lookups: Vec<String> = standin
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/contexts/user/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(lookups.len(), 5, "{lookups:?}");
    let output = correlate(&standin, &["--sample", "0"], "");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn correlate_waits_out_the_rate_limit() {
    let mut limited = Fault::new("/contexts/user/", 429, 2);
    limited.reset_in_ms = Some(300);
    let standin = StandIn::start(project(), vec![limited]);
    let events = [track("ada@example.com"), track("grace@example.com")]
        .map(|event| event.to_string())
        .join("\n");
    let output = correlate(&standin, &[], &events);
    let report = succeeded(&output);
    assert!(
        report.contains("events whose context keys LaunchDarkly knows: 100%"),
        "{report}"
    );
    let lookups = standin
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/contexts/user/"))
        .count();
    assert_eq!(lookups, 4, "2 refused, then 2 answered");
    // A rate limit that outlasts the bound ends the command with the reset time.
    let mut long = Fault::new("/contexts/user/", 429, 100);
    long.reset_in_ms = Some(3_600_000);
    let standin = StandIn::start(project(), vec![long]);
    let message = failure(&correlate(&standin, &[], &events));
    assert!(
        message.contains("429") && message.contains("s from now"),
        "{message}"
    );
}

#[test]
fn correlate_reports_kinds_the_project_does_not_define() {
    let standin = StandIn::start(project(), Vec::new());
    let dir = temp_dir("kinds");
    let config = dir.join("bridge.json");
    std::fs::write(
        &config,
        json!({
            "destinations": [{"name": "production", "client_side_id": "5f0c1a2b3c4d5e6f7a8b9c0d"}],
            "subscriptions": [{"name": "Accounts", "mapping": {"context_kind": "account",
                               "additional_context_keys": null}}],
            "sources": [{"name": "web", "write_keys": ["wk"]}]
        })
        .to_string(),
    )
    .unwrap();
    let events = dir.join("export.ndjson");
    std::fs::write(&events, format!("{}\n{}\n", track("acme"), track("globex"))).unwrap();
    let output = correlate(
        &standin,
        &[
            "--config",
            config.to_str().unwrap(),
            events.to_str().unwrap(),
        ],
        "",
    );
    let report = succeeded(&output);
    assert!(
        report.contains("context kinds the project does not define (no experiment can use them as a randomization unit): account"),
        "{report}"
    );
    assert!(report.contains("  account: \"acme\""), "{report}");
    let lookups: Vec<String> = standin
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|path| path.contains("/contexts/account/"))
        .collect();
    assert_eq!(lookups.len(), 2);
}

#[test]
fn correlate_refuses_an_unknown_environment_rather_than_calling_every_key_unknown() {
    let standin = StandIn::start(project(), Vec::new());
    let output = run(
        &[
            "launchdarkly",
            "correlate",
            "--project",
            "default",
            "--environment",
            "prod",
            "--api-base",
            &standin.base,
        ],
        &track("8817").to_string(),
        Some(TOKEN),
    );
    let message = failure(&output);
    assert!(
        message.contains("environment \"prod\" of project \"default\" was not found (404)"),
        "{message}"
    );
    assert!(!standin
        .requests()
        .iter()
        .any(|r| r.path.contains("/contexts/")));
    // Context keys are encoded in the path.
    let standin = StandIn::start(project(), Vec::new());
    succeeded(&correlate(&standin, &[], &track("a b/c@d").to_string()));
    assert!(standin
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/contexts/user/a%20b%2Fc%40d")));
}
