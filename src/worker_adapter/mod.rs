//! The Cloudflare Worker adapter: reads requests, configuration and bindings from workerd, runs
//! the core, sends LaunchDarkly requests with `fetch` (or queues them), and writes JSON
//! responses. Decisions live in the core (`api`, `pipeline`, `delivery`).

mod dead_letters;
mod http;
mod queue;
mod recent;
mod send;

use crate::api::{
    self, AdminAction, ApiResponse, DeliveryReport, DeliveryResult, IngestPlan, IngestRequest,
    Route,
};
use crate::config::{BridgeConfig, ConfigProblem, CONFIG_VARS};
use crate::delivery::{QueuedPayload, RetryPolicy, VAR_RETRY_DELAYS, VAR_TIMEOUT_MS};
use crate::inbound::Limits;
use futures_util::future::join_all;
use js_sys::Object;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;
use worker::wasm_bindgen::JsValue;
use worker::{console_log, event, web_sys, Context, Date, Env, MessageBatch, Queue, Result};

/// The configuration and delivery policy of this isolate.
struct Settings {
    config: BridgeConfig,
    policy: RetryPolicy,
}

type Loaded = std::result::Result<Rc<Settings>, Rc<Vec<ConfigProblem>>>;

/// The variables the settings are built from (the cache key).
const SETTINGS_VARS: [&str; 12] = [
    CONFIG_VARS[0],
    CONFIG_VARS[1],
    CONFIG_VARS[2],
    CONFIG_VARS[3],
    CONFIG_VARS[4],
    CONFIG_VARS[5],
    CONFIG_VARS[6],
    CONFIG_VARS[7],
    VAR_RETRY_DELAYS,
    VAR_TIMEOUT_MS,
    crate::config::VAR_TIMESTAMP_EARLIEST,
    crate::config::VAR_TIMESTAMP_MAX_FUTURE_SECONDS,
];

/// The most an admin request body may hold (a list of payload ids).
const MAX_ADMIN_BODY_BYTES: usize = 64 * 1024;

/// Settings built from one `env`: the same `env` object needs no variable read at all.
struct CachedSettings {
    env: JsValue,
    values: Vec<Option<String>>,
    settings: Loaded,
}

thread_local! {
    /// The settings of this isolate, rebuilt only when the variables change.
    static SETTINGS: RefCell<Option<CachedSettings>> = const { RefCell::new(None) };
}

/// What a handler needs: valid settings and the bound queues.
pub struct Runtime {
    settings: Rc<Settings>,
    policy: RetryPolicy,
    delivery_queue: Option<Queue>,
    dead_letter_queue: Option<Queue>,
}

impl Runtime {
    /// Builds the runtime, or the 503 that lists the configuration problems. The dead-letter
    /// queue is looked up only for the queue consumer, which is the only one to use it.
    fn load(env: &Env, for_consumer: bool) -> std::result::Result<Runtime, ApiResponse> {
        let settings = load_settings(env).map_err(|problems| api::misconfigured(&problems))?;
        Ok(Runtime {
            policy: settings.policy.clone(),
            settings,
            delivery_queue: env.queue(queue::DELIVERY_BINDING).ok(),
            dead_letter_queue: for_consumer
                .then(|| env.queue(queue::DEAD_LETTER_BINDING).ok())
                .flatten(),
        })
    }

    fn config(&self) -> &BridgeConfig {
        &self.settings.config
    }
}

