//! The bridge's HTTP API as pure decisions: routing, JSON errors, and the answer to Segment
//! once deliveries are done. The Worker adapter only moves bytes.

use crate::config::refreshed::RefreshStatus;
use crate::config::{
    BridgeConfig, ConfigProblem, RoutingCode, RoutingError, SourceHint, SourceRoute,
};
use crate::delivery::DeadLetterReason;
use crate::inbound::{
    basic_auth_write_key, body_write_key, check_request_size, read_events, read_tracking_call,
    signed_part, strip_scheme, verify_signature, InboundError, LimitError, Limits, ReadError,
    SignatureError, TrackingCall,
};
use crate::outcome::Outcome;
use crate::pipeline::{process, Events, Options, OutcomeStatus, Processed};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

/// The bridge's version, as `/health` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every error code the HTTP API answers with, serialized in snake_case (the README's error
/// table lists them). Each has one HTTP status ([`ErrorCode::status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 404: no such route.
    NotFound,
    /// 405: the route does not take this method.
    MethodNotAllowed,
    /// 415: a content type other than JSON (or `text/plain`).
    UnsupportedMediaType,
    /// 413: the body is over the request limit.
    RequestTooLarge,
    /// 400: a single-event request over the per-event limit.
    EventTooLarge,
    /// 400: more events than a batch may carry.
    TooManyEvents,
    /// 400: the body is not JSON.
    MalformedJson,
    /// 400: the body is JSON but not events (or not the admin body expected).
    InvalidBody,
    /// 400: no source named and no default source.
    SourceRequired,
    /// 400: every event was rejected.
    AllEventsRejected,
    /// 400: an admin query parameter is invalid.
    InvalidQuery,
    /// 401: a Tracking API request without a write key.
    MissingWriteKey,
    /// 401: a write key no source has.
    UnknownWriteKey,
    /// 401: a signed source's webhook without `X-Signature`.
    MissingSignature,
    /// 401: an `X-Signature` that does not match.
    InvalidSignature,
    /// 401: an unsigned webhook to a route that takes signed ones only.
    UnsignedRefused,
    /// 401: a batched webhook whose signature covers only its first event.
    BatchedWebhookRefused,
    /// 401: an admin route without the admin token.
    Unauthorized,
    /// 404: a source id no source has.
    UnknownSource,
    /// 404: the admin routes are off (no admin token configured).
    AdminDisabled,
    /// 502: LaunchDarkly refused the events (401, 403, 404) and nothing kept them.
    LaunchdarklyConfigurationError,
    /// 503: LaunchDarkly did not accept the events; retry later.
    DeliveryFailed,
    /// 503: the configuration is invalid.
    InvalidConfiguration,
    /// 503: the dead-letter store is not bound or failed.
    DeadLetterStoreUnavailable,
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::MalformedJson
            | ErrorCode::InvalidBody
            | ErrorCode::EventTooLarge
            | ErrorCode::TooManyEvents
            | ErrorCode::SourceRequired
            | ErrorCode::AllEventsRejected
            | ErrorCode::InvalidQuery => 400,
            ErrorCode::MissingWriteKey
            | ErrorCode::UnknownWriteKey
            | ErrorCode::MissingSignature
            | ErrorCode::InvalidSignature
            | ErrorCode::UnsignedRefused
            | ErrorCode::BatchedWebhookRefused
            | ErrorCode::Unauthorized => 401,
            ErrorCode::NotFound | ErrorCode::UnknownSource | ErrorCode::AdminDisabled => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::LaunchdarklyConfigurationError => 502,
            ErrorCode::DeliveryFailed
            | ErrorCode::InvalidConfiguration
            | ErrorCode::DeadLetterStoreUnavailable => 503,
        }
    }

    /// The code as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RequestTooLarge => "request_too_large",
            ErrorCode::EventTooLarge => "event_too_large",
            ErrorCode::TooManyEvents => "too_many_events",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::SourceRequired => "source_required",
            ErrorCode::AllEventsRejected => "all_events_rejected",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::MissingWriteKey => "missing_write_key",
            ErrorCode::UnknownWriteKey => "unknown_write_key",
            ErrorCode::MissingSignature => "missing_signature",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::UnsignedRefused => "unsigned_refused",
            ErrorCode::BatchedWebhookRefused => "batched_webhook_refused",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::UnknownSource => "unknown_source",
            ErrorCode::AdminDisabled => "admin_disabled",
            ErrorCode::LaunchdarklyConfigurationError => "launchdarkly_configuration_error",
            ErrorCode::DeliveryFailed => "delivery_failed",
            ErrorCode::InvalidConfiguration => "invalid_configuration",
            ErrorCode::DeadLetterStoreUnavailable => "dead_letter_store_unavailable",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An error answer: a code and a message for people (never a secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The machine-readable code.
    pub code: ErrorCode,
    /// What went wrong and what to do, for people.
    pub message: String,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// 404 for an unknown path.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            ErrorCode::NotFound,
            format!("no route {path}; send Segment events to POST /segment, /segment/{{source_id}} or /v1/{{track,batch,...}} (GET /health reports status)"),
        )
    }

    /// 415 for a media type other than JSON.
    pub fn unsupported_media_type(media: &str) -> Self {
        Self::new(
            ErrorCode::UnsupportedMediaType,
            format!("Content-Type {media:?} is not accepted; send JSON with Content-Type: application/json"),
        )
    }

    /// 401 for a Tracking API request without a write key.
    pub fn missing_write_key() -> Self {
        Self::new(
            ErrorCode::MissingWriteKey,
            "send the source's write key with HTTP Basic auth (the write key as user name, no password) or as writeKey in the body",
        )
    }

    /// 404 for a source id no source has.
    pub fn unknown_source(id: &str) -> Self {
        Self::new(
            ErrorCode::UnknownSource,
            format!("no source has the id {id:?}"),
        )
    }

    /// 400 when no source is named and there is no default source.
    pub fn source_required() -> Self {
        Self::new(
            ErrorCode::SourceRequired,
            "this bridge routes by Segment source: post to /segment/{source_id} or sign the request with a source's shared secret",
        )
    }

    /// 401 for an unsigned webhook to a source without a secret or `allow_unsigned`.
    pub fn unsigned_refused() -> Self {
        Self::new(
            ErrorCode::UnsignedRefused,
            "this route accepts only webhooks signed with the source's shared secret, and none is configured: set the source's webhook_secret (SEGMENT_SHARED_SECRET in the simple configuration), or allow_unsigned (SEGMENT_ALLOW_UNSIGNED = \"true\") for local development",
        )
    }

    /// 401 for a batched webhook carrying `unsigned_events` events its signature does not cover.
    pub fn batched_webhook_refused(unsigned_events: usize) -> Self {
        Self::new(
            ErrorCode::BatchedWebhookRefused,
            format!("this batched webhook carries {unsigned_events} events that its signature does not cover (Segment signs only the first); turn batching off in Segment's webhook destination, or set accept_batched_webhooks on the source"),
        )
    }

    /// 404 when the admin routes are off.
    pub fn admin_disabled() -> Self {
        Self::new(
            ErrorCode::AdminDisabled,
            format!("the admin routes are disabled: set the Worker secret {VAR_ADMIN_TOKEN} to enable them"),
        )
    }

    /// 401 for an admin request without the admin token.
    pub fn unauthorized() -> Self {
        Self::new(
            ErrorCode::Unauthorized,
            "send the admin token as Authorization: Bearer <token>",
        )
    }

    /// 413 for a body of `bytes` bytes over `limit`.
    pub fn request_too_large(bytes: usize, limit: usize) -> Self {
        LimitError::RequestTooLarge { bytes, limit }.into()
    }

    /// 503 when the configuration is invalid.
    pub fn invalid_configuration() -> Self {
        Self::new(
            ErrorCode::InvalidConfiguration,
            "the bridge is not configured correctly, so it refuses events rather than lose them; fix the problems listed",
        )
    }
}

