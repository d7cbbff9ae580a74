//! A metric catalogue the Worker keeps current by itself. With the secrets `LD_API_TOKEN` and
//! `LD_PROJECT_KEY` and a Cron Trigger, the Worker reads the project's environments and metrics
//! from LaunchDarkly's REST API and keeps what it read, a [`StoredCatalogue`], in Workers KV;
//! requests lay it over the destinations ([`lay_over`]), and `/health` (with the admin token)
//! shows a [`RefreshStatus`].
//!
//! Metrics belong to a project, not to an environment, so one catalogue serves every destination
//! whose client-side ID is one of the project's environments. The environments are read to know
//! which destinations those are (and to name each one's environment, in its catalogue's
//! source): a destination of another project keeps what it had. The catalogue carries the
//! metrics' definitions, so every verdict of `config::catalogue` applies. By default only destinations without a catalogue of their own
//! (no `metric_event_keys` in the document) get it; `LD_CATALOGUE_OVERRIDE = "true"` gives it to
//! the others too.
//!
//! Pure: the settings, the stored record, laying it over, and the status. The requests, KV and
//! the schedule are the Worker adapter's (`src/worker_adapter/catalogue.rs`).

use super::{BridgeConfig, CatalogueSource, ConfigProblem, MetricCatalogue, UnknownKeyPolicy};
use crate::launchdarkly_project::{
    distinct_event_keys, metrics_to_catalogue, pulled_at, ApiBase, ApiError, Environment, LeftOut,
    Metric, MetricDefinition, Reading, API_BASE_US, TOKEN_VAR,
};
use serde::{Deserialize, Serialize};

/// The API access token (a Worker secret; Reader role).
pub const VAR_API_TOKEN: &str = TOKEN_VAR;
/// The key of the LaunchDarkly project whose metrics to read.
pub const VAR_PROJECT_KEY: &str = "LD_PROJECT_KEY";
/// The REST API's base (default `https://app.launchdarkly.com`).
pub const VAR_API_BASE: &str = "LD_API_BASE";
/// `"true"`: the refreshed catalogue replaces hand-written ones too.
pub const VAR_CATALOGUE_OVERRIDE: &str = "LD_CATALOGUE_OVERRIDE";
/// `"send"` (default) or `"drop"`: what destinations given the refreshed catalogue do with
/// events whose key is not a metric event key, unless they say so themselves.
pub const VAR_CATALOGUE_UNKNOWN_EVENT_KEYS: &str = "LD_CATALOGUE_UNKNOWN_EVENT_KEYS";

/// The variables the refresh reads, the token first.
pub const REFRESH_VARS: [&str; 5] = [
    VAR_API_TOKEN,
    VAR_PROJECT_KEY,
    VAR_API_BASE,
    VAR_CATALOGUE_OVERRIDE,
    VAR_CATALOGUE_UNKNOWN_EVENT_KEYS,
];

/// The KV binding of a namespace of the catalogue's own.
pub const CATALOGUE_BINDING: &str = "CATALOGUE";
/// The KV binding of the dead-letter store, whose namespace the catalogue can share.
pub const DEAD_LETTER_STORE_BINDING: &str = "DEAD_LETTERS";
/// Where the Worker keeps the refreshed catalogue: the first of these that is bound.
pub const STORE_BINDINGS: [&str; 2] = [CATALOGUE_BINDING, DEAD_LETTER_STORE_BINDING];

/// The prefix of the KV keys the catalogue is kept under (`catalogue:{project}`); the dead-letter
/// store's keys start with `dead-letter:`, so the two can share a namespace.
pub const STORED_KEY_PREFIX: &str = "catalogue:";

/// The version of [`StoredCatalogue`]'s JSON.
pub const STORED_VERSION: u32 = 1;

/// How the Worker refreshes its catalogue, once the variables are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshSettings {
    /// The project's key.
    pub project: String,
    /// Where the REST API is.
    pub api_base: ApiBase,
    /// The refreshed catalogue replaces hand-written ones too (`LD_CATALOGUE_OVERRIDE`).
    pub replaces_hand_written: bool,
    /// The policy of destinations that had no catalogue (`LD_CATALOGUE_UNKNOWN_EVENT_KEYS`).
    pub unknown_keys: UnknownKeyPolicy,
}

