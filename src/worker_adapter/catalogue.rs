//! The metric catalogue the Worker keeps current by itself (the rules are
//! `config::refreshed`'s): the Cron Trigger's refresh, which reads LaunchDarkly's REST API with
//! `fetch` and keeps the record in KV (binding `CATALOGUE`, else the dead-letter store's
//! `DEAD_LETTERS`, under `catalogue:{project}`), and this isolate's copy of that record, read
//! from KV at most once per [`RECHECK_MS`] (and at once for `/health` with the admin token), so
//! that requests lay it over the destinations without reading KV themselves.

use super::http::{self, GetResult};
use super::platform::{log, now_ms, read_var};
use crate::config::refreshed::{
    redact, RefreshError, RefreshSettings, RefreshSetup, StoredCatalogue, STORE_BINDINGS,
    VAR_API_TOKEN,
};
use crate::launchdarkly::USER_AGENT;
use crate::launchdarkly_project::{
    environments_path, metrics_path, ApiError, Environment, Metric, Page, PageError, PageWalk,
    RateLimitHeaders, Reading,
};
use js_sys::Object;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use worker::kv::KvStore;
use worker::wasm_bindgen::JsValue;
use worker::Env;

/// How long an isolate uses its copy of the record before reading KV again.
pub const RECHECK_MS: i64 = 60_000;

/// Each REST request's time limit, body included.
const REQUEST_TIMEOUT_MS: u64 = 15_000;

/// The most pages one refresh reads, environments and metrics together: a Worker on the free
/// plan may make 50 subrequests per invocation.
const MAX_PAGES: usize = 40;

/// The largest page read.
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// This isolate's view of the refresh: its settings and the stored record.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The settings, as last read.
    pub setup: Rc<RefreshSetup>,
    /// The record, as last read (none before the first refresh, or when the refresh is off).
    pub stored: Option<Rc<StoredCatalogue>>,
    /// Changes whenever the settings or the stored catalogue do (not its last error): the
    /// configuration is rebuilt then.
    pub generation: u64,
}

struct Cached {
    env: JsValue,
    checked_at_ms: i64,
    snapshot: Snapshot,
}

thread_local! {
    /// The isolate's copy of the record.
    static CACHE: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// The isolate's copy, without reading anything (none before the first [`check`]).
pub fn snapshot() -> Option<Snapshot> {
    CACHE.with(|cache| {
        cache
            .borrow()
            .as_ref()
            .map(|cached| cached.snapshot.clone())
    })
}

/// The KV namespace the catalogue is kept in: the first of [`STORE_BINDINGS`] bound
/// (`CATALOGUE`, else `DEAD_LETTERS`).
fn namespace(env: &Env) -> Option<KvStore> {
    STORE_BINDINGS
        .iter()
        .find_map(|binding| env.kv(binding).ok())
}

fn read_setup(env: &Env) -> RefreshSetup {
    RefreshSetup::from_vars(|name| read_var(env, name), namespace(env).is_some())
}

/// Brings the isolate's copy up to date when it is older than [`RECHECK_MS`], was read with
/// another `env`, or `force` says so: the variables, then (refresh on) the KV record. Nothing
/// is read otherwise. A KV error keeps the copy there was.
pub async fn check(env: &Env, force: bool) {
    let env_value = JsValue::from(env.clone());
    let now = now_ms();
    let fresh = CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let Some(cached) = cache.as_mut() else {
            return false;
        };
        let fresh = !force
            && now.saturating_sub(cached.checked_at_ms) < RECHECK_MS
            && Object::is(&cached.env, &env_value);
        if !fresh && !force {
            // The requests that arrive while this one reads use the copy there is.
            cached.checked_at_ms = now;
        }
        fresh
    });
    if fresh {
        return;
    }
    let setup = read_setup(env);
    let stored = match (&setup, namespace(env)) {
        (RefreshSetup::On(settings), Some(kv)) => match read_stored(&kv, settings).await {
            Ok(stored) => stored,
            Err(message) => {
                log(
                    json!({"log": "catalogue_unreadable", "level": "warn", "project": settings.project,
                           "message": message}),
                );
                snapshot()
                    .filter(|previous| *previous.setup == setup)
                    .and_then(|previous| previous.stored.map(|stored| (*stored).clone()))
            }
        },
        _ => None,
    };
    install(env_value, now, setup, stored);
}

