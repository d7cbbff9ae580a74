//! A stand-in for LaunchDarkly's REST API: a real HTTP/1.1 server on 127.0.0.1 (std's
//! `TcpListener`, one thread per connection, `Connection: close`) answering the documented JSON
//! shapes the CLI reads, from a [`Project`] a test builds:
//!
//! - `GET /api/v2/projects/{p}/environments` and `GET /api/v2/metrics/{p}`: `{"items",
//!   "totalCount", "_links": {"self", "next"}}`, [`Project::page_size`] items a page, `next` a
//!   relative href with `limit` and `offset` (environments carry `apiKey` and `mobileKey`, as
//!   LaunchDarkly's do);
//! - `GET /api/v2/projects/{p}/environments/{e}`: one environment;
//! - `GET /api/v2/projects/{p}/context-kinds`: `{"items": [{"key", "name", "archived"}]}`;
//! - `GET /api/v2/projects/{p}/environments/{e}/contexts/{kind}/{key}`: `{"items":
//!   [ContextRecord], "totalCount", "_environmentId"}`; a context never seen answers 404, or an
//!   empty `items` with [`Project::unknown_as_empty`];
//! - `POST /api/v2/projects/{p}/environments/{e}/contexts/search` with `{"filter": "kind anyOf
//!   [\"user\"]", "limit"}`: the records of that kind, at most `limit`.
//!
//! Every request needs `Authorization: <token>` exactly (401 `unauthorized` otherwise); an
//! unknown project or environment answers 404 `not_found`. [`Fault`]s answer a status on
//! demand (403, 429 with `X-Ratelimit-Reset` or `Retry-After`, 500, ...) for requests whose
//! path contains a text, a given number of times. Every request is recorded.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// What the stand-in knows.
#[derive(Clone, Debug)]
pub struct Project {
    pub key: String,
    pub token: String,
    pub environments: Vec<Value>,
    pub metrics: Vec<Value>,
    pub context_kinds: Vec<String>,
    /// Context records per environment key: `{"context": {...}, "lastSeen", "applicationId"}`.
    pub contexts: Vec<(String, Value)>,
    pub page_size: usize,
    pub unknown_as_empty: bool,
}

/// A status answered on demand.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Requests whose path (with its query) contains this.
    pub path_contains: String,
    pub status: u16,
    /// How many times (then the route answers normally).
    pub times: usize,
    /// `X-Ratelimit-Reset`: now + this many ms.
    pub reset_in_ms: Option<i64>,
    pub retry_after: Option<String>,
}

impl Fault {
    pub fn new(path_contains: &str, status: u16, times: usize) -> Fault {
        Fault {
            path_contains: path_contains.to_string(),
            status,
            times,
            reset_in_ms: None,
            retry_after: None,
        }
    }
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

struct State {
    project: Project,
    faults: Vec<Fault>,
    requests: Vec<Request>,
}

/// A running stand-in.
pub struct StandIn {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl StandIn {
    /// Starts a stand-in for `project` on a free port.
    pub fn start(project: Project, faults: Vec<Fault>) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(State {
            project,
            faults,
            requests: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = serve(stream, &state);
                });
            }
        });
        StandIn { base, state }
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().expect("state").requests.clone()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut length = 0usize;
    let mut authorization = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let request = Request {
        method,
        path,
        authorization,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (status, headers, body) = answer(&request, state);
    let mut stream = stream;
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}

fn error(status: u16, code: &str, message: &str) -> (u16, Vec<(String, String)>, String) {
    (
        status,
        Vec::new(),
        json!({"code": code, "message": message}).to_string(),
    )
}