impl RefreshSettings {
    /// The KV key the project's catalogue is kept under.
    pub fn stored_key(&self) -> String {
        format!("{STORED_KEY_PREFIX}{}", self.project)
    }

    /// The environments request's description, for its errors.
    pub fn environments_reading(&self) -> Reading {
        Reading::new(
            format!("the environments of project {:?}", self.project),
            format!("project {:?}", self.project),
        )
    }

    /// The metrics request's description, for its errors.
    pub fn metrics_reading(&self) -> Reading {
        Reading::new(
            format!("the metrics of project {:?}", self.project),
            format!("project {:?}", self.project),
        )
    }
}

/// Whether and how the Worker refreshes its catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshSetup {
    /// No `LD_API_TOKEN`: the Worker behaves as without this feature.
    Off,
    /// Refreshing.
    On(RefreshSettings),
    /// `LD_API_TOKEN` is set, but something else is wrong. Events flow as without a catalogue.
    Invalid(Vec<ConfigProblem>),
}

impl RefreshSetup {
    /// Reads the variables ([`REFRESH_VARS`]) through `lookup`; `store_bound` says whether a KV
    /// namespace is there to keep the catalogue in. Never repeats the token.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>, store_bound: bool) -> RefreshSetup {
        let set = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let Some(token) = set(VAR_API_TOKEN) else {
            return RefreshSetup::Off;
        };
        let mut problems = Vec::new();
        let mut problem = |location: &str, message: String| {
            problems.push(ConfigProblem {
                location: location.to_string(),
                message,
            });
        };
        if let Err(message) = check_token(&token) {
            problem(VAR_API_TOKEN, message);
        }
        let project = set(VAR_PROJECT_KEY);
        if project.is_none() {
            problem(
                VAR_PROJECT_KEY,
                format!("is required with {VAR_API_TOKEN}: the key of the LaunchDarkly project whose metrics the Worker reads"),
            );
        }
        let api_base =
            match ApiBase::parse(&set(VAR_API_BASE).unwrap_or_else(|| API_BASE_US.to_string())) {
                Ok(base) => Some(base),
                Err(error) => {
                    problem(VAR_API_BASE, error.to_string());
                    None
                }
            };
        let replaces_hand_written = match set(VAR_CATALOGUE_OVERRIDE).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                problem(
                    VAR_CATALOGUE_OVERRIDE,
                    format!("{other:?} is not \"true\" or \"false\""),
                );
                false
            }
        };
        let unknown_keys = match set(VAR_CATALOGUE_UNKNOWN_EVENT_KEYS).as_deref() {
            None | Some("send") => UnknownKeyPolicy::Send,
            Some("drop") => UnknownKeyPolicy::Drop,
            Some(other) => {
                problem(
                    VAR_CATALOGUE_UNKNOWN_EVENT_KEYS,
                    format!("{other:?} is not a policy; use \"send\" (report only) or \"drop\""),
                );
                UnknownKeyPolicy::Send
            }
        };
        if !store_bound {
            problem(
                "kv_namespaces",
                format!("the refreshed catalogue is kept in Workers KV: bind a namespace as {CATALOGUE_BINDING} (or {DEAD_LETTER_STORE_BINDING}, whose namespace it can share)"),
            );
        }
        match (project, api_base) {
            (Some(project), Some(api_base)) if problems.is_empty() => {
                RefreshSetup::On(RefreshSettings {
                    project,
                    api_base,
                    replaces_hand_written,
                    unknown_keys,
                })
            }
            _ => RefreshSetup::Invalid(problems),
        }
    }
}

/// Why `token` cannot be an API access token, without repeating it.
fn check_token(token: &str) -> Result<(), String> {
    let lower = token.to_ascii_lowercase();
    for (prefix, what) in [("sdk-", "an SDK key"), ("mob-", "a mobile key")] {
        if lower.starts_with(prefix) {
            return Err(format!(
                "holds {what}, not an API access token (api-...): create an access token with the Reader role (Account settings > Authorization)"
            ));
        }
    }
    if token.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(
            "is not an access token (it has spaces or characters outside ASCII)".to_string(),
        );
    }
    Ok(())
}

/// `text` with every occurrence of `token` replaced by `<LD_API_TOKEN>` (an API answer or a
/// transport error could echo it).
pub fn redact(text: &str, token: &str) -> String {
    if token.len() < 4 {
        return text.to_string();
    }
    text.replace(token, "<LD_API_TOKEN>")
}

