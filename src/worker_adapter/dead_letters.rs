//! The dead-letter store (Workers KV, binding `DEAD_LETTERS`) and the admin routes that list,
//! replay and delete dead letters.

use super::{log, now_ms, queue, send, Runtime};
use crate::api::{ApiResponse, DeliveryResult};
use crate::delivery::{DeadLetter, QueuedPayload};
use serde_json::{json, Value};
use worker::Env;

/// The KV binding of the dead-letter store.
pub const BINDING: &str = "DEAD_LETTERS";
const PREFIX: &str = "dead-letter:";

/// Keeps a dead letter (keyed by payload id: storing it twice keeps one).
pub async fn store(env: &Env, letter: &DeadLetter) -> worker::Result<()> {
    let kv = env.kv(BINDING).inspect_err(|_| {
        log(json!({"log": "dead_letter_lost", "level": "error", "payload_id": letter.payload.payload_id,
                   "reason": letter.reason.code, "message": "no DEAD_LETTERS KV namespace is bound"}));
    })?;
    let text = serde_json::to_string(letter)?;
    kv.put(&format!("{PREFIX}{}", letter.payload.payload_id), text)?
        .execute()
        .await?;
    log(json!({
        "log": "dead_letter",
        "level": "error",
        "destination": letter.payload.destination,
        "payload_id": letter.payload.payload_id,
        "events": letter.payload.events,
        "attempts": letter.payload.attempts,
        "reason": letter.reason.code,
        "message": letter.reason.message,
    }));
    Ok(())
}

async fn all(env: &Env) -> worker::Result<Vec<DeadLetter>> {
    let kv = env.kv(BINDING)?;
    let mut letters = Vec::new();
    let mut cursor = None;
    loop {
        let mut list = kv.list().prefix(PREFIX.to_string());
        if let Some(cursor) = cursor.take() {
            list = list.cursor(cursor);
        }
        let page = list.execute().await?;
        for key in page.keys {
            if let Some(text) = kv.get(&key.name).text().await? {
                match serde_json::from_str::<DeadLetter>(&text) {
                    Ok(letter) => letters.push(letter),
                    Err(error) => log(
                        json!({"log": "dead_letter_unreadable", "key": key.name, "error": error.to_string()}),
                    ),
                }
            }
        }
        match page.cursor {
            Some(next) if !page.list_complete => cursor = Some(next),
            _ => break,
        }
    }
    letters.sort_by_key(|letter| letter.dead_lettered_at);
    Ok(letters)
}

/// `GET /admin/dead-letters`.
pub async fn list(env: &Env) -> ApiResponse {
    match all(env).await {
        Ok(letters) => ApiResponse::json(
            200,
            json!({"count": letters.len(), "dead_letters": letters}),
        ),
        Err(error) => unavailable(error),
    }
}

/// `DELETE /admin/dead-letters/{payload_id}`.
pub async fn delete(env: &Env, payload_id: &str) -> ApiResponse {
    let result = async {
        let kv = env.kv(BINDING)?;
        let key = format!("{PREFIX}{payload_id}");
        let existed = kv.get(&key).text().await?.is_some();
        kv.delete(&key).await?;
        worker::Result::Ok(existed)
    }
    .await;
    match result {
        Ok(true) => ApiResponse::json(200, json!({"deleted": payload_id})),
        Ok(false) => ApiResponse::error(
            404,
            "not_found",
            format!("no dead letter has the payload id {payload_id:?}"),
        ),
        Err(error) => unavailable(error),
    }
}

/// `POST /admin/dead-letters/replay`: queues (durable mode) or delivers (direct mode) the
/// selected dead letters again with their payload ids, removing each one that is handed on.
pub async fn replay(env: &Env, runtime: &Runtime, selection: Option<Vec<String>>) -> ApiResponse {
    let letters = match all(env).await {
        Ok(letters) => letters,
        Err(error) => return unavailable(error),
    };
    let chosen: Vec<DeadLetter> = letters
        .into_iter()
        .filter(|letter| {
            selection
                .as_ref()
                .is_none_or(|ids| ids.contains(&letter.payload.payload_id))
        })
        .collect();
    let mut results = Vec::new();
    for letter in chosen {
        let payload = QueuedPayload {
            attempts: 0,
            last_result: None,
            queued_at: now_ms(),
            ..letter.payload.clone()
        };
        let result = match runtime
            .config()
            .destinations
            .iter()
            .find(|d| d.name == payload.destination)
        {
            None => json!({"result": "kept", "reason": "its destination is no longer configured"}),
            Some(destination) => match &runtime.delivery_queue {
                Some(delivery_queue) => match queue::enqueue(delivery_queue, &payload, 0).await {
                    Ok(()) => json!({"result": "queued"}),
                    Err(error) => json!({"result": "kept", "reason": error.to_string()}),
                },
                None => {
                    let report =
                        send::deliver_direct(env, destination, payload.clone(), &runtime.policy)
                            .await;
                    match report.result {
                        DeliveryResult::Delivered => {
                            json!({"result": "delivered", "status": report.status})
                        }
                        other => {
                            json!({"result": "kept", "reason": other, "status": report.status, "error": report.error})
                        }
                    }
                }
            },
        };
        let handed_on = matches!(result["result"].as_str(), Some("queued" | "delivered"));
        if handed_on {
            if let Ok(kv) = env.kv(BINDING) {
                let _ = kv
                    .delete(&format!("{PREFIX}{}", letter.payload.payload_id))
                    .await;
            }
        }
        let mut entry = json!({"payload_id": letter.payload.payload_id, "destination": letter.payload.destination});
        if let (Some(fields), Value::Object(extra)) = (entry.as_object_mut(), result) {
            fields.extend(extra);
        }
        results.push(entry);
    }
    ApiResponse::json(200, json!({"replayed": results}))
}

fn unavailable(error: worker::Error) -> ApiResponse {
    ApiResponse::error(
        503,
        "dead_letter_store_unavailable",
        format!("the dead-letter store (KV binding {BINDING}) is not available: {error}"),
    )
}
