//! `@replace`: literal (regex-escaped) pattern replacement with JavaScript's `String.replace`
//! semantics (`g` and `i` flags, `$&`, `$$`, `` $` `` and `$'` in the replacement).

use super::value::Budget;
use super::MappingError;

/// One literal replacement of `@replace`, prepared when the mapping is compiled.
#[derive(Debug)]
pub(crate) struct ReplaceStep {
    /// The pattern, for case-sensitive matching.
    needle: Box<str>,
    /// The pattern's characters canonicalized ([`canonicalize`]), for case-insensitive matching.
    folded: Box<[char]>,
    /// The replacement's pieces.
    pieces: Box<[Piece]>,
    /// Segment checks the lengths when it replaces, so a too-long value errors only then.
    pub(crate) too_long: Option<&'static str>,
}

impl ReplaceStep {
    pub(crate) fn new(pattern: &str, replacement: &str, too_long: Option<&'static str>) -> Self {
        ReplaceStep {
            needle: pattern.into(),
            folded: pattern.chars().map(canonicalize).collect(),
            pieces: pieces(replacement).into(),
            too_long,
        }
    }
}

/// JavaScript's `Canonicalize` for a non-unicode, ignore-case regular expression.
fn canonicalize(c: char) -> char {
    if (c as u32) > 0xFFFF {
        return c;
    }
    let mut upper = c.to_uppercase();
    let (Some(u), None) = (upper.next(), upper.next()) else {
        return c;
    };
    if (u as u32) > 0xFFFF || ((c as u32) >= 128 && (u as u32) < 128) {
        return c;
    }
    u
}

/// The matches of a step's pattern in `haystack` as byte ranges, left to right,
/// non-overlapping, found lazily (nothing is allocated).
struct Matches<'h, 's> {
    haystack: &'h str,
    step: &'s ReplaceStep,
    global: bool,
    ignore_case: bool,
    /// Byte offset where the search resumes; `None` once it is over.
    pos: Option<usize>,
}

impl<'h, 's> Matches<'h, 's> {
    fn new(haystack: &'h str, step: &'s ReplaceStep, global: bool, ignore_case: bool) -> Self {
        Matches {
            haystack,
            step,
            global,
            ignore_case,
            pos: (!step.needle.is_empty()).then_some(0),
        }
    }

    /// The end of a case-insensitive match starting at byte `at`, if there is one.
    fn match_at(&self, at: usize) -> Option<usize> {
        let rest = self.haystack.get(at..)?;
        let mut chars = rest.char_indices();
        for &p in &self.step.folded {
            let (_, c) = chars.next()?;
            if canonicalize(c) != p {
                return None;
            }
        }
        Some(chars.next().map_or(self.haystack.len(), |(i, _)| at + i))
    }
}

impl Iterator for Matches<'_, '_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let from = self.pos?;
        let found = if self.ignore_case {
            let rest = self.haystack.get(from..).unwrap_or_default();
            rest.char_indices()
                .find_map(|(i, _)| self.match_at(from + i).map(|end| (from + i, end)))
        } else {
            let needle = &*self.step.needle;
            let rest = self.haystack.get(from..).unwrap_or_default();
            // One byte (the common `-`, ` `, `_`): a byte search, without the substring
            // searcher's set-up for each match.
            let at = match needle.as_bytes() {
                [byte] => rest.bytes().position(|b| b == *byte),
                _ => rest.find(needle),
            };
            at.map(|i| (from + i, from + i + needle.len()))
        };
        self.pos = match found {
            Some((_, end)) if self.global => Some(end),
            _ => None,
        };
        found
    }
}

/// One piece of a replacement string (`GetSubstitution` without capture groups).
#[derive(Debug)]
enum Piece {
    Text(Box<str>),
    /// `$&`
    Matched,
    /// `` $` ``
    Before,
    /// `$'`
    After,
}

/// Splits a replacement string into its pieces (`$$` is a literal `$`; a `$` before anything
/// else stays as it is).
fn pieces(replacement: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = replacement;
    while let Some(at) = rest.find('$') {
        if at > 0 {
            out.push(Piece::Text(rest[..at].into()));
        }
        let after = &rest[at + 1..];
        let piece = match after.chars().next() {
            Some('$') => Piece::Text("$".into()),
            Some('&') => Piece::Matched,
            Some('`') => Piece::Before,
            Some('\'') => Piece::After,
            _ => {
                out.push(Piece::Text("$".into()));
                rest = after;
                continue;
            }
        };
        out.push(piece);
        rest = &after[1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.into()));
    }
    out
}

/// The text a piece stands for in a match at `start..end`.
fn piece_text<'a>(piece: &'a Piece, haystack: &'a str, start: usize, end: usize) -> &'a str {
    match piece {
        Piece::Text(t) => t,
        Piece::Matched => haystack.get(start..end).unwrap_or_default(),
        Piece::Before => haystack.get(..start).unwrap_or_default(),
        Piece::After => haystack.get(end..).unwrap_or_default(),
    }
}