/// Why a refresh failed. One line; never the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// LaunchDarkly's API refused, failed, or answered something unreadable.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A list had more pages than one refresh reads.
    #[error("reading {what}: more than {pages} pages in all; a refresh reads at most {pages} (a Worker's subrequests are limited), so the catalogue was not replaced")]
    TooManyPages {
        /// What was read.
        what: String,
        /// The most pages one refresh reads.
        pages: usize,
    },
}

/// An environment of the project: its key and client-side ID (never its SDK or mobile key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectEnvironment {
    /// The environment's key (`production`).
    pub key: String,
    /// Its client-side ID: destinations with it are this environment.
    pub client_side_id: String,
}

/// What one successful refresh read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedCatalogue {
    /// When (ISO 8601, UTC, seconds).
    pub fetched_at: String,
    /// The project's environments.
    pub environments: Vec<ProjectEnvironment>,
    /// Its custom metrics with an event key, in LaunchDarkly's order.
    pub metrics: Vec<MetricDefinition>,
    /// Its metrics no track event can feed (pageview, click).
    #[serde(default)]
    pub left_out: Vec<LeftOut>,
}

impl FetchedCatalogue {
    /// The distinct event keys of the metrics, in order of first appearance.
    pub fn event_keys(&self) -> Vec<String> {
        distinct_event_keys(&self.metrics)
    }

    /// The key of the environment whose client-side ID is `client_side_id`.
    pub fn environment_of(&self, client_side_id: &str) -> Option<&str> {
        self.environments
            .iter()
            .find(|environment| environment.client_side_id == client_side_id)
            .map(|environment| environment.key.as_str())
    }
}

/// The KV record of one project's catalogue: the last good copy, and how the last attempt went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCatalogue {
    /// [`STORED_VERSION`].
    pub v: u32,
    /// The project's key.
    pub project: String,
    /// The API base it was read from (never the token).
    pub api_base: String,
    /// The last good copy, once a refresh succeeded.
    pub catalogue: Option<FetchedCatalogue>,
    /// When the last refresh was attempted (ISO 8601, UTC, seconds).
    pub last_attempt_at: String,
    /// Why the last attempt failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Why a stored record is not used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoredCatalogueError {
    /// Not the JSON of a [`StoredCatalogue`].
    #[error("the stored catalogue is unreadable ({0})")]
    Unreadable(String),
    /// Written by another version of the bridge.
    #[error("the stored catalogue has version {0}; this bridge reads version {STORED_VERSION}")]
    OtherVersion(u32),
}

impl StoredCatalogue {
    /// The record of a successful refresh at `now_ms`.
    pub fn fetched(
        settings: &RefreshSettings,
        environments: &[Environment],
        metrics: &[Metric],
        now_ms: i64,
    ) -> StoredCatalogue {
        let catalogue = metrics_to_catalogue(metrics);
        let at = pulled_at(now_ms);
        StoredCatalogue {
            v: STORED_VERSION,
            project: settings.project.clone(),
            api_base: settings.api_base.as_str().to_string(),
            catalogue: Some(FetchedCatalogue {
                fetched_at: at.clone(),
                environments: environments
                    .iter()
                    .map(|environment| ProjectEnvironment {
                        key: environment.key.clone(),
                        client_side_id: environment.id.clone(),
                    })
                    .collect(),
                metrics: catalogue.metrics,
                left_out: catalogue.left_out,
            }),
            last_attempt_at: at,
            last_error: None,
        }
    }

    /// The record of a failed refresh at `now_ms`: `previous`'s good copy stays (when it is of
    /// the same project and API base), with `error`.
    pub fn failed(
        settings: &RefreshSettings,
        previous: Option<StoredCatalogue>,
        error: String,
        now_ms: i64,
    ) -> StoredCatalogue {
        let catalogue = previous
            .filter(|previous| previous.is_of(settings))
            .and_then(|previous| previous.catalogue);
        StoredCatalogue {
            v: STORED_VERSION,
            project: settings.project.clone(),
            api_base: settings.api_base.as_str().to_string(),
            catalogue,
            last_attempt_at: pulled_at(now_ms),
            last_error: Some(error),
        }
    }