impl From<LimitError> for ApiError {
    fn from(error: LimitError) -> Self {
        let code = match error {
            LimitError::RequestTooLarge { .. } => ErrorCode::RequestTooLarge,
            LimitError::EventTooLarge { .. } => ErrorCode::EventTooLarge,
            LimitError::TooManyEvents { .. } => ErrorCode::TooManyEvents,
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<ReadError> for ApiError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Limit(limit) => limit.into(),
            ReadError::Inbound(inbound) => {
                let code = match inbound {
                    InboundError::MalformedJson(_) => ErrorCode::MalformedJson,
                    InboundError::NotEvents(_) => ErrorCode::InvalidBody,
                };
                ApiError::new(code, inbound.to_string())
            }
        }
    }
}

impl From<SignatureError> for ApiError {
    fn from(error: SignatureError) -> Self {
        let code = match error {
            SignatureError::Missing => ErrorCode::MissingSignature,
            SignatureError::Mismatch => ErrorCode::InvalidSignature,
        };
        ApiError::new(code, error.message())
    }
}

impl From<RoutingError> for ApiError {
    fn from(error: RoutingError) -> Self {
        let code = match error.code {
            RoutingCode::UnknownWriteKey => ErrorCode::UnknownWriteKey,
            RoutingCode::UnknownSource => ErrorCode::UnknownSource,
            RoutingCode::SourceRequired => ErrorCode::SourceRequired,
        };
        ApiError::new(code, error.message)
    }
}

/// The body of an error answer: `{"error": {"code", "message"}}` and, for some, more fields
/// (`problems`, `version`, `success`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorAnswer {
    /// The error.
    pub error: ApiError,
    /// Fields besides `error`.
    #[serde(flatten)]
    pub details: serde_json::Map<String, Value>,
}

/// What an answer carries.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ResponseBody {
    /// No body (a CORS preflight).
    Empty,
    /// The answer to an ingest request.
    Ingest(Box<IngestAnswer>),
    /// An error.
    Error(Box<ErrorAnswer>),
    /// Anything else (health, the admin routes, the live view).
    Json(Value),
}

impl std::fmt::Display for ResponseBody {
    /// The body as JSON text (`null` for none).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&text)
    }
}

/// A response: status, extra headers and body (sent as JSON).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers besides `Content-Type: application/json`.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: ResponseBody,
}

impl ApiResponse {
    /// A JSON response without extra headers.
    pub fn json(status: u16, body: Value) -> Self {
        ApiResponse {
            status,
            headers: Vec::new(),
            body: ResponseBody::Json(body),
        }
    }

    /// The answer for `error`, with its code's status.
    pub fn error(error: ApiError) -> Self {
        ApiResponse {
            status: error.code.status(),
            headers: Vec::new(),
            body: ResponseBody::Error(Box::new(ErrorAnswer {
                error,
                details: serde_json::Map::new(),
            })),
        }
    }

    /// The error this answers with: an error answer's, or a failed ingest's.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match &self.body {
            ResponseBody::Error(answer) => Some(answer.error.code),
            ResponseBody::Ingest(answer) => answer.error.as_ref().map(|error| error.code),
            ResponseBody::Empty | ResponseBody::Json(_) => None,
        }
    }

    /// The ingest answer, when this is one.
    pub fn ingest(&self) -> Option<&IngestAnswer> {
        match &self.body {
            ResponseBody::Ingest(answer) => Some(answer),
            _ => None,
        }
    }

    /// The body as a JSON value (`null` for none).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(&self.body).unwrap_or(Value::Null)
    }

    /// Sets a field besides `error` on an error answer (`problems`, `version`, …).
    fn with_detail(mut self, name: &str, value: Value) -> Self {
        if let ResponseBody::Error(answer) = &mut self.body {
            answer.details.insert(name.to_string(), value);
        }
        self
    }

    /// A Tracking API answer: Segment's `success` field, and the CORS headers.
    fn for_tracking_api(mut self, success: bool) -> Self {
        match &mut self.body {
            ResponseBody::Error(answer) => {
                answer.details.insert("success".to_string(), json!(success));
            }
            ResponseBody::Ingest(answer) => answer.success = Some(success),
            ResponseBody::Empty | ResponseBody::Json(_) => {}
        }
        add_cors(&mut self);
        self
    }
}

impl From<ApiError> for ApiResponse {
    fn from(error: ApiError) -> Self {
        ApiResponse::error(error)
    }
}

/// What a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`.
    Health,
    /// `POST /segment` or `POST /segment/{source_id}`: Segment webhooks.
    Webhook {
        /// The source named in the path.
        source_id: Option<String>,
    },
    /// `POST /v1/track`, …, `/v1/batch`: Segment's HTTP Tracking API.
    TrackingApi(TrackingCall),
    /// `OPTIONS` on a Tracking API path: a CORS preflight.
    Preflight,
    /// `/admin/dead-letters…`: the dead-letter store (needs the admin token).
    Admin(AdminAction),
    /// `GET /dev/recent`: the last requests this isolate handled (dev mode or admin token).
    Recent,
}

/// What an admin request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminAction {
    /// `GET /admin/dead-letters`.
    ListDeadLetters,
    /// `POST /admin/dead-letters/replay` (body `{"payload_ids": [...]}`, or empty for all).
    ReplayDeadLetters,
    /// `DELETE /admin/dead-letters/{payload_id}`.
    DeleteDeadLetter(String),
}

/// CORS headers of the Tracking API, so analytics.js in a browser can send here.
pub const CORS_HEADERS: [(&str, &str); 4] = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "POST, OPTIONS"),
    (
        "Access-Control-Allow-Headers",
        "Content-Type, Authorization",
    ),
    ("Access-Control-Max-Age", "86400"),
];