/// `value.replace(new RegExp(escaped(pattern), flags), replacement)`. The exact length of the
/// result is computed and charged to `budget` before the result is allocated, so a replacement
/// such as `$'` that would build a huge string fails with the budget's error instead.
pub(crate) fn replace_literal(
    value: &str,
    step: &ReplaceStep,
    global: bool,
    ignore_case: bool,
    budget: &mut Budget,
) -> Result<String, MappingError> {
    let pieces = &step.pieces;
    let matches = || Matches::new(value, step, global, ignore_case);
    // Never below zero: the matches are disjoint parts of `value`.
    let mut len = value.len() as u64;
    for (start, end) in matches() {
        for p in pieces {
            len = len.saturating_add(piece_text(p, value, start, end).len() as u64);
        }
        len = len.saturating_sub((end - start) as u64);
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    budget.bytes(len)?;
    let mut out = String::with_capacity(len);
    let mut pos = 0;
    for (start, end) in matches() {
        out.push_str(value.get(pos..start).unwrap_or_default());
        for p in pieces {
            out.push_str(piece_text(p, value, start, end));
        }
        pos = end;
    }
    out.push_str(value.get(pos..).unwrap_or_default());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(p: &str, r: &str) -> ReplaceStep {
        ReplaceStep::new(p, r, None)
    }

    fn replace_literal(value: &str, step: &ReplaceStep, global: bool, ignore_case: bool) -> String {
        super::replace_literal(value, step, global, ignore_case, &mut Budget::new())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn replaces_like_javascript() {
        assert_eq!(
            replace_literal("a+b+c", &step("+", "_"), true, false),
            "a_b_c"
        );
        assert_eq!(
            replace_literal("a+b+c", &step("+", "_"), false, false),
            "a_b+c"
        );
        assert_eq!(
            replace_literal("aab-AaB", &step("AaB", "x"), true, true),
            "x-x"
        );
        assert_eq!(
            replace_literal("abc", &step("b", "[$&$$]"), true, false),
            "a[b$]c"
        );
        assert_eq!(
            replace_literal("abc", &step("b", "$`$'$1"), true, false),
            "aac$1c"
        );
        assert_eq!(
            replace_literal("straße", &step("SS", "x"), true, true),
            "straße"
        );
        // A one-byte pattern (found by a byte search) among multi-byte characters, at both
        // ends, repeated and once.
        assert_eq!(
            replace_literal("-é-ß--€-", &step("-", "_"), true, false),
            "_é_ß__€_"
        );
        assert_eq!(
            replace_literal("é-ß-", &step("-", "$`"), false, false),
            "ééß-"
        );
        assert_eq!(replace_literal("a b", &step(" ", ""), true, false), "ab");
    }

    #[test]
    fn special_patterns_and_case_folding() {
        assert_eq!(replace_literal("a$b", &step("b", "$"), true, false), "a$$");
        assert_eq!(
            replace_literal("ab", &step("b", "$x$"), true, false),
            "a$x$"
        );
        assert_eq!(replace_literal("aaa", &step("a", "$'"), true, false), "aaa");
        assert_eq!(
            replace_literal("xyz", &step("y", "$`$&$'"), false, false),
            "xxyzz"
        );
        assert_eq!(
            replace_literal("ÉtÉ été", &step("é", "e"), true, true),
            "ete ete"
        );
        assert_eq!(
            replace_literal("aAaA", &step("aa", "-"), false, true),
            "-aA"
        );
        assert_eq!(replace_literal("abc", &step("", "-"), true, false), "abc");
        // A non-ASCII character whose uppercase is ASCII keeps its own case class, as in
        // JavaScript: `"ſ-s-S".replace(/s/gi, "x")` is `"ſ-x-x"`, `/ſ/gi` only matches `ſ`.
        assert_eq!(
            replace_literal("ſ-s-S", &step("s", "x"), true, true),
            "ſ-x-x"
        );
        assert_eq!(
            replace_literal("ſ-s-S", &step("ſ", "x"), true, true),
            "x-s-S"
        );
    }

    #[test]
    fn huge_results_are_refused_before_they_are_built() {
        // Every `$'` copies the rest of the string: about 200 MB for 20 KB of matches.
        let value = "a".repeat(20_000);
        let mut budget = Budget::new();
        let before = budget.bytes_left;
        let result = super::replace_literal(&value, &step("a", "$'"), true, false, &mut budget);
        assert!(
            matches!(
                result,
                Err(MappingError::LimitExceeded {
                    what: "bytes of produced strings and values",
                    ..
                })
            ),
            "{result:?}"
        );
        assert_eq!(
            budget.bytes_left, before,
            "nothing charged for a refused result"
        );
        // Within the budget, the exact length of the result is charged.
        let mut budget = Budget::new();
        let out = super::replace_literal("abc", &step("b", "$'$`"), true, false, &mut budget);
        assert_eq!(out.as_deref().ok(), Some("acac"));
        assert_eq!(budget.bytes_left, before - 4);
    }
}
