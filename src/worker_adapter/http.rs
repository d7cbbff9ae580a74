//! workerd's own `Request`, `Response` and `fetch`, used directly: `worker::Request` reads
//! `request.cf` when it is made and `worker::Fetch` builds a `Request` object per call, which
//! together cost more per request than the bridge's core (see `bench/profile-worker.mjs`).
//! `post` sends to LaunchDarkly's events host; `get` reads its REST API (the catalogue refresh).

use crate::api::{ApiResponse, ResponseBody};
use worker::js_sys::{self, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{
    AbortSignal, Headers, ReadableStream, ReadableStreamDefaultReader, Request, RequestInit,
    Response, ResponseInit, WorkerGlobalScope,
};

/// A request header, or `None` when absent (or unreadable).
pub fn header(headers: &Headers, name: &str) -> Option<String> {
    headers.get(name).ok().flatten()
}

/// A request body read under a cap.
pub enum Body {
    /// The whole body, at most the cap.
    Read(Vec<u8>),
    /// Over the cap: `Content-Length` said so before anything was read, or reading stopped at
    /// the first chunk past it. `bytes` is how many were declared or seen.
    TooLarge {
        /// Bytes declared or seen so far.
        bytes: usize,
    },
}

/// The `Content-Length` of a request or an answer, when present and a number.
fn content_length(headers: &Headers) -> Option<u64> {
    header(headers, "Content-Length").and_then(|value| value.trim().parse::<u64>().ok())
}

/// Reads the request body, never holding more than `cap` bytes: a `Content-Length` over the cap
/// is refused before reading (within it, the HTTP layer bounds the body by it); a body without
/// one is streamed and abandoned past the cap.
pub async fn read_body(request: &Request, cap: usize) -> Result<Body, JsValue> {
    match content_length(&request.headers()) {
        Some(length) if length > cap as u64 => Ok(Body::TooLarge {
            bytes: usize::try_from(length).unwrap_or(usize::MAX),
        }),
        Some(_) => {
            let buffer = JsFuture::from(request.array_buffer()?).await?;
            Ok(Body::Read(Uint8Array::new(&buffer).to_vec()))
        }
        None => read_stream(request.body(), cap).await,
    }
}

/// Reads a body stream (none: empty), never holding more than `cap` bytes: abandoned past it.
async fn read_stream(stream: Option<ReadableStream>, cap: usize) -> Result<Body, JsValue> {
    let Some(stream) = stream else {
        return Ok(Body::Read(Vec::new()));
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        if Reflect::get(&chunk, &JsValue::from_str("done"))?.is_truthy() {
            return Ok(Body::Read(bytes));
        }
        let value = Uint8Array::new(&Reflect::get(&chunk, &JsValue::from_str("value"))?);
        let length = value.length() as usize;
        if bytes.len().saturating_add(length) > cap {
            #[expect(
                clippy::let_underscore_must_use,
                reason = "the body is refused either way; a stream that fails to cancel is dropped"
            )]
            let _ = reader.cancel();
            return Ok(Body::TooLarge {
                bytes: bytes.len().saturating_add(length),
            });
        }
        let start = bytes.len();
        bytes.resize(start + length, 0);
        value.copy_to(&mut bytes[start..]);
    }
}

/// The response for an [`ApiResponse`]: its status, headers, and its body as JSON (none for
/// [`ResponseBody::Empty`]).
pub fn respond(api: &ApiResponse) -> Result<Response, JsValue> {
    let headers = Headers::new()?;
    for (name, value) in &api.headers {
        headers.set(name, value)?;
    }
    let init = ResponseInit::new();
    init.set_status(api.status);
    if matches!(api.body, ResponseBody::Empty) {
        init.set_headers_headers(&headers);
        return Response::new_with_opt_str_and_init(None, &init);
    }
    headers.set("Content-Type", "application/json")?;
    init.set_headers_headers(&headers);
    let body = serde_json::to_vec(&api.body).map_err(|error| JsValue::from(error.to_string()))?;
    // As bytes, as a LaunchDarkly payload is sent: a string would be decoded, then encoded again.
    Response::new_with_opt_buffer_source_and_init(Some(&Uint8Array::from(body.as_slice())), &init)
}

/// How one `POST` ended.
pub enum PostResult {
    /// LaunchDarkly (or whoever) answered.
    Answered {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header, when present.
        retry_after: Option<String>,
    },
    /// No answer within the timeout; the request was aborted.
    TimedOut,
    /// The request could not be made or failed on the network.
    Failed(String),
}