/// The path of a serialised request URL, without query or fragment (`/` when it has none).
pub fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |at| &url[at + 3..]);
    let path = after_scheme.find('/').map_or("/", |at| &after_scheme[at..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

/// Routes a request by method and path; unknown paths get 404, wrong methods 405.
pub fn route(method: &str, path: &str) -> Result<Route, ApiResponse> {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let (route, allowed): (Route, &[&str]) = if path == "/health" {
        (Route::Health, &["GET", "HEAD"])
    } else if path == "/dev/recent" {
        (Route::Recent, &["GET"])
    } else if path == "/admin/dead-letters" {
        (Route::Admin(AdminAction::ListDeadLetters), &["GET"])
    } else if path == "/admin/dead-letters/replay" {
        (Route::Admin(AdminAction::ReplayDeadLetters), &["POST"])
    } else if let Some(id) = path
        .strip_prefix("/admin/dead-letters/")
        .filter(|id| !id.contains('/'))
    {
        (
            Route::Admin(AdminAction::DeleteDeadLetter(id.to_string())),
            &["DELETE"],
        )
    } else if path == "/segment" {
        (Route::Webhook { source_id: None }, &["POST"])
    } else if let Some(id) = path
        .strip_prefix("/segment/")
        .filter(|id| !id.contains('/'))
    {
        (
            Route::Webhook {
                source_id: Some(id.to_string()),
            },
            &["POST"],
        )
    } else if let Some(call) = TrackingCall::from_path(path) {
        if method == "OPTIONS" {
            return Ok(Route::Preflight);
        }
        (Route::TrackingApi(call), &["POST", "OPTIONS"])
    } else {
        return Err(ApiError::not_found(path).into());
    };
    if allowed.contains(&method) {
        Ok(route)
    } else {
        let mut response = ApiResponse::error(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("{path} accepts {}, not {method}", allowed.join(", ")),
        ));
        response.headers.push(("Allow", allowed.join(", ")));
        if matches!(route, Route::TrackingApi(_)) {
            add_cors(&mut response);
        }
        Err(response)
    }
}

/// The answer to a CORS preflight.
pub fn preflight() -> ApiResponse {
    let mut response = ApiResponse {
        status: 204,
        headers: Vec::new(),
        body: ResponseBody::Empty,
    };
    add_cors(&mut response);
    response
}

/// Adds the Tracking API's CORS headers.
pub fn add_cors(response: &mut ApiResponse) {
    for (name, value) in CORS_HEADERS {
        response.headers.push((name, value.to_string()));
    }
}

/// The Worker secret that enables the admin routes.
pub const VAR_ADMIN_TOKEN: &str = "ADMIN_TOKEN";
/// `true` opens `/dev/recent` without the admin token (local development only).
pub const VAR_DEV_MODE: &str = "DEV_MODE";

/// Whether a `DEV_MODE` value turns dev mode on: `"true"` exactly.
pub fn dev_mode_on(value: Option<&str>) -> bool {
    value == Some("true")
}

/// What dev mode opens, for whoever would turn it on outside local development.
pub const DEV_MODE_WARNING: &str = "DEV_MODE = \"true\": the Worker keeps the last 50 request bodies (personal data) and serves them at /dev/recent to anyone; for wrangler dev only (scripts/dev.sh sets it there), never for a deployment";

/// Checks `Authorization: Bearer <admin token>` in constant time. Without a configured token the
/// admin routes do not exist (404).
pub fn check_admin(
    admin_token: Option<&str>,
    authorization: Option<&str>,
) -> Result<(), ApiResponse> {
    let Some(token) = admin_token.filter(|token| !token.is_empty()) else {
        return Err(ApiError::admin_disabled().into());
    };
    let given = authorization
        .and_then(|header| strip_scheme(header, "Bearer"))
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), token.as_bytes()) {
        Ok(())
    } else {
        let mut response = ApiResponse::error(ApiError::unauthorized());
        response
            .headers
            .push(("WWW-Authenticate", "Bearer".to_string()));
        Err(response)
    }
}

/// Whether `a` equals `b`, in a time that depends only on `b`'s length (the secret's).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = a.len() ^ b.len();
    for (index, byte) in b.iter().enumerate() {
        difference |= usize::from(a.get(index).copied().unwrap_or(0) ^ byte);
    }
    difference == 0
}

/// The payload ids a replay request names (`{"payload_ids": [...]}`); `None` (no body, or `{}`)
/// means all. Anything else is refused rather than read as "all".
pub fn replay_selection(body: &[u8]) -> Result<Option<Vec<String>>, ApiResponse> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Selection {
        payload_ids: Option<Vec<String>>,
    }
    if body.trim_ascii().is_empty() {
        return Ok(None);
    }
    match serde_json::from_slice::<Selection>(body) {
        Ok(Selection { payload_ids }) => Ok(payload_ids),
        Err(_) => Err(ApiError::new(
            ErrorCode::InvalidBody,
            "send {\"payload_ids\": [\"...\"]} to replay some dead letters, or no body to replay them all",
        )
        .into()),
    }
}

/// Which outcomes an ingest answer lists. The counts always cover every event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeDetail {
    /// The events that were not accepted, and accepted ones with warnings: the answer to a
    /// large batch stays small (the default).
    #[default]
    Notable,
    /// Every event (`?outcomes=all`).
    All,
}

impl OutcomeDetail {
    /// `All` when the URL's query has `outcomes=all`, else `Notable`.
    pub fn from_url(url: &str) -> Self {
        let query = url
            .split_once('?')
            .map_or("", |(_, query)| query.split('#').next().unwrap_or(""));
        if query.split('&').any(|pair| pair == "outcomes=all") {
            OutcomeDetail::All
        } else {
            OutcomeDetail::Notable
        }
    }

    /// Whether an answer with this detail lists `outcome`.
    pub fn lists(self, outcome: &Outcome) -> bool {
        self == OutcomeDetail::All
            || outcome.status != OutcomeStatus::Accepted
            || !outcome.warnings.is_empty()
    }
}

/// What the adapter knows of an incoming request to an ingest route.
#[derive(Clone, Copy, Debug)]
pub struct IngestRequest<'a> {
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `X-Signature` header.
    pub signature: Option<&'a str>,
    /// The raw body.
    pub body: &'a [u8],
    /// Which outcomes the answer lists ([`OutcomeDetail::from_url`]).
    pub outcomes: OutcomeDetail,
}

/// What to do with an ingest request: answer now, or deliver and then answer with [`finish`].
#[derive(Debug)]
pub enum IngestPlan {
    /// Answer at once (an error, or nothing to deliver is decided by [`finish`] too).
    Respond(ApiResponse),
    /// Deliver `processed.deliveries`, then call [`finish`].
    Deliver(Delivery),
}

/// Processed events waiting for their delivery reports.
#[derive(Debug)]
pub struct Delivery {
    /// Outcomes and requests.
    pub processed: Processed,
    /// The request came through the Tracking API (Segment-like answer, CORS).
    pub tracking_api: bool,
    /// Which outcomes the answer lists.
    pub outcomes: OutcomeDetail,
}

/// Decides what to do with a request to `/segment…` or `/v1/…`: content type, limits, source
/// and authentication, then the events themselves. Pure: the adapter does the I/O.
pub fn plan_ingest(
    config: &BridgeConfig,
    route: &Route,
    request: &IngestRequest<'_>,
    limits: &Limits,
    received_at_ms: i64,
) -> IngestPlan {
    let tracking_api = matches!(route, Route::TrackingApi(_));
    let refuse = |error: ApiError| {
        let mut response = ApiResponse::error(error);
        if tracking_api {
            response = response.for_tracking_api(false);
        }
        IngestPlan::Respond(response)
    };
    if let Some(content_type) = request.content_type {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(media.as_str(), "application/json" | "text/plain" | "") {
            return refuse(ApiError::unsupported_media_type(&media));
        }
    }
    // Limits before anything is read, authentication before anything is parsed.
    if let Err(error) = check_request_size(request.body.len(), limits) {
        return refuse(error.into());
    }
    let (received, route) = match route {
        Route::TrackingApi(call) => {
            let write_key = basic_auth_write_key(request.authorization)
                .or_else(|| body_write_key(request.body));
            let Some(write_key) = write_key else {
                return refuse(ApiError::missing_write_key());
            };
            let route = match config.route(SourceHint::WriteKey(&write_key)) {
                Ok(route) => route,
                Err(error) => return refuse(error.into()),
            };
            match read_tracking_call(
                *call,
                request.body,
                limits,
                config.fields_read(),
                config.properties_read(),
            ) {
                Ok(tracking) => (tracking.received, route),
                Err(error) => return refuse(error.into()),
            }
        }
        Route::Webhook { source_id } => {
            let route = match authenticate_webhook(
                config,
                source_id.as_deref(),
                request.signature,
                request.body,
            ) {
                Ok(route) => route,
                Err(error) => return refuse(error),
            };
            match read_events(
                request.body,
                limits,
                config.fields_read(),
                config.properties_read(),
            ) {
                Ok(received) => (received, route),
                Err(error) => return refuse(error.into()),
            }
        }
        Route::Health | Route::Preflight | Route::Admin(_) | Route::Recent => {
            return IngestPlan::Respond(
                ApiError::new(ErrorCode::NotFound, "not an ingest route").into(),
            );
        }
    };
    let processed = process(
        config,
        &route,
        Events::Received(&received, limits),
        match request.outcomes {
            OutcomeDetail::All => Options::at(received_at_ms),
            // Accepted events without warnings are only counted: not described.
            OutcomeDetail::Notable => Options::at(received_at_ms).brief(),
        },
    );
    IngestPlan::Deliver(Delivery {
        processed,
        tracking_api,
        outcomes: request.outcomes,
    })
}

