//! The trigger (FQL) parser and evaluator, and Segment's JSON parse tree.
//! Input: `<trigger text> 0xFF <event JSON>` (the first 0xFF splits). When the text is JSON it
//! is also read as a parse tree. Nothing may panic; `from_ast(to_ast())` is a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use segment_ld_bridge::trigger::Trigger;
use serde_json::{json, Value};

fn exercise(trigger: &Trigger, event: &Value) {
    let matched = trigger.matches(event);
    let explained = trigger.explain(event);
    assert_eq!(matched, explained.is_none(), "matches and explain disagree");
    let _ = trigger.mismatch_score(event);
    let _ = trigger.warnings();
    let _ = trigger.to_string();
    let ast = trigger.to_ast();
    let again = Trigger::from_ast(&ast)
        .unwrap_or_else(|e| panic!("from_ast(to_ast()) failed: {e} on {ast}"));
    assert_eq!(again.to_ast(), ast, "to_ast is not a fixed point");
    let _ = again.matches(event);
}

fuzz_target!(|data: &[u8]| {
    let (left, right) = match data.iter().position(|&b| b == 0xFF) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let event: Value = serde_json::from_slice(right).unwrap_or_else(|_| {
        json!({"type": "track", "event": "Order Completed", "userId": "u",
               "properties": {"revenue": 10, "tags": ["a", "b"]}, "context": {"page": {"path": "/"}}})
    });
    let Ok(text) = std::str::from_utf8(left) else {
        return;
    };
    if let Ok(trigger) = Trigger::parse(text) {
        exercise(&trigger, &event);
        exercise(&trigger, &Value::Null);
        // The generated source of a tree parses again.
        if let Ok(from_tree) = Trigger::from_ast(&trigger.to_ast()) {
            let _ = Trigger::parse(from_tree.source());
        }
    }
    if let Ok(ast) = serde_json::from_str::<Value>(text) {
        if let Ok(trigger) = Trigger::from_ast(&ast) {
            exercise(&trigger, &event);
        }
    }
});
