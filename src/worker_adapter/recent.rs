//! The live view for the playground: the last requests this isolate handled, with their
//! outcomes and deliveries. Recorded only with `DEV_MODE = "true"`; no headers (so no
//! `Authorization` or `X-Signature`) and no `writeKey` are kept. `GET /dev/recent`, open in dev
//! mode, else with the admin token.

use super::platform::now_ms;
use crate::api::{ApiResponse, ResponseBody};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::VecDeque;

const KEEP: usize = 50;
const MAX_BODY_BYTES: usize = 16 * 1024;

thread_local! {
    static RECENT: RefCell<VecDeque<Value>> = const { RefCell::new(VecDeque::new()) };
}

/// Remembers one ingest request and the bridge's answer.
pub fn record(method: &str, path: &str, body: &[u8], response: &ApiResponse) {
    let received = match (body.len() <= MAX_BODY_BYTES)
        .then(|| serde_json::from_slice::<Value>(body).ok())
        .flatten()
    {
        Some(mut value) => {
            without_write_keys(&mut value);
            value
        }
        None => json!(format!("({} bytes, not shown)", body.len())),
    };
    let mut entry = json!({
        "at": now_ms(),
        "method": method,
        "path": path,
        "received": received,
        "status": response.status,
    });
    // Made from the typed answer: an ingest answer's outcomes, deliveries and error, or the
    // error of an error answer.
    match &response.body {
        ResponseBody::Ingest(answer) => {
            entry["outcomes"] = json!(answer.outcomes);
            entry["deliveries"] = json!(answer.deliveries);
            entry["error"] = json!(answer.error);
        }
        ResponseBody::Error(answer) => entry["error"] = json!(answer.error),
        ResponseBody::Empty | ResponseBody::Json(_) => {}
    }
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if recent.len() == KEEP {
            recent.pop_front();
        }
        recent.push_back(entry);
    });
}

/// The remembered requests, newest first.
pub fn snapshot() -> ApiResponse {
    let entries: Vec<Value> = RECENT.with(|recent| recent.borrow().iter().rev().cloned().collect());
    ApiResponse::json(200, json!({"recent": entries}))
}

/// Removes `writeKey` from a body: at its top, and from each event of an array or a batch.
fn without_write_keys(body: &mut Value) {
    let events = match body {
        Value::Object(object) => {
            object.remove("writeKey");
            match object.get_mut("batch") {
                Some(Value::Array(events)) => events,
                _ => return,
            }
        }
        Value::Array(events) => events,
        _ => return,
    };
    for event in events.iter_mut().filter_map(Value::as_object_mut) {
        event.remove("writeKey");
    }
}
