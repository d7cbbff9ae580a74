//! Deep equality of JSON values as JavaScript's `toEqual` sees them, shared by the test files
//! that include it with `#[path = "common/js_equal.rs"] mod js_equal;`.

use serde_json::Value;

/// Numbers by their double (`1e7` built as a float is the integer 10000000), object keys
/// unordered.
pub fn js_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| js_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| js_equal(v, w)))
        }
        _ => a == b,
    }
}
