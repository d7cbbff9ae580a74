//! The native CLI, run as a process.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::restriction)] // unwrap, expect and panic are how tests fail

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_segment-ld-bridge"))
        .args(args)
        .env_remove("LD_CLIENT_SIDE_ID")
        .env_remove("LD_EVENTS_HOST")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    // The CLI may exit before it reads its input (a bad argument): a broken pipe is fine.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("the CLI ends")
}

fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("segment-ld-bridge-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("temp file");
    path
}

const EVENTS: &str = r#"{"batch": [
  {"type": "track", "event": "Order Completed", "userId": "u-1", "messageId": "m-1",
   "timestamp": "2024-05-06T07:08:09.123Z", "properties": {"revenue": 10}},
  {"type": "page", "userId": "u-1"}
]}"#;

#[test]
fn preview_prints_the_requests_and_outcomes_without_sending() {
    let output = run(
        &[
            "preview",
            "--client-side-id",
            "env-9",
            "--events-base",
            "eu",
            "--received-at",
            "1750000000000",
        ],
        EVENTS,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let request = &printed["requests"][0];
    assert_eq!(
        request["url"],
        "https://events.eu.launchdarkly.com/events/bulk/env-9"
    );
    assert_eq!(request["headers"]["X-LaunchDarkly-Event-Schema"], "4");
    assert_eq!(request["headers"]["Content-Type"], "application/json");
    assert_eq!(request["headers"]["User-Agent"], "segment-ld-bridge/0.1.0");
    assert_eq!(
        request["body"],
        json!([{"kind": "custom", "key": "Order Completed", "contextKeys": {"user": "u-1"},
                "creationDate": 1_714_979_289_123i64, "metricValue": 10, "data": {"revenue": 10}}])
    );
    let outcomes: Vec<_> = printed["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| (o["index"].clone(), o["status"].clone(), o["reason"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (json!(0), json!("accepted"), json!("track_event")),
            (json!(1), json!("skipped"), json!("not_a_track_event"))
        ]
    );
}

#[test]
fn preview_reads_a_file_and_a_mapping() {
    let events = temp_file(
        "events.json",
        r#"{"type":"track","event":"E","userId":"u","properties":{"plan":"pro"}}"#,
    );
    let mapping = temp_file(
        "mapping.json",
        r#"{"event_name": {"@if": {"exists": {"@path": "$.properties.plan"},
              "then": {"@template": "{{event}} ({{properties.plan}})"}, "else": {"@path": "$.event"}}},
            "context_kind": "account"}"#,
    );
    let output = run(
        &[
            "preview",
            events.to_str().expect("path"),
            "--client-side-id=env",
            "--mapping",
            mapping.to_str().expect("path"),
        ],
        "",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(printed["requests"][0]["body"][0]["key"], "E (pro)");
    assert_eq!(
        printed["requests"][0]["body"][0]["contextKeys"],
        json!({"account": "u"})
    );
}

#[test]
fn bad_input_is_a_clear_error_with_exit_status_2() {
    let cases: [(&[&str], &str, &str); 5] = [
        (&["preview"], "{}", "--client-side-id"),
        (
            &["preview", "--client-side-id", "e"],
            "{not json",
            "not valid JSON",
        ),
        (
            &["preview", "--client-side-id", "e", "--bogus", "1"],
            "{}",
            "unexpected argument '--bogus'",
        ),
        (
            &[
                "preview",
                "--client-side-id",
                "e",
                "--events-base",
                "ftp://x",
            ],
            "{}",
            "http",
        ),
        (&["frobnicate"], "", "unrecognized subcommand 'frobnicate'"),
    ];
    for (args, stdin, expected) in cases {
        let output = run(args, stdin);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let mapping = temp_file(
        "bad-mapping.json",
        r#"{"event_name": {"@unknownDirective": 1}}"#,
    );
    let output = run(
        &[
            "preview",
            "--client-side-id",
            "e",
            "--mapping",
            mapping.to_str().expect("path"),
        ],
        "{}",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad-mapping.json"));
}

#[test]
fn help_and_version() {
    let output = run(&["--help"], "");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("preview"));
    let output = run(&["--version"], "");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "segment-ld-bridge 0.1.0"
    );
}

