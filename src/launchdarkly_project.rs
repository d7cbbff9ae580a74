//! A LaunchDarkly project as its REST API describes it: the parts the bridge reads, and what it
//! makes of them. The environments and metrics become the configuration document's destinations
//! and metric catalogues (`segment-ld-bridge launchdarkly pull`); the context records tell whether
//! LaunchDarkly has ever seen the context keys Segment's events carry (`launchdarkly correlate`).
//!
//! Pure: the answers' types (unknown fields ignored, and the secrets of an environment, its SDK
//! and mobile keys, not even read), the URLs, the rules and the reports. The HTTP requests are
//! the adapters' (the CLI's today; the Worker's cron refresh may reuse this module).
//!
//! The shapes come from LaunchDarkly's published REST API reference (API version 2):
//! `GET /api/v2/projects/{projectKey}/environments`, `GET /api/v2/metrics/{projectKey}`,
//! `GET /api/v2/projects/{projectKey}/environments/{environmentKey}/contexts/{kind}/{key}`,
//! `POST .../contexts/search` and `GET /api/v2/projects/{projectKey}/context-kinds`; list answers
//! are `{"items", "totalCount", "_links": {"next": {"href"}}}`.

use crate::timestamp::iso8601_millis;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// `writeln!` into a `String`, without a `fmt::Result` to ignore.
macro_rules! push_line {
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

/// The commercial API base (the default).
pub const API_BASE_US: &str = "https://app.launchdarkly.com";
/// The EU instance's API base.
pub const API_BASE_EU: &str = "https://app.eu.launchdarkly.com";
/// The federal instance's API base.
pub const API_BASE_FEDERAL: &str = "https://app.launchdarkly.us";

/// The environment variable that holds the API access token (sent as `Authorization: <token>`).
pub const TOKEN_VAR: &str = "LD_API_TOKEN";

/// At most this many pages are followed for one list (a loop in `_links.next` ends there).
pub const MAX_PAGES: usize = 1000;

/// How many unknown keys the text report lists.
pub const UNKNOWN_KEYS_SHOWN: usize = 20;

/// How many example keys are shown per side (LaunchDarkly's and Segment's).
pub const EXAMPLE_KEYS: usize = 5;

/// Why something read from, or destined for, LaunchDarkly's REST API cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProjectError {
    /// `--api-base` is not an http(s) URL.
    #[error("the API base {0:?} is not an http:// or https:// URL such as {API_BASE_US}")]
    InvalidApiBase(String),
    /// A `_links.next` that leaves the API base's origin (the token would be sent there).
    #[error("LaunchDarkly's answer links to a page outside {0}: not followed, so the access token goes nowhere else")]
    ForeignLink(String),
    /// A `_links.next` that is neither an absolute URL nor an absolute path.
    #[error("LaunchDarkly's answer links to a page this tool cannot resolve ({0:?})")]
    UnreadableLink(String),
    /// The configuration document to merge into is not one.
    #[error("{0}")]
    NotADocument(String),
}

// ---------------------------------------------------------------------------------------------
// The API base and the URLs under it
// ---------------------------------------------------------------------------------------------

/// Where LaunchDarkly's REST API is: `scheme://host[:port][/prefix]`, without a trailing slash
/// (and without `/api/v2`, which the paths below carry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiBase {
    url: String,
    /// The length of `scheme://host[:port]` in `url`.
    origin_len: usize,
}

impl ApiBase {
    /// Reads an API base: an `http://` or `https://` URL, a trailing `/` or `/api/v2` dropped.
    pub fn parse(text: &str) -> Result<ApiBase, ProjectError> {
        let invalid = || ProjectError::InvalidApiBase(text.to_string());
        let trimmed = text.trim();
        let mut url = trimmed.trim_end_matches('/');
        if let Some(without) = url.strip_suffix("/api/v2") {
            url = without.trim_end_matches('/');
        }
        let lower = url.to_ascii_lowercase();
        let scheme_len = if lower.starts_with("https://") {
            8
        } else if lower.starts_with("http://") {
            7
        } else {
            return Err(invalid());
        };
        let rest = &url[scheme_len..];
        let host_len = rest.find('/').unwrap_or(rest.len());
        let host = &rest[..host_len];
        if host.is_empty()
            || url.contains(['?', '#', '@'])
            || url.contains(|c: char| c.is_whitespace() || c.is_control())
        {
            return Err(invalid());
        }
        Ok(ApiBase {
            url: url.to_string(),
            origin_len: scheme_len + host_len,
        })
    }

    /// The base URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.url[..self.origin_len]
    }

    /// The URL of an API path (`/api/v2/...`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Resolves a link of an answer (`_links.next.href`): an absolute path is taken on the base's
    /// origin (as a browser would), an absolute URL only when it has the base's origin, so that
    /// the access token is never sent to another host.
    pub fn resolve(&self, href: &str) -> Result<String, ProjectError> {
        if href.starts_with('/') && !href.starts_with("//") {
            return Ok(format!("{}{href}", self.origin()));
        }
        let lower = href.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            let origin = self.origin();
            let same_origin = href
                .get(..origin.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(origin))
                && matches!(href.as_bytes().get(origin.len()), None | Some(b'/' | b'?'));
            return if same_origin {
                Ok(href.to_string())
            } else {
                Err(ProjectError::ForeignLink(origin.to_string()))
            };
        }
        Err(ProjectError::UnreadableLink(
            href.chars().take(200).collect(),
        ))
    }

    /// The `events_host` of the environments behind this API: `us`, `eu` or `federal` for
    /// LaunchDarkly's own instances, `None` for any other base (a proxy, a test server).
    pub fn events_host(&self) -> Option<&'static str> {
        let host =
            self.origin()[self.origin().find("://").map_or(0, |at| at + 3)..].to_ascii_lowercase();
        match host.as_str() {
            "app.launchdarkly.com" => Some("us"),
            "app.eu.launchdarkly.com" => Some("eu"),
            "app.launchdarkly.us" => Some("federal"),
            _ => None,
        }
    }
}

/// Percent-encodes one path segment: everything but `A-Z a-z 0-9 - . _ ~`.
pub fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `/api/v2/projects/{project}/environments`: the project's environments (a list).
pub fn environments_path(project: &str) -> String {
    format!("/api/v2/projects/{}/environments", encode_segment(project))
}

/// `/api/v2/projects/{project}/environments/{environment}`: one environment.
pub fn environment_path(project: &str, environment: &str) -> String {
    format!(
        "{}/{}",
        environments_path(project),
        encode_segment(environment)
    )
}

/// `/api/v2/metrics/{project}`: the project's metrics (a list).
pub fn metrics_path(project: &str) -> String {
    format!("/api/v2/metrics/{}", encode_segment(project))
}

/// `/api/v2/projects/{project}/context-kinds`: the project's context kinds.
pub fn context_kinds_path(project: &str) -> String {
    format!("/api/v2/projects/{}/context-kinds", encode_segment(project))
}