    /// Whether it was read from `settings`' project and API base.
    pub fn is_of(&self, settings: &RefreshSettings) -> bool {
        self.project == settings.project && self.api_base == settings.api_base.as_str()
    }

    /// Reads a stored record: `None` when it is of another project or API base (the settings
    /// changed since it was written).
    pub fn read(
        text: &str,
        settings: &RefreshSettings,
    ) -> Result<Option<StoredCatalogue>, StoredCatalogueError> {
        #[derive(Deserialize)]
        struct Version {
            v: u32,
        }
        let unreadable = |error: serde_json::Error| {
            StoredCatalogueError::Unreadable(format!(
                "line {}, column {}",
                error.line(),
                error.column()
            ))
        };
        let version: Version = serde_json::from_str(text).map_err(unreadable)?;
        if version.v != STORED_VERSION {
            return Err(StoredCatalogueError::OtherVersion(version.v));
        }
        let stored: StoredCatalogue = serde_json::from_str(text).map_err(unreadable)?;
        Ok(stored.is_of(settings).then_some(stored))
    }
}

/// A destination given the refreshed catalogue, and its environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CoveredDestination {
    /// The destination's name.
    pub destination: String,
    /// The key of its environment in the project.
    pub environment: String,
}

/// What [`lay_over`] did with each destination.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Given the refreshed catalogue.
    pub destinations: Vec<CoveredDestination>,
    /// Kept their hand-written catalogue (without `LD_CATALOGUE_OVERRIDE`).
    pub kept_their_own: Vec<String>,
    /// Left as they were: their client-side ID is none of the project's environments.
    pub not_in_project: Vec<String>,
}

/// Lays a refreshed catalogue over `config`'s destinations of the project: those without a
/// catalogue get it (its metric definitions, so every verdict applies, and where it came from)
/// with `settings.unknown_keys`; with [`RefreshSettings::replaces_hand_written`] those with one
/// get it too and keep their own `unknown_event_keys` policy. Destinations of another project
/// are left as they are.
pub fn lay_over(
    config: &mut BridgeConfig,
    settings: &RefreshSettings,
    catalogue: &FetchedCatalogue,
) -> Coverage {
    let mut coverage = Coverage::default();
    for destination in &mut config.destinations {
        let Some(environment) = catalogue.environment_of(&destination.client_side_id) else {
            coverage.not_in_project.push(destination.name.clone());
            continue;
        };
        let policy = match &destination.catalogue {
            None => settings.unknown_keys,
            Some(own) if settings.replaces_hand_written => own.unknown_keys,
            Some(_) => {
                coverage.kept_their_own.push(destination.name.clone());
                continue;
            }
        };
        let source = CatalogueSource {
            project: settings.project.clone(),
            environment: Some(environment.to_string()),
            api_base: Some(settings.api_base.as_str().to_string()),
            pulled_at: Some(catalogue.fetched_at.clone()),
        };
        destination.catalogue = Some(MetricCatalogue::with_metrics(
            Vec::new(),
            catalogue.metrics.clone(),
            Some(source),
            policy,
        ));
        coverage.destinations.push(CoveredDestination {
            destination: destination.name.clone(),
            environment: environment.to_string(),
        });
    }
    coverage
}

/// Where the refresh stands, in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshState {
    /// The last refresh succeeded.
    Ok,
    /// The last refresh failed (the last good copy, if any, is used).
    Failing,
    /// No refresh has been stored yet (the Cron Trigger has not run, or not stored).
    NotYetRefreshed,
    /// `LD_API_TOKEN` is set but the other settings are not right.
    InvalidSettings,
}

/// Which destinations get the refreshed catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    /// Those without a hand-written catalogue (the default).
    DestinationsWithoutCatalogue,
    /// Every destination of the project (`LD_CATALOGUE_OVERRIDE = "true"`).
    AllDestinations,
}

/// What `/health` shows of the refresh, with the admin token. Never the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RefreshStatus {
    /// Where it stands.
    pub state: RefreshState,
    /// The project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The API base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// When the catalogue in use was read (`null` when none was ever read).
    pub refreshed_at: Option<String>,
    /// Its custom metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<usize>,
    /// Their distinct event keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_keys: Option<usize>,
    /// The project's metrics no track event can feed (pageview, click).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_left_out: Option<usize>,
    /// The project's environments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environments: Option<usize>,
    /// When the last refresh was attempted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<String>,
    /// Why the last attempt failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Which destinations get it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applies_to: Option<AppliesTo>,
    /// The policy of destinations that had no catalogue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_event_keys: Option<UnknownKeyPolicy>,
    /// What was done with each destination, once there is a catalogue.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// What is wrong with the settings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ConfigProblem>,
}

