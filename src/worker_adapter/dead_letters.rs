//! The dead-letter store (Workers KV, binding `DEAD_LETTERS`) and the admin routes that list,
//! replay and delete dead letters. Letters expire after `DEAD_LETTER_TTL_DAYS` (default 30);
//! keys are `dead-letter:{payload_id}:{destination}`; listing and replaying go page by page.

use super::{log, now_ms, queue, send, Runtime};
use crate::api::{ApiResponse, DeliveryResult};
use crate::delivery::{
    dead_letter_id_prefix, dead_letter_key, dead_letter_ttl_seconds, DeadLetter, PageRequest,
    QueuedPayload, DEAD_LETTER_PREFIX, DEFAULT_DEAD_LETTER_TTL_SECONDS, VAR_DEAD_LETTER_TTL_DAYS,
};
use futures_util::future::join_all;
use serde_json::{json, Value};
use worker::kv::KvStore;
use worker::Env;

/// The KV binding of the dead-letter store.
pub const BINDING: &str = "DEAD_LETTERS";

/// Keeps a dead letter until it expires (storing it twice keeps one). An invalid
/// `DEAD_LETTER_TTL_DAYS` is logged and the default applies.
pub async fn store(env: &Env, letter: &DeadLetter) -> worker::Result<()> {
    let kv = env.kv(BINDING).inspect_err(|_| {
        log(json!({"log": "dead_letter_lost", "level": "error", "payload_id": letter.payload.payload_id,
                   "reason": letter.reason.code, "message": "no DEAD_LETTERS KV namespace is bound"}));
    })?;
    let ttl = env
        .var(VAR_DEAD_LETTER_TTL_DAYS)
        .ok()
        .map(|v| v.to_string());
    let ttl = dead_letter_ttl_seconds(ttl.as_deref()).unwrap_or_else(|problem| {
        log(json!({"log": "invalid_setting", "level": "error", "variable": problem.location, "message": problem.message}));
        DEFAULT_DEAD_LETTER_TTL_SECONDS
    });
    let text = serde_json::to_string(letter)?;
    let key = dead_letter_key(&letter.payload.payload_id, &letter.payload.destination);
    kv.put(&key, text)?.expiration_ttl(ttl).execute().await?;
    log(json!({
        "log": "dead_letter",
        "level": "error",
        "destination": letter.payload.destination,
        "payload_id": letter.payload.payload_id,
        "events": letter.payload.events,
        "attempts": letter.payload.attempts,
        "reason": letter.reason.code,
        "message": letter.reason.message,
        "ttl_seconds": ttl,
    }));
    Ok(())
}

/// Dead letters with their keys.
type Letters = Vec<(String, DeadLetter)>;

/// The letters at `keys`, read together; unreadable or vanished ones are left out.
async fn read(kv: &KvStore, keys: Vec<String>) -> worker::Result<Letters> {
    let texts = join_all(keys.iter().map(|key| kv.get(key).text())).await;
    let mut letters = Vec::new();
    for (key, text) in keys.into_iter().zip(texts) {
        if let Some(text) = text? {
            match serde_json::from_str::<DeadLetter>(&text) {
                Ok(letter) => letters.push((key, letter)),
                Err(error) => log(
                    json!({"log": "dead_letter_unreadable", "key": key, "error": error.to_string()}),
                ),
            }
        }
    }
    Ok(letters)
}

/// One page of letters in key order, the cursor of the next page (`None` at the end) and whether
/// the store has no more.
async fn page(
    kv: &KvStore,
    request: &PageRequest,
) -> worker::Result<(Letters, Option<String>, bool)> {
    let mut list = kv
        .list()
        .prefix(DEAD_LETTER_PREFIX.to_string())
        .limit(u64::from(request.limit));
    if let Some(cursor) = &request.cursor {
        list = list.cursor(cursor.clone());
    }
    let listed = list.execute().await?;
    let keys = listed.keys.into_iter().map(|key| key.name).collect();
    let letters = read(kv, keys).await?;
    let cursor = listed.cursor.filter(|_| !listed.list_complete);
    Ok((letters, cursor, listed.list_complete))
}

/// The keys of one payload id's letters (one per destination), by prefix, and the key that
/// versions before destinations were in keys used (`dead-letter:{payload_id}`; payload ids hold
/// no `:`, so an id with one cannot name another letter's key that way).
async fn keys_of(kv: &KvStore, payload_id: &str) -> worker::Result<Vec<String>> {
    let listed = kv
        .list()
        .prefix(dead_letter_id_prefix(payload_id))
        .execute()
        .await?;
    let mut keys: Vec<String> = listed.keys.into_iter().map(|key| key.name).collect();
    let legacy = format!("{DEAD_LETTER_PREFIX}{payload_id}");
    if !payload_id.contains(':') && kv.get(&legacy).text().await?.is_some() {
        keys.push(legacy);
    }
    Ok(keys)
}

