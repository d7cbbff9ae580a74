//! The Cloudflare Worker adapter: reads requests and configuration from workerd, runs the core,
//! sends LaunchDarkly requests with `fetch`, and writes JSON responses. No decisions live here.

use crate::api::{self, ApiResponse, DeliveryReport, Route};
use crate::config::{BridgeConfig, ConfigProblem, SourceHint, CONFIG_VARS};
use crate::launchdarkly::OutboundRequest;
use crate::{pipeline, segment};
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use worker::{
    console_log, event, wasm_bindgen::JsValue, Context, Date, Env, Fetch, Headers, Method, Request,
    RequestInit, Response, Result,
};

type LoadedConfig = Rc<std::result::Result<BridgeConfig, Vec<ConfigProblem>>>;

thread_local! {
    /// The configuration of this isolate, rebuilt only when the variables change.
    static CONFIG: RefCell<Option<(Vec<Option<String>>, LoadedConfig)>> = const { RefCell::new(None) };
}

#[event(fetch)]
async fn fetch(mut request: Request, env: Env, _ctx: Context) -> Result<Response> {
    let started = Date::now().as_millis();
    let method = request.method().to_string();
    let path = request.path();
    let response = match api::route(&method, &path) {
        Err(response) => response,
        Ok(Route::Health) => {
            let config = load_config(&env);
            api::health(config.as_ref().as_ref().map_err(Vec::as_slice))
        }
        Ok(Route::Ingest { source_id }) => {
            let body = request.bytes().await?;
            ingest(&env, source_id.as_deref(), &body, started).await
        }
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
            "error": response.body.pointer("/error/code"),
            "ms": Date::now().as_millis().saturating_sub(started),
    }));
    to_response(&response)
}

async fn ingest(
    env: &Env,
    source_id: Option<&str>,
    body: &[u8],
    received_at_ms: u64,
) -> ApiResponse {
    let config = load_config(env);
    let config = match config.as_ref() {
        Ok(config) => config,
        Err(problems) => return api::misconfigured(problems),
    };
    let hint = source_id.map_or(SourceHint::None, SourceHint::SourceId);
    let route = match config.route(hint) {
        Ok(route) => route,
        Err(error) => return ApiResponse::error(error.status, error.code, error.message),
    };
    let events = match segment::parse_events(body) {
        Ok(events) => events,
        Err(error) => return ApiResponse::error(400, error.code(), error.to_string()),
    };
    let processed = pipeline::process_routed(config, &route, &events, received_at_ms as i64);
    let mut reports = Vec::with_capacity(processed.deliveries.len());
    for planned in &processed.deliveries {
        let report = deliver(&planned.request).await;
        log(json!({
                "log": "delivery",
                "destination": planned.destination,
                "url": planned.request.url,
                "payload_id": planned.request.header("X-LaunchDarkly-Payload-ID"),
                "events": planned.event_indexes.len(),
                "status": report.status,
                "error": report.error,
        }));
        reports.push(report);
    }
    api::ingest_response(&processed, &reports)
}

/// Sends one request to LaunchDarkly; any HTTP status is a response, only network errors are not.
async fn deliver(outbound: &OutboundRequest) -> DeliveryReport {
    match send(outbound).await {
        Ok(status) => DeliveryReport {
            status: Some(status),
            error: None,
        },
        Err(error) => DeliveryReport {
            status: None,
            error: Some(error.to_string()),
        },
    }
}

async fn send(outbound: &OutboundRequest) -> Result<u16> {
    let headers = Headers::new();
    for (name, value) in &outbound.headers {
        headers.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(&outbound.body)));
    let request = Request::new_with_init(&outbound.url, &init)?;
    let response = Fetch::Request(request).send().await?;
    Ok(response.status_code())
}

fn load_config(env: &Env) -> LoadedConfig {
    let names = CONFIG_VARS;
    let values: Vec<Option<String>> = names.iter().map(|name| read_var(env, name)).collect();
    CONFIG.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((cached_values, config)) = cache.as_ref() {
            if *cached_values == values {
                return Rc::clone(config);
            }
        }
        let config = Rc::new(BridgeConfig::from_vars(|name| {
            names
                .iter()
                .position(|known| *known == name)
                .and_then(|position| values[position].clone())
        }));
        *cache = Some((values, Rc::clone(&config)));
        config
    })
}

/// A `[vars]` value or a secret, by name; an object var (a TOML table) as its JSON text.
fn read_var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|value| value.to_string())
        .or_else(|_| env.secret(name).map(|value| value.to_string()))
        .ok()
        .or_else(|| {
            env.object_var::<serde_json::Value>(name)
                .ok()
                .map(|value| value.to_string())
        })
}

/// Writes one structured JSON log line, leaving out empty fields. Never given secrets.
fn log(mut line: serde_json::Value) {
    if let Some(fields) = line.as_object_mut() {
        fields.retain(|_, value| !value.is_null());
    }
    console_log!("{line}");
}

fn to_response(api: &ApiResponse) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json")?;
    for (name, value) in &api.headers {
        headers.set(name, value)?;
    }
    let body = serde_json::to_string(&api.body)?;
    Ok(Response::ok(body)?
        .with_status(api.status)
        .with_headers(headers))
}