/// Finds the source of a webhook and authenticates the request before its body is parsed: the
/// source named in the URL, else the source whose shared secret signed the body, else the
/// default source. A source with a secret needs a valid `X-Signature` (and refuses batched
/// webhooks, whose signature covers only the first event, unless it accepts them); one without
/// needs `allow_unsigned`. A write key never opens a webhook route.
pub fn authenticate_webhook(
    config: &BridgeConfig,
    source_id: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<SourceRoute, ApiError> {
    let source = match source_id {
        Some(id) => config
            .source_with_id(id)
            .ok_or_else(|| ApiError::unknown_source(id))?,
        None if signature.is_some()
            && config.sources.iter().any(|s| s.webhook_secret.is_some()) =>
        {
            config
                .sources
                .iter()
                .filter(|s| s.webhook_secret.is_some())
                .find(|s| {
                    s.webhook_secret.as_ref().is_some_and(|secret| {
                        verify_signature(secret.expose(), body, signature).is_ok()
                    })
                })
                .ok_or(SignatureError::Mismatch)?
        }
        None => config
            .default_source()
            .ok_or_else(ApiError::source_required)?,
    };
    match &source.webhook_secret {
        Some(secret) => {
            verify_signature(secret.expose(), body, signature)?;
            let unsigned_events = signed_part(body).unsigned_events;
            if unsigned_events > 0 && !source.accept_batched_webhooks {
                return Err(ApiError::batched_webhook_refused(unsigned_events));
            }
        }
        None if source.allow_unsigned => {}
        None => return Err(ApiError::unsigned_refused()),
    }
    Ok(BridgeConfig::route_of(source))
}

/// Who is asking for `/health`, and in which mode the bridge runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HealthView<'a> {
    /// The request carried the admin token: the configuration summary and its problems are
    /// shown.
    pub admin: bool,
    /// `DEV_MODE` is on (said to everyone).
    pub dev_mode: bool,
    /// How the Worker's own catalogue refresh stands, when it is on (shown with the admin token
    /// only, as `catalogue_refresh`).
    pub catalogue: Option<&'a RefreshStatus>,
}

/// `/health`: status, version and whether dev mode is on for anyone; the configuration summary
/// (never a secret) or its problems, and the catalogue refresh's status, only with the admin
/// token. 503 when misconfigured.
pub fn health(config: Result<&BridgeConfig, &[ConfigProblem]>, view: HealthView) -> ApiResponse {
    let refresh = view.catalogue.filter(|_| view.admin);
    match config {
        Ok(config) => {
            let mut body = json!({"status": "ok", "name": "segment-ld-bridge", "version": VERSION,
                                  "dev_mode": view.dev_mode});
            if view.admin {
                body["config"] = config.summary();
            }
            if let Some(refresh) = refresh {
                body["catalogue_refresh"] = json!(refresh);
            }
            ApiResponse::json(200, body)
        }
        Err(problems) => {
            let problems = if view.admin {
                json!(problems)
            } else {
                json!(problems.len())
            };
            let response = misconfigured(&[])
                .with_detail("problems", problems)
                .with_detail("status", json!("misconfigured"))
                .with_detail("dev_mode", json!(view.dev_mode));
            match refresh {
                Some(refresh) => response.with_detail("catalogue_refresh", json!(refresh)),
                None => response,
            }
        }
    }
}

/// 503 listing every configuration problem: the bridge refuses events rather than drop them.
pub fn misconfigured(problems: &[ConfigProblem]) -> ApiResponse {
    ApiResponse::error(ApiError::invalid_configuration())
        .with_detail("problems", json!(problems))
        .with_detail("version", json!(VERSION))
}

/// How one planned delivery ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum DeliveryResult {
    /// LaunchDarkly accepted every event of it.
    Delivered,
    /// Durable mode: queued; the queue consumer delivers it.
    Queued,
    /// Given up on and kept in the dead-letter store with the reason (replay it once fixed).
    DeadLettered {
        /// Why.
        reason: DeadLetterReason,
    },
    /// Not delivered and not kept: the sender must retry (Segment does, for hours).
    Failed {
        /// A configuration error (401, 403, 404) rather than an outage.
        configuration_error: bool,
        /// Seconds the sender should wait, when known.
        retry_after: Option<u32>,
    },
}

impl DeliveryResult {
    /// The result's name, as its `result` field says it: `delivered`, `queued`, ….
    pub fn name(&self) -> &'static str {
        match self {
            DeliveryResult::Delivered => "delivered",
            DeliveryResult::Queued => "queued",
            DeliveryResult::DeadLettered { .. } => "dead_lettered",
            DeliveryResult::Failed { .. } => "failed",
        }
    }

    /// This result after one more part of the delivery failed: any failure makes the whole
    /// delivery failed (the sender retries it all; payload ids make that safe).
    pub fn with_failure(
        &self,
        configuration_error: bool,
        retry_after: Option<u32>,
    ) -> DeliveryResult {
        match self {
            DeliveryResult::Failed {
                configuration_error: before,
                retry_after: waited,
            } => DeliveryResult::Failed {
                configuration_error: *before || configuration_error,
                retry_after: (*waited).max(retry_after),
            },
            _ => DeliveryResult::Failed {
                configuration_error,
                retry_after,
            },
        }
    }
}

/// What happened to one planned delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryReport {
    /// LaunchDarkly's last HTTP status, or `None` when no response came.
    pub status: Option<u16>,
    /// The last network error or timeout (never contains secrets).
    pub error: Option<String>,
    /// Requests made to LaunchDarkly for it.
    pub attempts: u32,
    /// How it ended.
    pub result: DeliveryResult,
}

impl DeliveryReport {
    /// A report for a payload that was queued (durable mode).
    pub fn queued() -> Self {
        DeliveryReport {
            status: None,
            error: None,
            attempts: 0,
            result: DeliveryResult::Queued,
        }
    }
}

/// How one planned payload's delivery went, in the ingest answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryAnswer {
    /// The destination's name.
    pub destination: String,
    /// The bulk events URL.
    pub url: String,
    /// The payload id it was sent (or queued) with.
    pub payload_id: Uuid,
    /// How many LaunchDarkly events it carries.
    pub events: usize,
    /// LaunchDarkly's last HTTP status (`null` when queued or unanswered).
    pub status: Option<u16>,
    /// Requests made to LaunchDarkly for it.
    pub attempts: u32,
    /// How it ended (`result`, and the fields of that result).
    #[serde(flatten)]
    pub result: DeliveryResult,
    /// The last network error or timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The answer to an ingest request once its payloads were delivered or queued: what the Worker
