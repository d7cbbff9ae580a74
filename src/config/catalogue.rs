//! A destination's metric catalogue: the event keys its LaunchDarkly metrics use and, when they
//! are known (`launchdarkly pull` writes them), the metrics themselves. Each LaunchDarkly event
//! gets verdicts saying whether an experiment will count it: an unknown key (or the near miss it
//! probably meant), a numeric metric without a value, a value only conversion metrics see, a
//! context kind that is no metric's randomization unit.
//!
//! A metric counts an event when the event's key is the metric's event key, one of the event's
//! context kinds is one of the metric's randomization units (a metric that lists none takes any
//! kind), and the event has a `metricValue` when the metric is numeric.

use crate::outcome::{Reason, Warning};
use serde::Serialize;
use std::fmt::Write;

/// What to do with an event no metric of the catalogue would count (an unknown key, or a known
/// one that no metric takes as it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownKeyPolicy {
    /// Send it anyway and report it (LaunchDarkly keeps it for Data Export).
    Send,
    /// Do not send it; report it.
    Drop,
}

/// One LaunchDarkly custom metric, as `launchdarkly pull` writes it into a destination's
/// `metrics` and the Cron Trigger's refresh lays it over the configuration: the one type of
/// `launchdarkly_project`, which reads LaunchDarkly's answers into it.
pub use crate::launchdarkly_project::MetricDefinition;

impl MetricDefinition {
    /// A conversion metric counting `event_key`, named by its key, for any context kind.
    pub fn new(key: impl Into<String>, event_key: impl Into<String>) -> Self {
        let key = key.into();
        MetricDefinition {
            name: key.clone(),
            key,
            event_key: event_key.into(),
            numeric: false,
            randomization_units: Vec::new(),
            unit_aggregation_type: None,
            active_experiments: None,
        }
    }

    /// Whether an event carrying context keys of `kinds` can be attributed to it: it lists no
    /// randomization unit, or one of them is among `kinds`.
    pub fn takes_kinds<'k>(&self, kinds: impl IntoIterator<Item = &'k str>) -> bool {
        self.randomization_units.is_empty()
            || kinds
                .into_iter()
                .any(|kind| self.randomization_units.iter().any(|unit| unit == kind))
    }

    /// Whether it counts an event with its event key, context kinds `kinds`, and a
    /// `metricValue` or not.
    pub fn counts<'k>(&self, kinds: impl IntoIterator<Item = &'k str>, has_value: bool) -> bool {
        (has_value || !self.numeric) && self.takes_kinds(kinds)
    }
}

/// Where a pulled catalogue came from (informational: shown by `check` and the playground).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CatalogueSource {
    /// The LaunchDarkly project's key.
    pub project: String,
    /// The environment's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The REST API it was read from (`https://app.launchdarkly.com`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// When (ISO-8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulled_at: Option<String>,
}

/// The metric catalogue of one destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricCatalogue {
    /// The known event keys: `metric_event_keys` as written, then the metrics' other event keys.
    keys: Vec<String>,
    /// Each key as [`normalize`] writes it, at the same position.
    normalized: Vec<String>,
    /// For each key, at the same position, the positions in `metrics` of the metrics using it.
    users: Vec<Vec<usize>>,
    /// Positions in `keys`, in the order of their keys (a binary search finds a key).
    sorted: Vec<usize>,
    metrics: Vec<MetricDefinition>,
    source: Option<CatalogueSource>,
    /// What to do with events no metric would count.
    pub unknown_keys: UnknownKeyPolicy,
}

/// How an event key relates to the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyCheck {
    /// The key is a metric event key, exactly.
    Known,
    /// Not in the catalogue, but equal to `suggestion` up to case, whitespace or punctuation.
    NearMiss {
        /// The catalogue key it probably meant.
        suggestion: String,
        /// What differs: `case`, `whitespace`, `punctuation`, or several joined by `, `; or
        /// `spelling` when none of them does, only where the spaces and marks stand.
        difference: String,
    },
    /// Not in the catalogue, nothing close.
    Unknown,
}

