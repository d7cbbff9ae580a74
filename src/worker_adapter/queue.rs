//! Durable mode with Cloudflare Queues: the request handler enqueues payloads; the consumer
//! delivers them with backoff (re-queueing with a delay, since workers-rs exposes no attempt
//! count); what cannot be delivered goes to the dead-letter queue with its reason, whose
//! consumer keeps it in the dead-letter store.

use super::platform::{log, now_ms};
use super::runtime::Runtime;
use super::{send, store};
use crate::delivery::{
    next_step, queue_messages, split_payload, DeadLetter, DeadLetterCode, DeadLetterReason,
    NextStep, QueuedPayload, MAX_QUEUED_BYTES,
};
use serde_json::json;
use worker::{
    wasm_bindgen::JsValue, Env, MessageBatch, MessageExt, Queue, QueueContentType,
    RawMessageBuilder,
};

/// Names the queue whose consumer keeps dead letters (default `segment-ld-dead-letters`).
pub const VAR_DEAD_LETTER_QUEUE_NAME: &str = "DEAD_LETTER_QUEUE_NAME";
const DEFAULT_DEAD_LETTER_QUEUE_NAME: &str = "segment-ld-dead-letters";

/// Queues a payload (its JSON, as a text message: its size is the text's) after `delay_seconds`,
/// cut by [`queue_messages`] into messages of at most [`MAX_QUEUED_BYTES`] (Cloudflare Queues
/// take 128 KB), each sent on its own. A failure part way leaves the pieces already sent queued;
/// the sender's retry of the request makes the same pieces with the same payload ids, which
/// LaunchDarkly takes once.
pub async fn enqueue(
    queue: &Queue,
    payload: &QueuedPayload,
    delay_seconds: u32,
) -> worker::Result<()> {
    let messages = queue_messages(payload, MAX_QUEUED_BYTES)
        .map_err(|error| worker::Error::RustError(error.to_string()))?;
    for message in &messages {
        send_text(queue, message, delay_seconds).await?;
    }
    Ok(())
}

async fn send_text(queue: &Queue, text: &str, delay_seconds: u32) -> worker::Result<()> {
    let mut message = RawMessageBuilder::new(JsValue::from_str(text));
    if delay_seconds > 0 {
        message = message.delay_seconds(delay_seconds);
    }
    queue
        .send_raw(message.build_with_content_type(QueueContentType::Text))
        .await
}

/// Which queue a batch came from.
pub fn is_dead_letter_queue(env: &Env, queue_name: &str) -> bool {
    let expected = env
        .var(VAR_DEAD_LETTER_QUEUE_NAME)
        .map(|value| value.to_string())
        .unwrap_or_else(|_| DEFAULT_DEAD_LETTER_QUEUE_NAME.to_string());
    queue_name == expected
}

/// The delivery queue's consumer: one decision per message, each acknowledged or retried alone.
pub async fn consume_deliveries(batch: &MessageBatch<JsValue>, env: &Env, runtime: &Runtime) {
    for message in batch.raw_iter() {
        let text = message.body().as_string().unwrap_or_default();
        let handled = match serde_json::from_str::<QueuedPayload>(&text) {
            Ok(payload) => deliver_queued(env, runtime, payload).await,
            Err(error) => {
                let unreadable = QueuedPayload {
                    v: 1,
                    destination: String::new(),
                    payload_id: message.id(),
                    body: text,
                    events: 0,
                    attempts: 0,
                    queued_at: now_ms(),
                    last_result: None,
                };
                give_up(
                    env,
                    runtime,
                    unreadable,
                    reason(
                        DeadLetterCode::UnreadableMessage,
                        format!("not a queued payload: {error}"),
                    ),
                )
                .await
            }
        };
        match handled {
            Ok(()) => message.ack(),
            Err(error) => {
                log(
                    json!({"log": "queue_retry", "level": "error", "message_id": message.id(), "error": error.to_string()}),
                );
                message.retry();
            }
        }
    }
}

/// Delivers one queued payload and decides what follows. `Err` leaves the message to the
/// platform's own retry (nothing was handed on).
async fn deliver_queued(
    env: &Env,
    runtime: &Runtime,
    mut payload: QueuedPayload,
) -> worker::Result<()> {
    let Some(destination) = runtime.config().destination(&payload.destination) else {
        let why = format!(
            "the destination {:?} is no longer configured",
            payload.destination
        );
        return give_up(
            env,
            runtime,
            payload,
            reason(DeadLetterCode::UnknownDestination, why),
        )
        .await;
    };
    let result = send::attempt(destination, &payload, runtime.policy.timeout_ms).await;
    payload.attempts += 1;
    payload.last_result = Some(result.describe());
    let step = next_step(
        &runtime.policy.queue_delays_seconds,
        payload.attempts,
        payload.events,
        &result,
        now_ms(),
    );
    let Some(delivery_queue) = &runtime.delivery_queue else {
        return Err(worker::Error::RustError(
            "the DELIVERIES queue is not bound".to_string(),
        ));
    };
    match step {
        NextStep::Delivered => {
            log(json!({
                "log": "delivered",
                "destination": destination.name,
                "payload_id": payload.payload_id,
                "events": payload.events,
                "attempts": payload.attempts,
                "status": result.status,
            }));
            Ok(())
        }
        NextStep::RetryAfter(seconds) => enqueue(delivery_queue, &payload, seconds).await,
        NextStep::Split => {
            for half in split_payload(&payload).into_iter().flatten() {
                enqueue(delivery_queue, &half, 0).await?;
            }
            Ok(())
        }
        NextStep::DeadLetter(why) => give_up(env, runtime, payload, why).await,
    }
}

/// Hands a payload to the dead-letter queue with its reason, or stores it directly when no
/// dead-letter queue is bound.
async fn give_up(
    env: &Env,
    runtime: &Runtime,
    payload: QueuedPayload,
    why: DeadLetterReason,
) -> worker::Result<()> {
    let letter = DeadLetter {
        payload,
        reason: why,
        dead_lettered_at: now_ms(),
    };
    match &runtime.dead_letter_queue {
        Some(queue) => send_text(queue, &serde_json::to_string(&letter)?, 0).await,
        None => store::store(env, &letter).await,
    }
}

/// The dead-letter queue's consumer: keeps each letter in the store. A bare queued payload is
/// one the platform moved here after the consumer itself kept failing.
pub async fn consume_dead_letters(batch: &MessageBatch<JsValue>, env: &Env) {
    for message in batch.raw_iter() {
        let text = message.body().as_string().unwrap_or_default();
        let letter = serde_json::from_str::<DeadLetter>(&text).or_else(|_| {
            serde_json::from_str::<QueuedPayload>(&text).map(|payload| DeadLetter {
                payload,
                reason: reason(
                    DeadLetterCode::ConsumerFailed,
                    "the delivery consumer failed on this payload until the platform gave up on it"
                        .to_string(),
                ),
                dead_lettered_at: now_ms(),
            })
        });
        let stored = match letter {
            Ok(letter) => store::store(env, &letter).await,
            Err(error) => {
                log(
                    json!({"log": "dead_letter_unreadable", "level": "error", "message_id": message.id(), "error": error.to_string()}),
                );
                Ok(())
            }
        };
        match stored {
            Ok(()) => message.ack(),
            Err(_) => message.retry(),
        }
    }
}

fn reason(code: DeadLetterCode, message: String) -> DeadLetterReason {
    DeadLetterReason { code, message }
}