/// The stored record of `settings`' project, when there is one it can use.
async fn read_stored(
    kv: &KvStore,
    settings: &RefreshSettings,
) -> Result<Option<StoredCatalogue>, String> {
    let text = kv
        .get(&settings.stored_key())
        .text()
        .await
        .map_err(|error| format!("could not read the stored catalogue: {error}"))?;
    match text {
        None => Ok(None),
        Some(text) => StoredCatalogue::read(&text, settings).map_err(|error| error.to_string()),
    }
}

/// Makes `stored` this isolate's copy.
fn install(env: JsValue, now: i64, setup: RefreshSetup, stored: Option<StoredCatalogue>) {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let generation = match cache.as_ref() {
            None => 1,
            Some(previous) => {
                let same_setup = *previous.snapshot.setup == setup;
                let same_catalogue = previous
                    .snapshot
                    .stored
                    .as_ref()
                    .and_then(|stored| stored.catalogue.as_ref())
                    == stored.as_ref().and_then(|stored| stored.catalogue.as_ref());
                if same_setup && same_catalogue {
                    previous.snapshot.generation
                } else {
                    previous.snapshot.generation.wrapping_add(1)
                }
            }
        };
        *cache = Some(Cached {
            env,
            checked_at_ms: now,
            snapshot: Snapshot {
                setup: Rc::new(setup),
                stored: stored.map(Rc::new),
                generation,
            },
        });
    });
}

/// The Cron Trigger: reads the project's environments and metrics, and stores them with when and
/// from where; when the API fails, the last good copy stays and the record says why. One log
/// line either way (never the token). Never fails: there is nothing to retry sooner than the
/// next trigger.
pub async fn refresh(env: &Env) {
    let started = now_ms();
    let setup = read_setup(env);
    let settings = match &setup {
        RefreshSetup::Off => {
            log(json!({"log": "catalogue_refresh", "result": "off",
                       "message": format!("{VAR_API_TOKEN} is not set: the Worker keeps no catalogue of its own")}));
            return;
        }
        RefreshSetup::Invalid(problems) => {
            log(
                json!({"log": "catalogue_refresh", "level": "error", "result": "invalid_settings",
                       "problems": problems}),
            );
            return;
        }
        RefreshSetup::On(settings) => settings,
    };
    let Some(kv) = namespace(env) else {
        return; // RefreshSetup::from_vars made that a problem.
    };
    // Read first, so that a failure knows the good copy to keep.
    let previous = read_stored(&kv, settings).await;
    let token = read_var(env, VAR_API_TOKEN)
        .map(|token| token.trim().to_string())
        .unwrap_or_default();
    let fetched = fetch_project(settings, &token).await;
    let now = now_ms();
    let mut line = json!({"log": "catalogue_refresh", "project": settings.project,
                          "api_base": settings.api_base.as_str()});
    let record = match fetched {
        Ok((environments, metrics)) => {
            let record = StoredCatalogue::fetched(settings, &environments, &metrics, now);
            if let Some(catalogue) = &record.catalogue {
                line["result"] = json!("refreshed");
                line["metrics"] = json!(catalogue.metrics.len());
                line["event_keys"] = json!(catalogue.event_keys().len());
                line["environments"] = json!(catalogue.environments.len());
            }
            record
        }
        Err(error) => {
            let message = redact(&error.to_string(), &token);
            line["result"] = json!("failed");
            line["level"] = json!(if is_transient(&error) {
                "warn"
            } else {
                "error"
            });
            line["error"] = json!(message);
            match previous {
                Ok(previous) => {
                    let record = StoredCatalogue::failed(settings, previous, message, now);
                    line["kept_catalogue_of"] = json!(record
                        .catalogue
                        .as_ref()
                        .map(|catalogue| catalogue.fetched_at.clone()));
                    record
                }
                Err(read_error) => {
                    // Writing now could replace a good copy that could not be read.
                    line["stored"] = json!(false);
                    line["store_error"] = json!(read_error);
                    line["ms"] = json!(now_ms() - started);
                    log(line);
                    return;
                }
            }
        }
    };
    let written = match serde_json::to_string(&record) {
        Ok(text) => match kv.put(&settings.stored_key(), text) {
            Ok(put) => put.execute().await.map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        },
        Err(error) => Err(error.to_string()),
    };
    match written {
        Ok(()) => {
            line["stored"] = json!(true);
            // This isolate uses it at once; the others within RECHECK_MS.
            install(JsValue::from(env.clone()), now, setup, Some(record));
        }
        Err(error) => {
            line["level"] = json!("error");
            line["stored"] = json!(false);
            line["store_error"] = json!(redact(&error, &token));
        }
    }
    line["ms"] = json!(now_ms() - started);
    log(line);
}