impl RefreshStatus {
    /// The status of `setup` with the `stored` record and what laying it over did; `None` when
    /// the refresh is off.
    pub fn new(
        setup: &RefreshSetup,
        stored: Option<&StoredCatalogue>,
        coverage: Option<&Coverage>,
    ) -> Option<RefreshStatus> {
        let settings = match setup {
            RefreshSetup::Off => return None,
            RefreshSetup::Invalid(problems) => {
                return Some(RefreshStatus {
                    state: RefreshState::InvalidSettings,
                    project: None,
                    api_base: None,
                    refreshed_at: None,
                    metrics: None,
                    event_keys: None,
                    metrics_left_out: None,
                    environments: None,
                    last_attempt_at: None,
                    last_error: None,
                    applies_to: None,
                    unknown_event_keys: None,
                    coverage: None,
                    problems: problems.clone(),
                })
            }
            RefreshSetup::On(settings) => settings,
        };
        let stored = stored.filter(|stored| stored.is_of(settings));
        let catalogue = stored.and_then(|stored| stored.catalogue.as_ref());
        let state = match stored {
            None => RefreshState::NotYetRefreshed,
            Some(stored) if stored.last_error.is_some() => RefreshState::Failing,
            Some(_) => RefreshState::Ok,
        };
        Some(RefreshStatus {
            state,
            project: Some(settings.project.clone()),
            api_base: Some(settings.api_base.as_str().to_string()),
            refreshed_at: catalogue.map(|catalogue| catalogue.fetched_at.clone()),
            metrics: catalogue.map(|catalogue| catalogue.metrics.len()),
            event_keys: catalogue.map(|catalogue| catalogue.event_keys().len()),
            metrics_left_out: catalogue.map(|catalogue| catalogue.left_out.len()),
            environments: catalogue.map(|catalogue| catalogue.environments.len()),
            last_attempt_at: stored.map(|stored| stored.last_attempt_at.clone()),
            last_error: stored.and_then(|stored| stored.last_error.clone()),
            applies_to: Some(if settings.replaces_hand_written {
                AppliesTo::AllDestinations
            } else {
                AppliesTo::DestinationsWithoutCatalogue
            }),
            unknown_event_keys: Some(settings.unknown_keys),
            coverage: catalogue.and(coverage).cloned(),
            problems: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const TOKEN: &str = "api-0123456789abcdef";

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(known, _)| known == name)
                .map(|(_, value)| value.clone())
        }
    }

    fn settings() -> RefreshSettings {
        match RefreshSetup::from_vars(
            vars(&[(VAR_API_TOKEN, TOKEN), (VAR_PROJECT_KEY, "default")]),
            true,
        ) {
            RefreshSetup::On(settings) => settings,
            other => panic!("{other:?}"),
        }
    }

