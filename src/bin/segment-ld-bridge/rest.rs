//! The CLI's HTTP client for LaunchDarkly's REST API (ureq over rustls, blocking): requests with
//! the access token, statuses as [`ApiError`]s, list answers followed page by page, and the API's
//! rate limits waited out where a command asks for it. The rules are the core's
//! (`segment_ld_bridge::launchdarkly_project`); this module only moves bytes.

use segment_ld_bridge::launchdarkly_project::{
    ApiBase, ApiError, Page, PageError, PageWalk, RateLimitHeaders, Reading, MAX_PAGES,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use ureq::Agent;

/// Each request's time limit, from connecting to the last byte of the answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The access token: never shown, not even by `{:?}`.
pub struct Token(String);

impl Token {
    /// Wraps the token.
    pub fn new(value: String) -> Token {
        Token(value)
    }

    /// The token's text, for the `Authorization` header and for redacting output.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// A client of one API base with one token.
pub struct Rest {
    agent: Agent,
    base: ApiBase,
    token: Token,
}

/// An answer: its status, rate-limit headers and body.
struct Answer {
    status: u16,
    reset: Option<String>,
    retry_after: Option<String>,
    body: String,
}

impl Rest {
    /// A client of `base` sending `token`.
    pub fn new(base: ApiBase, token: Token) -> Rest {
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .user_agent(concat!("segment-ld-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Rest { agent, base, token }
    }

    /// The API base.
    pub fn base(&self) -> &ApiBase {
        &self.base
    }

    fn send(&self, url: &str, body: Option<&Value>, reading: &Reading) -> Result<Answer, ApiError> {
        let network = |error: ureq::Error| ApiError::Network {
            base: self.base.as_str().to_string(),
            what: reading.what.clone(),
            detail: error.to_string(),
        };
        let result = match body {
            None => self
                .agent
                .get(url)
                .header("Authorization", self.token.expose())
                .header("Accept", "application/json")
                .call(),
            Some(body) => self
                .agent
                .post(url)
                .header("Authorization", self.token.expose())
                .header("Accept", "application/json")
                .header("Content-Type", "application/json")
                .send(body.to_string()),
        };
        let mut response = result.map_err(network)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        let (reset, retry_after) = (header("x-ratelimit-reset"), header("retry-after"));
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(network)?;
        Ok(Answer {
            status,
            reset,
            retry_after,
            body,
        })
    }

    /// The error of a non-2xx answer.
    fn failure(answer: &Answer, reading: &Reading) -> ApiError {
        ApiError::from_status(
            answer.status,
            reading,
            RateLimitHeaders {
                reset: answer.reset.as_deref(),
                retry_after: answer.retry_after.as_deref(),
            },
            &answer.body,
            now_ms(),
        )
    }

    fn parse<T: DeserializeOwned>(answer: &Answer, reading: &Reading) -> Result<T, ApiError> {
        serde_json::from_str(&answer.body).map_err(|error| ApiError::bad_answer(reading, &error))
    }

    /// `GET url` (a URL of this base), answered 2xx with a `T`.
    pub fn get<T: DeserializeOwned>(&self, url: &str, reading: &Reading) -> Result<T, ApiError> {
        let answer = self.send(url, None, reading)?;
        if !(200..300).contains(&answer.status) {
            return Err(Self::failure(&answer, reading));
        }
        Self::parse(&answer, reading)
    }

    /// `GET url`: `Some(T)` for 2xx, `None` for 404.
    pub fn get_optional<T: DeserializeOwned>(
        &self,
        url: &str,
        reading: &Reading,
    ) -> Result<Option<T>, ApiError> {
        let answer = self.send(url, None, reading)?;
        match answer.status {
            200..=299 => Self::parse(&answer, reading).map(Some),
            404 => Ok(None),
            _ => Err(Self::failure(&answer, reading)),
        }
    }

    /// `POST url` with a JSON body, answered 2xx with a `T`.
    pub fn post<T: DeserializeOwned>(
        &self,
        url: &str,
        body: &Value,
        reading: &Reading,
    ) -> Result<T, ApiError> {
        let answer = self.send(url, Some(body), reading)?;
        if !(200..300).contains(&answer.status) {
            return Err(Self::failure(&answer, reading));
        }
        Self::parse(&answer, reading)
    }

    /// Every item of a list, page by page ([`PageWalk`]): at most [`MAX_PAGES`] pages.
    pub fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        reading: &Reading,
    ) -> Result<Vec<T>, ApiError> {
        let walked = |error: PageError| error.reading(&reading.what);
        let (mut walk, mut url) = PageWalk::start(&self.base, path, MAX_PAGES).map_err(walked)?;
        loop {
            let page: Page<T> = self.get(&url, reading)?;
            match walk.take(page).map_err(walked)? {
                Some(next) => url = next,
                None => return Ok(walk.into_items()),
            }
        }
    }
}

/// Waits out LaunchDarkly's rate limit for every thread of a command: after a 429, no thread
/// sends before the limit resets.
pub struct RateLimiter {
    not_before: Mutex<Option<Instant>>,
    /// A 429 asking for a longer wait than this ends the command instead.
    max_wait: Duration,
    /// Attempts of one request, the first included.
    max_attempts: usize,
}

impl RateLimiter {
    /// Waits of at most `max_wait`, at most `max_attempts` attempts per request.
    pub fn new(max_wait: Duration, max_attempts: usize) -> RateLimiter {
        RateLimiter {
            not_before: Mutex::new(None),
            max_wait,
            max_attempts,
        }
    }

    fn pause(&self) {
        let until = self.not_before.lock().map(|guard| *guard).unwrap_or(None);
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                std::thread::sleep(until - now);
            }
        }
    }

    fn hold_until(&self, until: Instant) {
        if let Ok(mut guard) = self.not_before.lock() {
            if guard.is_none_or(|current| current < until) {
                *guard = Some(until);
            }
        }
    }

    /// Runs `request`, again after each 429 once the limit resets (`X-Ratelimit-Reset`, or
    /// `Retry-After`, or one second when the answer says neither), within the bounds.
    pub fn run<T>(&self, mut request: impl FnMut() -> Result<T, ApiError>) -> Result<T, ApiError> {
        let mut attempt = 1;
        loop {
            self.pause();
            match request() {
                Err(ApiError::RateLimited { wait_ms, .. })
                    if attempt < self.max_attempts
                        && wait_ms.unwrap_or(1000) <= self.max_wait.as_millis() as i64 =>
                {
                    // A little after the reset, so that the window has really turned.
                    let wait = Duration::from_millis(wait_ms.unwrap_or(1000).max(0) as u64)
                        + Duration::from_millis(50);
                    self.hold_until(Instant::now() + wait);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}
