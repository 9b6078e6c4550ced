//! Browser helpers for front ends on `wasm32` (feature `http`): the clock and the cross-tab
//! message, as next-auth/react does them.

use crate::sync::{BroadcastMessage, STORAGE_KEY};

/// `Date.now()` in milliseconds.
pub fn now_ms() -> u64 {
    let now = js_sys::Date::now();
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}

/// Writes the message to `localStorage["nextauth.message"]`; other tabs of the origin get a
/// `storage` event. Failures (no storage, private mode, quota) are ignored, like next-auth.
///
/// The key is removed first: a `storage` event only fires when the value changes, and
/// next-auth's message carries its timestamp in seconds, so two equal messages within one
/// second would otherwise reach nobody. The removal's own event (`newValue: null`) is ignored
/// by every receiver, next-auth/react's included.
pub fn post_message(message: &BroadcastMessage) {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return;
    };
    let _ = storage.remove_item(STORAGE_KEY);
    let _ = storage.set_item(STORAGE_KEY, &message.to_json());
}

/// The current page's URL (`window.location.href`).
pub fn current_href() -> Option<String> {
    web_sys::window().and_then(|w| w.location().href().ok())
}