/// Each command, with what its help must name.
const COMMANDS: [(&str, &[&str]); 4] = [
    (
        "preview",
        &[
            "[EVENTS_FILE]",
            "--config <FILE>",
            "--client-side-id <ID>",
            "--events-base <URL>",
            "--mapping <MAPPING_FILE>",
            "--source <SOURCE_ID>",
            "--received-at <UNIX_MS>",
        ],
    ),
    ("check", &["--config <FILE>"]),
    ("trigger", &["<EXPRESSION>", "[EVENT_FILE]"]),
    ("transform", &["--mapping <FILE>", "[PAYLOAD_FILE]"]),
];

#[test]
fn every_command_answers_help_with_exit_status_0() {
    for args in [&["--help"][..], &["-h"], &["help"], &[]] {
        let output = run(args, "");
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("Usage: segment-ld-bridge"),
            "{args:?}: {stdout}"
        );
        for (command, _) in COMMANDS {
            assert!(
                stdout.contains(command),
                "{args:?} names {command}: {stdout}"
            );
        }
        assert!(stdout.contains("Exit status"), "{args:?}: {stdout}");
        assert!(output.stderr.is_empty(), "{args:?}");
    }
    for (command, names) in COMMANDS {
        for args in [[command, "--help"], [command, "-h"], ["help", command]] {
            let output = run(&args, "");
            assert_eq!(output.status.code(), Some(0), "{args:?}");
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                stdout.contains(&format!("Usage: segment-ld-bridge {command}")),
                "{args:?}: {stdout}"
            );
            for name in names {
                assert!(stdout.contains(name), "{args:?} names {name}: {stdout}");
            }
            assert!(output.stderr.is_empty(), "{args:?}");
        }
    }
}

#[test]
fn an_unknown_option_is_a_usage_error_that_names_it() {
    for (command, _) in COMMANDS {
        let output = run(&[command, "--bogus", "x"], "{}");
        assert_eq!(output.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("'--bogus'"), "{command}: {stderr}");
        assert!(
            stderr.contains(&format!("Usage: segment-ld-bridge {command}")),
            "{command}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{command}");
    }
    // A typo is refused (it used to be an option like any other), with the likely option.
    let output = run(
        &["preview", "--client-side-id", "e", "--recieved-at", "1"],
        "{}",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'--recieved-at'"), "{stderr}");
    assert!(stderr.contains("'--received-at'"), "{stderr}");
    assert!(output.stdout.is_empty());
    // So is a second events file.
    let output = run(
        &["preview", "--client-side-id", "e", "a.json", "b.json"],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("'b.json'"));
}

#[test]
fn a_numeric_option_refuses_a_non_number() {
    for value in ["soon", "1.5", "", "2024-05-06T07:08:09Z"] {
        let output = run(
            &["preview", "--client-side-id", "e", "--received-at", value],
            r#"{"type":"track","event":"E","userId":"u"}"#,
        );
        assert_eq!(output.status.code(), Some(2), "{value:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!(
                "invalid value '{value}' for '--received-at <UNIX_MS>'"
            )),
            "{value:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{value:?}");
    }
    // Unix milliseconds before 1970 are still numbers.
    let output = run(
        &["preview", "--client-side-id", "e", "--received-at", "-1000"],
        r#"{"type":"track","event":"E","userId":"u"}"#,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(printed["requests"][0]["body"][0]["creationDate"], -1000);
}

#[test]
fn a_repeated_option_keeps_its_last_value() {
    let output = run(
        &[
            "preview",
            "--client-side-id",
            "first",
            "--client-side-id=second",
        ],
        r#"{"type":"track","event":"E","userId":"u"}"#,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(
        printed["requests"][0]["url"],
        "https://events.launchdarkly.com/events/bulk/second"
    );
}

