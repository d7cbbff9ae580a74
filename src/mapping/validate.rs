//! Static validation of a mapping, as Segment's `validate.ts` does it: the same rules, the same
//! messages and node paths, every error collected (Segment's `AggregateError`).

use serde_json::{Map, Value};

use super::value::{push_json_string, type_name};
use super::ValidationError;
use crate::js::utf16_len;

/// Maximum length of a `@replace` pattern or replacement (`MAX_PATTERN_LENGTH`).
pub(crate) const MAX_PATTERN_LENGTH: usize = 10;

type Errors = Vec<ValidationError>;
type Checked = Result<(), Errors>;
type Validator = fn(Option<&Value>, &[String]) -> Checked;

fn fail(stack: &[String], message: String) -> Checked {
    Err(vec![ValidationError {
        path: format!("/{}", stack.join("/")),
        message,
    }])
}

fn with(stack: &[String], key: &str) -> Vec<String> {
    let mut s = Vec::with_capacity(stack.len() + 1);
    s.extend_from_slice(stack);
    s.push(key.to_string());
    s
}

fn article(type_name: &str) -> &'static str {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// `realTypeOf`, with `undefined` for a missing value.
fn type_of(v: Option<&Value>) -> &'static str {
    v.map_or("undefined", type_name)
}

/// `realTypeOrDirective`: an object with any `@`-prefixed key is a `directive`.
fn type_or_directive(v: Option<&Value>) -> &'static str {
    match v {
        Some(Value::Object(m)) if m.keys().any(|k| k.starts_with('@')) => "directive",
        other => type_of(other),
    }
}

fn describe(v: Option<&Value>) -> String {
    let t = type_or_directive(v);
    format!("{} {t}", article(t))
}

/// Segment's `isDirective`: an object with an `@` key whose other keys are `@` keys or `_metadata`.
pub(crate) fn is_directive(m: &Map<String, Value>) -> bool {
    m.keys().any(|k| k.starts_with('@')) && m.keys().all(|k| k.starts_with('@') || k == "_metadata")
}

/// `validate(mapping, stack)`.
pub(crate) fn validate(v: Option<&Value>, stack: &[String]) -> Checked {
    match type_or_directive(v) {
        "directive" => validate_directive(v, stack),
        "object" => validate_object(v, stack),
        "array" => validate_array(v, stack),
        _ => Ok(()),
    }
}

fn validate_directive(v: Option<&Value>, stack: &[String]) -> Checked {
    let Some(Value::Object(obj)) = v else {
        let t = type_of(v);
        return fail(
            stack,
            format!("should be a directive object but it is {} {t}", article(t)),
        );
    };
    let directive_keys: Vec<&String> = obj.keys().filter(|k| k.starts_with('@')).collect();
    if directive_keys.len() > 1 {
        return fail(
            stack,
            format!(
                "should only have one @-prefixed key but it has {} keys",
                directive_keys.len()
            ),
        );
    }
    if obj.keys().any(|k| !k.starts_with('@') && k != "_metadata") {
        return fail(
            stack,
            format!(
                "should only have one @-prefixed key but it has {} keys",
                obj.len()
            ),
        );
    }
    let Some(name) = directive_keys.first() else {
        return fail(stack, "has an invalid directive: undefined".to_string());
    };
    let value = obj.get(name.as_str());
    let inner = with(stack, name);
    match name.as_str() {
        "@if" => validate_fields(
            value,
            &inner,
            &[
                ("exists", false, validate_directive_or_raw),
                ("then", false, validate_directive_or_raw),
                ("else", false, validate_directive_or_raw),
            ],
        ),
        "@case" => validate_fields(
            value,
            &inner,
            &[
                ("operator", false, validate_string),
                ("value", false, validate_directive_or_string),
            ],
        ),
        "@replace" => validate_fields(
            value,
            &inner,
            &[
                ("pattern", true, validate_pattern),
                ("replacement", false, validate_replacement),
                ("value", true, validate_directive_or_string),
                ("ignorecase", false, validate_boolean),
                ("global", false, validate_boolean),
            ],
        ),
        "@arrayPath" => {
            validate_array(value, &inner)?;
            let items = value.and_then(Value::as_array);
            validate_directive_or_string(items.and_then(|a| a.first()), &inner)?;
            validate(items.and_then(|a| a.get(1)), &inner)
        }
        "@path" | "@template" => validate_directive_or_string(value, &inner),
        "@literal" | "@excludeWhenNull" => validate_directive_or_raw(value, &inner),
        "@json" => validate_fields(
            value,
            &inner,
            &[
                ("value", true, validate_directive_or_raw),
                ("mode", true, validate_json_mode),
            ],
        ),
        "@flatten" => validate_fields(
            value,
            &inner,
            &[
                ("separator", false, validate_string),
                ("value", true, validate_directive_or_raw),
            ],
        ),
        "@merge" => validate_fields(
            value,
            &inner,
            &[
                ("direction", false, validate_merge_direction),
                ("objects", true, validate_merge_objects),
            ],
        ),
        "@transform" => validate_fields(
            value,
            &inner,
            &[
                ("apply", true, validate_directive_or_object),
                ("mapping", true, validate_directive_or_object),
            ],
        ),
        "@liquid" => validate_string(value, &inner),
        other => fail(stack, format!("has an invalid directive: {other}")),
    }
}