fn answer(request: &Request, state: &Mutex<State>) -> (u16, Vec<(String, String)>, String) {
    let mut state = state.lock().expect("state");
    state.requests.push(request.clone());
    if request.authorization.as_deref() != Some(state.project.token.as_str()) {
        return error(401, "unauthorized", "Invalid access token");
    }
    if let Some(fault) = state
        .faults
        .iter_mut()
        .find(|fault| fault.times > 0 && request.path.contains(&fault.path_contains))
    {
        fault.times -= 1;
        let mut headers = Vec::new();
        if let Some(ms) = fault.reset_in_ms {
            headers.push(("X-Ratelimit-Reset".to_string(), (now_ms() + ms).to_string()));
        }
        if let Some(after) = &fault.retry_after {
            headers.push(("Retry-After".to_string(), after.clone()));
        }
        let code = match fault.status {
            403 => "forbidden",
            429 => "rate_limited",
            _ => "internal_server_error",
        };
        let (status, _, body) = error(fault.status, code, "on demand");
        return (status, headers, body);
    }
    let project = &state.project;
    let (path, query) = request
        .path
        .split_once('?')
        .unwrap_or((request.path.as_str(), ""));
    let offset: usize = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("offset="))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let not_found = || error(404, "not_found", "Unknown resource");
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["api", "v2", "projects", p, "environments"]) if *p == project.key => {
            page(path, &project.environments, offset, project.page_size)
        }
        ("GET", ["api", "v2", "metrics", p]) if *p == project.key => {
            page(path, &project.metrics, offset, project.page_size)
        }
        ("GET", ["api", "v2", "projects", p, "context-kinds"]) if *p == project.key => {
            let items: Vec<Value> = project
                .context_kinds
                .iter()
                .map(|kind| json!({"key": kind, "name": kind, "archived": false, "version": 1}))
                .collect();
            (
                200,
                Vec::new(),
                json!({"items": items, "totalCount": items.len(), "_links": {}}).to_string(),
            )
        }
        ("GET", ["api", "v2", "projects", p, "environments", e]) if *p == project.key => {
            match environment(project, e) {
                Some(environment) => (200, Vec::new(), environment.to_string()),
                None => not_found(),
            }
        }
        ("GET", ["api", "v2", "projects", p, "environments", e, "contexts", kind, key])
            if *p == project.key && environment(project, e).is_some() =>
        {
            let records: Vec<&Value> = records(project, e)
                .filter(|record| {
                    record["context"]["kind"] == *kind && record["context"]["key"] == *key
                })
                .collect();
            if records.is_empty() && !project.unknown_as_empty {
                return not_found();
            }
            (
                200,
                Vec::new(),
                json!({"items": records, "totalCount": records.len(), "_environmentId": "env-id",
                       "continuationToken": "", "_links": {}})
                .to_string(),
            )
        }
        ("POST", ["api", "v2", "projects", p, "environments", e, "contexts", "search"])
            if *p == project.key && environment(project, e).is_some() =>
        {
            let search: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
            let filter = search["filter"].as_str().unwrap_or_default();
            let Some(kinds) = filter.strip_prefix("kind anyOf ") else {
                return error(400, "invalid_request", "unsupported filter");
            };
            let kinds: Vec<String> = serde_json::from_str(kinds).unwrap_or_default();
            let limit = search["limit"].as_u64().unwrap_or(20) as usize;
            let records: Vec<&Value> = records(project, e)
                .filter(|record| {
                    kinds
                        .iter()
                        .any(|kind| record["context"]["kind"] == kind.as_str())
                })
                .take(limit)
                .collect();
            (
                200,
                Vec::new(),
                json!({"items": records, "totalCount": records.len(), "_environmentId": "env-id",
                       "_links": {}})
                .to_string(),
            )
        }
        _ => not_found(),
    }
}

fn environment<'p>(project: &'p Project, key: &str) -> Option<&'p Value> {
    project
        .environments
        .iter()
        .find(|environment| environment["key"] == key)
}

fn records<'p>(project: &'p Project, environment: &'p str) -> impl Iterator<Item = &'p Value> {
    project
        .contexts
        .iter()
        .filter(move |(key, _)| key == environment)
        .map(|(_, record)| record)
}

fn page(
    path: &str,
    items: &[Value],
    offset: usize,
    size: usize,
) -> (u16, Vec<(String, String)>, String) {
    let end = (offset + size).min(items.len());
    let slice = items.get(offset..end).unwrap_or_default();
    let mut links = json!({"self": {"href": format!("{path}?limit={size}&offset={offset}"), "type": "application/json"}});
    if end < items.len() {
        links["next"] = json!({"href": format!("{path}?limit={size}&offset={end}"), "type": "application/json"});
    }
    (
        200,
        Vec::new(),
        json!({"items": slice, "totalCount": items.len(), "_links": links}).to_string(),
    )
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            if let Some(byte) = text
                .get(index + 1..index + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                out.push(byte);
                index += 3;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
