//! Handing a payload on: queued when the delivery queue is bound (durable mode), delivered now
//! otherwise (direct mode). The one place that choice is made, for ingest and for replay.

use super::runtime::Runtime;
use super::{queue, send};
use crate::api::{DeliveryReport, DeliveryResult};
use crate::delivery::QueuedPayload;
use worker::Env;

/// Durable mode: queue the payload. Direct mode: deliver it now.
pub async fn hand_on(env: &Env, runtime: &Runtime, payload: QueuedPayload) -> DeliveryReport {
    if let Some(delivery_queue) = &runtime.delivery_queue {
        return match queue::enqueue(delivery_queue, &payload, 0).await {
            Ok(()) => DeliveryReport::queued(),
            Err(error) => DeliveryReport {
                status: None,
                error: Some(format!("could not queue the payload: {error}")),
                attempts: 0,
                result: DeliveryResult::Failed {
                    configuration_error: false,
                    retry_after: None,
                },
            },
        };
    }
    match runtime.config().destination(&payload.destination) {
        Some(destination) => send::deliver_direct(env, destination, payload, &runtime.policy).await,
        None => DeliveryReport {
            status: None,
            error: Some(format!(
                "the destination {:?} is not configured",
                payload.destination
            )),
            attempts: 0,
            result: DeliveryResult::Failed {
                configuration_error: true,
                retry_after: None,
            },
        },
    }
}