#[test]
fn every_output_ends_with_a_newline() {
    let event = r#"{"type":"track","event":"E","userId":"u"}"#;
    let config = temp_file(
        "newline-config.json",
        r#"{"destinations": [{"name": "prod", "client_side_id": "abc"}],
            "sources": [{"name": "app", "source_ids": ["app"], "write_keys": ["wk"]}]}"#,
    );
    let mapping = temp_file("newline-mapping.json", r#"{"name": {"@path": "$.event"}}"#);
    let config = config.to_str().expect("path");
    let mapping = mapping.to_str().expect("path");
    let cases: [&[&str]; 7] = [
        &["preview", "--client-side-id", "e", "--received-at", "1"],
        &["preview", "--config", config, "--source", "app"],
        &["check", "--config", config],
        &["trigger", r#"type = "track""#],
        &["transform", "--mapping", mapping],
        &["--help"],
        &["--version"],
    ];
    for args in cases {
        let output = run(args, event);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.ends_with('\n'), "{args:?}: {stdout:?}");
        assert!(!stdout.ends_with("\n\n"), "{args:?}: {stdout:?}");
    }
    // The preview is one JSON document, then the newline.
    let output = run(cases[0], event);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.ends_with("}\n"), "{stdout:?}");
    // Errors too, on standard error.
    for (args, status) in [
        (&["preview", "--client-side-id", "e"][..], 2),
        (&["check", "--config", "/nonexistent/config.json"], 1),
        (&["preview", "--bogus"], 2),
    ] {
        let output = run(args, "{not json");
        assert_eq!(output.status.code(), Some(status), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.ends_with('\n'), "{args:?}: {stderr:?}");
    }
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segment-ld-bridge"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the CLI runs")
}

#[test]
fn check_validates_a_document_and_lists_every_problem() {
    let good = temp_file(
        "good-config.json",
        r#"{"destinations": [{"name": "prod", "client_side_id": "abc"}],
            "subscriptions": [{"name": "Orders", "trigger": "type = \"track\" and event = \"Order Completed\""}],
            "sources": [{"name": "app", "write_keys": ["wk"]}]}"#,
    );
    let output = run(&["check", "--config", good.to_str().expect("path")], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout)
        .contains("ok (1 destinations, 1 subscriptions, 1 sources)"));
    // A document that authenticates nothing is what the Worker would refuse.
    let open = temp_file(
        "open-config.json",
        r#"{"destinations": [{"name": "prod", "client_side_id": "abc"}]}"#,
    );
    let output = run(&["check", "--config", open.to_str().expect("path")], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing authenticates events"));
    let bad = temp_file(
        "bad-config.json",
        r#"{"destinations": [{"name": "prod", "client_side_id": ""}],
            "subscriptions": [{"name": "Orders", "trigger": "type = \"track\" and (", "destinations": ["dev"]}]}"#,
    );
    let output = run(&["check", "--config", bad.to_str().expect("path")], "");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("3 problems"), "{stderr}");
    assert!(
        stderr.contains("destinations[0].client_side_id: must not be empty"),
        "{stderr}"
    );
    assert!(stderr.contains("subscriptions[0].trigger:"), "{stderr}");
    assert!(
        stderr.contains("subscriptions[0].destinations[0]: no destination is named \"dev\""),
        "{stderr}"
    );
}