/// The verdicts about a known key whose metrics are defined (none otherwise).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdicts {
    /// A numeric metric uses the key and the event has no `metricValue`.
    pub numeric_metric_without_value: bool,
    /// Only conversion metrics use the key and the event has a `metricValue`.
    pub metric_value_ignored: bool,
    /// None of the event's context kinds is a randomization unit of a metric using the key.
    pub no_randomization_unit: bool,
}

impl Verdicts {
    /// The verdicts' codes, in a fixed order.
    pub fn codes(self) -> impl Iterator<Item = Reason> {
        [
            (self.no_randomization_unit, Reason::NoRandomizationUnit),
            (
                self.numeric_metric_without_value,
                Reason::NumericMetricWithoutValue,
            ),
            (self.metric_value_ignored, Reason::MetricValueIgnored),
        ]
        .into_iter()
        .filter_map(|(found, code)| found.then_some(code))
    }
}

/// What the catalogue says about one LaunchDarkly event: the key check, the metrics using the
/// key, the verdicts, whether a metric counts it and whether to send it. Borrows the catalogue;
/// allocates only for a near miss.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement<'c> {
    /// Known, near miss or unknown.
    pub check: KeyCheck,
    /// About the metrics using the key (all false for a key without metric definitions).
    pub verdicts: Verdicts,
    /// Whether some metric counts the event. A key listed in `metric_event_keys` without
    /// metric definitions is taken to be counted.
    pub counted: bool,
    /// Whether to send it: counted, or the policy is [`UnknownKeyPolicy::Send`].
    pub send: bool,
    catalogue: &'c MetricCatalogue,
    /// Positions in the catalogue's metrics of the ones using the key.
    users: &'c [usize],
}

impl<'c> Judgement<'c> {
    /// The catalogue's metrics that use the key, in the catalogue's order.
    pub fn metrics(&self) -> impl Iterator<Item = &'c MetricDefinition> + 'c {
        let metrics = &self.catalogue.metrics;
        self.users.iter().filter_map(move |&at| metrics.get(at))
    }

    /// Why the event is not sent, when it is not: `unknown_event_key` for a key that is not
    /// known (near misses included), else the verdict that leaves no metric counting it
    /// (`no_randomization_unit` before `numeric_metric_without_value`).
    pub fn drop_reason(&self) -> Option<Reason> {
        if self.send {
            return None;
        }
        Some(match self.check {
            KeyCheck::Known if self.verdicts.no_randomization_unit => Reason::NoRandomizationUnit,
            KeyCheck::Known => Reason::NumericMetricWithoutValue,
            KeyCheck::NearMiss { .. } | KeyCheck::Unknown => Reason::UnknownEventKey,
        })
    }

    /// Adds one warning per verdict (the key check's first) to `out`, for the destination
    /// named `destination`, about the event with key `key` and context kinds `kinds()`; each
    /// message names the metrics concerned by key and name. Nothing is added (nor allocated)
    /// for a known key without verdicts.
    pub fn warn<'k, I: IntoIterator<Item = &'k str>>(
        &self,
        destination: &str,
        key: &str,
        kinds: impl Fn() -> I,
        out: &mut Vec<Warning>,
    ) {
        match &self.check {
            KeyCheck::Known => {}
            KeyCheck::NearMiss {
                suggestion,
                difference,
            } => out.push(Warning {
                code: Reason::EventKeyNearMiss,
                message: format!(
                    "{key:?} is not a metric event key of {destination:?}, but {suggestion:?} is (differs in {difference}); LaunchDarkly matches event keys exactly"
                ),
            }),
            KeyCheck::Unknown => out.push(Warning {
                code: Reason::UnknownEventKey,
                message: format!(
                    "{key:?} is not a metric event key of {destination:?}: no metric will count it"
                ),
            }),
        }
        for code in self.verdicts.codes() {
            let mut message = String::new();
            match code {
                Reason::NoRandomizationUnit => {
                    message.push_str("none of the event's context kinds (");
                    for (n, kind) in kinds().into_iter().enumerate() {
                        if n > 0 {
                            message.push_str(", ");
                        }
                        message.push_str(kind);
                    }
                    message.push_str(") is a randomization unit of ");
                    self.list_metrics(&mut message, |_| true, true);
                    push_debug(
                        &mut message,
                        format_args!(" of {destination:?} using {key:?}"),
                    );
                    message.push_str(
                        ": LaunchDarkly will not attribute it to an experiment (map a context key of a randomization unit's kind)",
                    );
                }
                Reason::NumericMetricWithoutValue => {
                    push_debug(&mut message, format_args!("{key:?} feeds "));
                    let plural = self.list_metrics(&mut message, |m| m.numeric, false);
                    push_debug(
                        &mut message,
                        format_args!(
                            " of {destination:?}, but the event has no metricValue: {} (map metric_value, e.g. to properties.revenue)",
                            if plural {
                                "numeric metrics do not count it"
                            } else {
                                "a numeric metric does not count it"
                            }
                        ),
                    );
                }
                _ => {
                    push_debug(&mut message, format_args!("{key:?} feeds only "));
                    self.list_metrics(&mut message, |_| true, false);
                    push_debug(
                        &mut message,
                        format_args!(
                            " of {destination:?}: the event's metricValue is ignored (conversion metrics count events, not values)"
                        ),
                    );
                }
            }
            out.push(Warning { code, message });
        }
    }