/// `.../environments/{environment}/contexts/{kind}/{key}`: LaunchDarkly's records of one context.
pub fn context_path(project: &str, environment: &str, context: &ContextRef) -> String {
    format!(
        "{}/contexts/{}/{}",
        environment_path(project, environment),
        encode_segment(&context.kind),
        encode_segment(&context.key)
    )
}

/// `.../environments/{environment}/contexts/search`.
pub fn context_search_path(project: &str, environment: &str) -> String {
    format!("{}/contexts/search", environment_path(project, environment))
}

/// The body of a context search for at most `limit` contexts of `kind`.
pub fn context_search_body(kind: &str, limit: usize) -> Value {
    let quoted = Value::String(kind.to_string()).to_string();
    json!({"filter": format!("kind anyOf [{quoted}]"), "limit": limit})
}

// ---------------------------------------------------------------------------------------------
// The answers
// ---------------------------------------------------------------------------------------------

/// One page of a list answer.
#[derive(Clone, Debug, Deserialize)]
pub struct Page<T> {
    /// This page's items.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    /// The links; `next` when there is more.
    #[serde(rename = "_links", default)]
    pub links: Links,
}

/// The `_links` of an answer (only `next` is read).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Links {
    /// The next page, when there is one.
    #[serde(default)]
    pub next: Option<Link>,
}

/// One link.
#[derive(Clone, Debug, Deserialize)]
pub struct Link {
    /// A path (`/api/v2/...?offset=20`) or a URL.
    pub href: String,
}

impl<T> Page<T> {
    /// The URL of the next page, resolved against `base`, or `None` on the last page.
    pub fn next_url(&self, base: &ApiBase) -> Result<Option<String>, ProjectError> {
        match &self.links.next {
            Some(link) if !link.href.is_empty() => base.resolve(&link.href).map(Some),
            _ => Ok(None),
        }
    }
}

/// Reads a list page by page, for the CLI and the Worker alike, which send the requests: the
/// URL to read next, the items read so far, and when the list is complete (a page without
/// `_links.next`, or one linking back to a page already read, which would loop). A `next` off
/// the API base's origin is refused ([`Page::next_url`]), and so is reading more than
/// `max_pages` pages.
#[derive(Debug)]
pub struct PageWalk<'b, T> {
    base: &'b ApiBase,
    /// The URLs read or being read, in order.
    asked: Vec<String>,
    items: Vec<T>,
    max_pages: usize,
}

/// Why a list was not read to its end ([`PageWalk`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// A `_links.next` that is not followed.
    #[error(transparent)]
    Link(#[from] ProjectError),
    /// The list has more pages than may be read.
    #[error("more than {0} pages")]
    TooManyPages(usize),
}

impl PageError {
    /// The error reading `what`.
    pub fn reading(self, what: &str) -> ApiError {
        let what = what.to_string();
        match self {
            PageError::Link(error) => ApiError::Link { what, error },
            PageError::TooManyPages(pages) => ApiError::TooManyPages { what, pages },
        }
    }
}

impl<'b, T> PageWalk<'b, T> {
    /// A walk of the list at `path` under `base`, reading at most `max_pages` pages, and the
    /// first URL to read (none when `max_pages` is 0).
    pub fn start(
        base: &'b ApiBase,
        path: &str,
        max_pages: usize,
    ) -> Result<(Self, String), PageError> {
        if max_pages == 0 {
            return Err(PageError::TooManyPages(0));
        }
        let url = base.url(path);
        let walk = PageWalk {
            base,
            asked: vec![url.clone()],
            items: Vec::new(),
            max_pages,
        };
        Ok((walk, url))
    }

    /// Takes the page read from the last URL given: the next URL to read, or `None` when the
    /// list is complete.
    pub fn take(&mut self, page: Page<T>) -> Result<Option<String>, PageError> {
        let next = page.next_url(self.base)?;
        self.items.extend(page.items);
        match next {
            Some(next) if !self.asked.contains(&next) => {
                if self.asked.len() >= self.max_pages {
                    return Err(PageError::TooManyPages(self.max_pages));
                }
                self.asked.push(next.clone());
                Ok(Some(next))
            }
            _ => Ok(None),
        }
    }

    /// How many pages have been asked for.
    pub fn pages(&self) -> usize {
        self.asked.len()
    }

    /// The items of every page taken, in order.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }
}

/// An environment. Its SDK key (`apiKey`) and mobile key (`mobileKey`) are secrets and are not
/// fields here: they are never read, so never written anywhere.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Environment {
    /// The client-side ID: the `{clientSideId}` of `/events/bulk/{clientSideId}`.
    #[serde(rename = "_id")]
    pub id: String,
    /// The environment's key (`production`).
    pub key: String,
    /// Its name, for people.
    #[serde(default)]
    pub name: Option<String>,
}

/// A metric of the list answer (LaunchDarkly's `MetricListingRep`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// The metric's own key (not the event key).
    pub key: String,
    /// Its name, for people.
    #[serde(default)]
    pub name: Option<String>,
    /// `custom`, `pageview` or `click`.
    #[serde(default)]
    pub kind: Option<String>,
    /// For custom metrics: the key events must carry, exactly.
    #[serde(default)]
    pub event_key: Option<String>,
    /// Numeric (uses `metricValue`) or conversion.
    #[serde(default)]
    pub is_numeric: Option<bool>,
    /// The context kinds the metric can be analysed by.
    #[serde(default)]
    pub randomization_units: Option<Vec<String>>,
    /// How several events of one unit combine (`sum`, `average`).
    #[serde(default)]
    pub unit_aggregation_type: Option<String>,
    /// Active experiments using it, when the answer says (the single-metric form does).
    #[serde(default)]
    pub active_experiment_count: Option<u64>,
}

/// A context kind of the project.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ContextKind {
    /// `user`, `organization`, ...
    pub key: String,
}

/// One record of LaunchDarkly's contexts answers. Only the context's kind and key are ever
/// taken from it (see [`ContextRecord::key_of_kind`]); its attributes are personal data and are
/// dropped with the record.
#[derive(Clone, Debug, Deserialize)]
pub struct ContextRecord {
    /// The context (`{"kind", "key", ...attributes}`, or a multi-context).
    #[serde(default)]
    context: Value,
}

impl ContextRecord {
    /// The key of this record's context of `kind` (also inside a multi-context).
    pub fn key_of_kind(&self, kind: &str) -> Option<String> {
        let context = self.context.as_object()?;
        let single_kind = context
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("user");
        let part = if single_kind == "multi" {
            context.get(kind)?.as_object()?
        } else if single_kind == kind {
            context
        } else {
            return None;
        };
        part.get("key")?.as_str().map(str::to_string)
    }
}

// ---------------------------------------------------------------------------------------------
// API errors
// ---------------------------------------------------------------------------------------------

/// What a request was for, in the words of its error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    /// What was read: `the environments of project "default"`.
    pub what: String,
    /// What a 404 means is missing: `project "default"`.
    pub missing: String,
}