/// sends back as JSON, writes in its log line and keeps in the live view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IngestAnswer {
    /// Events in the request.
    pub received: usize,
    /// Events that became LaunchDarkly events.
    pub accepted: usize,
    /// Valid events that feed no metric.
    pub skipped: usize,
    /// Invalid events.
    pub rejected: usize,
    /// The outcomes [`IngestAnswer::outcomes_listed`] asks for, in order (each carries its
    /// event's index).
    pub outcomes: Vec<Outcome>,
    /// Which outcomes are listed: `notable` (not accepted, or with warnings) or `all`.
    pub outcomes_listed: OutcomeDetail,
    /// One per planned payload.
    pub deliveries: Vec<DeliveryAnswer>,
    /// Payloads kept in the dead-letter store, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_lettered: Option<usize>,
    /// Why the request failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    /// Tracking API requests only: whether the request succeeded (Segment's own field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
}

/// The answer to Segment once every planned delivery was attempted. 200 when all went well;
/// 503 (with `Retry-After`) or 502 when a delivery failed and nothing kept it (Segment retries,
/// and the payload ids make the retry idempotent); 400 when every event was rejected.
pub fn finish(delivery: &Delivery, reports: &[DeliveryReport]) -> ApiResponse {
    let mut response = ingest_response(&delivery.processed, reports, delivery.outcomes);
    if delivery.tracking_api {
        let success = response.status == 200;
        response = response.for_tracking_api(success);
    }
    response
}

