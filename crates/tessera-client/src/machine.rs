//! The session state machine (see [`SessionMachine`]).

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ClientError;
use crate::sync::{BroadcastMessage, Trigger};

/// `loading` | `authenticated` | `unauthenticated`, as next-auth/react reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    /// The session is not known yet (or an update is running).
    Loading,
    /// There is a session.
    Authenticated,
    /// There is no session.
    Unauthenticated,
}

impl SessionStatus {
    /// next-auth's string.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Loading => "loading",
            SessionStatus::Authenticated => "authenticated",
            SessionStatus::Unauthenticated => "unauthenticated",
        }
    }

    /// The status `useSession({required: true})` reports: `unauthenticated` shows as
    /// `loading` (the page is about to be left for the sign-in page).
    pub fn when_required(self) -> Self {
        match self {
            SessionStatus::Unauthenticated => SessionStatus::Loading,
            s => s,
        }
    }
}

impl std::fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a front end renders: the status, the session, and the last error (if the last request
/// failed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionState<S> {
    /// The status.
    pub status: SessionStatus,
    /// The session; `Some` exactly when the machine knows one (it is kept while an update runs).
    pub data: Option<S>,
    /// The error of the last request, cleared by the next success.
    pub error: Option<ClientError>,
}

impl<S> SessionState<S> {
    /// The state for an initial session: `None` = unknown (loading), `Some(None)` = signed
    /// out, `Some(Some(s))` = signed in.
    pub fn from_initial(initial: Option<Option<S>>) -> Self {
        let (status, data) = match initial {
            None => (SessionStatus::Loading, None),
            Some(None) => (SessionStatus::Unauthenticated, None),
            Some(Some(s)) => (SessionStatus::Authenticated, Some(s)),
        };
        Self {
            status,
            data,
            error: None,
        }
    }
}

/// Options of the machine (next-auth's `SessionProvider` props and `useSession({required})`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Poll the session this often while signed in (`refetchInterval`). `None`: never.
    pub refetch_interval: Option<Duration>,
    /// Refetch when the page becomes visible again (`refetchOnWindowFocus`, default `true`).
    pub refetch_on_window_focus: bool,
    /// Keep polling while offline (`refetchWhenOffline`, default `true`; `false` pauses
    /// polling while the browser is offline).
    pub refetch_when_offline: bool,
    /// Refetch when the browser comes back online while signed in (default `true`).
    pub refetch_on_reconnect: bool,
    /// `useSession({required: true})`: an unauthenticated status shows as `loading` and
    /// emits [`Command::Unauthenticated`] (the front end redirects to sign-in or runs its
    /// `on_unauthenticated` action).
    pub required: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            refetch_interval: None,
            refetch_on_window_focus: true,
            refetch_when_offline: true,
            refetch_on_reconnect: true,
            required: false,
        }
    }
}

impl SessionOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets [`SessionOptions::refetch_interval`] (a zero duration means never, like next-auth's `0`).
    pub fn with_refetch_interval(mut self, every: Option<Duration>) -> Self {
        self.refetch_interval = every.filter(|d| !d.is_zero());
        self
    }
    /// Sets [`SessionOptions::refetch_on_window_focus`].
    pub fn with_refetch_on_window_focus(mut self, on: bool) -> Self {
        self.refetch_on_window_focus = on;
        self
    }
    /// Sets [`SessionOptions::refetch_when_offline`].
    pub fn with_refetch_when_offline(mut self, on: bool) -> Self {
        self.refetch_when_offline = on;
        self
    }
    /// Sets [`SessionOptions::refetch_on_reconnect`].
    pub fn with_refetch_on_reconnect(mut self, on: bool) -> Self {
        self.refetch_on_reconnect = on;
        self
    }
    /// Sets [`SessionOptions::required`].
    pub fn with_required(mut self, required: bool) -> Self {
        self.required = required;
        self
    }
}

/// Identifies one request the machine asked for; the result comes back in
/// [`SessionEvent::Fetched`] with the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