impl Reading {
    /// A reading of `what`, whose 404 means `missing` does not exist.
    pub fn new(what: impl Into<String>, missing: impl Into<String>) -> Reading {
        Reading {
            what: what.into(),
            missing: missing.into(),
        }
    }
}

/// Why a request to LaunchDarkly's REST API failed. One line each, for people; never the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 401.
    #[error("LaunchDarkly refused the access token (401 unauthorized) reading {what}: set {TOKEN_VAR} to a valid API access token (api-..., not an SDK key)")]
    Unauthorized {
        /// What was read.
        what: String,
    },
    /// 403.
    #[error(
        "the access token may not read {what} (403 forbidden): give it a role that can (Reader)"
    )]
    Forbidden {
        /// What was read.
        what: String,
    },
    /// 404.
    #[error("{missing} was not found (404) reading {what}: check the key, and that the token belongs to its account")]
    NotFound {
        /// What was read.
        what: String,
        /// What does not exist.
        missing: String,
    },
    /// 429.
    #[error("LaunchDarkly's rate limit was reached (429) reading {what}: {}", wait_text(*.reset_at_ms, *.wait_ms))]
    RateLimited {
        /// What was read.
        what: String,
        /// When the limit resets (Unix ms), when the answer said.
        reset_at_ms: Option<i64>,
        /// How long to wait from the answer, in ms, when it said.
        wait_ms: Option<i64>,
    },
    /// 5xx.
    #[error("LaunchDarkly failed ({status}) reading {what}: try again later")]
    Server {
        /// The status.
        status: u16,
        /// What was read.
        what: String,
    },
    /// Any other status.
    #[error("LaunchDarkly answered {status} reading {what}{}", code_text(.code))]
    Unexpected {
        /// The status.
        status: u16,
        /// What was read.
        what: String,
        /// The error `code` of the answer, when it had one.
        code: Option<String>,
    },
    /// A 200 whose body is not the documented shape.
    #[error("LaunchDarkly's answer reading {what} is not the JSON this tool reads ({detail})")]
    BadAnswer {
        /// What was read.
        what: String,
        /// Where it went wrong (never the content: it may hold personal data).
        detail: String,
    },
    /// A link of the answer that is not followed.
    #[error("reading {what}: {error}")]
    Link {
        /// What was read.
        what: String,
        /// Why.
        error: ProjectError,
    },
    /// A list with more pages than are read ([`MAX_PAGES`]).
    #[error("reading {what}: more than {pages} pages; the list was not read to its end")]
    TooManyPages {
        /// What was read.
        what: String,
        /// The most pages read.
        pages: usize,
    },
    /// No answer.
    #[error("could not reach LaunchDarkly at {base} reading {what}: {detail}")]
    Network {
        /// The API base.
        base: String,
        /// What was read.
        what: String,
        /// The transport's error.
        detail: String,
    },
}

fn wait_text(reset_at_ms: Option<i64>, wait_ms: Option<i64>) -> String {
    match (reset_at_ms, wait_ms) {
        (Some(at), Some(wait)) => format!(
            "it resets at {} ({} s from now); try again then",
            iso8601_millis(at),
            seconds_up(wait)
        ),
        (None, Some(wait)) => format!("try again in {} s", seconds_up(wait)),
        _ => "try again in a minute".to_string(),
    }
}

fn seconds_up(ms: i64) -> i64 {
    (ms.max(0) + 999) / 1000
}

fn code_text(code: &Option<String>) -> String {
    match code {
        Some(code) => format!(" ({code})"),
        None => String::new(),
    }
}

/// The rate-limit headers of an answer, as text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitHeaders<'a> {
    /// `X-Ratelimit-Reset`: Unix ms when the window resets.
    pub reset: Option<&'a str>,
    /// `Retry-After`: seconds.
    pub retry_after: Option<&'a str>,
}

impl RateLimitHeaders<'_> {
    /// When the limit resets (Unix ms) and how long to wait from `now_ms`: from
    /// `X-Ratelimit-Reset`, else from `Retry-After` (seconds; its HTTP-date form is not read).
    pub fn wait(&self, now_ms: i64) -> (Option<i64>, Option<i64>) {
        if let Some(reset) = self.reset.and_then(|text| text.trim().parse::<i64>().ok()) {
            return (Some(reset), Some(reset.saturating_sub(now_ms).max(0)));
        }
        let after = self
            .retry_after
            .and_then(|text| text.trim().parse::<i64>().ok())
            .map(|seconds| seconds.clamp(0, 86_400) * 1000);
        (after.map(|wait| now_ms.saturating_add(wait)), after)
    }
}

impl ApiError {
    /// The error for a non-2xx `status`. `body` is read only for LaunchDarkly's error `code`.
    pub fn from_status(
        status: u16,
        reading: &Reading,
        headers: RateLimitHeaders<'_>,
        body: &str,
        now_ms: i64,
    ) -> ApiError {
        let what = reading.what.clone();
        match status {
            401 => ApiError::Unauthorized { what },
            403 => ApiError::Forbidden { what },
            404 => ApiError::NotFound {
                what,
                missing: reading.missing.clone(),
            },
            429 => {
                let (reset_at_ms, wait_ms) = headers.wait(now_ms);
                ApiError::RateLimited {
                    what,
                    reset_at_ms,
                    wait_ms,
                }
            }
            500..=599 => ApiError::Server { status, what },
            _ => ApiError::Unexpected {
                status,
                what,
                code: error_code(body),
            },
        }
    }

    /// A 200 answer whose body did not parse as `T`: where, never what (it may be personal).
    pub fn bad_answer(reading: &Reading, error: &serde_json::Error) -> ApiError {
        let kind = match error.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "not valid JSON"
            }
            serde_json::error::Category::Data => "an unexpected shape",
        };
        ApiError::BadAnswer {
            what: reading.what.clone(),
            detail: format!("{kind} at line {}, column {}", error.line(), error.column()),
        }
    }
}

/// LaunchDarkly's error `code` (`{"code": "...", "message": "..."}`), when it is a short word.
fn error_code(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let code = value.get("code")?.as_str()?;
    (code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
    .then(|| code.to_string())
}

// ---------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------

/// One custom metric as the configuration document's catalogue holds it (its checks, `counts`
/// and `takes_kinds`, are in `config::catalogue`, which uses this type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricDefinition {
    /// The metric's key.
    pub key: String,
    /// Its name (its key when LaunchDarkly gave none).
    pub name: String,
    /// The event key events must carry.
    pub event_key: String,
    /// Numeric (reads `metricValue`) or conversion.
    pub numeric: bool,
    /// The context kinds it can be analysed by.
    pub randomization_units: Vec<String>,
    /// How one unit's events combine, when LaunchDarkly said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_aggregation_type: Option<String>,
    /// Active experiments using it, when LaunchDarkly said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_experiments: Option<u64>,
}

/// A metric the catalogue leaves out: Segment's track events can never feed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    /// The metric's key.
    pub key: String,
    /// Its kind (`pageview`, `click`, or `custom` without an event key).
    pub kind: String,
}

