//! Per-field limits, checked after the body limit and before any work: every field a client sends is bounded,
//! and an oversize field is refused with its name and the limit (400), never truncated.

use serde_json::{Map, Value};

use super::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldLimits {
    /// `text` (bytes); the detector's own `max_input_bytes` applies as well.
    pub text_bytes: usize,
    pub session_id_bytes: usize,
    pub tool_name_bytes: usize,
    /// `meta` and `tool_input`, serialised (bytes).
    pub json_bytes: usize,
    /// `note` of a feedback report (bytes).
    pub note_bytes: usize,
}

impl Default for FieldLimits {
    fn default() -> Self {
        FieldLimits {
            text_bytes: 1024 * 1024,
            session_id_bytes: 256,
            tool_name_bytes: 256,
            json_bytes: 256 * 1024,
            note_bytes: 4096,
        }
    }
}

impl FieldLimits {
    pub fn text(&self, field: &str, text: &str) -> Result<(), ApiError> {
        bounded(field, text.len(), self.text_bytes)
    }

    pub fn session_id(&self, session: Option<&str>) -> Result<(), ApiError> {
        match session {
            Some("") => Err(ApiError::bad_request("session_id must not be empty (omit it instead)")),
            Some(s) => bounded("session_id", s.len(), self.session_id_bytes),
            None => Ok(()),
        }
    }

    pub fn tool_name(&self, name: &str) -> Result<(), ApiError> {
        if name.trim().is_empty() {
            return Err(ApiError::bad_request("tool_name must not be empty"));
        }
        bounded("tool_name", name.len(), self.tool_name_bytes)
    }

    pub fn meta(&self, meta: &Map<String, Value>) -> Result<(), ApiError> {
        if meta.is_empty() {
            return Ok(());
        }
        bounded("meta", json_len(meta), self.json_bytes)
    }

    pub fn json(&self, field: &str, value: &Value) -> Result<(), ApiError> {
        bounded(field, json_len(value), self.json_bytes)
    }

    pub fn note(&self, note: Option<&str>) -> Result<(), ApiError> {
        note.map_or(Ok(()), |n| bounded("note", n.len(), self.note_bytes))
    }
}

fn bounded(field: &str, len: usize, max: usize) -> Result<(), ApiError> {
    if len > max {
        Err(ApiError::bad_request(format!(
            "{field} is {len} bytes, above the limit of {max} bytes"
        )))
    } else {
        Ok(())
    }
}

fn json_len(v: &impl serde::Serialize) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Counter(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversize_fields_name_the_field_and_the_limit() {
        let l = FieldLimits {
            session_id_bytes: 4,
            json_bytes: 10,
            ..FieldLimits::default()
        };
        assert!(l.session_id(Some("abcd")).is_ok());
        let e = l.session_id(Some("abcde")).unwrap_err();
        assert!(
            e.message.contains("session_id is 5 bytes") && e.message.contains("4 bytes"),
            "{}",
            e.message
        );
        assert!(l.session_id(Some("")).is_err());
        assert!(l.json("tool_input", &serde_json::json!({"k": "0123456789"})).is_err());
        assert!(l.tool_name("  ").is_err());
    }
}
