//! The admin routes over the dead-letter store (they need the admin token, checked before
//! they are called): list a page, delete one payload id's letters, replay letters (queued in
//! durable mode, delivered in direct mode) with their payload ids.

use super::dispatch::hand_on;
use super::platform::{log, now_ms};
use super::runtime::Runtime;
use super::store::{keys_of, page, read, BINDING};
use crate::api::{ApiError, ApiResponse, DeliveryResult, ErrorCode};
use crate::delivery::{DeadLetter, PageRequest, QueuedPayload};
use serde_json::json;
use worker::Env;

/// `GET /admin/dead-letters?cursor=...&limit=N`: one page (default 50, at most 100) in key order,
/// with the cursor of the next page (`null` at the end).
pub async fn list(env: &Env, url: &str) -> ApiResponse {
    let request = match PageRequest::from_url(url) {
        Ok(request) => request,
        Err(error) => return ApiError::new(ErrorCode::InvalidQuery, error.to_string()).into(),
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
        Ok(0) => ApiError::new(
            ErrorCode::NotFound,
            format!("no dead letter has the payload id {payload_id:?}"),
        )
        .into(),
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
        return ApiError::new(
            ErrorCode::InvalidBody,
            format!("replay at most {max} payload ids per request"),
        )
        .into();
    }
    let request = match PageRequest::from_url(url) {
        Ok(request) => request,
        Err(error) => return ApiError::new(ErrorCode::InvalidQuery, error.to_string()).into(),
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
        let payload = QueuedPayload {
            attempts: 0,
            last_result: None,
            queued_at: now_ms(),
            ..letter.payload.clone()
        };
        let report = hand_on(env, runtime, payload).await;
        let mut entry = json!({
            "payload_id": letter.payload.payload_id,
            "destination": letter.payload.destination,
        });
        match &report.result {
            DeliveryResult::Queued => entry["result"] = json!("queued"),
            DeliveryResult::Delivered => {
                entry["result"] = json!("delivered");
                entry["status"] = json!(report.status);
            }
            other => {
                entry["result"] = json!("kept");
                entry["reason"] = json!(other);
                entry["status"] = json!(report.status);
                entry["error"] = json!(report.error);
            }
        }
        if matches!(
            report.result,
            DeliveryResult::Queued | DeliveryResult::Delivered
        ) {
            if let Err(error) = kv.delete(&key).await {
                // Kept: a later replay sends it again under the same payload id, which
                // LaunchDarkly deduplicates.
                log(
                    json!({"log": "dead_letter_not_deleted", "level": "warn", "payload_id": letter.payload.payload_id, "message": error.to_string()}),
                );
            }
        }
        results.push(entry);
    }
    ApiResponse::json(
        200,
        json!({"replayed": results, "cursor": cursor, "list_complete": list_complete}),
    )
}

fn unavailable(error: worker::Error) -> ApiResponse {
    ApiError::new(
        ErrorCode::DeadLetterStoreUnavailable,
        format!("the dead-letter store (KV binding {BINDING}) is not available: {error}"),
    )
    .into()
}