/// A project's custom metrics, as a catalogue.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Catalogue {
    /// The custom metrics, in LaunchDarkly's order.
    pub metrics: Vec<MetricDefinition>,
    /// The metrics left out (no event key).
    pub left_out: Vec<LeftOut>,
}

impl Catalogue {
    /// The distinct event keys of the metrics, in order of first appearance.
    pub fn event_keys(&self) -> Vec<String> {
        distinct_event_keys(&self.metrics)
    }
}

/// The distinct event keys of `metrics`, in order of first appearance.
pub fn distinct_event_keys(metrics: &[MetricDefinition]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for metric in metrics {
        if !keys.contains(&metric.event_key) {
            keys.push(metric.event_key.clone());
        }
    }
    keys
}

/// The catalogue of `metrics`: the custom metrics with an event key; pageview and click metrics
/// (which no track event can feed) are left out and listed.
pub fn metrics_to_catalogue(metrics: &[Metric]) -> Catalogue {
    let mut catalogue = Catalogue::default();
    for metric in metrics {
        let kind = metric.kind.as_deref().unwrap_or("custom");
        match (&metric.event_key, kind) {
            (Some(event_key), "custom") if !event_key.is_empty() => {
                catalogue.metrics.push(MetricDefinition {
                    key: metric.key.clone(),
                    name: metric
                        .name
                        .clone()
                        .filter(|name| !name.is_empty())
                        .unwrap_or_else(|| metric.key.clone()),
                    event_key: event_key.clone(),
                    numeric: metric.is_numeric.unwrap_or(false),
                    randomization_units: metric.randomization_units.clone().unwrap_or_default(),
                    unit_aggregation_type: metric.unit_aggregation_type.clone(),
                    active_experiments: metric.active_experiment_count,
                });
            }
            _ => catalogue.left_out.push(LeftOut {
                key: metric.key.clone(),
                kind: kind.to_string(),
            }),
        }
    }
    catalogue
}

/// Where a destination's catalogue came from (informational).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CatalogueSource {
    /// The project's key.
    pub project: String,
    /// The environment's key.
    pub environment: String,
    /// The API base it was read from.
    pub api_base: String,
    /// When (ISO 8601, UTC, seconds).
    pub pulled_at: String,
}

/// `2026-11-30T13:30:00Z` for Unix milliseconds (to the second).
pub fn pulled_at(now_ms: i64) -> String {
    let text = iso8601_millis(now_ms.div_euclid(1000) * 1000);
    match text.strip_suffix(".000Z") {
        Some(seconds) => format!("{seconds}Z"),
        None => text,
    }
}

/// The configuration document's destination for `environment`: named by its key, its
/// client-side ID, `events_host`, the catalogue (`metric_event_keys` and `metrics`), where it
/// came from, and `"unknown_event_keys": "send"`.
pub fn environment_destination(
    environment: &Environment,
    catalogue: &Catalogue,
    events_host: &str,
    source: &CatalogueSource,
) -> Value {
    let mut destination = Map::new();
    destination.insert("name".into(), json!(environment.key));
    destination.insert("client_side_id".into(), json!(environment.id));
    destination.insert("events_host".into(), json!(events_host));
    pulled_fields(&mut destination, catalogue, source);
    destination.insert("unknown_event_keys".into(), json!("send"));
    Value::Object(destination)
}

/// The fields a pull owns in a destination (replaced by a later pull).
const PULLED_FIELDS: [&str; 4] = [
    "client_side_id",
    "metric_event_keys",
    "metrics",
    "catalogue_source",
];

fn pulled_fields(
    destination: &mut Map<String, Value>,
    catalogue: &Catalogue,
    source: &CatalogueSource,
) {
    destination.insert("metric_event_keys".into(), json!(catalogue.event_keys()));
    destination.insert("metrics".into(), json!(catalogue.metrics));
    destination.insert("catalogue_source".into(), json!(source));
}

/// What [`merge_destinations`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeSummary {
    /// Destinations that were there and were updated.
    pub updated: Vec<String>,
    /// Destinations that were added.
    pub added: Vec<String>,
}

/// Merges pulled destinations (from [`environment_destination`]) into a configuration document:
/// a destination with the same name gets the pulled `client_side_id`, `metric_event_keys`,
/// `metrics` and `catalogue_source` and keeps everything else (its `events_host` too, unless it
/// had none); the others are appended. Subscriptions, sources and other destinations are kept.
/// `document` may be `null` (a new file).
pub fn merge_destinations(
    document: &mut Value,
    pulled: Vec<Value>,
) -> Result<MergeSummary, ProjectError> {
    if document.is_null() {
        *document = json!({"destinations": []});
    }
    let Some(root) = document.as_object_mut() else {
        return Err(ProjectError::NotADocument(
            "the configuration document must be a JSON object".into(),
        ));
    };
    let destinations = root
        .entry("destinations")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(destinations) = destinations.as_array_mut() else {
        return Err(ProjectError::NotADocument(
            "the document's destinations must be an array".into(),
        ));
    };
    let mut summary = MergeSummary::default();
    for pulled in pulled {
        let Value::Object(pulled) = pulled else {
            continue;
        };
        let name = pulled
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let existing = destinations
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .find(|destination| destination.get("name").and_then(Value::as_str) == Some(&name));
        match existing {
            Some(existing) => {
                for field in PULLED_FIELDS {
                    if let Some(value) = pulled.get(field) {
                        existing.insert(field.to_string(), value.clone());
                    }
                }
                if existing.get("events_host").is_none_or(Value::is_null) {
                    if let Some(host) = pulled.get("events_host") {
                        existing.insert("events_host".into(), host.clone());
                    }
                }
                summary.updated.push(name);
            }
            None => {
                destinations.push(Value::Object(pulled));
                summary.added.push(name);
            }
        }
    }
    Ok(summary)
}

// ---------------------------------------------------------------------------------------------
// Correlation
// ---------------------------------------------------------------------------------------------

/// One context: a kind and a key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ContextRef {
    /// The context kind (`user`).
    pub kind: String,
    /// The context key.
    pub key: String,
}

impl ContextRef {
    /// A context of `kind` with `key`.
    pub fn new(kind: impl Into<String>, key: impl Into<String>) -> ContextRef {
        ContextRef {
            kind: kind.into(),
            key: key.into(),
        }
    }
}

/// The distinct contexts of the events, in order of first appearance, and the first `limit` of
/// them: the ones to look up.
pub fn sample_contexts(
    event_contexts: &[Vec<ContextRef>],
    limit: usize,
) -> (usize, Vec<ContextRef>) {
    let mut seen = std::collections::BTreeSet::new();
    let mut sample = Vec::new();
    for context in event_contexts.iter().flatten() {
        if seen.insert(context) && sample.len() < limit {
            sample.push(context.clone());
        }
    }
    (seen.len(), sample)
}