    fn problems(setup: RefreshSetup) -> Vec<String> {
        match setup {
            RefreshSetup::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_a_token_the_refresh_is_off() {
        assert_eq!(RefreshSetup::from_vars(vars(&[]), false), RefreshSetup::Off);
        assert_eq!(
            RefreshSetup::from_vars(
                vars(&[(VAR_API_TOKEN, "  "), (VAR_PROJECT_KEY, "default")]),
                true
            ),
            RefreshSetup::Off
        );
    }

    #[test]
    fn the_settings_default_to_the_commercial_api_and_destinations_without_a_catalogue() {
        let settings = settings();
        assert_eq!(settings.project, "default");
        assert_eq!(settings.api_base.as_str(), API_BASE_US);
        assert!(!settings.replaces_hand_written);
        assert_eq!(settings.unknown_keys, UnknownKeyPolicy::Send);
        assert_eq!(settings.stored_key(), "catalogue:default");
        let RefreshSetup::On(eu) = RefreshSetup::from_vars(
            vars(&[
                (VAR_API_TOKEN, TOKEN),
                (VAR_PROJECT_KEY, "p"),
                (VAR_API_BASE, "https://app.eu.launchdarkly.com/"),
                (VAR_CATALOGUE_OVERRIDE, "true"),
                (VAR_CATALOGUE_UNKNOWN_EVENT_KEYS, "drop"),
            ]),
            true,
        ) else {
            panic!("valid settings");
        };
        assert_eq!(eu.api_base.as_str(), "https://app.eu.launchdarkly.com");
        assert!(eu.replaces_hand_written);
        assert_eq!(eu.unknown_keys, UnknownKeyPolicy::Drop);
    }

    #[test]
    fn every_settings_problem_is_listed_and_none_repeats_the_token() {
        let found = problems(RefreshSetup::from_vars(
            vars(&[
                (VAR_API_TOKEN, "sdk-secret-key-1"),
                (VAR_API_BASE, "app.launchdarkly.com"),
                (VAR_CATALOGUE_OVERRIDE, "yes"),
                (VAR_CATALOGUE_UNKNOWN_EVENT_KEYS, "maybe"),
            ]),
            false,
        ));
        assert_eq!(found.len(), 6, "{found:?}");
        assert!(found[0].starts_with("LD_API_TOKEN: holds an SDK key"));
        assert!(found[1].starts_with("LD_PROJECT_KEY: is required"));
        assert!(found[2].starts_with("LD_API_BASE: "));
        assert!(found[3].starts_with("LD_CATALOGUE_OVERRIDE: \"yes\""));
        assert!(found[4].starts_with("LD_CATALOGUE_UNKNOWN_EVENT_KEYS: \"maybe\""));
        assert!(found[5].starts_with("kv_namespaces: "));
        assert!(found.iter().all(|problem| !problem.contains("secret-key")));
        let spaced = problems(RefreshSetup::from_vars(
            vars(&[(VAR_API_TOKEN, "api-has a space"), (VAR_PROJECT_KEY, "p")]),
            true,
        ));
        assert_eq!(
            spaced,
            ["LD_API_TOKEN: is not an access token (it has spaces or characters outside ASCII)"]
        );
        assert!(problems(RefreshSetup::from_vars(
            vars(&[(VAR_API_TOKEN, "mob-1234"), (VAR_PROJECT_KEY, "p")]),
            true
        ))[0]
            .contains("a mobile key"));
    }

    #[test]
    fn the_token_is_redacted() {
        assert_eq!(
            redact(&format!("echoed {TOKEN} twice {TOKEN}"), TOKEN),
            "echoed <LD_API_TOKEN> twice <LD_API_TOKEN>"
        );
        assert_eq!(redact("a b c", "b"), "a b c", "too short to be a token");
    }

    fn environment(key: &str, id: &str) -> Environment {
        serde_json::from_value(json!({"_id": id, "key": key, "apiKey": "sdk-x"})).unwrap()
    }

    fn metric(value: Value) -> Metric {
        serde_json::from_value(value).unwrap()
    }

    /// 2026-11-30T13:30:00Z.
    const NOW: i64 = 1_796_045_400_123;

    fn fetched() -> StoredCatalogue {
        StoredCatalogue::fetched(
            &settings(),
            &[
                environment("production", "env-prod"),
                environment("test", "env-test"),
            ],
            &[
                metric(
                    json!({"key": "revenue", "name": "Revenue", "kind": "custom",
                              "eventKey": "Order Completed", "isNumeric": true,
                              "randomizationUnits": ["user"]}),
                ),
                metric(json!({"key": "orders", "kind": "custom", "eventKey": "Order Completed"})),
                metric(json!({"key": "signups", "kind": "custom", "eventKey": "Signed Up"})),
                metric(json!({"key": "home", "kind": "pageview"})),
            ],
            NOW,
        )
    }

    #[test]
    fn a_refresh_keeps_environments_metrics_and_when() {
        let stored = fetched();
        let catalogue = stored.catalogue.as_ref().unwrap();
        assert_eq!(catalogue.fetched_at, "2026-11-30T13:30:00Z");
        assert_eq!(stored.last_attempt_at, "2026-11-30T13:30:00Z");
        assert_eq!(stored.last_error, None);
        assert_eq!(catalogue.event_keys(), ["Order Completed", "Signed Up"]);
        assert_eq!(catalogue.metrics.len(), 3);
        assert_eq!(catalogue.left_out[0].key, "home");
        assert_eq!(catalogue.environment_of("env-test"), Some("test"));
        assert_eq!(catalogue.environment_of("sdk-x"), None);
        let text = serde_json::to_string(&stored).unwrap();
        assert!(!text.contains("sdk-x"), "never an SDK key: {text}");
        assert!(!text.contains(TOKEN));
        assert_eq!(
            StoredCatalogue::read(&text, &settings()).unwrap(),
            Some(stored)
        );
    }

    #[test]
    fn a_failed_refresh_keeps_the_last_good_copy() {
        let good = fetched();
        let failed = StoredCatalogue::failed(
            &settings(),
            Some(good.clone()),
            "LaunchDarkly failed (500)".into(),
            NOW + 900_000,
        );
        assert_eq!(failed.catalogue, good.catalogue);
        assert_eq!(failed.last_attempt_at, "2026-11-30T13:45:00Z");
        assert_eq!(
            failed.last_error.as_deref(),
            Some("LaunchDarkly failed (500)")
        );
        // A failure after a failure still keeps it; a first failure has none.
        let again = StoredCatalogue::failed(&settings(), Some(failed), "e".into(), NOW);
        assert_eq!(again.catalogue, good.catalogue);
        assert_eq!(
            StoredCatalogue::failed(&settings(), None, "e".into(), NOW).catalogue,
            None
        );
        // Another project's copy is not kept for this one.
        let mut other = good;
        other.project = "other".into();
        assert_eq!(
            StoredCatalogue::failed(&settings(), Some(other), "e".into(), NOW).catalogue,
            None
        );
    }

    #[test]
    fn stored_records_of_other_settings_or_versions_are_not_used() {
        let mut stored = fetched();
        stored.api_base = "https://app.eu.launchdarkly.com".into();
        let text = serde_json::to_string(&stored).unwrap();
        assert_eq!(StoredCatalogue::read(&text, &settings()), Ok(None));
        assert_eq!(
            StoredCatalogue::read(r#"{"v": 2, "anything": true}"#, &settings()),
            Err(StoredCatalogueError::OtherVersion(2))
        );
        assert!(matches!(
            StoredCatalogue::read("{\"v\": 1}", &settings()),
            Err(StoredCatalogueError::Unreadable(_))
        ));
        assert!(matches!(
            StoredCatalogue::read("not json", &settings()),
            Err(StoredCatalogueError::Unreadable(_))
        ));
    }

    fn config() -> BridgeConfig {
        crate::config::read_document(&json!({"destinations": [
            {"name": "production", "client_side_id": "env-prod"},
            {"name": "test", "client_side_id": "env-test", "metric_event_keys": ["Hand Written"],
             "unknown_event_keys": "drop"},
            {"name": "elsewhere", "client_side_id": "env-of-another-project"}
        ], "sources": [{"name": "s", "default": true, "allow_unsigned": true}]}))
        .unwrap()
    }

    #[test]
    fn the_catalogue_goes_to_the_project_s_destinations_without_one() {
        let mut config = config();
        let stored = fetched();
        let coverage = lay_over(&mut config, &settings(), stored.catalogue.as_ref().unwrap());
        assert_eq!(
            coverage,
            Coverage {
                destinations: vec![CoveredDestination {
                    destination: "production".into(),
                    environment: "production".into()
                }],
                kept_their_own: vec!["test".into()],
                not_in_project: vec!["elsewhere".into()],
            }
        );
        let production = config.destinations[0].catalogue.as_ref().unwrap();
        assert_eq!(production.keys(), ["Order Completed", "Signed Up"]);
        assert_eq!(production.unknown_keys, UnknownKeyPolicy::Send);
        // The metric definitions, so that every verdict applies, and where they came from.
        assert_eq!(production.metrics().len(), 3);
        let revenue = &production.metrics()[0];
        assert_eq!((revenue.key.as_str(), revenue.numeric), ("revenue", true));
        assert_eq!(revenue.randomization_units, ["user"]);
        assert_eq!(
            production.source(),
            Some(&CatalogueSource {
                project: "default".into(),
                environment: Some("production".into()),
                api_base: Some(API_BASE_US.into()),
                pulled_at: Some("2026-11-30T13:30:00Z".into()),
            })
        );
        let judged = production.judge("Order Completed", || ["user"], false);
        assert!(judged.verdicts.numeric_metric_without_value);
        let test = config.destinations[1].catalogue.as_ref().unwrap();
        assert_eq!(test.keys(), ["Hand Written"]);
        assert!(config.destinations[2].catalogue.is_none());
    }

    #[test]
    fn with_override_hand_written_catalogues_are_replaced_and_keep_their_policy() {
        let mut config = config();
        let settings = RefreshSettings {
            replaces_hand_written: true,
            unknown_keys: UnknownKeyPolicy::Drop,
            ..settings()
        };
        let stored = fetched();
        let coverage = lay_over(&mut config, &settings, stored.catalogue.as_ref().unwrap());
        assert_eq!(coverage.destinations.len(), 2);
        assert!(coverage.kept_their_own.is_empty());
        let production = config.destinations[0].catalogue.as_ref().unwrap();
        assert_eq!(production.unknown_keys, UnknownKeyPolicy::Drop);
        let test = config.destinations[1].catalogue.as_ref().unwrap();
        assert_eq!(test.keys(), ["Order Completed", "Signed Up"]);
        assert_eq!(test.unknown_keys, UnknownKeyPolicy::Drop);
    }

    #[test]
    fn the_status_says_when_from_where_how_many_and_the_last_error() {
        assert_eq!(RefreshStatus::new(&RefreshSetup::Off, None, None), None);
        let setup = RefreshSetup::On(settings());
        let waiting = RefreshStatus::new(&setup, None, None).unwrap();
        assert_eq!(
            json!(waiting),
            json!({"state": "not_yet_refreshed", "project": "default",
                   "api_base": "https://app.launchdarkly.com", "refreshed_at": null,
                   "applies_to": "destinations_without_catalogue", "unknown_event_keys": "send"})
        );
        let good = fetched();
        let mut config = config();
        let coverage = lay_over(&mut config, &settings(), good.catalogue.as_ref().unwrap());
        let ok = RefreshStatus::new(&setup, Some(&good), Some(&coverage)).unwrap();
        assert_eq!(
            json!(ok),
            json!({"state": "ok", "project": "default", "api_base": "https://app.launchdarkly.com",
                   "refreshed_at": "2026-11-30T13:30:00Z", "metrics": 3, "event_keys": 2,
                   "metrics_left_out": 1, "environments": 2,
                   "last_attempt_at": "2026-11-30T13:30:00Z",
                   "applies_to": "destinations_without_catalogue", "unknown_event_keys": "send",
                   "destinations": [{"destination": "production", "environment": "production"}],
                   "kept_their_own": ["test"], "not_in_project": ["elsewhere"]})
        );
        let failed = StoredCatalogue::failed(
            &settings(),
            Some(good),
            "LaunchDarkly refused the access token (401 unauthorized)".into(),
            NOW + 1000,
        );
        let failing = json!(RefreshStatus::new(&setup, Some(&failed), Some(&coverage)).unwrap());
        assert_eq!(failing["state"], "failing");
        assert_eq!(failing["refreshed_at"], "2026-11-30T13:30:00Z");
        assert_eq!(failing["last_attempt_at"], "2026-11-30T13:30:01Z");
        assert_eq!(
            failing["last_error"],
            "LaunchDarkly refused the access token (401 unauthorized)"
        );
        assert_eq!(failing["metrics"], 3);
        let first_failure = StoredCatalogue::failed(&settings(), None, "e".into(), NOW);
        let never = json!(RefreshStatus::new(&setup, Some(&first_failure), None).unwrap());
        assert_eq!(never["state"], "failing");
        assert_eq!(never["refreshed_at"], Value::Null);
        assert!(never.get("metrics").is_none());
        let invalid = RefreshSetup::from_vars(vars(&[(VAR_API_TOKEN, TOKEN)]), true);
        let invalid = json!(RefreshStatus::new(&invalid, None, None).unwrap());
        assert_eq!(invalid["state"], "invalid_settings");
        assert_eq!(invalid["problems"][0]["location"], "LD_PROJECT_KEY");
        assert!(!invalid.to_string().contains(TOKEN));
    }

    #[test]
    fn too_many_pages_is_one_line() {
        let error = RefreshError::TooManyPages {
            what: "the metrics of project \"p\"".into(),
            pages: 40,
        };
        assert!(error.to_string().contains("more than 40 pages"));
        assert!(!error.to_string().contains('\n'));
    }
}