    /// Writes `the numeric metric "revenue" (Revenue)`, `the conversion metrics "a" (A) and
    /// "b" (B)`, …: the metrics using the key that `which` selects, with their randomization
    /// units when `units`. Returns whether there are several.
    fn list_metrics(
        &self,
        out: &mut String,
        which: impl Fn(&MetricDefinition) -> bool,
        units: bool,
    ) -> bool {
        let chosen: Vec<&MetricDefinition> = self.metrics().filter(|m| which(m)).collect();
        let several = chosen.len() > 1;
        let kind = if chosen.iter().all(|m| m.numeric) {
            "numeric "
        } else if chosen.iter().all(|m| !m.numeric) {
            "conversion "
        } else {
            ""
        };
        out.push_str("the ");
        out.push_str(kind);
        out.push_str(if several { "metrics " } else { "metric " });
        for (n, metric) in chosen.iter().enumerate() {
            if n > 0 {
                out.push_str(if n + 1 == chosen.len() { " and " } else { ", " });
            }
            push_debug(out, format_args!("{:?}", metric.key));
            let named = metric.name != metric.key && !metric.name.is_empty();
            if named || units {
                out.push_str(" (");
                if named {
                    out.push_str(&metric.name);
                }
                if units {
                    if named {
                        out.push_str(", ");
                    }
                    out.push_str("randomized by ");
                    out.push_str(&metric.randomization_units.join(" or "));
                }
                out.push(')');
            }
        }
        several
    }
}

fn push_debug(out: &mut String, arguments: std::fmt::Arguments<'_>) {
    #[expect(
        clippy::let_underscore_must_use,
        reason = "fmt::Write for String never returns an error"
    )]
    let _ = out.write_fmt(arguments);
}

impl MetricCatalogue {
    /// A catalogue of `keys` (no metric definitions) with the given policy.
    pub fn new(keys: Vec<String>, unknown_keys: UnknownKeyPolicy) -> Self {
        Self::with_metrics(keys, Vec::new(), None, unknown_keys)
    }

    /// A catalogue of `keys` and `metrics`, whose keys are `keys` and the metrics' event keys.
    pub fn with_metrics(
        mut keys: Vec<String>,
        metrics: Vec<MetricDefinition>,
        source: Option<CatalogueSource>,
        unknown_keys: UnknownKeyPolicy,
    ) -> Self {
        for metric in &metrics {
            if !keys.contains(&metric.event_key) {
                keys.push(metric.event_key.clone());
            }
        }
        let users = keys
            .iter()
            .map(|key| {
                (metrics.iter().enumerate())
                    .filter(|(_, metric)| metric.event_key == *key)
                    .map(|(at, _)| at)
                    .collect()
            })
            .collect();
        // Insertion by binary search: catalogues are small, and no sort is compiled in.
        let mut sorted: Vec<usize> = Vec::with_capacity(keys.len());
        for (at, key) in keys.iter().enumerate() {
            let place = sorted
                .binary_search_by(|other| keys.get(*other).map(String::as_str).cmp(&Some(key)))
                .unwrap_or_else(|place| place);
            sorted.insert(place, at);
        }
        let normalized = keys.iter().map(|key| normalize(key)).collect();
        MetricCatalogue {
            keys,
            normalized,
            users,
            sorted,
            metrics,
            source,
            unknown_keys,
        }
    }