/// Identifies one call that waits for an outcome ([`SessionMachine::refetch`],
/// [`SessionMachine::update`], sign-in/out); answered by exactly one [`Command::Done`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(u64);

/// The request a [`Command::Fetch`] asks for.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FetchRequest {
    /// `GET /session` (next-auth's `getSession()`).
    Get,
    /// `POST /session` with `{csrfToken, data}` (next-auth's `update(data)`).
    Update(Value),
}

/// Something that happened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SessionEvent<S> {
    /// A timer set for [`SessionMachine::next_deadline`] fired (early or late is fine).
    Timer,
    /// `visibilitychange`: whether the page is now visible.
    VisibilityChange {
        /// `document.visibilityState === "visible"`.
        visible: bool,
    },
    /// The `online` event.
    Online,
    /// The `offline` event.
    Offline,
    /// A `storage` event (from another tab); the machine checks key and message itself.
    Storage {
        /// `event.key`.
        key: Option<String>,
        /// `event.newValue`.
        new_value: Option<String>,
    },
    /// The result of a [`Command::Fetch`]: the session (`None` = signed out) or an error.
    Fetched {
        /// The id from the command.
        id: RequestId,
        /// What the server said.
        result: Result<Option<S>, ClientError>,
    },
}

/// What the front end must do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Command<S> {
    /// Run this request and feed the result back as [`SessionEvent::Fetched`].
    Fetch {
        /// Correlates the result.
        id: RequestId,
        /// The request.
        request: FetchRequest,
    },
    /// Write the message to `localStorage["nextauth.message"]` (other tabs refetch).
    Broadcast(BroadcastMessage),
    /// [`SessionMachine::state`] changed: render it.
    StateChanged,
    /// The outcome for a waiting call: the session after it (`None` = signed out or, for an
    /// update, no change), or the error.
    Done {
        /// The call.
        ticket: Ticket,
        /// Its outcome.
        result: Result<Option<S>, ClientError>,
    },
    /// `required` and the session just became unauthenticated: redirect to sign-in or run the
    /// `on_unauthenticated` action.
    Unauthenticated,
}

#[derive(Debug)]
enum InFlightKind {
    Get {
        broadcast: bool,
        tickets: Vec<Ticket>,
    },
    Update {
        ticket: Ticket,
    },
}

#[derive(Debug)]
struct InFlight {
    id: RequestId,
    kind: InFlightKind,
}

#[derive(Debug, Default)]
struct PendingRefetch {
    broadcast: bool,
    tickets: Vec<Ticket>,
}

/// The session state machine of every front end: next-auth/react's `SessionProvider` and
/// `useSession` semantics, without I/O.
///
/// The machine is driven by events (timer, visibility, online/offline, `storage` messages from
/// other tabs, fetch results) and answers with [`Command`]s (fetch, broadcast, state changed).
/// It never performs I/O and never reads a clock: every call takes `now` in milliseconds
/// since an arbitrary epoch (Unix time in practice, since broadcasts carry `now / 1000` as
/// their timestamp). [`SessionDriver`](crate::SessionDriver) runs it against a fetcher and a
/// host (timers, storage, rendering); tests run it with a fake clock.
///
/// Semantics (next-auth/react 4.24 `SessionProvider`):
/// * status `loading` until the first session answer (or immediately known when an initial
///   session is given, e.g. from server rendering: then there is no fetch on start);
/// * `update()` is a no-op while loading or signed out; while it runs the status is
///   `loading`; a non-empty answer replaces the session and is broadcast;
/// * polling every `refetch_interval` only while a session exists (and, with
///   `refetch_when_offline = false`, only while online); a refetch when the page becomes
///   visible (`refetch_on_window_focus`) unless signed out;
/// * a `storage` message from another tab always refetches, without re-broadcasting;
/// * broadcasts: `getSession` after a fetch on start, on a poll or on focus, after an update
///   and after signing in; `signout` when signing out.
///
/// Deliberate differences from next-auth/react, all about robustness:
/// * at most one request is in flight; triggers that arrive meanwhile are coalesced into one
///   follow-up request (polls and focus are dropped, since the running request is fresh);
///   `update()` calls are queued instead of being ignored;
/// * a failed fetch keeps the session the tab already had (next-auth treats it as signed
///   out) and records the error; a failure of the very first fetch means unauthenticated;
/// * coming back online refetches (`refetch_on_reconnect`), without broadcasting;
/// * signing in broadcasts `getSession`, so other tabs (Rust or next-auth/react) follow.
#[derive(Debug)]
pub struct SessionMachine<S> {
    options: SessionOptions,
    /// `None` unknown, `Some(None)` signed out, `Some(Some)` signed in.
    session: Option<Option<S>>,
    error: Option<ClientError>,
    in_flight: Option<InFlight>,
    pending_refetch: Option<PendingRefetch>,
    pending_updates: VecDeque<(Ticket, Value)>,
    last_sync_ms: Option<u64>,
    online: bool,
    next_id: u64,
    /// The raw status at the end of the previous call (for `required` transitions).
    last_raw: SessionStatus,
    changed: bool,
}

