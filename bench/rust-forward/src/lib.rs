//! The Rust twin of `bench/forward-worker.mjs`: the bridge's I/O in plain workers-rs, without
//! the bridge (see Cargo.toml).

use serde_json::json;
use worker::{
    console_log, event, Context, Date, Env, Fetch, Headers, Method, Request, RequestInit, Response,
    Result,
};

#[event(fetch)]
async fn fetch(mut request: Request, env: Env, _ctx: Context) -> Result<Response> {
    let started = Date::now().as_millis();
    let body = request.text().await?;
    let url = format!(
        "{}/events/bulk/{}",
        env.var("LD_EVENTS_HOST")?,
        env.var("LD_CLIENT_SIDE_ID")?
    );
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let mut response = Fetch::Request(Request::new_with_init(&url, &init)?)
        .send()
        .await?;
    response.bytes().await?;
    let status = response.status_code();
    console_log!(
        "{}",
        json!({"log": "delivery", "url": url, "events": 1, "status": status})
    );
    console_log!(
        "{}",
        json!({"log": "request", "method": "POST", "path": "/segment", "status": 200, "ms": Date::now().as_millis() - started})
    );
    Response::from_json(&json!({ "status": status }))
}
