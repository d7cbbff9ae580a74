//! A destination's catalogue of known LaunchDarkly metric event keys: an event key that is not
//! in it never reaches a metric, so it is reported, with the near miss it probably meant.

use serde::Serialize;

/// What to do with an event whose key is not in the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownKeyPolicy {
    /// Send it anyway and report it (LaunchDarkly keeps it for Data Export).
    Send,
    /// Do not send it; report it.
    Drop,
}

/// The known metric event keys of one destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricCatalogue {
    keys: Vec<String>,
    normalized: Vec<String>,
    /// What to do with unknown keys.
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

impl MetricCatalogue {
    /// A catalogue of `keys` with the given policy.
    pub fn new(keys: Vec<String>, unknown_keys: UnknownKeyPolicy) -> Self {
        let normalized = keys.iter().map(|key| normalize(key)).collect();
        MetricCatalogue {
            keys,
            normalized,
            unknown_keys,
        }
    }

    /// The catalogue's keys.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Checks one event key: exact match, near miss, or unknown.
    pub fn check(&self, key: &str) -> KeyCheck {
        if self.keys.iter().any(|known| known == key) {
            return KeyCheck::Known;
        }
        let wanted = normalize(key);
        match self.normalized.iter().position(|known| *known == wanted) {
            Some(position) => {
                let suggestion = self.keys[position].clone();
                let difference = describe_difference(key, &suggestion);
                KeyCheck::NearMiss {
                    suggestion,
                    difference,
                }
            }
            None => KeyCheck::Unknown,
        }
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
}