impl<S: Clone> SessionMachine<S> {
    /// A machine that does not know the session yet: [`start`](Self::start) fetches it.
    pub fn new(options: SessionOptions) -> Self {
        Self::with_initial(options, None)
    }

    /// A machine with an initial session (next-auth's `session` prop, or the session the
    /// server rendered with): `None` = unknown, `Some(None)` = signed out, `Some(Some(s))` =
    /// signed in. A known session is not fetched again on start.
    pub fn with_initial(options: SessionOptions, initial: Option<Option<S>>) -> Self {
        let mut m = Self {
            options,
            session: initial,
            error: None,
            in_flight: None,
            pending_refetch: None,
            pending_updates: VecDeque::new(),
            last_sync_ms: None,
            online: true,
            next_id: 0,
            last_raw: SessionStatus::Loading,
            changed: false,
        };
        m.last_raw = m.raw_status();
        m
    }

    /// The options.
    pub fn options(&self) -> &SessionOptions {
        &self.options
    }

    /// Mount: fetch the session unless it is known (then the sync time is `now`).
    pub fn start(&mut self, now_ms: u64) -> Vec<Command<S>> {
        let mut out = Vec::new();
        if self.session.is_some() {
            self.last_sync_ms = Some(now_ms);
            // A known "signed out" still triggers `required` on mount.
            if self.options.required && self.raw_status() == SessionStatus::Unauthenticated {
                out.push(Command::Unauthenticated);
            }
        } else if self.in_flight.is_none() {
            self.begin_get(now_ms, true, Vec::new(), &mut out);
        }
        self.finish(out)
    }

    /// Feeds an event.
    pub fn handle(&mut self, now_ms: u64, event: SessionEvent<S>) -> Vec<Command<S>> {
        let mut out = Vec::new();
        match event {
            SessionEvent::Timer => {
                if self.next_deadline().is_some_and(|d| now_ms >= d) {
                    self.begin_get(now_ms, true, Vec::new(), &mut out);
                }
            }
            SessionEvent::VisibilityChange { visible } => {
                if visible
                    && self.options.refetch_on_window_focus
                    && self.in_flight.is_none()
                    && !matches!(self.session, Some(None))
                {
                    self.begin_get(now_ms, true, Vec::new(), &mut out);
                }
            }
            SessionEvent::Online => {
                self.online = true;
                if self.options.refetch_on_reconnect
                    && self.in_flight.is_none()
                    && matches!(self.session, Some(Some(_)))
                {
                    self.begin_get(now_ms, false, Vec::new(), &mut out);
                }
            }
            SessionEvent::Offline => self.online = false,
            SessionEvent::Storage { key, new_value } => {
                if BroadcastMessage::from_storage_event(key.as_deref(), new_value.as_deref())
                    .is_some()
                {
                    self.request_refetch(now_ms, false, None, &mut out);
                }
            }
            SessionEvent::Fetched { id, result } => self.on_fetched(now_ms, id, result, &mut out),
        }
        self.finish(out)
    }