fn validate_directive_or_raw(v: Option<&Value>, stack: &[String]) -> Checked {
    match type_or_directive(v) {
        "directive" => validate_directive(v, stack),
        "undefined" => fail(
            stack,
            format!(
                "should be a mapping directive or a JSON value but it is {}",
                describe(v)
            ),
        ),
        _ => Ok(()),
    }
}

fn validate_directive_or_string(v: Option<&Value>, stack: &[String]) -> Checked {
    match type_or_directive(v) {
        "directive" => validate_directive(v, stack),
        "string" => Ok(()),
        _ => fail(
            stack,
            format!(
                "should be a string or a mapping directive but it is {}",
                describe(v)
            ),
        ),
    }
}

fn validate_directive_or_object(v: Option<&Value>, stack: &[String]) -> Checked {
    match type_or_directive(v) {
        "directive" => validate_directive(v, stack),
        "object" => validate_object(v, stack),
        _ => fail(
            stack,
            format!(
                "should be a mapping directive or an object but it is {}",
                describe(v)
            ),
        ),
    }
}

fn validate_string(v: Option<&Value>, stack: &[String]) -> Checked {
    if type_or_directive(v) != "string" {
        return fail(
            stack,
            format!("should be a string but it is {}", describe(v)),
        );
    }
    Ok(())
}

fn validate_boolean(v: Option<&Value>, stack: &[String]) -> Checked {
    if type_or_directive(v) != "boolean" {
        return fail(
            stack,
            format!("should be a boolean but it is {}", describe(v)),
        );
    }
    Ok(())
}

fn validate_string_length(v: Option<&Value>, stack: &[String], min: usize, max: usize) -> Checked {
    if let Some(Value::String(s)) = v {
        let len = utf16_len(s);
        if len < min {
            return fail(
                stack,
                format!("should be a string of length {min} or greater"),
            );
        }
        if len > max {
            return fail(stack, format!("should be a string of length {max} or less"));
        }
    }
    Ok(())
}

fn validate_pattern(v: Option<&Value>, stack: &[String]) -> Checked {
    validate_string(v, stack)?;
    validate_string_length(v, stack, 1, MAX_PATTERN_LENGTH)
}

fn validate_replacement(v: Option<&Value>, stack: &[String]) -> Checked {
    validate_string(v, stack)?;
    validate_string_length(v, stack, 0, MAX_PATTERN_LENGTH)
}

fn validate_allowed_strings(v: Option<&Value>, stack: &[String], allowed: &[&str]) -> Checked {
    validate_string(v, stack)?;
    let s = v.and_then(Value::as_str).unwrap_or_default();
    if !allowed.contains(&s.to_lowercase().as_str()) {
        let mut quoted = String::new();
        push_json_string(&mut quoted, s);
        return fail(
            stack,
            format!("should be one of {} but it is {quoted}", allowed.join(", ")),
        );
    }
    Ok(())
}

fn validate_json_mode(v: Option<&Value>, stack: &[String]) -> Checked {
    validate_allowed_strings(v, stack, &["encode", "decode"])
}

fn validate_merge_direction(v: Option<&Value>, stack: &[String]) -> Checked {
    validate_allowed_strings(v, stack, &["left", "right"])
}

fn validate_merge_objects(v: Option<&Value>, stack: &[String]) -> Checked {
    validate_array(v, stack)?;
    let mut errors = Vec::new();
    for (i, item) in v
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Err(e) = validate_directive_or_object(Some(item), &with(stack, &i.to_string())) {
            errors.extend(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn validate_object(v: Option<&Value>, stack: &[String]) -> Checked {
    if type_or_directive(v) != "object" {
        return fail(
            stack,
            format!("should be an object but it is {}", describe(v)),
        );
    }
    let Some(Value::Object(obj)) = v else {
        return Ok(());
    };
    if let Some(key) = obj.keys().find(|k| k.starts_with('@')) {
        let mut quoted = String::new();
        push_json_string(&mut quoted, key);
        return fail(
            stack,
            format!("shouldn't have directive (@-prefixed) keys but it has {quoted}"),
        );
    }
    let mut errors = Vec::new();
    for (k, item) in obj {
        if let Err(e) = validate(Some(item), &with(stack, k)) {
            errors.extend(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// `validateObjectWithFields`: the object and its values first, then each listed field.
fn validate_fields(
    v: Option<&Value>,
    stack: &[String],
    fields: &[(&str, bool, Validator)],
) -> Checked {
    validate_object(v, stack)?;
    let obj = v.and_then(Value::as_object);
    let mut errors = Vec::new();
    for &(name, required, check) in fields {
        let field = obj.and_then(|o| o.get(name));
        let result = match field {
            None if required => fail(
                stack,
                format!("should have field \"{name}\" but it doesn't"),
            ),
            None => Ok(()),
            Some(_) => check(field, &with(stack, name)),
        };
        if let Err(e) = result {
            errors.extend(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn validate_array(v: Option<&Value>, stack: &[String]) -> Checked {
    let t = type_of(v);
    if t != "array" {
        return fail(
            stack,
            format!("should be an array but it is {} {t}", article(t)),
        );
    }
    Ok(())
}