    /// The catalogue's keys.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The metric definitions, as given.
    pub fn metrics(&self) -> &[MetricDefinition] {
        &self.metrics
    }

    /// Where it was pulled from, when it says.
    pub fn source(&self) -> Option<&CatalogueSource> {
        self.source.as_ref()
    }

    /// The position of `key` in `keys`.
    fn position(&self, key: &str) -> Option<usize> {
        self.sorted
            .binary_search_by(|at| {
                self.keys
                    .get(*at)
                    .map_or(std::cmp::Ordering::Less, |known| known.as_str().cmp(key))
            })
            .ok()
            .and_then(|found| self.sorted.get(found).copied())
    }

    /// Checks one event key: exact match, near miss, or unknown.
    pub fn check(&self, key: &str) -> KeyCheck {
        if self.position(key).is_some() {
            return KeyCheck::Known;
        }
        self.near_miss(key)
    }

    fn near_miss(&self, key: &str) -> KeyCheck {
        let wanted = normalize(key);
        let found = (self.normalized.iter())
            .position(|known| *known == wanted)
            .and_then(|position| self.keys.get(position));
        match found {
            Some(suggestion) => KeyCheck::NearMiss {
                suggestion: suggestion.clone(),
                difference: describe_difference(key, suggestion),
            },
            None => KeyCheck::Unknown,
        }
    }

    /// Judges a LaunchDarkly event with key `key`, the context kinds `kinds()` lists, and a
    /// `metricValue` or not: the key check, the verdicts, whether a metric counts it, whether
    /// to send it.
    pub fn judge<'k, I: IntoIterator<Item = &'k str>>(
        &self,
        key: &str,
        kinds: impl Fn() -> I,
        has_value: bool,
    ) -> Judgement<'_> {
        let Some(position) = self.position(key) else {
            return Judgement {
                check: self.near_miss(key),
                verdicts: Verdicts::default(),
                counted: false,
                send: self.unknown_keys == UnknownKeyPolicy::Send,
                catalogue: self,
                users: &[],
            };
        };
        let users = self.users.get(position).map_or(&[][..], Vec::as_slice);
        let mut verdicts = Verdicts::default();
        // A key listed without metric definitions: nothing more is known, it is counted.
        let mut counted = users.is_empty();
        if !users.is_empty() {
            let (mut numeric, mut takes_kinds) = (false, false);
            for metric in users.iter().filter_map(|&at| self.metrics.get(at)) {
                let takes = metric.takes_kinds(kinds());
                numeric |= metric.numeric;
                takes_kinds |= takes;
                counted |= takes && (has_value || !metric.numeric);
            }
            verdicts = Verdicts {
                numeric_metric_without_value: numeric && !has_value,
                metric_value_ignored: !numeric && has_value,
                no_randomization_unit: !takes_kinds,
            };
        }
        Judgement {
            check: KeyCheck::Known,
            verdicts,
            counted,
            send: counted || self.unknown_keys == UnknownKeyPolicy::Send,
            catalogue: self,
            users,
        }
    }

    /// One line about the catalogue for `check`: how many keys and metrics, and where it was
    /// pulled from.
    pub fn describe(&self) -> String {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let mut line = format!(
            "{}, {}; unknown_event_keys = {:?}",
            plural(self.keys.len(), "event key"),
            plural(self.metrics.len(), "metric definition"),
            match self.unknown_keys {
                UnknownKeyPolicy::Send => "send",
                UnknownKeyPolicy::Drop => "drop",
            }
        );
        if let Some(source) = &self.source {
            push_debug(
                &mut line,
                format_args!("; pulled from project {:?}", source.project),
            );
            if let Some(environment) = &source.environment {
                push_debug(&mut line, format_args!(", environment {environment:?}"));
            }
            if let Some(api_base) = &source.api_base {
                push_debug(&mut line, format_args!(" ({api_base})"));
            }
            if let Some(pulled_at) = &source.pulled_at {
                push_debug(&mut line, format_args!(" at {pulled_at}"));
            }
        }
        line
    }
}

