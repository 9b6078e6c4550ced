//! `SessionProvider` and the context it provides.

use std::time::Duration;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_client::{SessionOptions, SessionState};

/// The session a [`SessionProvider`] starts from (next-auth's `session` prop).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub enum InitialSession {
    /// Not known: the provider shows `loading` and fetches it on mount.
    #[default]
    Unknown,
    /// Known to be signed out.
    SignedOut,
    /// Known to be signed in with this session (the JSON of `GET /api/auth/session`).
    SignedIn(Value),
}

impl InitialSession {
    /// `None` unknown, `Some(None)` signed out, `Some(Some(v))` signed in.
    pub fn into_option(self) -> Option<Option<Value>> {
        match self {
            InitialSession::Unknown => None,
            InitialSession::SignedOut => Some(None),
            InitialSession::SignedIn(v) => Some(Some(v)),
        }
    }

    /// From a session answer: `None` → signed out.
    pub fn from_session(session: Option<Value>) -> Self {
        match session {
            Some(v) if !v.is_null() && v.as_object().is_none_or(|m| !m.is_empty()) => {
                InitialSession::SignedIn(v)
            }
            _ => InitialSession::SignedOut,
        }
    }
}

/// What [`SessionProvider`] puts in the context; read it with the `use_session*` hooks.
#[derive(Clone, Copy)]
pub struct SessionContext {
    pub(crate) state: RwSignal<SessionState<Value>>,
    pub(crate) base_path: StoredValue<String>,
    #[cfg(all(feature = "browser", target_arch = "wasm32"))]
    pub(crate) driver: StoredValue<Option<tessera_client::SessionDriver<Value>>, LocalStorage>,
}

impl std::fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionContext")
            .field("base_path", &self.base_path.get_value())
            .finish_non_exhaustive()
    }
}

impl SessionContext {
    /// The session state (status, session JSON, last error), reactive.
    pub fn state(&self) -> ReadSignal<SessionState<Value>> {
        self.state.read_only()
    }

    /// The auth base path (`/api/auth` by default).
    pub fn base_path(&self) -> String {
        self.base_path.get_value()
    }
}

/// Makes the session available to [`use_session`](crate::use_session) below it, like
/// next-auth/react's `<SessionProvider>`.
///
/// With server rendering (feature `ssr` and the `preload_session` middleware) the session the server read is rendered into the page and picked up when the
/// page hydrates: no request, no `loading` flash. Otherwise it is fetched on mount.
// The component macro also emits an inner function that it leaves `pub`.
#[allow(unreachable_pub)]
#[component]
pub fn SessionProvider(
    /// The app.
    children: Children,
    /// The auth routes' path (`basePath`, default `/api/auth`).
    #[prop(optional, into)]
    base_path: Option<String>,
    /// Poll the session every this many seconds while signed in (`refetchInterval`; 0 or
    /// unset: never).
    #[prop(optional)]
    refetch_interval: Option<u32>,
    /// Refetch when the tab becomes visible (`refetchOnWindowFocus`, default true).
    #[prop(default = true)]
    refetch_on_window_focus: bool,
    /// Keep polling while offline (`refetchWhenOffline`, default true).
    #[prop(default = true)]
    refetch_when_offline: bool,
    /// Refetch when the browser comes back online (default true).
    #[prop(default = true)]
    refetch_on_reconnect: bool,
    /// The initial session (next-auth's `session` prop). Default: what the server read
    /// (with `ssr`), else unknown.
    #[prop(optional)]
    session: Option<InitialSession>,
) -> impl IntoView {
    let base_path = normalize_base_path(base_path.as_deref());
    let options = SessionOptions::new()
        .with_refetch_interval(refetch_interval.map(|s| Duration::from_secs(u64::from(s))))
        .with_refetch_on_window_focus(refetch_on_window_focus)
        .with_refetch_when_offline(refetch_when_offline)
        .with_refetch_on_reconnect(refetch_on_reconnect);
    // Server: the preloaded session (or the prop), serialized into the page. Hydrating
    // browser: the server's value, read back without running the closure.
    let initial = SharedValue::new(move || session.unwrap_or_else(server_initial)).into_inner();
    let state = RwSignal::new(SessionState::from_initial(initial.clone().into_option()));
    let ctx = SessionContext {
        state,
        base_path: StoredValue::new(base_path),
        #[cfg(all(feature = "browser", target_arch = "wasm32"))]
        driver: StoredValue::new_local(None),
    };
    provide_context(ctx);
    #[cfg(all(feature = "browser", target_arch = "wasm32"))]
    crate::browser::start(ctx, options, initial);
    #[cfg(not(all(feature = "browser", target_arch = "wasm32")))]
    let _ = (options, initial);
    children()
}

fn server_initial() -> InitialSession {
    #[cfg(feature = "ssr")]
    {
        crate::ssr::preloaded()
    }
    #[cfg(not(feature = "ssr"))]
    {
        InitialSession::Unknown
    }
}

pub(crate) fn normalize_base_path(p: Option<&str>) -> String {
    let p = p.map(str::trim).unwrap_or(crate::DEFAULT_BASE_PATH);
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        crate::DEFAULT_BASE_PATH.to_owned()
    } else {
        p.to_owned()
    }
}

/// The context, or `None` outside a [`SessionProvider`].
pub(crate) fn context() -> Option<SessionContext> {
    use_context::<SessionContext>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn initial_session_round_trips_unambiguously() {
        for v in [
            InitialSession::Unknown,
            InitialSession::SignedOut,
            InitialSession::SignedIn(json!({"user": {"name": "A"}})),
        ] {
            let s = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<InitialSession>(&s).unwrap(), v);
        }
        assert_eq!(
            InitialSession::from_session(None),
            InitialSession::SignedOut
        );
        assert_eq!(
            InitialSession::from_session(Some(json!({}))),
            InitialSession::SignedOut
        );
        assert_eq!(
            InitialSession::from_session(Some(Value::Null)),
            InitialSession::SignedOut
        );
        assert_eq!(
            InitialSession::from_session(Some(json!({"a": 1}))).into_option(),
            Some(Some(json!({"a": 1})))
        );
        assert_eq!(InitialSession::Unknown.into_option(), None);
    }

    #[test]
    fn base_paths() {
        assert_eq!(normalize_base_path(None), "/api/auth");
        assert_eq!(normalize_base_path(Some("/auth/")), "/auth");
        assert_eq!(normalize_base_path(Some("/")), "/api/auth");
    }
}
