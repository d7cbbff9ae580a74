//! The isolate's settings (configuration and delivery policy, rebuilt only when the variables
//! or the refreshed catalogue change) and the bindings a handler needs: the [`Runtime`]. The
//! refreshed catalogue is `catalogue`'s copy, laid over the configuration here; reading it from
//! KV is `catalogue::check`'s, before the settings are loaded.

use super::catalogue;
use super::platform::{log, read_var};
use crate::api::{self, ApiResponse};
use crate::config::refreshed::{lay_over, Coverage, RefreshSetup, RefreshStatus};
use crate::config::{BridgeConfig, ConfigProblem, CONFIG_VARS};
use crate::delivery::{RetryPolicy, VAR_RETRY_DELAYS, VAR_TIMEOUT_MS};
use js_sys::Object;
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;
use worker::wasm_bindgen::JsValue;
use worker::{Env, Queue};

/// The producer binding of the delivery queue; durable mode is on when it is bound.
pub const DELIVERY_BINDING: &str = "DELIVERIES";
/// The producer binding of the dead-letter queue.
pub const DEAD_LETTER_BINDING: &str = "DEAD_LETTER_QUEUE";

/// The configuration and delivery policy of this isolate.
pub struct Settings {
    /// The configuration, with the refreshed catalogue laid over it.
    pub config: BridgeConfig,
    policy: RetryPolicy,
    /// What laying the refreshed catalogue over it did, when there was one.
    coverage: Option<Coverage>,
}

/// Valid settings, or every problem with them.
pub type Loaded = std::result::Result<Rc<Settings>, Rc<Vec<ConfigProblem>>>;

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

/// Settings built from one `env` and one catalogue: the same `env` object needs no variable
/// read at all.
struct CachedSettings {
    env: JsValue,
    values: Vec<Option<String>>,
    /// The [`catalogue::Snapshot::generation`] laid over (0: none).
    generation: u64,
    settings: Loaded,
}

thread_local! {
    /// The settings of this isolate, rebuilt only when the variables change.
    static SETTINGS: RefCell<Option<CachedSettings>> = const { RefCell::new(None) };
}

/// What a handler needs: valid settings and the bound queues.
pub struct Runtime {
    settings: Rc<Settings>,
    /// How to retry deliveries.
    pub policy: RetryPolicy,
    /// The delivery queue, when bound (durable mode).
    pub delivery_queue: Option<Queue>,
    /// The dead-letter queue, for the queue consumer.
    pub dead_letter_queue: Option<Queue>,
}

impl Runtime {
    /// Builds the runtime, or the 503 that lists the configuration problems. The dead-letter
    /// queue is looked up only for the queue consumer, which is the only one to use it.
    pub fn load(env: &Env, for_consumer: bool) -> std::result::Result<Runtime, ApiResponse> {
        let settings = load_settings(env).map_err(|problems| api::misconfigured(&problems))?;
        Ok(Runtime {
            policy: settings.policy.clone(),
            settings,
            delivery_queue: env.queue(DELIVERY_BINDING).ok(),
            dead_letter_queue: for_consumer
                .then(|| env.queue(DEAD_LETTER_BINDING).ok())
                .flatten(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BridgeConfig {
        &self.settings.config
    }
}

/// The settings, with the isolate's copy of the refreshed catalogue (`catalogue::check` reads
/// it beforehand) laid over the configuration.
pub fn load_settings(env: &Env) -> Loaded {
    let env_value = JsValue::from(env.clone());
    let refreshed = catalogue::snapshot();
    let generation = refreshed.as_ref().map_or(0, |snapshot| snapshot.generation);
    let unchanged_env = SETTINGS.with(|cache| {
        cache.borrow().as_ref().and_then(|cached| {
            (cached.generation == generation && Object::is(&cached.env, &env_value))
                .then(|| cached.settings.clone())
        })
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
        let same_values = cache.as_ref().is_some_and(|cached| cached.values == values);
        if let Some(cached) = cache.as_mut() {
            if same_values && cached.generation == generation {
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
            (Ok(mut config), Ok(policy)) => {
                // Once per configuration: every open route, and anything else worth a look.
                if !same_values {
                    for warning in &config.warnings {
                        log(json!({"log": "config_warning", "level": "warn",
                                   "location": warning.location, "message": warning.message}));
                    }
                }
                let coverage = refreshed.as_ref().and_then(|snapshot| {
                    let RefreshSetup::On(settings) = &*snapshot.setup else {
                        return None;
                    };
                    let fetched = snapshot.stored.as_ref()?.catalogue.as_ref()?;
                    Some(lay_over(&mut config, settings, fetched))
                });
                Ok(Rc::new(Settings {
                    config,
                    policy,
                    coverage,
                }))
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
            generation,
            settings: settings.clone(),
        });
        settings
    })
}

/// How the catalogue refresh stands for `/health` (none when it is off, or before the first
/// `catalogue::check`), with what laying the catalogue over `settings` did.
pub fn refresh_status(settings: &Loaded) -> Option<RefreshStatus> {
    let snapshot = catalogue::snapshot()?;
    let coverage = settings
        .as_ref()
        .ok()
        .and_then(|settings| settings.coverage.as_ref());
    RefreshStatus::new(&snapshot.setup, snapshot.stored.as_deref(), coverage)
}