#[test]
fn check_reads_wrangler_toml_by_default() {
    let dir =
        std::env::temp_dir().join(format!("segment-ld-bridge-wrangler-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("wrangler.toml"),
        "name = \"x\"\n[vars]\nLD_EVENTS_HOST = \"eu\"\n",
    )
    .expect("write");
    let output = run_in(&dir, &["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("LD_CLIENT_SIDE_ID: missing"));
    std::fs::write(
        dir.join("wrangler.toml"),
        "name = \"x\"\n[vars.BRIDGE_CONFIG]\ndestinations = [{ name = \"prod\", client_side_id = \"abc\" }]\n",
    )
    .expect("write");
    // Nothing authenticates events: an error, not an open bridge.
    let output = run_in(&dir, &["check"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing authenticates events"));
    std::fs::write(
        dir.join("wrangler.toml"),
        "name = \"x\"\n[vars.BRIDGE_CONFIG]\ndestinations = [{ name = \"prod\", client_side_id = \"abc\" }]\nsources = [{ name = \"dev\", default = true, allow_unsigned = true }]\n",
    )
    .expect("write");
    let output = run_in(&dir, &["check"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // ... and check warns about the open route.
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        printed.contains("/segment accept(s) unsigned events"),
        "{printed}"
    );
    // The project's own wrangler.toml must pass its own check.
    let output = run_in(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), &["check"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the shipped wrangler.toml has no client-side ID yet"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("LD_CLIENT_SIDE_ID"));
}

/// `check` in `dir` with the catalogue refresh's secrets exported as `secrets` says (and no
/// others from the test's own environment).
fn check_with_secrets(dir: &std::path::Path, secrets: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_segment-ld-bridge"));
    command.arg("check").current_dir(dir);
    for name in [
        "LD_API_TOKEN",
        "LD_PROJECT_KEY",
        "LD_CLIENT_SIDE_ID",
        "SEGMENT_SHARED_SECRET",
        "SEGMENT_WRITE_KEY",
    ] {
        command.env_remove(name);
    }
    command.envs(secrets.iter().copied());
    let output = command.output().expect("the CLI runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), printed)
}

#[test]
fn check_reads_the_delivery_dead_letter_and_catalogue_settings_of_wrangler_toml() {
    let dir = std::env::temp_dir().join(format!(
        "segment-ld-bridge-wrangler-deploy-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let write = |rest: &str| {
        let base = "name = \"x\"\n[vars]\nLD_CLIENT_SIDE_ID = \"abc\"\nSEGMENT_ALLOW_UNSIGNED = \"true\"\n";
        std::fs::write(dir.join("wrangler.toml"), format!("{base}{rest}")).expect("write");
    };
    // What the Worker would answer 503 for, or log as an error: each a problem.
    write("DELIVERY_TIMEOUT_MS = \"ten\"\nDELIVERY_RETRY_DELAYS = \"10,x\"\nDEAD_LETTER_TTL_DAYS = \"forever\"\n");
    let (status, printed) = check_with_secrets(&dir, &[]);
    assert_eq!(status, Some(1), "{printed}");
    assert!(printed.contains("3 problems"), "{printed}");
    for location in [
        "DELIVERY_TIMEOUT_MS: ",
        "DELIVERY_RETRY_DELAYS: ",
        "DEAD_LETTER_TTL_DAYS: ",
    ] {
        assert!(printed.contains(location), "{location} {printed}");
    }
    // The simple configuration's secrets are read from what is exported to check; the
    // variables that belong in wrangler.toml are not.
    let signed = "name = \"x\"\n[vars]\nLD_EVENTS_HOST = \"eu\"\n";
    std::fs::write(dir.join("wrangler.toml"), signed).expect("write");
    let exported = [
        ("LD_CLIENT_SIDE_ID", "abc"),
        ("SEGMENT_SHARED_SECRET", "s3cret-value"),
    ];
    let (status, printed) = check_with_secrets(&dir, &exported);
    assert_eq!(status, Some(1), "{printed}");
    assert!(printed.contains("LD_CLIENT_SIDE_ID: missing"), "{printed}");
    assert!(
        !printed.contains("nothing authenticates events"),
        "{printed}"
    );
    assert!(!printed.contains("s3cret-value"), "{printed}");
    // A value that is not a string reaches the Worker as its JSON text, and check reads it so.
    write("DELIVERY_TIMEOUT_MS = 5\n");
    let (status, printed) = check_with_secrets(&dir, &[]);
    assert_eq!(status, Some(1), "{printed}");
    assert!(
        printed.contains("DELIVERY_TIMEOUT_MS: \"5\" is not a timeout"),
        "{printed}"
    );
    let unsigned_by_boolean =
        "name = \"x\"\n[vars]\nLD_CLIENT_SIDE_ID = \"abc\"\nSEGMENT_ALLOW_UNSIGNED = true\n";
    std::fs::write(dir.join("wrangler.toml"), unsigned_by_boolean).expect("write");
    let (status, printed) = check_with_secrets(&dir, &[]);
    assert_eq!(status, Some(0), "{printed}");
    assert!(printed.contains("accept(s) unsigned events"), "{printed}");
    write(
        "DELIVERY_TIMEOUT_MS = 5000\nDELIVERY_RETRY_DELAYS = \"10,60\"\nDEAD_LETTER_TTL_DAYS = 7\n",
    );
    let (status, printed) = check_with_secrets(&dir, &[]);
    assert_eq!(status, Some(0), "{printed}");
    // No sign of the catalogue refresh: nothing said of it, even with a token exported for the
    // `launchdarkly` commands.
    assert!(!printed.contains("catalogue refresh"), "{printed}");
    assert!(!printed.contains("LD_API_TOKEN"), "{printed}");
    let (status, printed) = check_with_secrets(&dir, &[("LD_API_TOKEN", "sdk-not-for-the-worker")]);
    assert_eq!(status, Some(0), "{printed}");
    assert!(!printed.contains("catalogue refresh"), "{printed}");
    assert!(!printed.contains("LD_API_TOKEN"), "{printed}");
    assert!(!printed.contains("DEV_MODE"), "{printed}");
    // Dev mode in a deployment's wrangler.toml: what it opens, said (as allow_unsigned is).
    write("DEV_MODE = \"true\"\n");
    let (status, printed) = check_with_secrets(&dir, &[]);
    assert_eq!(status, Some(0), "{printed}");
    assert!(
        printed
            .contains("warning: DEV_MODE = \"true\": the Worker keeps the last 50 request bodies"),
        "{printed}"
    );
    write("DEV_MODE = \"false\"\n");
    let (_, printed) = check_with_secrets(&dir, &[]);
    assert!(!printed.contains("DEV_MODE"), "{printed}");

    // One of its options: the refresh is meant, and checked as the Worker checks it.
    write("LD_CATALOGUE_UNKNOWN_EVENT_KEYS = \"drop\"\nLD_CATALOGUE_OVERRIDE = \"yes\"\n");
    let (status, printed) = check_with_secrets(&dir, &[]);
    assert_eq!(status, Some(1), "{printed}");
    assert!(
        printed.contains("LD_CATALOGUE_OVERRIDE: \"yes\" is not"),
        "{printed}"
    );
    assert!(printed.contains("kv_namespaces: "), "{printed}");
    // The dead letters' namespace keeps the catalogue too; the secrets are taken as set.
    let kv = |binding: &str| format!("[[kv_namespaces]]\nbinding = \"{binding}\"\nid = \"n\"\n");
    write(&format!(
        "LD_CATALOGUE_UNKNOWN_EVENT_KEYS = \"drop\"\n{}",
        kv("DEAD_LETTERS")
    ));
    let (status, printed) = check_with_secrets(&dir, &[]);
    assert_eq!(status, Some(0), "{printed}");
    assert!(printed.contains("catalogue refresh: the metrics of the project the Worker secret LD_PROJECT_KEY names, from https://app.launchdarkly.com, given to the project's destinations without a catalogue of their own; unknown event keys dropped and reported"), "{printed}");
    assert!(
        printed.contains("warning: no [triggers] crons"),
        "{printed}"
    );
    for name in ["LD_API_TOKEN", "LD_PROJECT_KEY"] {
        assert!(
            printed.contains(&format!("note: the Worker secret {name} must be set")),
            "{printed}"
        );
    }
    // A namespace of its own, a Cron Trigger, and the project exported to check.
    write(&format!("LD_API_BASE = \"https://app.eu.launchdarkly.com\"\nLD_CATALOGUE_OVERRIDE = \"true\"\n{}[triggers]\ncrons = [\"*/15 * * * *\"]\n", kv("CATALOGUE")));
    let (status, printed) = check_with_secrets(&dir, &[("LD_PROJECT_KEY", "shop")]);
    assert_eq!(status, Some(0), "{printed}");
    assert!(printed.contains("the metrics of project \"shop\" from https://app.eu.launchdarkly.com, given to every destination of the project; unknown event keys sent and reported"), "{printed}");
    assert!(!printed.contains("crons"), "{printed}");
    assert!(
        printed.contains("the Worker secret LD_API_TOKEN must be set"),
        "{printed}"
    );
    assert!(
        !printed.contains("the Worker secret LD_PROJECT_KEY"),
        "{printed}"
    );
    // A Cron Trigger alone means the refresh (the Worker's only scheduled work): its store.
    write(
        "[[kv_namespaces]]\nbinding = \"OTHER\"\nid = \"n\"\n[triggers]\ncrons = [\"0 * * * *\"]\n",
    );
    let (status, printed) = check_with_secrets(&dir, &[]);
    assert_eq!(status, Some(1), "{printed}");
    assert!(
        printed.contains("kv_namespaces: the refreshed catalogue is kept in Workers KV"),
        "{printed}"
    );
    // An SDK key where the token goes: refused, and never printed.
    write(&format!(
        "{}[triggers]\ncrons = [\"0 * * * *\"]\n",
        kv("DEAD_LETTERS")
    ));
    let (status, printed) = check_with_secrets(&dir, &[("LD_API_TOKEN", "sdk-0123456789abcdef")]);
    assert_eq!(status, Some(1), "{printed}");
    assert!(
        printed.contains("LD_API_TOKEN: holds an SDK key"),
        "{printed}"
    );
    assert!(!printed.contains("0123456789abcdef"), "{printed}");
    // A token written into wrangler.toml: accepted, with a warning, and never printed.
    write(&format!("LD_API_TOKEN = \"api-0123456789abcdef\"\nLD_PROJECT_KEY = \"shop\"\n{}[triggers]\ncrons = [\"0 * * * *\"]\n", kv("DEAD_LETTERS")));
    let (status, printed) = check_with_secrets(&dir, &[]);
    assert_eq!(status, Some(0), "{printed}");
    assert!(
        printed.contains("warning: LD_API_TOKEN is in wrangler.toml"),
        "{printed}"
    );
    assert!(!printed.contains("0123456789abcdef"), "{printed}");
    assert!(!printed.contains("must be set"), "{printed}");
}

#[test]
fn trigger_prints_true_or_false() {
    let event = r#"{"type": "track", "event": "Order Completed", "properties": {"total": 150}}"#;
    let matches = run(
        &[
            "trigger",
            r#"event = "Order Completed" and properties.total > 100"#,
        ],
        event,
    );
    assert!(matches.status.success());
    assert_eq!(String::from_utf8_lossy(&matches.stdout).trim(), "true");
    let misses = run(&["trigger", r#"properties.total > 200"#], event);
    assert_eq!(String::from_utf8_lossy(&misses.stdout).trim(), "false");
    let file = temp_file("trigger-event.json", event);
    let from_file = run(
        &["trigger", r#"type = "track""#, file.to_str().expect("path")],
        "",
    );
    assert_eq!(String::from_utf8_lossy(&from_file.stdout).trim(), "true");
    let invalid = run(&["trigger", r#"type = "track" and ("#], event);
    assert_eq!(invalid.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&invalid.stderr).contains("invalid trigger"));
}

#[test]
fn preview_with_a_document_routes_by_source() {
    let config = temp_file(
        "routing-config.json",
        r#"{"destinations": [{"name": "staging", "client_side_id": "s"}, {"name": "prod", "client_side_id": "p"}],
            "sources": [{"name": "web", "source_ids": ["web"], "destinations": ["prod"]}]}"#,
    );
    let output = run(
        &[
            "preview",
            "--config",
            config.to_str().expect("path"),
            "--source",
            "web",
        ],
        r#"{"type":"track","event":"E","userId":"u"}"#,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(printed["requests"].as_array().expect("requests").len(), 1);
    assert_eq!(printed["requests"][0]["destination"], "prod");
    let unknown = run(
        &[
            "preview",
            "--config",
            config.to_str().expect("path"),
            "--source",
            "ios",
        ],
        "{}",
    );
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn transform_runs_a_segment_mapping_or_lists_its_errors() {
    let mapping = temp_file(
        "transform-mapping.json",
        r#"{"name": {"@case": {"operator": "upper", "value": {"@path": "$.properties.plan"}}},
            "tags": {"@arrayPath": ["$.properties.items", {"sku": {"@path": "$.id"}}]},
            "flat": {"@flatten": {"value": {"@path": "$.context"}, "separator": "."}}}"#,
    );
    let payload = r#"{"properties": {"plan": "pro", "items": [{"id": "a"}, {"id": "b"}]}, "context": {"page": {"path": "/x"}}}"#;
    let output = run(
        &["transform", "--mapping", mapping.to_str().expect("path")],
        payload,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        printed,
        json!({"name": "PRO", "tags": [{"sku": "a"}, {"sku": "b"}], "flat": {"page.path": "/x"}})
    );
    let invalid = temp_file(
        "transform-invalid.json",
        r#"{"a": {"@path": 5}, "b": {"@if": {"then": 1}}, "c": {"@nope": 1}}"#,
    );
    let output = run(
        &["transform", "--mapping", invalid.to_str().expect("path")],
        "{}",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid mapping"), "{stderr}");
    assert!(stderr.contains("/a/@path should be a string"), "{stderr}");
    assert!(
        stderr.contains("/c has an invalid directive: @nope"),
        "every error at once: {stderr}"
    );
}
