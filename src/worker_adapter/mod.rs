//! The Cloudflare Worker adapter: reads requests, configuration and bindings from workerd, runs
//! the core, sends LaunchDarkly requests with `fetch` (or queues them), and writes JSON
//! responses. Decisions live in the core (`api`, `pipeline`, `delivery`).

//!
//! Its modules point one way: `platform` (time, logs, variables) ← `store` (dead letters in KV)
//! ← `send` (fetch, direct mode) ← `queue` (durable mode) ← `dispatch` (queue or send) ←
//! `admin` (dead-letter routes) ← this module (the entry points); `runtime` holds the settings
//! and bindings they share, and `http` and `recent` serve this module. `catalogue` (the Cron
//! Trigger's catalogue refresh, and the isolate's copy of it, in KV beside the dead letters or
//! in its own namespace) imports `platform`, `http` and `store`, and `runtime` lays its copy
//! over the configuration.

mod admin;
mod catalogue;
mod dispatch;
mod http;
mod platform;
mod queue;
mod recent;
mod runtime;
mod send;
mod store;

use crate::api::{
    self, AdminAction, ApiError, ApiResponse, ErrorCode, IngestPlan, IngestRequest, OutcomeDetail,
    Route,
};
use crate::delivery::QueuedPayload;
use crate::inbound::Limits;
use futures_util::future::join_all;
use platform::{log, log_line, now_ms, read_var};
use runtime::{load_settings, refresh_status, Runtime};
use serde_json::json;
use worker::{event, web_sys, Context, Env, MessageBatch, Result, ScheduleContext, ScheduledEvent};

/// The most an admin request body may hold (a list of payload ids).
const MAX_ADMIN_BODY_BYTES: usize = 64 * 1024;

#[event(fetch)]
async fn fetch(request: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    let started = now_ms();
    let method = request.method();
    let url = request.url();
    let path = api::path_of(&url);
    let headers = request.headers();
    let authorization = http::header(&headers, "Authorization");
    let dev_mode = api::dev_mode_on(read_var(&env, api::VAR_DEV_MODE).as_deref());
    let admin = || {
        api::check_admin(
            read_var(&env, api::VAR_ADMIN_TOKEN).as_deref(),
            authorization.as_deref(),
        )
    };
    let response = match api::route(&method, path) {
        Err(response) => response,
        Ok(Route::Health) => {
            let is_admin = admin().is_ok();
            if is_admin {
                // The operator sees the stored record as it is now, not this isolate's copy.
                catalogue::check(&env, true).await;
            }
            let settings = load_settings(&env);
            let refresh = is_admin.then(|| refresh_status(&settings)).flatten();
            let view = api::HealthView {
                admin: is_admin,
                dev_mode,
                catalogue: refresh.as_ref(),
            };
            api::health(
                settings
                    .as_ref()
                    .map(|s| &s.config)
                    .map_err(|p| p.as_slice()),
                view,
            )
        }
        Ok(Route::Preflight) => api::preflight(),
        Ok(Route::Recent) => match dev_mode.then_some(()).map_or_else(admin, Ok) {
            Ok(()) => recent::snapshot(),
            Err(response) => response,
        },
        // The admin token is checked before the body is read.
        Ok(Route::Admin(action)) => match admin() {
            Err(response) => response,
            Ok(()) => match http::read_body(&request, MAX_ADMIN_BODY_BYTES).await? {
                http::Body::Read(body) => admin_action(&env, &action, &body, &url).await,
                http::Body::TooLarge { bytes } => ApiError::new(
                    ErrorCode::RequestTooLarge,
                    format!("the request body is {bytes} bytes; an admin request takes at most {MAX_ADMIN_BODY_BYTES}"),
                )
                .into(),
            },
        },
        Ok(route) => match ingest_runtime(&env).await {
            Err(response) => response,
            Ok(runtime) => {
                let limits = Limits::SEGMENT;
                match http::read_body(&request, limits.max_request_bytes).await? {
                    http::Body::TooLarge { bytes } => {
                        let mut response: ApiResponse =
                            ApiError::request_too_large(bytes, limits.max_request_bytes).into();
                        if matches!(route, Route::TrackingApi(_)) {
                            api::add_cors(&mut response);
                        }
                        response
                    }
                    http::Body::Read(body) => {
                        let content_type = http::header(&headers, "Content-Type");
                        let signature = http::header(&headers, "X-Signature");
                        // Dev mode lists every outcome, for the live view.
                        let outcomes = if dev_mode {
                            OutcomeDetail::All
                        } else {
                            OutcomeDetail::from_url(&url)
                        };
                        let ingest = IngestRequest {
                            outcomes,
                            content_type: content_type.as_deref(),
                            authorization: authorization.as_deref(),
                            signature: signature.as_deref(),
                            body: &body,
                        };
                        let response =
                            ingest_request(&env, &runtime, &route, &ingest, started).await;
                        if dev_mode {
                            recent::record(&method, path, &body, &response);
                        }
                        response
                    }
                }
            }
        },
    };
    log_line(&request_line(&method, path, &response, now_ms() - started));
    Ok(http::respond(&response)?)
}