/// The correlation figures of one context kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KindShare {
    /// The context kind.
    pub kind: String,
    /// Distinct keys of this kind that were looked up.
    pub sampled_keys: usize,
    /// How many of them LaunchDarkly knows.
    pub known_keys: usize,
    /// Checked events carrying a looked-up key of this kind.
    pub events: usize,
    /// The share of those whose key of this kind LaunchDarkly knows.
    pub share_of_events_known: Option<f64>,
}

/// Context keys LaunchDarkly knows next to Segment's unknown ones, for one kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KindExamples {
    /// The context kind.
    pub kind: String,
    /// Keys of this kind LaunchDarkly has records of (keys only, never attributes).
    pub launchdarkly_keys: Vec<String>,
    /// Keys of this kind the events carry that LaunchDarkly does not know.
    pub segment_keys: Vec<String>,
}

/// Whether LaunchDarkly knows the events' context keys.
///
/// The rule: an event counts as known when LaunchDarkly has records of at least one of its
/// looked-up context keys (so the preset's `unauthenticatedUser` key, which LaunchDarkly often
/// never sees, does not hide a `user` key it knows); [`CorrelationReport::by_kind`] gives the same
/// share per context kind, since an experiment counts an event only by its randomization unit's
/// kind. Events none of whose keys were looked up (beyond the sample) are not counted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CorrelationReport {
    /// The events read.
    pub events: usize,
    /// The events with at least one looked-up context key: the share's denominator.
    pub events_checked: usize,
    /// Distinct (kind, key) pairs the events carry.
    pub distinct_keys: usize,
    /// How many of them were looked up (at most the sample size).
    pub sampled_keys: usize,
    /// How many of those LaunchDarkly knows.
    pub known_keys: usize,
    /// The looked-up keys LaunchDarkly does not know, in order of first appearance.
    pub unknown_keys: Vec<ContextRef>,
    /// Known events / checked events, rounded to 4 decimals; `null` without checked events.
    pub share_of_events_known: Option<f64>,
    /// The same per context kind.
    pub by_kind: Vec<KindShare>,
    /// Context kinds the events carry that the project does not define.
    pub undefined_context_kinds: Vec<String>,
    /// For each kind whose share is under one half: keys of both sides (filled by the caller,
    /// see [`CorrelationReport::kinds_to_compare`]).
    pub examples: Vec<KindExamples>,
}

fn share(known: usize, total: usize) -> Option<f64> {
    (total > 0).then(|| ((known as f64 / total as f64) * 10_000.0).round() / 10_000.0)
}

/// The report for events whose contexts are `event_contexts` (one list per event read, empty
/// for an event that carries none), given what LaunchDarkly answered for the looked-up ones
/// (`lookups`: context → known) and the project's context kinds.
pub fn correlation_report(
    event_contexts: &[Vec<ContextRef>],
    lookups: &BTreeMap<ContextRef, bool>,
    defined_kinds: &[String],
) -> CorrelationReport {
    let (distinct_keys, _) = sample_contexts(event_contexts, 0);
    let mut kinds: Vec<String> = Vec::new();
    for context in event_contexts.iter().flatten() {
        if !kinds.contains(&context.kind) {
            kinds.push(context.kind.clone());
        }
    }
    let mut events_checked = 0;
    let mut events_known = 0;
    for contexts in event_contexts {
        let looked_up: Vec<bool> = contexts
            .iter()
            .filter_map(|context| lookups.get(context).copied())
            .collect();
        if !looked_up.is_empty() {
            events_checked += 1;
            if looked_up.contains(&true) {
                events_known += 1;
            }
        }
    }
    let by_kind = kinds
        .iter()
        .map(|kind| {
            let (mut events, mut known_events) = (0, 0);
            for contexts in event_contexts {
                let verdicts: Vec<bool> = contexts
                    .iter()
                    .filter(|context| context.kind == *kind)
                    .filter_map(|context| lookups.get(context).copied())
                    .collect();
                if !verdicts.is_empty() {
                    events += 1;
                    if verdicts.contains(&true) {
                        known_events += 1;
                    }
                }
            }
            let of_kind = lookups.iter().filter(|(context, _)| context.kind == *kind);
            KindShare {
                kind: kind.clone(),
                sampled_keys: of_kind.clone().count(),
                known_keys: of_kind.filter(|(_, known)| **known).count(),
                events,
                share_of_events_known: share(known_events, events),
            }
        })
        .collect();
    let mut unknown_keys: Vec<ContextRef> = Vec::new();
    for context in event_contexts.iter().flatten() {
        if lookups.get(context) == Some(&false) && !unknown_keys.contains(context) {
            unknown_keys.push(context.clone());
        }
    }
    CorrelationReport {
        events: event_contexts.len(),
        events_checked,
        distinct_keys,
        sampled_keys: lookups.len(),
        known_keys: lookups.values().filter(|known| **known).count(),
        unknown_keys,
        share_of_events_known: share(events_known, events_checked),
        by_kind,
        undefined_context_kinds: kinds
            .into_iter()
            .filter(|kind| !defined_kinds.contains(kind))
            .collect(),
        examples: Vec::new(),
    }
}

impl CorrelationReport {
    /// The kinds whose share of known events is under one half, with up to [`EXAMPLE_KEYS`]
    /// unknown Segment keys each: where to put LaunchDarkly's keys beside them.
    pub fn kinds_to_compare(&self) -> Vec<(String, Vec<String>)> {
        self.by_kind
            .iter()
            .filter(|kind| kind.share_of_events_known.is_some_and(|share| share < 0.5))
            .map(|kind| {
                let keys = self
                    .unknown_keys
                    .iter()
                    .filter(|context| context.kind == kind.kind)
                    .take(EXAMPLE_KEYS)
                    .map(|context| context.key.clone())
                    .collect();
                (kind.kind.clone(), keys)
            })
            .collect()
    }