/// Lower case, letters and digits only: what a person would call "the same name".
fn normalize(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn describe_difference(key: &str, suggestion: &str) -> String {
    let mut kinds = Vec::new();
    let letters = |text: &str| -> String { text.chars().filter(|c| c.is_alphanumeric()).collect() };
    if letters(key) != letters(suggestion) {
        kinds.push("case");
    }
    let spaces = |text: &str| -> String { text.chars().filter(|c| c.is_whitespace()).collect() };
    if spaces(key) != spaces(suggestion) {
        kinds.push("whitespace");
    }
    let marks = |text: &str| -> String {
        text.chars()
            .filter(|c| !c.is_alphanumeric() && !c.is_whitespace())
            .collect()
    };
    if marks(key) != marks(suggestion) {
        kinds.push("punctuation");
    }
    if kinds.is_empty() {
        kinds.push("spelling");
    }
    kinds.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> MetricCatalogue {
        MetricCatalogue::new(
            vec!["Order Completed".into(), "signup-finished".into()],
            UnknownKeyPolicy::Send,
        )
    }

    #[test]
    fn exact_keys_are_known() {
        assert_eq!(catalogue().check("Order Completed"), KeyCheck::Known);
        assert_eq!(catalogue().check("signup-finished"), KeyCheck::Known);
        // Every key of a larger catalogue is found, and no other.
        let keys: Vec<String> = (0..50).map(|n| format!("key {}", 97 * n % 50)).collect();
        let large = MetricCatalogue::new(keys.clone(), UnknownKeyPolicy::Send);
        for key in &keys {
            assert_eq!(large.check(key), KeyCheck::Known, "{key}");
        }
        for key in ["key 50", "key", "", "key 0 ", "a", "z"] {
            assert_ne!(large.check(key), KeyCheck::Known, "{key}");
        }
    }

    #[test]
    fn near_misses_name_the_key_and_the_difference() {
        let near = |key: &str| match catalogue().check(key) {
            KeyCheck::NearMiss {
                suggestion,
                difference,
            } => (suggestion, difference),
            other => panic!("{key}: {other:?}"),
        };
        assert_eq!(
            near("order completed"),
            ("Order Completed".into(), "case".into())
        );
        assert_eq!(
            near("Order Completed "),
            ("Order Completed".into(), "whitespace".into())
        );
        assert_eq!(
            near("OrderCompleted"),
            ("Order Completed".into(), "whitespace".into())
        );
        assert_eq!(
            near("signup_finished"),
            ("signup-finished".into(), "punctuation".into())
        );
        assert_eq!(
            near("Signup Finished"),
            (
                "signup-finished".into(),
                "case, whitespace, punctuation".into()
            )
        );
    }

    #[test]
    fn keys_that_differ_only_in_where_their_marks_stand_differ_in_spelling() {
        let catalogue = MetricCatalogue::new(vec!["a b-c".into()], UnknownKeyPolicy::Send);
        assert_eq!(
            catalogue.check("a-b c"),
            KeyCheck::NearMiss {
                suggestion: "a b-c".into(),
                difference: "spelling".into()
            }
        );
    }

    #[test]
    fn unrelated_keys_are_unknown() {
        assert_eq!(catalogue().check("Order Cancelled"), KeyCheck::Unknown);
    }

    // ------------------------------------------------------------------------------------
    // Verdicts

    fn metric(
        key: &str,
        name: &str,
        event_key: &str,
        numeric: bool,
        units: &[&str],
    ) -> MetricDefinition {
        MetricDefinition {
            name: name.into(),
            numeric,
            randomization_units: units.iter().map(|unit| unit.to_string()).collect(),
            ..MetricDefinition::new(key, event_key)
        }
    }

    fn revenue() -> MetricDefinition {
        metric("revenue", "Revenue", "Order Completed", true, &["user"])
    }

    fn orders() -> MetricDefinition {
        metric("orders", "Orders", "Order Completed", false, &["user"])
    }

    fn signups() -> MetricDefinition {
        metric(
            "signups",
            "Sign-ups",
            "Signed Up",
            false,
            &["user", "account"],
        )
    }

    fn with(metrics: Vec<MetricDefinition>, policy: UnknownKeyPolicy) -> MetricCatalogue {
        MetricCatalogue::with_metrics(vec!["Listed Only".into()], metrics, None, policy)
    }

    /// The verdicts' codes, whether a metric counts it, and whether it is sent.
    fn judge(
        catalogue: &MetricCatalogue,
        key: &str,
        kinds: &[&str],
        has_value: bool,
    ) -> (Vec<&'static str>, bool, bool) {
        let judgement = catalogue.judge(key, || kinds.iter().copied(), has_value);
        let mut warnings = Vec::new();
        judgement.warn("production", key, || kinds.iter().copied(), &mut warnings);
        let codes = warnings.iter().map(|w| w.code.as_str()).collect();
        (codes, judgement.counted, judgement.send)
    }

    fn messages(
        catalogue: &MetricCatalogue,
        key: &str,
        kinds: &[&str],
        has_value: bool,
    ) -> Vec<String> {
        let mut warnings = Vec::new();
        catalogue
            .judge(key, || kinds.iter().copied(), has_value)
            .warn("production", key, || kinds.iter().copied(), &mut warnings);
        warnings.into_iter().map(|w| w.message).collect()
    }

    #[test]
    fn the_catalogues_keys_are_the_listed_keys_and_the_metrics_event_keys() {
        let catalogue = with(vec![revenue(), orders(), signups()], UnknownKeyPolicy::Send);
        assert_eq!(
            catalogue.keys(),
            ["Listed Only", "Order Completed", "Signed Up"]
        );
        let judgement = catalogue.judge("Order Completed", || ["user"], true);
        let fed: Vec<&str> = judgement.metrics().map(|m| m.key.as_str()).collect();
        assert_eq!(fed, ["revenue", "orders"]);
        assert_eq!(
            catalogue
                .judge("Listed Only", || ["user"], true)
                .metrics()
                .count(),
            0
        );
        // A listed key that a metric uses too is there once.
        let both = MetricCatalogue::with_metrics(
            vec!["Signed Up".into()],
            vec![signups()],
            None,
            UnknownKeyPolicy::Send,
        );
        assert_eq!(both.keys(), ["Signed Up"]);
        assert_eq!(
            both.judge("Signed Up", || ["user"], false)
                .metrics()
                .count(),
            1
        );
    }

    #[test]
    fn a_counted_event_has_no_verdict() {
        let catalogue = with(vec![revenue(), orders(), signups()], UnknownKeyPolicy::Drop);
        assert_eq!(
            judge(&catalogue, "Order Completed", &["user"], true),
            (vec![], true, true)
        );
        assert_eq!(
            judge(
                &catalogue,
                "Signed Up",
                &["unauthenticatedUser", "account"],
                false
            ),
            (vec![], true, true)
        );
        // A key listed without definitions: nothing more is known, it is counted.
        assert_eq!(
            judge(&catalogue, "Listed Only", &["device"], true),
            (vec![], true, true)
        );
    }

    #[test]
    fn unknown_keys_and_near_misses_are_counted_by_no_metric() {
        let send = with(vec![revenue()], UnknownKeyPolicy::Send);
        assert_eq!(
            judge(&send, "Order Placed", &["user"], true),
            (vec!["unknown_event_key"], false, true)
        );
        assert_eq!(
            judge(&send, "order completed", &["user"], true),
            (vec!["event_key_near_miss"], false, true)
        );
        let drop = with(vec![revenue()], UnknownKeyPolicy::Drop);
        assert_eq!(
            judge(&drop, "Order Placed", &["user"], true),
            (vec!["unknown_event_key"], false, false)
        );
        assert_eq!(
            drop.judge("order completed", || ["user"], true)
                .drop_reason(),
            Some(Reason::UnknownEventKey)
        );
        assert_eq!(
            messages(&send, "Order Placed", &["user"], true),
            ["\"Order Placed\" is not a metric event key of \"production\": no metric will count it"]
        );
    }

    #[test]
    fn numeric_metric_without_value() {
        // Only a numeric metric: nothing counts the event.
        let numeric = with(vec![revenue()], UnknownKeyPolicy::Send);
        assert_eq!(
            judge(&numeric, "Order Completed", &["user"], false),
            (vec!["numeric_metric_without_value"], false, true)
        );
        assert_eq!(
            messages(&numeric, "Order Completed", &["user"], false),
            ["\"Order Completed\" feeds the numeric metric \"revenue\" (Revenue) of \"production\", but the event has no metricValue: a numeric metric does not count it (map metric_value, e.g. to properties.revenue)"]
        );
        // With the value, it counts.
        assert_eq!(
            judge(&numeric, "Order Completed", &["user"], true),
            (vec![], true, true)
        );
        // A conversion metric on the same key still counts it: a warning, sent even with drop.
        let mixed = with(vec![revenue(), orders()], UnknownKeyPolicy::Drop);
        assert_eq!(
            judge(&mixed, "Order Completed", &["user"], false),
            (vec!["numeric_metric_without_value"], true, true)
        );
        // Only the numeric metrics are named.
        let message = &messages(&mixed, "Order Completed", &["user"], false)[0];
        assert!(
            message.contains("the numeric metric \"revenue\" (Revenue) of"),
            "{message}"
        );
        assert!(!message.contains("orders"), "{message}");
        // Several numeric metrics.
        let two = with(
            vec![
                revenue(),
                metric("aov", "Average order value", "Order Completed", true, &[]),
            ],
            UnknownKeyPolicy::Send,
        );
        assert_eq!(
            messages(&two, "Order Completed", &["user"], false),
            ["\"Order Completed\" feeds the numeric metrics \"revenue\" (Revenue) and \"aov\" (Average order value) of \"production\", but the event has no metricValue: numeric metrics do not count it (map metric_value, e.g. to properties.revenue)"]
        );
    }

    #[test]
    fn metric_value_ignored() {
        let conversion = with(vec![orders(), signups()], UnknownKeyPolicy::Drop);
        assert_eq!(
            judge(&conversion, "Order Completed", &["user"], true),
            (vec!["metric_value_ignored"], true, true)
        );
        assert_eq!(
            messages(&conversion, "Order Completed", &["user"], true),
            ["\"Order Completed\" feeds only the conversion metric \"orders\" (Orders) of \"production\": the event's metricValue is ignored (conversion metrics count events, not values)"]
        );
        assert_eq!(
            judge(&conversion, "Order Completed", &["user"], false),
            (vec![], true, true)
        );
        // A numeric metric on the key uses the value.
        let mixed = with(vec![orders(), revenue()], UnknownKeyPolicy::Drop);
        assert_eq!(
            judge(&mixed, "Order Completed", &["user"], true),
            (vec![], true, true)
        );
    }

    #[test]
    fn no_randomization_unit() {
        let catalogue = with(vec![revenue(), orders(), signups()], UnknownKeyPolicy::Send);
        assert_eq!(
            judge(
                &catalogue,
                "Order Completed",
                &["unauthenticatedUser"],
                true
            ),
            (vec!["no_randomization_unit"], false, true)
        );
        assert_eq!(
            messages(&catalogue, "Signed Up", &["unauthenticatedUser", "device"], false),
            ["none of the event's context kinds (unauthenticatedUser, device) is a randomization unit of the conversion metric \"signups\" (Sign-ups, randomized by user or account) of \"production\" using \"Signed Up\": LaunchDarkly will not attribute it to an experiment (map a context key of a randomization unit's kind)"]
        );
        // Numeric and conversion metrics together: named as metrics, each with its units.
        let message = &messages(
            &catalogue,
            "Order Completed",
            &["unauthenticatedUser"],
            true,
        )[0];
        assert!(
            message.contains("is a randomization unit of the metrics \"revenue\" (Revenue, randomized by user) and \"orders\" (Orders, randomized by user) of \"production\""),
            "{message}"
        );
        // Any one of the event's kinds will do, and any one of the metric's units.
        assert_eq!(
            judge(&catalogue, "Signed Up", &["device", "account"], false),
            (vec![], true, true)
        );
        // One metric taking the kind is enough.
        let two = with(
            vec![
                orders(),
                metric(
                    "accounts",
                    "Accounts",
                    "Order Completed",
                    false,
                    &["account"],
                ),
            ],
            UnknownKeyPolicy::Drop,
        );
        assert_eq!(
            judge(&two, "Order Completed", &["account"], false),
            (vec![], true, true)
        );
        // A metric without units takes every kind.
        let any = with(
            vec![orders(), metric("any", "", "Order Completed", false, &[])],
            UnknownKeyPolicy::Drop,
        );
        assert_eq!(
            judge(&any, "Order Completed", &["device"], false),
            (vec![], true, true)
        );
        // Both verdicts, the unit first; the metric is named by its key when it has no name.
        let unnamed = with(
            vec![metric("rev", "", "Order Completed", true, &["user"])],
            UnknownKeyPolicy::Drop,
        );
        assert_eq!(
            judge(&unnamed, "Order Completed", &["unauthenticatedUser"], false),
            (
                vec!["no_randomization_unit", "numeric_metric_without_value"],
                false,
                false
            )
        );
        let message = &messages(&unnamed, "Order Completed", &["unauthenticatedUser"], false)[0];
        assert!(
            message.contains("the numeric metric \"rev\" (randomized by user) of"),
            "{message}"
        );
    }

    /// A metric counts an event when the key is its event key, and (it has no units, or one
    /// of them is among the event's kinds), and (it is not numeric, or the event has a value).
    #[test]
    fn with_drop_only_events_a_metric_counts_are_sent() {
        let numeric_user = |units: &[&str]| {
            with(
                vec![metric("m", "M", "E", true, units)],
                UnknownKeyPolicy::Drop,
            )
        };
        let conversion_user = with(
            vec![metric("m", "M", "E", false, &["user"])],
            UnknownKeyPolicy::Drop,
        );
        let cases: [(&MetricCatalogue, &[&str], bool, bool); 8] = [
            (&numeric_user(&["user"]), &["user"], true, true),
            (&numeric_user(&["user"]), &["user"], false, false),
            (&numeric_user(&["user"]), &["device"], true, false),
            (&numeric_user(&[]), &["device"], true, true),
            (&numeric_user(&[]), &["device"], false, false),
            (&conversion_user, &["user"], false, true),
            (&conversion_user, &["user"], true, true),
            (&conversion_user, &["device"], false, false),
        ];
        for (n, (catalogue, kinds, has_value, counted)) in cases.into_iter().enumerate() {
            let judgement = catalogue.judge("E", || kinds.iter().copied(), has_value);
            assert_eq!(judgement.counted, counted, "case {n}");
            assert_eq!(judgement.send, counted, "case {n}");
            let metric = &catalogue.metrics()[0];
            assert_eq!(
                metric.counts(kinds.iter().copied(), has_value),
                counted,
                "case {n}"
            );
            let reason = judgement.drop_reason();
            assert_eq!(reason.is_none(), counted, "case {n}");
        }
        assert_eq!(
            numeric_user(&["user"])
                .judge("E", || ["device"], false)
                .drop_reason(),
            Some(Reason::NoRandomizationUnit)
        );
        assert_eq!(
            numeric_user(&["user"])
                .judge("E", || ["user"], false)
                .drop_reason(),
            Some(Reason::NumericMetricWithoutValue)
        );
        // With "send", everything goes, counted or not.
        let send = with(
            vec![metric("m", "M", "E", true, &["user"])],
            UnknownKeyPolicy::Send,
        );
        let judgement = send.judge("E", || ["device"], false);
        assert!(!judgement.counted);
        assert!(judgement.send);
        assert_eq!(judgement.drop_reason(), None);
    }

    #[test]
    fn a_catalogue_describes_itself_and_its_source() {
        let mut catalogue = with(vec![revenue()], UnknownKeyPolicy::Drop);
        assert_eq!(
            catalogue.describe(),
            "2 event keys, 1 metric definition; unknown_event_keys = \"drop\""
        );
        catalogue.source = Some(CatalogueSource {
            project: "default".into(),
            environment: Some("production".into()),
            api_base: Some("https://app.launchdarkly.com".into()),
            pulled_at: Some("2026-11-30T13:30:00Z".into()),
        });
        assert_eq!(
            catalogue.describe(),
            "2 event keys, 1 metric definition; unknown_event_keys = \"drop\"; pulled from project \"default\", environment \"production\" (https://app.launchdarkly.com) at 2026-11-30T13:30:00Z"
        );
    }
}