/// The request's log line, made from the typed answer: counts and deliveries of an ingest
/// answer (destination, payload id, events, attempts, status, result; failed attempts also get
/// lines of their own), and the error code of any error.
fn request_line<'a>(
    method: &'a str,
    path: &'a str,
    response: &'a ApiResponse,
    ms: i64,
) -> RequestLine<'a> {
    RequestLine {
        log: "request",
        method,
        path,
        status: response.status,
        error: response.error_code(),
        ms,
        ingest: response.ingest().map(|answer| IngestLine {
            received: answer.received,
            accepted: answer.accepted,
            skipped: answer.skipped,
            rejected: answer.rejected,
            dead_lettered: answer.dead_lettered,
            deliveries: DeliveryLines(&answer.deliveries),
        }),
    }
}

/// [`request_line`]'s fields, in the line's order; a field without a value is left out.
/// Serialized straight to its JSON text, with no `serde_json::Value` (a map and its hashed keys)
/// built for it on every request.
#[derive(serde::Serialize)]
struct RequestLine<'a> {
    log: &'static str,
    method: &'a str,
    path: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<api::ErrorCode>,
    ms: i64,
    /// The counts and deliveries of an ingest answer, after `ms`.
    #[serde(flatten)]
    ingest: Option<IngestLine<'a>>,
}

/// What the request's log line says of an ingest answer.
#[derive(serde::Serialize)]
struct IngestLine<'a> {
    received: usize,
    accepted: usize,
    skipped: usize,
    rejected: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    dead_lettered: Option<usize>,
    deliveries: DeliveryLines<'a>,
}

/// The deliveries of an ingest answer as the request's log line lists them.
struct DeliveryLines<'a>(&'a [api::DeliveryAnswer]);

impl serde::Serialize for DeliveryLines<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct DeliveryLine<'a> {
            destination: &'a str,
            payload_id: &'a uuid::Uuid,
            events: usize,
            attempts: u32,
            status: Option<u16>,
            result: &'static str,
        }
        serializer.collect_seq(self.0.iter().map(|delivery| DeliveryLine {
            destination: &delivery.destination,
            payload_id: &delivery.payload_id,
            events: delivery.events,
            attempts: delivery.attempts,
            status: delivery.status,
            result: delivery.result.name(),
        }))
    }
}

/// The runtime of an ingest request, with the refreshed catalogue: at most one KV read per
/// isolate per `catalogue::RECHECK_MS`, none with the refresh off.
async fn ingest_runtime(env: &Env) -> std::result::Result<Runtime, ApiResponse> {
    catalogue::check(env, false).await;
    Runtime::load(env, false)
}

async fn ingest_request(
    env: &Env,
    runtime: &Runtime,
    route: &Route,
    request: &IngestRequest<'_>,
    received_at_ms: i64,
) -> ApiResponse {
    let mut delivery = match api::plan_ingest(
        runtime.config(),
        route,
        request,
        &Limits::SEGMENT,
        received_at_ms,
    ) {
        IngestPlan::Respond(response) => return response,
        IngestPlan::Deliver(delivery) => delivery,
    };
    // The bodies move into the payloads handed on (the answer does not read them): a large
    // request's payloads are as large as its events, and are not copied.
    let reports = join_all(delivery.processed.payloads.iter_mut().map(|planned| {
        let payload = QueuedPayload {
            v: 1,
            destination: planned.destination.clone(),
            payload_id: planned.payload_id.to_string(),
            body: std::mem::take(&mut planned.body),
            events: planned.event_indexes.len(),
            attempts: 0,
            queued_at: received_at_ms,
            last_result: None,
        };
        dispatch::hand_on(env, runtime, payload)
    }))
    .await;
    api::finish(&delivery, &reports)
}

/// An admin action, once the admin token was checked (`url` carries its `cursor` and `limit`).
async fn admin_action(env: &Env, action: &AdminAction, body: &[u8], url: &str) -> ApiResponse {
    match action {
        AdminAction::ListDeadLetters => admin::list(env, url).await,
        AdminAction::DeleteDeadLetter(id) => admin::delete(env, id).await,
        AdminAction::ReplayDeadLetters => {
            let selection = match api::replay_selection(body) {
                Ok(selection) => selection,
                Err(response) => return response,
            };
            match Runtime::load(env, false) {
                Ok(runtime) => admin::replay(env, &runtime, selection, url).await,
                Err(response) => response,
            }
        }
    }
}

/// The Cron Trigger (`[triggers] crons` in wrangler.toml; any schedule): refreshes the metric
/// catalogue from LaunchDarkly's REST API when `LD_API_TOKEN` is set.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    catalogue::refresh(&env).await;
}

#[event(queue)]
async fn consume(
    batch: MessageBatch<worker::wasm_bindgen::JsValue>,
    env: Env,
    _ctx: Context,
) -> Result<()> {
    let queue_name = batch.queue();
    if queue::is_dead_letter_queue(&env, &queue_name) {
        queue::consume_dead_letters(&batch, &env).await;
        return Ok(());
    }
    match Runtime::load(&env, true) {
        Ok(runtime) => queue::consume_deliveries(&batch, &env, &runtime).await,
        Err(response) => {
            // Invalid configuration: keep every message for later rather than lose it.
            log(
                json!({"log": "queue_paused", "level": "error", "queue": queue_name, "error": response.error_code()}),
            );
            batch.retry_all();
        }
    }
    Ok(())
}
