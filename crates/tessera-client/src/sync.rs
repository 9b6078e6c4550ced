//! Cross-tab sync: the message next-auth/react writes to `localStorage`.
//!
//! next-auth/react v4 posts `localStorage.setItem("nextauth.message",
//! JSON.stringify({event: "session", data: {trigger}, timestamp}))` (timestamp in Unix
//! seconds) and every other tab of the origin gets a `storage` event for that key and
//! refetches its session. Writing and reading exactly that message lets a Rust tab and a
//! `next-auth/react` tab of the same site stay in step.

use serde_json::{Value, json};

/// The `localStorage` key next-auth/react uses.
pub const STORAGE_KEY: &str = "nextauth.message";

/// What caused a broadcast (`data.trigger`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trigger {
    /// A tab fetched or updated its session (`"getSession"`).
    GetSession,
    /// A tab signed out (`"signout"`).
    Signout,
    /// Another value (sent by some other client).
    Other(String),
}

impl Trigger {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Trigger::GetSession => "getSession",
            Trigger::Signout => "signout",
            Trigger::Other(s) => s,
        }
    }

    fn from_wire(s: &str) -> Self {
        match s {
            "getSession" => Trigger::GetSession,
            "signout" => Trigger::Signout,
            other => Trigger::Other(other.to_owned()),
        }
    }
}

/// A `nextauth.message` value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BroadcastMessage {
    /// `data.trigger`, if the message had one.
    pub trigger: Option<Trigger>,
    /// Unix time in seconds (next-auth's `now()`).
    pub timestamp: u64,
}

impl BroadcastMessage {
    /// A `session` message.
    pub fn session(trigger: Trigger, timestamp_secs: u64) -> Self {
        Self {
            trigger: Some(trigger),
            timestamp: timestamp_secs,
        }
    }

    /// The JSON to store under [`STORAGE_KEY`], byte for byte what next-auth/react writes:
    /// `{"event":"session","data":{"trigger":"signout"},"timestamp":1700000000}`.
    pub fn to_json(&self) -> String {
        let data = match &self.trigger {
            Some(t) => json!({ "trigger": t.as_str() }),
            None => json!({}),
        };
        // serde_json keeps insertion order only with `preserve_order`; build the text by hand so
        // the key order matches JSON.stringify's.
        format!(
            "{{\"event\":\"session\",\"data\":{},\"timestamp\":{}}}",
            data, self.timestamp
        )
    }

    /// The message of a `storage` event, if it is one next-auth/react would act on: the key is
    /// [`STORAGE_KEY`], the new value is JSON with `event == "session"` and a truthy `data`.
    /// Anything else (other keys, a cleared key, invalid JSON) is `None`.
    pub fn from_storage_event(key: Option<&str>, new_value: Option<&str>) -> Option<Self> {
        if key != Some(STORAGE_KEY) {
            return None;
        }
        let value: Value = serde_json::from_str(new_value.unwrap_or("{}")).ok()?;
        if value.get("event").and_then(Value::as_str) != Some("session") {
            return None;
        }
        let data = value.get("data")?;
        if !truthy(data) {
            return None;
        }
        let trigger = data
            .get("trigger")
            .and_then(Value::as_str)
            .map(Trigger::from_wire);
        let timestamp = value
            .get("timestamp")
            .and_then(|t| t.as_u64().or_else(|| t.as_f64().map(|f| f.max(0.0) as u64)))
            .unwrap_or(0);
        Some(Self { trigger, timestamp })
    }
}

/// JavaScript truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_exactly_what_next_auth_writes() {
        assert_eq!(
            BroadcastMessage::session(Trigger::Signout, 1_700_000_000).to_json(),
            r#"{"event":"session","data":{"trigger":"signout"},"timestamp":1700000000}"#
        );
        assert_eq!(
            BroadcastMessage::session(Trigger::GetSession, 5).to_json(),
            r#"{"event":"session","data":{"trigger":"getSession"},"timestamp":5}"#
        );
    }

    #[test]
    fn reads_next_auth_messages() {
        let m = BroadcastMessage::from_storage_event(
            Some(STORAGE_KEY),
            Some(r#"{"event":"session","data":{"trigger":"signout"},"timestamp":1700000001}"#),
        )
        .unwrap();
        assert_eq!(m.trigger, Some(Trigger::Signout));
        assert_eq!(m.timestamp, 1_700_000_001);
        // Our own output round-trips.
        let ours = BroadcastMessage::session(Trigger::GetSession, 9);
        assert_eq!(
            BroadcastMessage::from_storage_event(Some(STORAGE_KEY), Some(&ours.to_json())),
            Some(ours)
        );
        // A v4 clientId or extra fields are ignored; a missing trigger is fine.
        let m = BroadcastMessage::from_storage_event(
            Some(STORAGE_KEY),
            Some(r#"{"event":"session","data":{"x":1},"clientId":"abc","timestamp":1.5}"#),
        )
        .unwrap();
        assert_eq!(m.trigger, None);
        assert_eq!(m.timestamp, 1);
        let m = BroadcastMessage::from_storage_event(
            Some(STORAGE_KEY),
            Some(r#"{"event":"session","data":{"trigger":"custom"}}"#),
        )
        .unwrap();
        assert_eq!(m.trigger, Some(Trigger::Other("custom".into())));
    }

    #[test]
    fn ignores_what_next_auth_ignores() {
        let ev = |k: Option<&str>, v: Option<&str>| BroadcastMessage::from_storage_event(k, v);
        let good = r#"{"event":"session","data":{"trigger":"signout"},"timestamp":1}"#;
        assert!(ev(Some("other"), Some(good)).is_none());
        assert!(
            ev(None, Some(good)).is_none(),
            "localStorage.clear() has a null key"
        );
        assert!(ev(Some(STORAGE_KEY), None).is_none(), "removed key");
        assert!(ev(Some(STORAGE_KEY), Some("not json")).is_none());
        assert!(ev(Some(STORAGE_KEY), Some("null")).is_none());
        assert!(ev(Some(STORAGE_KEY), Some("[1]")).is_none());
        assert!(ev(Some(STORAGE_KEY), Some(r#"{"event":"other","data":{}}"#)).is_none());
        assert!(ev(Some(STORAGE_KEY), Some(r#"{"event":"session"}"#)).is_none());
        assert!(
            ev(
                Some(STORAGE_KEY),
                Some(r#"{"event":"session","data":null}"#)
            )
            .is_none()
        );
        assert!(ev(Some(STORAGE_KEY), Some(r#"{"event":"session","data":0}"#)).is_none());
        assert!(ev(Some(STORAGE_KEY), Some(r#"{"event":"session","data":""}"#)).is_none());
        // Truthy non-object data passes next-auth's check too.
        assert!(ev(Some(STORAGE_KEY), Some(r#"{"event":"session","data":"x"}"#)).is_some());
    }
}
