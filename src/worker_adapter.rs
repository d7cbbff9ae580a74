//! The Cloudflare Worker adapter: reads requests and configuration from workerd, runs the core,
//! sends LaunchDarkly requests with `fetch`, and writes JSON responses. No decisions live here.

use crate::api::{self, ApiResponse, DeliveryReport, IngestPlan, IngestRequest, Route};
use crate::config::{BridgeConfig, ConfigProblem, CONFIG_VARS};
use crate::inbound::Limits;
use crate::launchdarkly::OutboundRequest;
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
        Ok(Route::Preflight) => api::preflight(),
        Ok(route) => {
            let body = request.bytes().await?;
            let headers = request.headers();
            let content_type = headers.get("Content-Type")?;
            let authorization = headers.get("Authorization")?;
            let signature = headers.get("X-Signature")?;
            let ingest = IngestRequest {
                content_type: content_type.as_deref(),
                authorization: authorization.as_deref(),
                signature: signature.as_deref(),
                body: &body,
            };
            ingest_request(&env, &route, &ingest, started).await
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

async fn ingest_request(
    env: &Env,
    route: &Route,
    request: &IngestRequest<'_>,
    received_at_ms: u64,
) -> ApiResponse {
    let config = load_config(env);
    let config = match config.as_ref() {
        Ok(config) => config,
        Err(problems) => return api::misconfigured(problems),
    };
    let delivery = match api::plan_ingest(
        config,
        route,
        request,
        &Limits::SEGMENT,
        received_at_ms as i64,
    ) {
        IngestPlan::Respond(response) => return response,
        IngestPlan::Deliver(delivery) => delivery,
    };
    let mut reports = Vec::with_capacity(delivery.processed.deliveries.len());
    for planned in &delivery.processed.deliveries {
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
    api::finish(&delivery, &reports)
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
            match names.iter().position(|known| *known == name) {
                Some(position) => values[position].clone(),
                None => read_var(env, name), // a Worker secret the document names
            }
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
    for (name, value) in &api.headers {
        headers.set(name, value)?;
    }
    let response = if api.body.is_null() {
        Response::empty()?
    } else {
        headers.set("Content-Type", "application/json")?;
        Response::ok(serde_json::to_string(&api.body)?)?
    };
    Ok(response.with_status(api.status).with_headers(headers))
}