/// Rate limits, LaunchDarkly's own failures and the network pass; the rest needs a person.
fn is_transient(error: &RefreshError) -> bool {
    matches!(
        error,
        RefreshError::Api(
            ApiError::RateLimited { .. } | ApiError::Server { .. } | ApiError::Network { .. }
        )
    )
}

/// The project's environments and metrics, every page.
async fn fetch_project(
    settings: &RefreshSettings,
    token: &str,
) -> Result<(Vec<Environment>, Vec<Metric>), RefreshError> {
    let mut pages = 0;
    let environments = get_all(
        settings,
        token,
        &environments_path(&settings.project),
        &settings.environments_reading(),
        &mut pages,
    )
    .await?;
    let metrics = get_all(
        settings,
        token,
        &metrics_path(&settings.project),
        &settings.metrics_reading(),
        &mut pages,
    )
    .await?;
    Ok((environments, metrics))
}

/// Every item of a list, page by page ([`PageWalk`]), counting the pages read into `pages`:
/// one refresh reads at most [`MAX_PAGES`] pages in all (a Worker's subrequests are limited).
async fn get_all<T: DeserializeOwned>(
    settings: &RefreshSettings,
    token: &str,
    path: &str,
    reading: &Reading,
    pages: &mut usize,
) -> Result<Vec<T>, RefreshError> {
    // Over the budget: the refresh's own error, which counts both lists.
    let walked = |error| match error {
        PageError::TooManyPages(_) => RefreshError::TooManyPages {
            what: reading.what.clone(),
            pages: MAX_PAGES,
        },
        error => RefreshError::Api(error.reading(&reading.what)),
    };
    let before = *pages;
    let left = MAX_PAGES.saturating_sub(before);
    let (mut walk, mut url) = PageWalk::start(&settings.api_base, path, left).map_err(walked)?;
    loop {
        let page: Result<Page<T>, ApiError> = get_page(settings, token, &url, reading).await;
        *pages = before + walk.pages();
        match walk.take(page?).map_err(walked)? {
            Some(next) => url = next,
            None => return Ok(walk.into_items()),
        }
    }
}

/// One page, answered 2xx.
async fn get_page<T: DeserializeOwned>(
    settings: &RefreshSettings,
    token: &str,
    url: &str,
    reading: &Reading,
) -> Result<Page<T>, ApiError> {
    let network = |detail: String| ApiError::Network {
        base: settings.api_base.as_str().to_string(),
        what: reading.what.clone(),
        detail,
    };
    let headers = [
        ("Authorization", token),
        ("Accept", "application/json"),
        ("User-Agent", USER_AGENT),
    ];
    match http::get(url, &headers, REQUEST_TIMEOUT_MS, MAX_PAGE_BYTES).await {
        GetResult::TimedOut => Err(network(format!(
            "no answer within {} s",
            REQUEST_TIMEOUT_MS / 1000
        ))),
        GetResult::Failed(detail) => Err(network(detail)),
        GetResult::Answered {
            status,
            ratelimit_reset,
            retry_after,
            body,
        } if !(200..300).contains(&status) => Err(ApiError::from_status(
            status,
            reading,
            RateLimitHeaders {
                reset: ratelimit_reset.as_deref(),
                retry_after: retry_after.as_deref(),
            },
            body.as_deref().unwrap_or_default(),
            now_ms(),
        )),
        GetResult::Answered { body, .. } => {
            let text = body.map_err(|detail| ApiError::BadAnswer {
                what: reading.what.clone(),
                detail,
            })?;
            serde_json::from_str(&text).map_err(|error| ApiError::bad_answer(reading, &error))
        }
    }
}