    /// Refetches the session now, or right after the request in flight (next-auth's
    /// `_getSession({event: "storage"})`). With `broadcast`, other tabs are told afterwards.
    pub fn refetch(&mut self, now_ms: u64, broadcast: bool) -> (Ticket, Vec<Command<S>>) {
        let ticket = self.ticket();
        let mut out = Vec::new();
        self.request_refetch(now_ms, broadcast, Some(ticket), &mut out);
        (ticket, self.finish(out))
    }

    /// `update(data)`: `POST /session {csrfToken, data}`. Answers `Done(Ok(None))` at once
    /// while loading or signed out (next-auth's no-op); queued behind a request in flight.
    pub fn update(&mut self, now_ms: u64, data: Value) -> (Ticket, Vec<Command<S>>) {
        let ticket = self.ticket();
        let mut out = Vec::new();
        if !matches!(self.session, Some(Some(_))) {
            out.push(Command::Done {
                ticket,
                result: Ok(None),
            });
        } else if self.in_flight.is_none() {
            self.begin_update(now_ms, ticket, data, &mut out);
        } else {
            self.pending_updates.push_back((ticket, data));
        }
        (ticket, self.finish(out))
    }

    /// A sign-in succeeded: refetch, then tell other tabs.
    pub fn signed_in(&mut self, now_ms: u64) -> (Ticket, Vec<Command<S>>) {
        self.refetch(now_ms, true)
    }

    /// A sign-out succeeded: tell other tabs (`signout`), then refetch (without broadcasting).
    pub fn signed_out(&mut self, now_ms: u64) -> (Ticket, Vec<Command<S>>) {
        let ticket = self.ticket();
        let mut out = vec![Command::Broadcast(BroadcastMessage::session(
            Trigger::Signout,
            now_ms / 1000,
        ))];
        self.request_refetch(now_ms, false, Some(ticket), &mut out);
        (ticket, self.finish(out))
    }

    /// When the next poll is due (same clock as `now_ms`), if one is: only with a
    /// `refetch_interval`, while signed in, idle, and online (unless `refetch_when_offline`).
    pub fn next_deadline(&self) -> Option<u64> {
        let every = self.options.refetch_interval?;
        if self.in_flight.is_some()
            || !matches!(self.session, Some(Some(_)))
            || !(self.online || self.options.refetch_when_offline)
        {
            return None;
        }
        let last = self.last_sync_ms?;
        Some(last.saturating_add(u64::try_from(every.as_millis()).unwrap_or(u64::MAX)))
    }

    /// The status to render (with `required`, `unauthenticated` shows as `loading`).
    pub fn status(&self) -> SessionStatus {
        let raw = self.raw_status();
        if self.options.required {
            raw.when_required()
        } else {
            raw
        }
    }

    /// The session, if signed in.
    pub fn data(&self) -> Option<&S> {
        self.session.as_ref().and_then(Option::as_ref)
    }

    /// The error of the last request.
    pub fn error(&self) -> Option<&ClientError> {
        self.error.as_ref()
    }

    /// Whether a request is in flight.
    pub fn is_fetching(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Whether the machine believes the browser is online.
    pub fn is_online(&self) -> bool {
        self.online
    }

    /// A snapshot to render.
    pub fn state(&self) -> SessionState<S> {
        SessionState {
            status: self.status(),
            data: self.data().cloned(),
            error: self.error.clone(),
        }
    }

    // --- internals ---------------------------------------------------------------------------

    fn raw_status(&self) -> SessionStatus {
        if matches!(
            self.in_flight,
            Some(InFlight {
                kind: InFlightKind::Update { .. },
                ..
            })
        ) {
            return SessionStatus::Loading;
        }
        match self.session {
            None => SessionStatus::Loading,
            Some(None) => SessionStatus::Unauthenticated,
            Some(Some(_)) => SessionStatus::Authenticated,
        }
    }

    fn ticket(&mut self) -> Ticket {
        self.next_id += 1;
        Ticket(self.next_id)
    }

    fn request_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }

    fn request_refetch(
        &mut self,
        now_ms: u64,
        broadcast: bool,
        ticket: Option<Ticket>,
        out: &mut Vec<Command<S>>,
    ) {
        if self.in_flight.is_none() {
            self.begin_get(now_ms, broadcast, ticket.into_iter().collect(), out);
        } else {
            let p = self
                .pending_refetch
                .get_or_insert_with(PendingRefetch::default);
            p.broadcast |= broadcast;
            p.tickets.extend(ticket);
        }
    }

    fn begin_get(
        &mut self,
        now_ms: u64,
        broadcast: bool,
        tickets: Vec<Ticket>,
        out: &mut Vec<Command<S>>,
    ) {
        let id = self.request_id();
        self.in_flight = Some(InFlight {
            id,
            kind: InFlightKind::Get { broadcast, tickets },
        });
        self.last_sync_ms = Some(now_ms);
        out.push(Command::Fetch {
            id,
            request: FetchRequest::Get,
        });
    }

    fn begin_update(
        &mut self,
        now_ms: u64,
        ticket: Ticket,
        data: Value,
        out: &mut Vec<Command<S>>,
    ) {
        let id = self.request_id();
        self.in_flight = Some(InFlight {
            id,
            kind: InFlightKind::Update { ticket },
        });
        self.last_sync_ms = Some(now_ms);
        self.changed = true; // status becomes loading
        out.push(Command::Fetch {
            id,
            request: FetchRequest::Update(data),
        });
    }

    fn on_fetched(
        &mut self,
        now_ms: u64,
        id: RequestId,
        result: Result<Option<S>, ClientError>,
        out: &mut Vec<Command<S>>,
    ) {
        if self.in_flight.as_ref().map(|f| f.id) != Some(id) {
            return; // not ours (stale or duplicate)
        }
        let Some(flight) = self.in_flight.take() else {
            return;
        };
        self.changed = true;
        match flight.kind {
            InFlightKind::Get { broadcast, tickets } => {
                match &result {
                    Ok(s) => {
                        self.session = Some(s.clone());
                        self.error = None;
                    }
                    Err(e) => {
                        self.error = Some(e.clone());
                        if self.session.is_none() {
                            self.session = Some(None);
                        }
                    }
                }
                if broadcast {
                    out.push(Command::Broadcast(BroadcastMessage::session(
                        Trigger::GetSession,
                        now_ms / 1000,
                    )));
                }
                for ticket in tickets {
                    out.push(Command::Done {
                        ticket,
                        result: result.clone(),
                    });
                }
            }
            InFlightKind::Update { ticket } => {
                match &result {
                    Ok(Some(s)) => {
                        self.session = Some(Some(s.clone()));
                        self.error = None;
                        out.push(Command::Broadcast(BroadcastMessage::session(
                            Trigger::GetSession,
                            now_ms / 1000,
                        )));
                    }
                    Ok(None) => self.error = None,
                    Err(e) => self.error = Some(e.clone()),
                }
                out.push(Command::Done { ticket, result });
            }
        }
        self.pump(now_ms, out);
    }

    /// Starts the next queued request, if idle.
    fn pump(&mut self, now_ms: u64, out: &mut Vec<Command<S>>) {
        if self.in_flight.is_some() {
            return;
        }
        if let Some(p) = self.pending_refetch.take() {
            self.begin_get(now_ms, p.broadcast, p.tickets, out);
            return;
        }
        while let Some((ticket, data)) = self.pending_updates.pop_front() {
            if matches!(self.session, Some(Some(_))) {
                self.begin_update(now_ms, ticket, data, out);
                return;
            }
            out.push(Command::Done {
                ticket,
                result: Ok(None),
            });
        }
    }

    /// Adds `StateChanged` and `Unauthenticated` as needed.
    fn finish(&mut self, mut out: Vec<Command<S>>) -> Vec<Command<S>> {
        let raw = self.raw_status();
        if raw != self.last_raw {
            self.changed = true;
            if self.options.required && raw == SessionStatus::Unauthenticated {
                out.push(Command::Unauthenticated);
            }
            self.last_raw = raw;
        }
        if std::mem::take(&mut self.changed) {
            out.push(Command::StateChanged);
        }
        out
    }
}