/// `GET /admin/dead-letters?cursor=...&limit=N`: one page (default 50, at most 100) in key order,
/// with the cursor of the next page (`null` at the end).
pub async fn list(env: &Env, url: &str) -> ApiResponse {
    let request = match PageRequest::from_url(url) {
        Ok(request) => request,
        Err(error) => return ApiResponse::error(400, "invalid_query", error.to_string()),
    };
    let result = async { page(&env.kv(BINDING)?, &request).await }.await;
    match result {
        Ok((letters, cursor, list_complete)) => {
            let letters: Vec<DeadLetter> = letters.into_iter().map(|(_, letter)| letter).collect();
            ApiResponse::json(
                200,
                json!({"count": letters.len(), "dead_letters": letters, "cursor": cursor, "list_complete": list_complete}),
            )
        }
        Err(error) => unavailable(error),
    }
}

/// `DELETE /admin/dead-letters/{payload_id}`: deletes the payload id's letters (every
/// destination's).
pub async fn delete(env: &Env, payload_id: &str) -> ApiResponse {
    let result = async {
        let kv = env.kv(BINDING)?;
        let keys = keys_of(&kv, payload_id).await?;
        for key in &keys {
            kv.delete(key).await?;
        }
        worker::Result::Ok(keys.len())
    }
    .await;
    match result {
        Ok(0) => ApiResponse::error(
            404,
            "not_found",
            format!("no dead letter has the payload id {payload_id:?}"),
        ),
        Ok(letters) => ApiResponse::json(200, json!({"deleted": payload_id, "letters": letters})),
        Err(error) => unavailable(error),
    }
}

/// `POST /admin/dead-letters/replay[?cursor=...&limit=N]`: queues (durable mode) or delivers
/// (direct mode) dead letters again with their payload ids, deleting each one handed on. With
/// `{"payload_ids": [...]}` (at most 100), those; without, one page of the store, answering the
/// `cursor` of the next page (`null` when none is left) to replay the rest with.
pub async fn replay(
    env: &Env,
    runtime: &Runtime,
    selection: Option<Vec<String>>,
    url: &str,
) -> ApiResponse {
    let max = PageRequest::MAX_LIMIT as usize;
    if selection.as_ref().is_some_and(|ids| ids.len() > max) {
        return ApiResponse::error(
            400,
            "invalid_body",
            format!("replay at most {max} payload ids per request"),
        );
    }
    let request = match PageRequest::from_url(url) {
        Ok(request) => request,
        Err(error) => return ApiResponse::error(400, "invalid_query", error.to_string()),
    };
    let kv = match env.kv(BINDING) {
        Ok(kv) => kv,
        Err(error) => return unavailable(error),
    };
    let chosen = match &selection {
        Some(ids) => {
            async {
                let mut keys = Vec::new();
                for id in ids {
                    keys.extend(keys_of(&kv, id).await?);
                }
                Ok((read(&kv, keys).await?, None, true))
            }
            .await
        }
        None => page(&kv, &request).await,
    };
    let (letters, cursor, list_complete) = match chosen {
        Ok(chosen) => chosen,
        Err(error) => return unavailable(error),
    };
    let mut results = Vec::new();
    for (key, letter) in letters {
        let result = hand_on(env, runtime, &letter).await;
        if matches!(result["result"].as_str(), Some("queued" | "delivered")) {
            if let Err(error) = kv.delete(&key).await {
                // Kept: a later replay sends it again under the same payload id, which
                // LaunchDarkly deduplicates.
                log(
                    json!({"log": "dead_letter_not_deleted", "level": "warn", "payload_id": letter.payload.payload_id, "message": error.to_string()}),
                );
            }
        }
        let mut entry = json!({"payload_id": letter.payload.payload_id, "destination": letter.payload.destination});
        if let (Some(fields), Value::Object(extra)) = (entry.as_object_mut(), result) {
            fields.extend(extra);
        }
        results.push(entry);
    }
    ApiResponse::json(
        200,
        json!({"replayed": results, "cursor": cursor, "list_complete": list_complete}),
    )
}

/// Queues or delivers one letter's payload afresh: `{"result": "queued" | "delivered" | "kept", ...}`.
async fn hand_on(env: &Env, runtime: &Runtime, letter: &DeadLetter) -> Value {
    let payload = QueuedPayload {
        attempts: 0,
        last_result: None,
        queued_at: now_ms(),
        ..letter.payload.clone()
    };
    let Some(destination) = runtime.config().destination(&payload.destination) else {
        return json!({"result": "kept", "reason": "its destination is no longer configured"});
    };
    match &runtime.delivery_queue {
        Some(delivery_queue) => match queue::enqueue(delivery_queue, &payload, 0).await {
            Ok(()) => json!({"result": "queued"}),
            Err(error) => json!({"result": "kept", "reason": error.to_string()}),
        },
        None => {
            let report = send::deliver_direct(env, destination, payload, &runtime.policy).await;
            match report.result {
                DeliveryResult::Delivered => {
                    json!({"result": "delivered", "status": report.status})
                }
                other => {
                    json!({"result": "kept", "reason": other, "status": report.status, "error": report.error})
                }
            }
        }
    }
}

fn unavailable(error: worker::Error) -> ApiResponse {
    ApiResponse::error(
        503,
        "dead_letter_store_unavailable",
        format!("the dead-letter store (KV binding {BINDING}) is not available: {error}"),
    )
}
