//! The dead-letter store (Workers KV, binding `DEAD_LETTERS`): keeping, reading, paging and
//! deleting letters. Letters expire after `DEAD_LETTER_TTL_DAYS` (default 30); keys are
//! `dead-letter:{payload_id}:{destination}`. The admin routes over it are in `admin`.

use super::platform::log;
use crate::delivery::{
    dead_letter_id_prefix, dead_letter_key, dead_letter_ttl_seconds, DeadLetter, PageRequest,
    DEAD_LETTER_PREFIX, DEFAULT_DEAD_LETTER_TTL_SECONDS, VAR_DEAD_LETTER_TTL_DAYS,
};
use futures_util::future::join_all;
use serde_json::json;
use worker::kv::KvStore;
use worker::Env;

/// The KV binding of the dead-letter store.
pub const BINDING: &str = crate::config::refreshed::DEAD_LETTER_STORE_BINDING;

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
pub type Letters = Vec<(String, DeadLetter)>;

/// The letters at `keys`, read together; unreadable or vanished ones are left out.
pub async fn read(kv: &KvStore, keys: Vec<String>) -> worker::Result<Letters> {
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
pub async fn page(
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
pub async fn keys_of(kv: &KvStore, payload_id: &str) -> worker::Result<Vec<String>> {
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