    /// The report for people.
    pub fn text(&self, project: &str, environment: &str) -> String {
        let mut out = String::new();
        let percent = |share: Option<f64>| match share {
            Some(share) => format!("{}%", (share * 1000.0).round() / 10.0),
            None => "n/a".to_string(),
        };
        push_line!(
            out,
            "LaunchDarkly project {project:?}, environment {environment:?}"
        );
        push_line!(
            out,
            "events: {} read, {} with context keys looked up",
            self.events,
            self.events_checked
        );
        push_line!(
            out,
            "context keys: {} distinct, {} looked up, {} known to LaunchDarkly, {} unknown",
            self.distinct_keys,
            self.sampled_keys,
            self.known_keys,
            self.unknown_keys.len()
        );
        if self.sampled_keys < self.distinct_keys {
            push_line!(
                out,
                "  (only the first {} distinct keys were looked up: raise --sample to check more)",
                self.sampled_keys
            );
        }
        push_line!(
            out,
            "events whose context keys LaunchDarkly knows: {}",
            percent(self.share_of_events_known)
        );
        for kind in &self.by_kind {
            push_line!(
                out,
                "  {:?}: {} of events ({} of {} keys known)",
                kind.kind,
                percent(kind.share_of_events_known),
                kind.known_keys,
                kind.sampled_keys
            );
        }
        push_line!(
            out,
            "  (an event counts as known when LaunchDarkly has seen at least one of its context keys; an experiment counts it only by the key of its randomization unit's kind)"
        );
        if !self.unknown_keys.is_empty() {
            push_line!(
                out,
                "unknown keys{}:",
                if self.unknown_keys.len() > UNKNOWN_KEYS_SHOWN {
                    format!(
                        " (first {UNKNOWN_KEYS_SHOWN} of {})",
                        self.unknown_keys.len()
                    )
                } else {
                    String::new()
                }
            );
            for context in self.unknown_keys.iter().take(UNKNOWN_KEYS_SHOWN) {
                push_line!(out, "  {}: {:?}", context.kind, context.key);
            }
        }
        for examples in &self.examples {
            let quoted = |keys: &[String]| {
                if keys.is_empty() {
                    "(none)".to_string()
                } else {
                    keys.iter()
                        .map(|key| format!("{key:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            push_line!(
                out,
                "fewer than half of the {:?} keys match; compare:",
                examples.kind
            );
            push_line!(
                out,
                "  LaunchDarkly knows: {}",
                quoted(&examples.launchdarkly_keys)
            );
            push_line!(
                out,
                "  Segment sends:      {}",
                quoted(&examples.segment_keys)
            );
            push_line!(
                out,
                "  if these name the same people differently, map the context key to the identifier your LaunchDarkly SDK uses (the Track Event mapping's user_key), or evaluate flags with Segment's userId as the context key"
            );
        }
        if !self.undefined_context_kinds.is_empty() {
            push_line!(
                out,
                "context kinds the project does not define (no experiment can use them as a randomization unit): {}",
                self.undefined_context_kinds.join(", ")
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(text: &str) -> ApiBase {
        ApiBase::parse(text).unwrap()
    }

    #[test]
    fn api_bases_are_http_urls_without_a_trailing_slash_or_api_v2() {
        assert_eq!(base("https://app.launchdarkly.com/").as_str(), API_BASE_US);
        assert_eq!(
            base("https://app.launchdarkly.com/api/v2/").as_str(),
            API_BASE_US
        );
        let local = base("http://127.0.0.1:8080/prefix");
        assert_eq!(local.origin(), "http://127.0.0.1:8080");
        assert_eq!(
            local.url("/api/v2/metrics/p"),
            "http://127.0.0.1:8080/prefix/api/v2/metrics/p"
        );
        for bad in [
            "",
            "app.launchdarkly.com",
            "ftp://x",
            "https://",
            "https://a b",
            "https://u:p@host",
            "https://h?x",
        ] {
            assert!(ApiBase::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_events_host_follows_the_api_base() {
        assert_eq!(base(API_BASE_US).events_host(), Some("us"));
        assert_eq!(base(API_BASE_EU).events_host(), Some("eu"));
        assert_eq!(base(API_BASE_FEDERAL).events_host(), Some("federal"));
        assert_eq!(
            base("HTTPS://App.LaunchDarkly.com").events_host(),
            Some("us")
        );
        assert_eq!(base("http://127.0.0.1:9").events_host(), None);
        assert_eq!(
            base("https://app.launchdarkly.com.evil.example").events_host(),
            None
        );
    }

    #[test]
    fn next_links_resolve_on_the_base_origin_only() {
        let api = base("http://127.0.0.1:8080");
        let page = |href: &str| -> Page<Value> {
            serde_json::from_value(json!({"items": [], "_links": {"next": {"href": href, "type": "application/json"}}}))
                .unwrap()
        };
        assert_eq!(
            page("/api/v2/metrics/p?limit=2&offset=2").next_url(&api),
            Ok(Some(
                "http://127.0.0.1:8080/api/v2/metrics/p?limit=2&offset=2".into()
            ))
        );
        assert_eq!(
            page("http://127.0.0.1:8080/api/v2/x").next_url(&api),
            Ok(Some("http://127.0.0.1:8080/api/v2/x".into()))
        );
        for foreign in [
            "http://127.0.0.1:8081/api/v2/x",
            "https://evil.example/api",
            "//evil.example/x",
            "http://127.0.0.1:80800/x",
        ] {
            assert!(
                matches!(
                    page(foreign).next_url(&api),
                    Err(ProjectError::ForeignLink(_) | ProjectError::UnreadableLink(_))
                ),
                "{foreign}"
            );
        }
        assert!(matches!(
            page("http://127.0.0.é/x").next_url(&api),
            Err(ProjectError::ForeignLink(_))
        ));
        assert!(matches!(
            page("relative/x").next_url(&api),
            Err(ProjectError::UnreadableLink(_))
        ));
        let last: Page<Value> =
            serde_json::from_value(json!({"items": [1], "_links": {"self": {"href": "/x"}}}))
                .unwrap();
        assert_eq!(last.next_url(&api), Ok(None));
        let bare: Page<Value> = serde_json::from_value(json!({})).unwrap();
        assert_eq!(bare.next_url(&api), Ok(None));
    }

    /// A list is read page by page until a page without `next` or with a `next` already read;
    /// at most `max_pages` pages; a foreign `next` is refused.
    #[test]
    fn lists_are_walked_page_by_page_within_their_limit() {
        let api = base("http://127.0.0.1:8080");
        let page = |items: Value, next: Option<&str>| -> Page<Value> {
            let links = next.map_or(json!({}), |href| json!({"next": {"href": href}}));
            serde_json::from_value(json!({"items": items, "_links": links})).unwrap()
        };
        let (mut walk, first) = PageWalk::start(&api, "/api/v2/metrics/p", 3).unwrap();
        assert_eq!(first, "http://127.0.0.1:8080/api/v2/metrics/p");
        assert_eq!(walk.pages(), 1);
        let second = walk.take(page(json!([1, 2]), Some("/api/v2/metrics/p?offset=2")));
        assert_eq!(
            second,
            Ok(Some(
                "http://127.0.0.1:8080/api/v2/metrics/p?offset=2".into()
            ))
        );
        assert_eq!(walk.pages(), 2);
        // The last page: no `next`.
        assert_eq!(walk.take(page(json!([3]), None)), Ok(None));
        assert_eq!(walk.into_items(), [json!(1), json!(2), json!(3)]);

        // A `next` back to a page already read ends the list.
        let (mut walk, _) = PageWalk::start(&api, "/a", 3).unwrap();
        assert_eq!(
            walk.take(page(json!([1]), Some("/b"))),
            Ok(Some("http://127.0.0.1:8080/b".into()))
        );
        assert_eq!(walk.take(page(json!([2]), Some("/a"))), Ok(None));
        assert_eq!(walk.into_items(), [json!(1), json!(2)]);

        // Exactly `max_pages` pages are read; a further `next` is refused.
        let (mut walk, _) = PageWalk::<Value>::start(&api, "/a", 2).unwrap();
        assert!(walk.take(page(json!([1]), Some("/b"))).unwrap().is_some());
        assert_eq!(
            walk.take(page(json!([2]), Some("/c"))),
            Err(PageError::TooManyPages(2))
        );
        let (mut walk, _) = PageWalk::<Value>::start(&api, "/a", 2).unwrap();
        assert!(walk.take(page(json!([1]), Some("/b"))).unwrap().is_some());
        assert_eq!(walk.take(page(json!([2]), None)), Ok(None));
        assert_eq!(walk.pages(), 2);
        assert_eq!(
            PageWalk::<Value>::start(&api, "/a", 0).map(|(_, url)| url),
            Err(PageError::TooManyPages(0))
        );

        // A foreign `next` is not followed.
        let (mut walk, _) = PageWalk::<Value>::start(&api, "/a", 3).unwrap();
        assert!(matches!(
            walk.take(page(json!([]), Some("https://evil.example/x"))),
            Err(PageError::Link(ProjectError::ForeignLink(_)))
        ));
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode_segment("a b/c?d%é"), "a%20b%2Fc%3Fd%25%C3%A9");
        assert_eq!(
            context_path("p", "prod", &ContextRef::new("user", "ada@example.com")),
            "/api/v2/projects/p/environments/prod/contexts/user/ada%40example.com"
        );
        assert_eq!(
            context_search_body("user", 5),
            json!({"filter": "kind anyOf [\"user\"]", "limit": 5})
        );
    }

    #[test]
    fn environments_never_keep_their_secret_keys() {
        let environment: Environment = serde_json::from_value(json!({
            "_id": "5f0c1a2b", "key": "production", "name": "Production",
            "apiKey": "sdk-secret", "mobileKey": "mob-secret", "color": "417505"
        }))
        .unwrap();
        assert!(!format!("{environment:?}").contains("secret"));
        let destination = environment_destination(
            &environment,
            &Catalogue::default(),
            "us",
            &CatalogueSource {
                project: "p".into(),
                environment: "production".into(),
                api_base: API_BASE_US.into(),
                pulled_at: pulled_at(0),
            },
        );
        assert!(!destination.to_string().contains("secret"));
        assert_eq!(destination["client_side_id"], "5f0c1a2b");
        assert_eq!(destination["name"], "production");
    }

    fn metric(value: Value) -> Metric {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_catalogue_holds_custom_metrics_and_counts_the_others() {
        let metrics = [
            metric(
                json!({"key": "revenue", "name": "Revenue", "kind": "custom", "eventKey": "Order Completed",
                          "isNumeric": true, "randomizationUnits": ["user"], "unitAggregationType": "sum",
                          "experimentCount": 3, "tags": []}),
            ),
            metric(
                json!({"key": "orders", "name": "Orders", "kind": "custom", "eventKey": "Order Completed",
                          "isNumeric": false, "randomizationUnits": ["user", "organization"],
                          "activeExperimentCount": 1}),
            ),
            metric(json!({"key": "home", "name": "Home page", "kind": "pageview", "urls": []})),
            metric(json!({"key": "cta", "kind": "click"})),
            metric(
                json!({"key": "signup", "kind": "custom", "eventKey": "Signed Up", "randomizationUnits": null}),
            ),
        ];
        let catalogue = metrics_to_catalogue(&metrics);
        assert_eq!(catalogue.event_keys(), ["Order Completed", "Signed Up"]);
        assert_eq!(
            json!(catalogue.metrics),
            json!([
                {"key": "revenue", "name": "Revenue", "event_key": "Order Completed", "numeric": true,
                 "randomization_units": ["user"], "unit_aggregation_type": "sum"},
                {"key": "orders", "name": "Orders", "event_key": "Order Completed", "numeric": false,
                 "randomization_units": ["user", "organization"], "active_experiments": 1},
                {"key": "signup", "name": "signup", "event_key": "Signed Up", "numeric": false,
                 "randomization_units": []}
            ])
        );
        assert_eq!(
            catalogue.left_out,
            [
                LeftOut {
                    key: "home".into(),
                    kind: "pageview".into()
                },
                LeftOut {
                    key: "cta".into(),
                    kind: "click".into()
                }
            ]
        );
    }

    #[test]
    fn pulled_at_is_to_the_second() {
        assert_eq!(pulled_at(1_796_045_400_123), "2026-11-30T13:30:00Z");
    }

    fn pulled(name: &str, id: &str) -> Value {
        let environment = Environment {
            id: id.into(),
            key: name.into(),
            name: None,
        };
        let catalogue = metrics_to_catalogue(&[metric(
            json!({"key": "m", "kind": "custom", "eventKey": "E", "isNumeric": false}),
        )]);
        environment_destination(
            &environment,
            &catalogue,
            "eu",
            &CatalogueSource {
                project: "p".into(),
                environment: name.into(),
                api_base: API_BASE_EU.into(),
                pulled_at: "2026-11-30T13:30:00Z".into(),
            },
        )
    }

    #[test]
    fn a_pull_merges_into_a_document_and_keeps_the_rest() {
        let mut document = json!({
            "destinations": [
                {"name": "production", "client_side_id": "old", "events_host": "https://relay.example",
                 "metric_event_keys": ["Old"], "unknown_event_keys": "drop"},
                {"name": "hand-made", "client_side_id": "hm"}
            ],
            "subscriptions": [{"name": "s", "destinations": ["production"]}],
            "sources": [{"name": "web", "write_keys": ["wk"]}]
        });
        let summary = merge_destinations(
            &mut document,
            vec![pulled("production", "new"), pulled("test", "t")],
        )
        .unwrap();
        assert_eq!(
            summary,
            MergeSummary {
                updated: vec!["production".into()],
                added: vec!["test".into()]
            }
        );
        let production = &document["destinations"][0];
        assert_eq!(production["client_side_id"], "new");
        assert_eq!(production["events_host"], "https://relay.example");
        assert_eq!(production["unknown_event_keys"], "drop");
        assert_eq!(production["metric_event_keys"], json!(["E"]));
        assert_eq!(production["metrics"][0]["key"], "m");
        assert_eq!(production["catalogue_source"]["project"], "p");
        assert_eq!(
            document["destinations"][1],
            json!({"name": "hand-made", "client_side_id": "hm"})
        );
        assert_eq!(document["destinations"][2]["name"], "test");
        assert_eq!(document["destinations"][2]["events_host"], "eu");
        assert_eq!(document["destinations"][2]["unknown_event_keys"], "send");
        assert_eq!(document["subscriptions"][0]["name"], "s");
        assert_eq!(document["sources"][0]["name"], "web");

        let mut new = Value::Null;
        merge_destinations(&mut new, vec![pulled("production", "id")]).unwrap();
        assert_eq!(new["destinations"][0]["client_side_id"], "id");
        assert!(merge_destinations(&mut json!([]), vec![]).is_err());
        assert!(merge_destinations(&mut json!({"destinations": {}}), vec![]).is_err());
    }

    #[test]
    fn api_errors_are_one_line_and_name_what_to_do() {
        let reading = Reading::new("the metrics of project \"p\"", "project \"p\"");
        let error = |status, headers, body: &str| {
            ApiError::from_status(status, &reading, headers, body, 1_000_000)
        };
        let none = RateLimitHeaders::default();
        assert!(error(401, none, "").to_string().contains(TOKEN_VAR));
        assert!(error(403, none, "").to_string().contains("403 forbidden"));
        assert_eq!(
            error(404, none, "").to_string(),
            "project \"p\" was not found (404) reading the metrics of project \"p\": check the key, and that the token belongs to its account"
        );
        let limited = error(
            429,
            RateLimitHeaders {
                reset: Some("1012000"),
                retry_after: None,
            },
            "",
        );
        assert_eq!(
            limited,
            ApiError::RateLimited {
                what: reading.what.clone(),
                reset_at_ms: Some(1_012_000),
                wait_ms: Some(12_000)
            }
        );
        assert!(
            limited
                .to_string()
                .contains("it resets at 1970-01-01T00:16:52.000Z (12 s from now)"),
            "{limited}"
        );
        let after = error(
            429,
            RateLimitHeaders {
                reset: None,
                retry_after: Some("3"),
            },
            "",
        );
        assert!(after.to_string().contains("(3 s from now)"), "{after}");
        assert!(error(429, none, "")
            .to_string()
            .contains("try again in a minute"));
        assert!(error(503, none, "")
            .to_string()
            .contains("LaunchDarkly failed (503)"));
        assert_eq!(
            error(400, none, r#"{"code": "invalid_request", "message": "x"}"#).to_string(),
            "LaunchDarkly answered 400 reading the metrics of project \"p\" (invalid_request)"
        );
        assert!(!error(400, none, r#"{"code": "a b c"}"#)
            .to_string()
            .contains("a b c"));
        for status in [401, 403, 404, 429, 500, 418] {
            assert!(!error(status, none, "").to_string().contains('\n'));
        }
    }

    #[test]
    fn bad_answers_say_where_never_what() {
        let reading = Reading::new("contexts", "x");
        let parse = serde_json::from_str::<Page<ContextKind>>(
            r#"{"items": [{"key": 7, "email": "ada@example.com"}]}"#,
        )
        .unwrap_err();
        let message = ApiError::bad_answer(&reading, &parse).to_string();
        assert!(message.contains("unexpected shape at line 1"), "{message}");
        let parse = serde_json::from_str::<Page<ContextKind>>(r#"{"items": ["ada@example.com"]}"#)
            .unwrap_err();
        assert!(!ApiError::bad_answer(&reading, &parse)
            .to_string()
            .contains("ada"));
    }

    #[test]
    fn context_records_give_keys_of_a_kind_only() {
        let record = |context: Value| -> ContextRecord {
            serde_json::from_value(json!({"context": context, "lastSeen": "x"})).unwrap()
        };
        assert_eq!(
            record(json!({"kind": "user", "key": "ada@example.com", "name": "Ada"}))
                .key_of_kind("user"),
            Some("ada@example.com".into())
        );
        assert_eq!(
            record(json!({"kind": "user", "key": "k"})).key_of_kind("organization"),
            None
        );
        assert_eq!(
            record(json!({"kind": "multi", "user": {"key": "u"}, "organization": {"key": "o", "name": "Acme"}})).key_of_kind("organization"),
            Some("o".into())
        );
        assert_eq!(record(json!("nonsense")).key_of_kind("user"), None);
    }

    fn user(key: &str) -> ContextRef {
        ContextRef::new("user", key)
    }

    #[test]
    fn the_sample_is_the_first_distinct_contexts() {
        let events = vec![
            vec![user("a"), ContextRef::new("unauthenticatedUser", "x")],
            vec![user("a")],
            vec![user("b")],
            vec![],
            vec![user("c")],
        ];
        let (distinct, sample) = sample_contexts(&events, 3);
        assert_eq!(distinct, 4);
        assert_eq!(
            sample,
            [
                user("a"),
                ContextRef::new("unauthenticatedUser", "x"),
                user("b")
            ]
        );
    }

    #[test]
    fn database_ids_against_email_keys_are_zero_percent_known() {
        let events = vec![
            vec![user("8817")],
            vec![user("8818")],
            vec![user("8817")],
            vec![],
        ];
        let lookups: BTreeMap<ContextRef, bool> =
            [(user("8817"), false), (user("8818"), false)].into();
        let mut report = correlation_report(&events, &lookups, &["user".into()]);
        assert_eq!(report.events, 4);
        assert_eq!(report.events_checked, 3);
        assert_eq!(report.distinct_keys, 2);
        assert_eq!(report.known_keys, 0);
        assert_eq!(report.share_of_events_known, Some(0.0));
        assert_eq!(report.unknown_keys, [user("8817"), user("8818")]);
        assert!(report.undefined_context_kinds.is_empty());
        let compare = report.kinds_to_compare();
        assert_eq!(
            compare,
            [(
                "user".to_string(),
                vec!["8817".to_string(), "8818".to_string()]
            )]
        );
        report.examples.push(KindExamples {
            kind: "user".into(),
            launchdarkly_keys: vec!["ada@example.com".into()],
            segment_keys: compare[0].1.clone(),
        });
        let text = report.text("p", "production");
        assert!(
            text.contains("events whose context keys LaunchDarkly knows: 0%"),
            "{text}"
        );
        assert!(
            text.contains("LaunchDarkly knows: \"ada@example.com\""),
            "{text}"
        );
        assert!(
            text.contains("Segment sends:      \"8817\", \"8818\""),
            "{text}"
        );
    }

    #[test]
    fn an_event_is_known_when_one_of_its_keys_is() {
        let anonymous = |key: &str| ContextRef::new("unauthenticatedUser", key);
        let events = vec![
            vec![user("a"), anonymous("x")],
            vec![user("b"), anonymous("y")],
            vec![user("c")],
            vec![user("d")],
        ];
        let lookups: BTreeMap<ContextRef, bool> = [
            (user("a"), true),
            (anonymous("x"), false),
            (user("b"), false),
            (anonymous("y"), false),
            (user("c"), true),
        ]
        .into();
        let report = correlation_report(&events, &lookups, &["user".into()]);
        assert_eq!(report.events_checked, 3, "d was not looked up");
        assert_eq!(report.share_of_events_known, Some(0.6667));
        assert_eq!(report.by_kind[0].kind, "user");
        assert_eq!(report.by_kind[0].share_of_events_known, Some(0.6667));
        assert_eq!(report.by_kind[1].share_of_events_known, Some(0.0));
        assert_eq!(report.undefined_context_kinds, ["unauthenticatedUser"]);
        assert_eq!(
            report.kinds_to_compare(),
            [(
                "unauthenticatedUser".to_string(),
                vec!["x".to_string(), "y".to_string()]
            )]
        );
        let empty = correlation_report(&[vec![]], &BTreeMap::new(), &[]);
        assert_eq!(empty.share_of_events_known, None);
        assert!(empty.kinds_to_compare().is_empty());
        assert!(empty.text("p", "e").contains("n/a"));
    }
}