#[event(fetch)]
async fn fetch(request: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    let started = now_ms();
    let method = request.method();
    let url = request.url();
    let path = api::path_of(&url);
    let headers = request.headers();
    let authorization = http::header(&headers, "Authorization");
    let dev_mode = read_var(&env, api::VAR_DEV_MODE).is_some_and(|value| value == "true");
    let admin = || {
        api::check_admin(
            read_var(&env, api::VAR_ADMIN_TOKEN).as_deref(),
            authorization.as_deref(),
        )
    };
    let response = match api::route(&method, path) {
        Err(response) => response,
        Ok(Route::Health) => {
            let settings = load_settings(&env);
            let view = api::HealthView {
                admin: admin().is_ok(),
                dev_mode,
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
                http::Body::TooLarge { bytes } => ApiResponse::error(
                    413,
                    "request_too_large",
                    format!("the request body is {bytes} bytes; an admin request takes at most {MAX_ADMIN_BODY_BYTES}"),
                ),
            },
        },
        Ok(route) => match Runtime::load(&env, false) {
            Err(response) => response,
            Ok(runtime) => {
                let limits = Limits::SEGMENT;
                match http::read_body(&request, limits.max_request_bytes).await? {
                    http::Body::TooLarge { bytes } => {
                        let mut response = too_large(bytes, limits.max_request_bytes);
                        if matches!(route, Route::TrackingApi(_)) {
                            api::add_cors(&mut response);
                        }
                        response
                    }
                    http::Body::Read(body) => {
                        let content_type = http::header(&headers, "Content-Type");
                        let signature = http::header(&headers, "X-Signature");
                        let ingest = IngestRequest {
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
    log(json!({
        "log": "request",
        "method": method,
        "path": path,
        "status": response.status,
        "received": response.body.get("received"),
        "accepted": response.body.get("accepted"),
        "skipped": response.body.get("skipped"),
        "rejected": response.body.get("rejected"),
        "dead_lettered": response.body.get("dead_lettered"),
        "deliveries": delivery_summaries(&response.body),
        "error": response.body.pointer("/error/code"),
        "ms": now_ms() - started,
    }));
    Ok(http::respond(&response)?)
}

/// 413 for a body over `limit` bytes, refused before it was read whole.
fn too_large(bytes: usize, limit: usize) -> ApiResponse {
    let error = crate::inbound::LimitError::RequestTooLarge { bytes, limit };
    ApiResponse::error(413, error.code(), error.to_string())
}

/// The deliveries of an ingest answer, for the request's log line: destination, payload id,
/// events, attempts, status and result (failed attempts also get lines of their own).
fn delivery_summaries(body: &Value) -> Option<Vec<Value>> {
    let deliveries = body.get("deliveries")?.as_array()?;
    Some(
        deliveries
            .iter()
            .map(|delivery| {
                let mut summary = serde_json::Map::new();
                for field in [
                    "destination",
                    "payload_id",
                    "events",
                    "attempts",
                    "status",
                    "result",
                ] {
                    if let Some(value) = delivery.get(field).filter(|value| !value.is_null()) {
                        summary.insert(field.to_string(), value.clone());
                    }
                }
                Value::Object(summary)
            })
            .collect(),
    )
}

async fn ingest_request(
    env: &Env,
    runtime: &Runtime,
    route: &Route,
    request: &IngestRequest<'_>,
    received_at_ms: i64,
) -> ApiResponse {
    let delivery = match api::plan_ingest(
        runtime.config(),
        route,
        request,
        &Limits::SEGMENT,
        received_at_ms,
    ) {
        IngestPlan::Respond(response) => return response,
        IngestPlan::Deliver(delivery) => delivery,
    };
    let reports = join_all(delivery.processed.deliveries.iter().map(|planned| {
        let payload = QueuedPayload {
            v: 1,
            destination: planned.destination.clone(),
            payload_id: planned
                .request
                .header("X-LaunchDarkly-Payload-ID")
                .unwrap_or_default()
                .to_string(),
            body: planned.request.body.clone(),
            events: planned.event_indexes.len(),
            attempts: 0,
            queued_at: received_at_ms,
            last_result: None,
        };
        hand_on(env, runtime, payload)
    }))
    .await;
    api::finish(&delivery, &reports)
}

/// Durable mode: queue the payload. Direct mode: deliver it now.
async fn hand_on(env: &Env, runtime: &Runtime, payload: QueuedPayload) -> DeliveryReport {
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
            error: Some("unknown destination".to_string()),
            attempts: 0,
            result: DeliveryResult::Failed {
                configuration_error: true,
                retry_after: None,
            },
        },
    }
}

/// An admin action, once the admin token was checked (`url` carries its `cursor` and `limit`).
async fn admin_action(env: &Env, action: &AdminAction, body: &[u8], url: &str) -> ApiResponse {
    match action {
        AdminAction::ListDeadLetters => dead_letters::list(env, url).await,
        AdminAction::DeleteDeadLetter(id) => dead_letters::delete(env, id).await,
        AdminAction::ReplayDeadLetters => {
            let selection = match api::replay_selection(body) {
                Ok(selection) => selection,
                Err(response) => return response,
            };
            match Runtime::load(env, false) {
                Ok(runtime) => dead_letters::replay(env, &runtime, selection, url).await,
                Err(response) => response,
            }
        }
    }
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
                json!({"log": "queue_paused", "level": "error", "queue": queue_name, "problems": response.body.get("problems")}),
            );
            batch.retry_all();
        }
    }
    Ok(())
}

fn load_settings(env: &Env) -> Loaded {
    let env_value = JsValue::from(env.clone());
    let unchanged_env = SETTINGS.with(|cache| {
        cache
            .borrow()
            .as_ref()
            .and_then(|cached| Object::is(&cached.env, &env_value).then(|| cached.settings.clone()))
    });
    if let Some(settings) = unchanged_env {
        return settings;
    }
    let values: Vec<Option<String>> = SETTINGS_VARS
        .iter()
        .map(|name| read_var(env, name))
        .collect();
    SETTINGS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(cached) = cache.as_mut() {
            if cached.values == values {
                cached.env = env_value.clone();
                return cached.settings.clone();
            }
        }
        let lookup = |name: &str| match SETTINGS_VARS.iter().position(|known| *known == name) {
            Some(position) => values[position].clone(),
            None => read_var(env, name), // a Worker secret the document names
        };
        let settings: Loaded = match (
            BridgeConfig::from_vars(lookup),
            RetryPolicy::from_vars(lookup),
        ) {
            (Ok(config), Ok(policy)) => {
                // Once per configuration: every open route, and anything else worth a look.
                for warning in &config.warnings {
                    log(json!({"log": "config_warning", "level": "warn",
                               "location": warning.location, "message": warning.message}));
                }
                Ok(Rc::new(Settings { config, policy }))
            }
            (config, policy) => {
                let problems: Vec<ConfigProblem> = config
                    .err()
                    .into_iter()
                    .chain(policy.err())
                    .flatten()
                    .collect();
                log(json!({"log": "config_invalid", "level": "error", "problems": problems}));
                Err(Rc::new(problems))
            }
        };
        *cache = Some(CachedSettings {
            env: env_value,
            values,
            settings: settings.clone(),
        });
        settings
    })
}

/// A `[vars]` value or a secret, by name; an object var (a TOML table) as its JSON text.
fn read_var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|value| value.to_string())
        .or_else(|_| env.secret(name).map(|value| value.to_string()))
        .ok()
        .or_else(|| {
            env.object_var::<Value>(name)
                .ok()
                .map(|value| value.to_string())
        })
}

/// Unix milliseconds now.
fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

/// Writes one structured JSON log line, leaving out empty fields. Never given secrets.
fn log(mut line: Value) {
    if let Some(fields) = line.as_object_mut() {
        fields.retain(|_, value| !value.is_null());
    }
    console_log!("{line}");
}