/// `POST`s `body` to `url` with `headers`, aborted after `timeout_ms` (`AbortSignal.timeout`).
pub async fn post(
    url: &str,
    headers: &[(&str, std::borrow::Cow<'_, str>)],
    body: &str,
    timeout_ms: u64,
) -> PostResult {
    let init = RequestInit::new();
    init.set_method("POST");
    let header_map = match Headers::new() {
        Ok(map) => map,
        Err(error) => return PostResult::Failed(describe(&error)),
    };
    for (name, value) in headers {
        if let Err(error) = header_map.set(name, value) {
            return PostResult::Failed(describe(&error));
        }
    }
    init.set_headers_headers(&header_map);
    // As bytes: a string would be decoded from UTF-8 into JavaScript, then encoded again by fetch.
    init.set_body(&Uint8Array::from(body.as_bytes()));
    let timeout = u32::try_from(timeout_ms).unwrap_or(u32::MAX);
    init.set_signal(Some(&AbortSignal::timeout_with_u32(timeout)));
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    match JsFuture::from(global.fetch_with_str_and_init(url, &init)).await {
        Ok(value) => {
            let response: Response = value.unchecked_into();
            let answer_headers = response.headers();
            let answered = PostResult::Answered {
                status: response.status(),
                retry_after: header(&answer_headers, "Retry-After"),
            };
            discard_body(&response, &answer_headers).await;
            answered
        }
        Err(error) if error_name(&error).as_deref() == Some("TimeoutError") => PostResult::TimedOut,
        Err(error) => PostResult::Failed(describe(&error)),
    }
}

/// The most of an answer to a `POST` that is read (and dropped); LaunchDarkly's are empty.
const MAX_DISCARDED_BYTES: usize = 64 * 1024;

/// Reads an answer's body to its end and drops it, so that workerd can send the next request on
/// the same connection: an unread body closes it, and every `POST` then opened a connection of
/// its own (a TLS handshake each, with LaunchDarkly). As [`read_body`] reads a request, without
/// copying what is read: a body declared larger than [`MAX_DISCARDED_BYTES`] is cancelled
/// unread, one without a length abandoned once past it. The answer's status is what counts: a
/// body that fails to arrive (the timeout aborts it too) changes nothing.
async fn discard_body(response: &Response, headers: &Headers) {
    match content_length(headers) {
        Some(length) if length > MAX_DISCARDED_BYTES as u64 => {
            if let Some(stream) = response.body() {
                #[expect(
                    clippy::let_underscore_must_use,
                    reason = "the body is dropped unread; a stream that fails to cancel is dropped"
                )]
                let _ = stream.cancel();
            }
        }
        Some(_) => {
            if let Ok(read) = response.array_buffer() {
                #[expect(
                    clippy::let_underscore_must_use,
                    reason = "the body is dropped; the answer's status was read already"
                )]
                let _ = JsFuture::from(read).await;
            }
        }
        None => {
            #[expect(
                clippy::let_underscore_must_use,
                reason = "the body is dropped; past the cap `read_stream` cancels it"
            )]
            let _ = read_stream(response.body(), MAX_DISCARDED_BYTES).await;
        }
    }
}

/// How one `GET` ended.
pub enum GetResult {
    /// An answer, with its body read (up to the cap).
    Answered {
        /// The HTTP status.
        status: u16,
        /// The `X-Ratelimit-Reset` header, when present.
        ratelimit_reset: Option<String>,
        /// The `Retry-After` header, when present.
        retry_after: Option<String>,
        /// The body as text, or why it could not be read (over the cap, not UTF-8, cut off).
        body: Result<String, String>,
    },
    /// No answer (or no whole body) within the timeout; the request was aborted.
    TimedOut,
    /// The request could not be made or failed on the network.
    Failed(String),
}

/// `GET`s `url` with `headers`, aborted after `timeout_ms` (the body too), reading at most
/// `max_body_bytes` of the answer.
pub async fn get(
    url: &str,
    headers: &[(&str, &str)],
    timeout_ms: u64,
    max_body_bytes: usize,
) -> GetResult {
    let init = RequestInit::new();
    init.set_method("GET");
    let header_map = match Headers::new() {
        Ok(map) => map,
        Err(error) => return GetResult::Failed(describe(&error)),
    };
    for (name, value) in headers {
        if let Err(error) = header_map.set(name, value) {
            return GetResult::Failed(describe(&error));
        }
    }
    init.set_headers_headers(&header_map);
    let timeout = u32::try_from(timeout_ms).unwrap_or(u32::MAX);
    init.set_signal(Some(&AbortSignal::timeout_with_u32(timeout)));
    let global: WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: Response = match JsFuture::from(global.fetch_with_str_and_init(url, &init)).await
    {
        Ok(value) => value.unchecked_into(),
        Err(error) if error_name(&error).as_deref() == Some("TimeoutError") => {
            return GetResult::TimedOut
        }
        Err(error) => return GetResult::Failed(describe(&error)),
    };
    let answer_headers = response.headers();
    let declared = content_length(&answer_headers);
    let body = if declared.is_some_and(|length| length > max_body_bytes as u64) {
        Err(format!("the answer is over {max_body_bytes} bytes"))
    } else {
        match read_stream(response.body(), max_body_bytes).await {
            Ok(Body::Read(bytes)) => {
                String::from_utf8(bytes).map_err(|_| "the answer is not UTF-8 text".to_string())
            }
            Ok(Body::TooLarge { .. }) => Err(format!("the answer is over {max_body_bytes} bytes")),
            Err(error) if error_name(&error).as_deref() == Some("TimeoutError") => {
                return GetResult::TimedOut
            }
            Err(error) => Err(format!("the answer was cut off: {}", describe(&error))),
        }
    };
    GetResult::Answered {
        status: response.status(),
        ratelimit_reset: header(&answer_headers, "X-Ratelimit-Reset"),
        retry_after: header(&answer_headers, "Retry-After"),
        body,
    }
}

fn error_name(error: &JsValue) -> Option<String> {
    Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string())
}

/// A JavaScript error as text: its message, or its string form.
fn describe(error: &JsValue) -> String {
    Reflect::get(error, &JsValue::from_str("message"))
        .ok()
        .and_then(|message| message.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".to_string())
}