/// The answer once every planned delivery of `processed` was attempted (see [`finish`]), listing
/// the outcomes `detail` asks for.
pub fn ingest_response(
    processed: &Processed,
    reports: &[DeliveryReport],
    detail: OutcomeDetail,
) -> ApiResponse {
    let deliveries: Vec<DeliveryAnswer> = processed
        .payloads
        .iter()
        .zip(reports)
        .map(|(planned, report)| DeliveryAnswer {
            destination: planned.destination.clone(),
            url: planned.url.clone(),
            payload_id: planned.payload_id,
            events: planned.event_indexes.len(),
            status: report.status,
            attempts: report.attempts,
            result: report.result.clone(),
            error: report.error.clone(),
        })
        .collect();
    let failures: Vec<&DeliveryResult> = reports
        .iter()
        .map(|report| &report.result)
        .filter(|result| matches!(result, DeliveryResult::Failed { .. }))
        .collect();
    let rejected = processed.count(OutcomeStatus::Rejected);
    let dead_lettered = reports
        .iter()
        .filter(|report| matches!(report.result, DeliveryResult::DeadLettered { .. }))
        .count();
    let mut headers = Vec::new();
    let error = if !failures.is_empty() {
        let configuration_error = failures.iter().any(|result| {
            matches!(
                result,
                DeliveryResult::Failed {
                    configuration_error: true,
                    ..
                }
            )
        });
        let retry_after = failures
            .iter()
            .filter_map(|result| match result {
                DeliveryResult::Failed { retry_after, .. } => *retry_after,
                _ => None,
            })
            .max();
        if let Some(seconds) = retry_after {
            headers.push(("Retry-After", seconds.to_string()));
        }
        Some(if configuration_error {
            ApiError::new(
                ErrorCode::LaunchdarklyConfigurationError,
                "LaunchDarkly refused the events (401, 403 or 404): check the client-side ID and events host; retrying the request is safe once that is fixed",
            )
        } else {
            ApiError::new(
                ErrorCode::DeliveryFailed,
                "LaunchDarkly did not accept the events; retry the request later (the payload ids make a retry safe)",
            )
        })
    } else if rejected > 0 && rejected == processed.outcomes.len() {
        Some(ApiError::new(
            ErrorCode::AllEventsRejected,
            "no event in the request could become a LaunchDarkly event; see outcomes",
        ))
    } else {
        None
    };
    ApiResponse {
        status: error.as_ref().map_or(200, |error| error.code.status()),
        headers,
        body: ResponseBody::Ingest(Box::new(IngestAnswer {
            received: processed.outcomes.len(),
            accepted: processed.count(OutcomeStatus::Accepted),
            skipped: processed.count(OutcomeStatus::Skipped),
            rejected,
            outcomes: (processed.outcomes.iter())
                .filter(|outcome| detail.lists(outcome))
                .cloned()
                .collect(),
            outcomes_listed: detail,
            deliveries,
            dead_lettered: (dead_lettered > 0).then_some(dead_lettered),
            error,
            success: None,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_mode_is_on_for_true_only() {
        assert!(dev_mode_on(Some("true")));
        for off in [
            None,
            Some(""),
            Some("false"),
            Some("TRUE"),
            Some("1"),
            Some(" true"),
        ] {
            assert!(!dev_mode_on(off), "{off:?}");
        }
    }

    #[test]
    fn outcome_detail_comes_from_the_query_and_keeps_what_needs_attention() {
        for (url, detail) in [
            ("https://b.example/v1/batch", OutcomeDetail::Notable),
            (
                "https://b.example/v1/batch?outcomes=all",
                OutcomeDetail::All,
            ),
            (
                "https://b.example/segment?x=1&outcomes=all#f",
                OutcomeDetail::All,
            ),
            (
                "https://b.example/segment?outcomes=alls",
                OutcomeDetail::Notable,
            ),
            (
                "https://b.example/segment#outcomes=all",
                OutcomeDetail::Notable,
            ),
        ] {
            assert_eq!(OutcomeDetail::from_url(url), detail, "{url}");
        }
        let accepted = Outcome::new(
            0,
            OutcomeStatus::Accepted,
            crate::outcome::Reason::TrackEvent,
            String::new(),
        );
        let mut warned = accepted.clone();
        warned.warnings.push(crate::outcome::Warning {
            code: crate::outcome::Reason::UnknownEventKey,
            message: String::new(),
        });
        let skipped = Outcome::new(
            1,
            OutcomeStatus::Skipped,
            crate::outcome::Reason::NotATrackEvent,
            String::new(),
        );
        let rejected = Outcome::new(
            2,
            OutcomeStatus::Rejected,
            crate::outcome::Reason::InvalidEvent,
            String::new(),
        );
        assert!(!OutcomeDetail::Notable.lists(&accepted));
        for outcome in [&warned, &skipped, &rejected] {
            assert!(OutcomeDetail::Notable.lists(outcome));
        }
        for outcome in [&accepted, &warned, &skipped, &rejected] {
            assert!(OutcomeDetail::All.lists(outcome));
        }
    }

    #[test]
    fn delivery_result_names_are_their_serialized_tags() {
        for result in [
            DeliveryResult::Delivered,
            DeliveryResult::Queued,
            DeliveryResult::Failed {
                configuration_error: true,
                retry_after: Some(3),
            },
        ] {
            assert_eq!(
                serde_json::to_value(&result).unwrap()["result"],
                result.name()
            );
        }
    }

    #[test]
    fn error_codes_serialize_as_their_names_with_one_status_each() {
        for (code, status) in [
            (ErrorCode::NotFound, 404),
            (ErrorCode::MethodNotAllowed, 405),
            (ErrorCode::UnsupportedMediaType, 415),
            (ErrorCode::RequestTooLarge, 413),
            (ErrorCode::EventTooLarge, 400),
            (ErrorCode::TooManyEvents, 400),
            (ErrorCode::MalformedJson, 400),
            (ErrorCode::InvalidBody, 400),
            (ErrorCode::SourceRequired, 400),
            (ErrorCode::AllEventsRejected, 400),
            (ErrorCode::InvalidQuery, 400),
            (ErrorCode::MissingWriteKey, 401),
            (ErrorCode::UnknownWriteKey, 401),
            (ErrorCode::MissingSignature, 401),
            (ErrorCode::InvalidSignature, 401),
            (ErrorCode::UnsignedRefused, 401),
            (ErrorCode::BatchedWebhookRefused, 401),
            (ErrorCode::Unauthorized, 401),
            (ErrorCode::UnknownSource, 404),
            (ErrorCode::AdminDisabled, 404),
            (ErrorCode::LaunchdarklyConfigurationError, 502),
            (ErrorCode::DeliveryFailed, 503),
            (ErrorCode::InvalidConfiguration, 503),
            (ErrorCode::DeadLetterStoreUnavailable, 503),
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert_eq!(code.status(), status, "{code}");
            let response = ApiResponse::error(ApiError::new(code, "m"));
            assert_eq!(response.status, status);
            assert_eq!(response.to_json()["error"]["code"], code.as_str());
            assert_eq!(response.error_code(), Some(code));
        }
    }
    use base64::Engine;

    #[test]
    fn paths_of_request_urls() {
        assert_eq!(path_of("http://127.0.0.1:8787/segment?x=1"), "/segment");
        assert_eq!(path_of("https://a.example/v1/track#f"), "/v1/track");
        assert_eq!(path_of("https://a.example/segment/src-1"), "/segment/src-1");
        assert_eq!(path_of("https://a.example"), "/");
        assert_eq!(path_of("https://a.example?q"), "/");
    }

    #[test]
    fn routes() {
        assert_eq!(
            route("POST", "/segment"),
            Ok(Route::Webhook { source_id: None })
        );
        assert_eq!(
            route("POST", "/segment/"),
            Ok(Route::Webhook { source_id: None })
        );
        assert_eq!(
            route("POST", "/segment/web"),
            Ok(Route::Webhook {
                source_id: Some("web".to_string())
            })
        );
        assert_eq!(route("POST", "/segment/a/b").unwrap_err().status, 404);
        assert_eq!(route("GET", "/health"), Ok(Route::Health));
        let wrong = route("GET", "/segment").unwrap_err();
        assert_eq!(wrong.status, 405);
        assert_eq!(wrong.to_json()["error"]["code"], "method_not_allowed");
        assert_eq!(wrong.headers, vec![("Allow", "POST".to_string())]);
        let missing = route("POST", "/nope").unwrap_err();
        assert_eq!(missing.status, 404);
        assert_eq!(missing.to_json()["error"]["code"], "not_found");
    }

    use crate::inbound::sign;

    fn config_of(document: Value) -> BridgeConfig {
        let text = document.to_string();
        BridgeConfig::from_vars(|name| match name {
            "BRIDGE_CONFIG" => Some(text.clone()),
            "WEB_SECRET" => Some("web-secret".to_string()),
            "APP_SECRET" => Some("app-secret".to_string()),
            _ => None,
        })
        .expect("valid configuration")
    }

    fn sources() -> BridgeConfig {
        config_of(json!({
            "destinations": [{"name": "d", "client_side_id": "env"}],
            "sources": [
                {"name": "web", "source_ids": ["web"], "webhook_secret": "WEB_SECRET"},
                {"name": "app", "webhook_secret": "APP_SECRET", "accept_batched_webhooks": true},
                {"name": "server", "write_keys": ["wk"], "default": true},
                {"name": "dev", "source_ids": ["dev"], "allow_unsigned": true}
            ]
        }))
    }

    fn code(response: &ApiResponse) -> (u16, &'static str) {
        (
            response.status,
            response.error_code().map_or("", ErrorCode::as_str),
        )
    }

    fn webhook(
        config: &BridgeConfig,
        id: Option<&str>,
        signature: Option<&str>,
        body: &str,
    ) -> Result<String, (u16, String)> {
        authenticate_webhook(config, id, signature, body.as_bytes())
            .map(|route| route.source.unwrap_or_default())
            .map_err(|error| (error.code.status(), error.code.as_str().to_string()))
    }

    #[test]
    fn webhooks_are_authenticated_or_explicitly_open() {
        let config = sources();
        let event = r#"{"type":"track","event":"E","userId":"u"}"#;
        let web = sign(b"web-secret", event.as_bytes());
        let app = sign(b"app-secret", event.as_bytes());
        let refused = |status: u16, code: &str| Err((status, code.to_string()));
        // Named by the URL: its own secret, and only that one.
        assert_eq!(
            webhook(&config, Some("web"), Some(&web), event),
            Ok("web".into())
        );
        assert_eq!(
            webhook(&config, Some("web"), Some(&app), event),
            refused(401, "invalid_signature")
        );
        assert_eq!(
            webhook(&config, Some("web"), None, event),
            refused(401, "missing_signature")
        );
        assert_eq!(
            webhook(&config, Some("nope"), Some(&web), event),
            refused(404, "unknown_source")
        );
        // Named by the secret that signed it.
        assert_eq!(webhook(&config, None, Some(&app), event), Ok("app".into()));
        assert_eq!(webhook(&config, None, Some(&web), event), Ok("web".into()));
        assert_eq!(
            webhook(&config, None, Some("00"), event),
            refused(401, "invalid_signature")
        );
        // Unsigned to the default source, which has only a write key: refused.
        assert_eq!(
            webhook(&config, None, None, event),
            refused(401, "unsigned_refused")
        );
        // Explicitly open.
        assert_eq!(webhook(&config, Some("dev"), None, event), Ok("dev".into()));
        // Batched: refused unless the source accepts them; a batch of one is signed whole.
        let batch = format!("[{event},{event}]");
        let first = sign(b"web-secret", event.as_bytes());
        assert_eq!(
            webhook(&config, Some("web"), Some(&first), &batch),
            refused(401, "batched_webhook_refused")
        );
        assert_eq!(
            webhook(&config, Some("web"), Some(&first), &format!("[{event}]")),
            Ok("web".into())
        );
        let first = sign(b"app-secret", event.as_bytes());
        assert_eq!(
            webhook(&config, None, Some(&first), &batch),
            Ok("app".into())
        );
        // No default source: the request must name one.
        let named = config_of(json!({
            "destinations": [{"name": "d", "client_side_id": "env"}],
            "sources": [{"name": "dev", "source_ids": ["dev"], "allow_unsigned": true}]
        }));
        assert_eq!(
            webhook(&named, None, None, event),
            refused(400, "source_required")
        );
        // A signature with no secret configured anywhere goes to the default source.
        let open = config_of(json!({
            "destinations": [{"name": "d", "client_side_id": "env"}],
            "sources": [{"name": "dev", "default": true, "allow_unsigned": true}]
        }));
        assert_eq!(webhook(&open, None, Some(&web), event), Ok("dev".into()));
    }

    #[test]
    fn a_large_batch_is_answered_with_counts_and_the_outcomes_that_need_attention() {
        let config = config_of(
            json!({"destinations": [{"name": "d", "client_side_id": "env"}],
                                       "sources": [{"name": "s", "source_ids": ["s"], "allow_unsigned": true}]}),
        );
        let mut events: Vec<Value> = (0..2_500)
            .map(|i| json!({"type": "track", "event": "E", "userId": format!("u{i}")}))
            .collect();
        events[7] = json!({"type": "track", "event": "E"});
        events[2_000] = json!({"type": "page", "userId": "u"});
        let body = Value::Array(events).to_string();
        let answer_with = |outcomes: OutcomeDetail| {
            let request = IngestRequest {
                content_type: Some("application/json"),
                authorization: None,
                signature: None,
                body: body.as_bytes(),
                outcomes,
            };
            let route = Route::Webhook {
                source_id: Some("s".to_string()),
            };
            let IngestPlan::Deliver(delivery) = plan_ingest(
                &config,
                &route,
                &request,
                &Limits::SEGMENT,
                1_750_000_000_000,
            ) else {
                panic!("planned");
            };
            let reports: Vec<DeliveryReport> = (delivery.processed.payloads.iter())
                .map(|_| DeliveryReport::queued())
                .collect();
            finish(&delivery, &reports).to_json()
        };
        let notable = answer_with(OutcomeDetail::Notable);
        assert_eq!(
            (notable["received"].clone(), notable["accepted"].clone()),
            (json!(2_500), json!(2_498))
        );
        assert_eq!(notable["outcomes_listed"], "notable");
        let listed: Vec<(u64, &str)> = notable["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["index"].as_u64().unwrap(), o["reason"].as_str().unwrap()))
            .collect();
        assert_eq!(
            listed,
            [(7, "missing_context_key"), (2_000, "not_a_track_event")]
        );
        assert!(
            notable.to_string().len() < 4_096,
            "{}",
            notable.to_string().len()
        );
        let all = answer_with(OutcomeDetail::All);
        assert_eq!(all["outcomes_listed"], "all");
        assert_eq!(all["outcomes"].as_array().unwrap().len(), 2_500);
    }

    fn ingest(
        config: &BridgeConfig,
        route: &Route,
        authorization: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        limits: &Limits,
    ) -> (u16, String) {
        let request = IngestRequest {
            content_type: Some("application/json"),
            authorization,
            signature,
            body,
            outcomes: OutcomeDetail::All,
        };
        match plan_ingest(config, route, &request, limits, 0) {
            IngestPlan::Respond(response) => {
                let (status, code) = code(&response);
                (status, code.to_string())
            }
            IngestPlan::Deliver(delivery) => {
                (200, format!("{}", delivery.processed.outcomes.len()))
            }
        }
    }

    #[test]
    fn limits_come_before_authentication_and_authentication_before_parsing() {
        let config = sources();
        let small = Limits {
            max_request_bytes: 50,
            ..Limits::SEGMENT
        };
        let webhook = Route::Webhook {
            source_id: Some("web".into()),
        };
        let batch = Route::TrackingApi(TrackingCall::Batch);
        let big = format!(r#"{{"type":"track","event":"{}"}}"#, "x".repeat(60));
        // Too large: refused before the signature is computed or the write key looked at.
        assert_eq!(
            ingest(&config, &webhook, None, Some("00"), big.as_bytes(), &small),
            (413, "request_too_large".into())
        );
        assert_eq!(
            ingest(&config, &batch, None, None, big.as_bytes(), &small),
            (413, "request_too_large".into())
        );
        // Not JSON, and no credentials: 401, not 400.
        assert_eq!(
            ingest(&config, &batch, None, None, b"{not json", &Limits::SEGMENT),
            (401, "missing_write_key".into())
        );
        assert_eq!(
            ingest(
                &config,
                &webhook,
                None,
                None,
                b"{not json",
                &Limits::SEGMENT
            ),
            (401, "missing_signature".into())
        );
        let basic = |key: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
            )
        };
        assert_eq!(
            ingest(
                &config,
                &batch,
                Some(&basic("other")),
                None,
                b"{not json",
                &Limits::SEGMENT
            ),
            (401, "unknown_write_key".into())
        );
        // An empty write key is no write key.
        assert_eq!(
            ingest(
                &config,
                &batch,
                Some(&basic("")),
                None,
                br#"{"batch":[]}"#,
                &Limits::SEGMENT
            ),
            (401, "missing_write_key".into())
        );
        // Authenticated: now the body is parsed.
        assert_eq!(
            ingest(
                &config,
                &batch,
                Some(&basic("wk")),
                None,
                b"{not json",
                &Limits::SEGMENT
            ),
            (400, "malformed_json".into())
        );
        assert_eq!(
            ingest(
                &config,
                &batch,
                None,
                None,
                br#"{"writeKey":"wk","batch":[{}]}"#,
                &Limits::SEGMENT
            ),
            (200, "1".into())
        );
        let track = Route::TrackingApi(TrackingCall::Single("page"));
        assert_eq!(
            ingest(
                &config,
                &track,
                None,
                None,
                br#"{"writeKey":"wk","name":"Home"}"#,
                &Limits::SEGMENT
            ),
            (200, "1".into())
        );
        // Exactly at the limit is read.
        let at = format!(r#"{{"writeKey":"wk","batch":[{}]}}"#, " ".repeat(20));
        let exact = Limits {
            max_request_bytes: at.len(),
            ..Limits::SEGMENT
        };
        assert_eq!(
            ingest(&config, &batch, None, None, at.as_bytes(), &exact),
            (200, "0".into())
        );
    }

    #[test]
    fn the_admin_check_takes_exactly_the_token() {
        let refused = |token: Option<&str>, header: Option<&str>| {
            check_admin(token, header).map_err(|response| {
                let (status, code) = code(&response);
                (status, code.to_string(), response.headers.clone())
            })
        };
        assert_eq!(refused(None, Some("Bearer x")).unwrap_err().0, 404);
        assert_eq!(
            refused(Some(""), Some("Bearer ")).unwrap_err().1,
            "admin_disabled"
        );
        for header in ["Bearer tok-1", "bearer tok-1", " BEARER  tok-1 "] {
            assert_eq!(refused(Some("tok-1"), Some(header)), Ok(()), "{header}");
        }
        for header in [
            None,
            Some("Bearer tok-"),
            Some("Bearer tok-12"),
            Some("Bearer "),
            Some("Basic tok-1"),
            Some("tok-1"),
            Some("Bearer TOK-1"),
        ] {
            let (status, code, headers) = refused(Some("tok-1"), header).unwrap_err();
            assert_eq!((status, code.as_str()), (401, "unauthorized"), "{header:?}");
            assert_eq!(headers, vec![("WWW-Authenticate", "Bearer".to_string())]);
        }
    }

    #[test]
    fn constant_time_comparison_is_equality() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"secret", b"secret"));
        for other in [
            &b"secreT"[..],
            b"Secret",
            b"secre",
            b"secrets",
            b"",
            b"secret\0",
        ] {
            assert!(!constant_time_eq(other, b"secret"), "{other:?}");
        }
        assert!(!constant_time_eq(b"x", b""));
        assert!(!constant_time_eq(b"\0", b""));
    }

    #[test]
    fn replay_refuses_a_body_it_does_not_understand() {
        assert_eq!(replay_selection(b""), Ok(None));
        assert_eq!(replay_selection(b" \n"), Ok(None));
        assert_eq!(replay_selection(b"{}"), Ok(None));
        assert_eq!(
            replay_selection(br#"{"payload_ids": ["a", "b"]}"#),
            Ok(Some(vec!["a".to_string(), "b".to_string()]))
        );
        assert_eq!(
            replay_selection(br#"{"payload_ids": []}"#),
            Ok(Some(Vec::new()))
        );
        for body in [
            &br#"{"ids": ["a"]}"#[..],
            b"[1]",
            b"[]",
            br#"{"payload_ids": [1]}"#,
            br#"{"payload_ids": "a"}"#,
            b"null",
            b"{",
        ] {
            let response = replay_selection(body).unwrap_err();
            assert_eq!(code(&response), (400, "invalid_body"), "{body:?}");
        }
    }

    #[test]
    fn health_shows_the_catalogue_refresh_only_with_the_admin_token() {
        use crate::config::refreshed::{RefreshSetup, RefreshStatus};
        let config = sources();
        let setup = RefreshSetup::from_vars(
            |name| match name {
                "LD_API_TOKEN" => Some("api-health-token".to_string()),
                "LD_PROJECT_KEY" => Some("default".to_string()),
                _ => None,
            },
            true,
        );
        let status = RefreshStatus::new(&setup, None, None).unwrap();
        let view = |admin| HealthView {
            admin,
            dev_mode: false,
            catalogue: Some(&status),
        };
        let public = health(Ok(&config), view(false)).to_json();
        let fields: Vec<&String> = public.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["status", "name", "version", "dev_mode"]);
        let admin = health(Ok(&config), view(true)).to_json();
        assert_eq!(admin["catalogue_refresh"]["state"], "not_yet_refreshed");
        assert_eq!(admin["catalogue_refresh"]["project"], "default");
        assert!(!admin.to_string().contains("api-health-token"));
        let problems = [ConfigProblem {
            location: "sources".into(),
            message: "m".into(),
        }];
        let misconfigured = health(Err(&problems), view(true)).to_json();
        assert_eq!(misconfigured["catalogue_refresh"]["project"], "default");
        assert!(health(Err(&problems), view(false))
            .to_json()
            .get("catalogue_refresh")
            .is_none());
    }

    #[test]
    fn health_shows_details_only_with_the_admin_token() {
        let config = sources();
        let public = health(
            Ok(&config),
            HealthView {
                admin: false,
                dev_mode: false,
                catalogue: None,
            },
        );
        assert_eq!(public.status, 200);
        let public_json = public.to_json();
        let fields: Vec<&String> = public_json.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["status", "name", "version", "dev_mode"]);
        assert_eq!(public.to_json()["dev_mode"], false);
        let admin = health(
            Ok(&config),
            HealthView {
                admin: true,
                dev_mode: true,
                catalogue: None,
            },
        );
        assert_eq!(admin.to_json()["dev_mode"], true);
        assert_eq!(
            admin.to_json()["config"]["sources"][0]["source_ids"],
            json!(["web"])
        );
        let problems = [ConfigProblem {
            location: "sources".into(),
            message: "m".into(),
        }];
        let public = health(
            Err(&problems),
            HealthView {
                admin: false,
                dev_mode: false,
                catalogue: None,
            },
        );
        assert_eq!(public.status, 503);
        assert_eq!(public.to_json()["status"], "misconfigured");
        assert_eq!(public.to_json()["problems"], 1);
        let admin = health(
            Err(&problems),
            HealthView {
                admin: true,
                dev_mode: false,
                catalogue: None,
            },
        );
        assert_eq!(admin.to_json()["problems"][0]["location"], "sources");
    }

    #[test]
    fn every_tracking_route_and_its_methods() {
        for path in [
            "/v1/track",
            "/v1/identify",
            "/v1/page",
            "/v1/screen",
            "/v1/group",
            "/v1/alias",
            "/v1/batch",
        ] {
            assert!(
                matches!(route("POST", path), Ok(Route::TrackingApi(_))),
                "{path}"
            );
            assert_eq!(route("OPTIONS", path), Ok(Route::Preflight));
            let wrong = route("GET", path).unwrap_err();
            assert_eq!(wrong.status, 405);
            assert!(wrong
                .headers
                .iter()
                .any(|(name, _)| *name == "Access-Control-Allow-Origin"));
        }
        assert_eq!(route("GET", "/dev/recent"), Ok(Route::Recent));
        assert_eq!(
            route("GET", "/admin/dead-letters"),
            Ok(Route::Admin(AdminAction::ListDeadLetters))
        );
        assert_eq!(
            route("POST", "/admin/dead-letters/replay"),
            Ok(Route::Admin(AdminAction::ReplayDeadLetters))
        );
        assert_eq!(
            route("DELETE", "/admin/dead-letters/abc"),
            Ok(Route::Admin(AdminAction::DeleteDeadLetter("abc".into())))
        );
        assert_eq!(
            route("DELETE", "/admin/dead-letters/a/b")
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(route("POST", "/health").unwrap_err().status, 405);
        assert_eq!(route("HEAD", "/health"), Ok(Route::Health));
    }

    #[test]
    fn paths_of_short_urls() {
        assert_eq!(path_of("http://a/x"), "/x");
        assert_eq!(path_of("http://a"), "/");
        assert_eq!(path_of("/segment?x"), "/segment");
    }

    #[test]
    fn failures_combine_into_the_worst() {
        let failed = |configuration_error, retry_after| DeliveryResult::Failed {
            configuration_error,
            retry_after,
        };
        assert_eq!(
            DeliveryResult::Delivered.with_failure(false, Some(5)),
            failed(false, Some(5))
        );
        assert_eq!(
            DeliveryResult::Queued.with_failure(true, None),
            failed(true, None)
        );
        assert_eq!(
            failed(true, Some(3)).with_failure(false, Some(9)),
            failed(true, Some(9))
        );
        assert_eq!(
            failed(false, Some(9)).with_failure(true, None),
            failed(true, Some(9))
        );
        assert_eq!(
            failed(false, None).with_failure(false, None),
            failed(false, None)
        );
    }

    fn answer_of(body: &[u8], reports: impl Fn(usize) -> DeliveryReport) -> ApiResponse {
        let config = sources();
        let request = IngestRequest {
            content_type: None,
            authorization: None,
            signature: None,
            body,
            outcomes: OutcomeDetail::All,
        };
        let route = Route::Webhook {
            source_id: Some("dev".into()),
        };
        match plan_ingest(
            &config,
            &route,
            &request,
            &Limits::SEGMENT,
            1_750_000_000_000,
        ) {
            IngestPlan::Respond(response) => response,
            IngestPlan::Deliver(delivery) => {
                let reports: Vec<DeliveryReport> = (0..delivery.processed.payloads.len())
                    .map(&reports)
                    .collect();
                finish(&delivery, &reports)
            }
        }
    }

    #[test]
    fn the_answer_counts_dead_letters_and_refuses_only_when_every_event_was_rejected() {
        let event = br#"[{"type":"track","event":"E","userId":"u"}]"#;
        let delivered = |_| DeliveryReport {
            status: Some(202),
            error: None,
            attempts: 1,
            result: DeliveryResult::Delivered,
        };
        let answer = answer_of(event, delivered);
        assert_eq!(answer.status, 200);
        assert!(answer.to_json().get("dead_lettered").is_none());
        let dead = |_| DeliveryReport {
            status: Some(403),
            error: None,
            attempts: 1,
            result: DeliveryResult::DeadLettered {
                reason: DeadLetterReason {
                    code: crate::delivery::DeadLetterCode::LaunchdarklyConfigurationError,
                    message: "m".into(),
                },
            },
        };
        let answer = answer_of(event, dead);
        assert_eq!(
            (answer.status, &answer.to_json()["dead_lettered"]),
            (200, &json!(1))
        );
        // No events at all is not "every event rejected".
        assert_eq!(answer_of(b"[]", delivered).status, 200);
        // One rejected, one skipped: not every event was rejected.
        let mixed = br#"[{"type":"track","userId":"u"},{"type":"page","userId":"u"}]"#;
        assert_eq!(answer_of(mixed, delivered).status, 200);
        let rejected = br#"[{"type":"track","userId":"u"},{"type":"track"}]"#;
        let answer = answer_of(rejected, delivered);
        assert_eq!(code(&answer), (400, "all_events_rejected"));
    }
}
