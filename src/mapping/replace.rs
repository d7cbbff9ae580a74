//! `@replace`: literal (regex-escaped) pattern replacement with JavaScript's `String.replace`
//! semantics (`g` and `i` flags, `$&`, `$$`, `` $` `` and `$'` in the replacement).

use super::compile::ReplaceStep;

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

/// Byte ranges of the matches of `pattern` in `haystack`, left to right, non-overlapping.
fn find_matches(
    haystack: &str,
    pattern: &[char],
    global: bool,
    ignore_case: bool,
) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if pattern.is_empty() {
        return found;
    }
    if !ignore_case {
        let needle: String = pattern.iter().collect();
        for (start, m) in haystack.match_indices(needle.as_str()) {
            found.push((start, start + m.len()));
            if !global {
                break;
            }
        }
        return found;
    }
    let pattern: Vec<char> = pattern.iter().copied().map(canonicalize).collect();
    let chars: Vec<(usize, char)> = haystack.char_indices().collect();
    let mut i = 0;
    while i + pattern.len() <= chars.len() {
        let is_match = chars[i..i + pattern.len()]
            .iter()
            .zip(&pattern)
            .all(|(&(_, c), &p)| canonicalize(c) == p);
        if is_match {
            let start = chars[i].0;
            let end = chars
                .get(i + pattern.len())
                .map_or(haystack.len(), |&(b, _)| b);
            found.push((start, end));
            if !global {
                break;
            }
            i += pattern.len();
        } else {
            i += 1;
        }
    }
    found
}

/// Expands a replacement string for one match (`GetSubstitution` without capture groups).
fn push_substitution(
    out: &mut String,
    replacement: &str,
    haystack: &str,
    start: usize,
    end: usize,
) {
    let mut rest = replacement;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match after.chars().next() {
            Some('$') => out.push('$'),
            Some('&') => out.push_str(&haystack[start..end]),
            Some('`') => out.push_str(&haystack[..start]),
            Some('\'') => out.push_str(&haystack[end..]),
            _ => {
                out.push('$');
                rest = after;
                continue;
            }
        }
        rest = &after[1..];
    }
    out.push_str(rest);
}

/// `value.replace(new RegExp(escaped(pattern), flags), replacement)`.
pub(crate) fn replace_literal(
    value: &str,
    step: &ReplaceStep,
    global: bool,
    ignore_case: bool,
) -> String {
    let matches = find_matches(value, &step.pattern, global, ignore_case);
    if matches.is_empty() {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut pos = 0;
    for (start, end) in matches {
        out.push_str(&value[pos..start]);
        if step.replacement.contains('$') {
            push_substitution(&mut out, &step.replacement, value, start, end);
        } else {
            out.push_str(&step.replacement);
        }
        pos = end;
    }
    out.push_str(&value[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(p: &str, r: &str) -> ReplaceStep {
        ReplaceStep {
            pattern: p.chars().collect(),
            replacement: r.to_string(),
            too_long: None,
        }
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
    }
}
