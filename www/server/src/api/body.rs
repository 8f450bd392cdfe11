//! Reading request bodies as JSON, with a 400 problem for anything else.

use axum::response::Response;
use serde_json::{Map, Value};

use crate::problem::bad_body;

/// Parses a JSON body. An empty body is `{}` when `empty_is_object`, an error otherwise.
pub fn json_body(body: &[u8], empty_is_object: bool) -> Result<Value, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return if empty_is_object {
            Ok(Value::Object(Map::new()))
        } else {
            Err(bad_body("the body is empty; send JSON"))
        };
    }
    serde_json::from_slice(body).map_err(|err| bad_body(format!("the body is not JSON: {err}")))
}

#[cfg(test)]
mod tests {
    use super::json_body;

    #[test]
    fn empty_and_broken_bodies() {
        assert_eq!(json_body(b"", true).unwrap(), serde_json::json!({}));
        assert_eq!(json_body(b" ", false).unwrap_err().status(), 400);
        assert_eq!(json_body(b"{oops", true).unwrap_err().status(), 400);
        assert_eq!(json_body(br#"{"a":1}"#, false).unwrap()["a"], 1);
    }
}
