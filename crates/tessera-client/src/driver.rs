//! Runs the state machine (see [`SessionDriver`]).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

use futures_channel::oneshot;
use serde_json::Value;

use crate::error::ClientError;
use crate::machine::{Command, FetchRequest, SessionEvent, SessionMachine, SessionState, Ticket};
use crate::sync::BroadcastMessage;

/// A boxed future that need not be `Send` (browser futures are not).
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T> + 'static>>;

/// What the session's outcome is: the session after the call, `None` when signed out (or, for
/// `update`, when nothing changed), or the error.
pub type SessionOutcome<S> = Result<Option<S>, ClientError>;

/// Where sessions come from. [`Client`](crate::Client) implements it (feature `http`).
pub trait SessionFetcher<S> {
    /// `GET /session`.
    fn get_session(&self) -> LocalFuture<SessionOutcome<S>>;
    /// `POST /session {csrfToken, data}`.
    fn update_session(&self, data: Value) -> LocalFuture<SessionOutcome<S>>;
}

/// The environment: clock, executor, timers, cross-tab messages and rendering.
pub trait SessionHost<S> {
    /// Milliseconds since the Unix epoch (`Date.now()`); broadcasts carry `now / 1000`.
    fn now_ms(&self) -> u64;
    /// Runs a task to completion in the background (e.g. `spawn_local`).
    fn spawn(&self, task: LocalFuture<()>);
    /// A future that completes after `ms` milliseconds (e.g. `setTimeout`).
    fn sleep(&self, ms: u64) -> LocalFuture<()>;
    /// Posts a message to the other tabs (`localStorage["nextauth.message"]`).
    fn broadcast(&self, message: &BroadcastMessage);
    /// The state changed; render it.
    fn state_changed(&self, state: &SessionState<S>);
    /// `required` and now signed out: redirect to sign-in (or the app's action).
    fn unauthenticated(&self) {}
}

struct Inner<S> {
    machine: RefCell<SessionMachine<S>>,
    fetcher: Box<dyn SessionFetcher<S>>,
    host: Box<dyn SessionHost<S>>,
    waiters: RefCell<HashMap<Ticket, oneshot::Sender<SessionOutcome<S>>>>,
    /// The deadline the pending timer task was started for.
    timer_deadline: Cell<Option<u64>>,
    /// Bumped whenever the pending timer is superseded; a timer task only fires if its
    /// generation is still current.
    timer_generation: Cell<u64>,
}

/// Runs a [`SessionMachine`] against a fetcher and a host.
///
/// The machine decides; the driver does: it runs fetches on the host's executor, feeds the
/// results back, keeps one timer for the next poll, writes broadcasts, reports state changes,
/// and resolves the futures of `refetch`, `update`, `signed_in` and `signed_out`.
/// Everything is single-threaded (`Rc`), as in a browser tab or a UI thread; nothing here is
/// target-specific, so tests drive it with a fake clock, fake timers and a fake fetcher.
/// `Clone` shares the driver.
pub struct SessionDriver<S> {
    inner: Rc<Inner<S>>,
}

impl<S> Clone for SessionDriver<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<S> std::fmt::Debug for SessionDriver<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionDriver").finish_non_exhaustive()
    }
}

fn stopped<S>() -> SessionOutcome<S> {
    Err(ClientError::Unsupported(
        "the session driver was dropped".to_owned(),
    ))
}

impl<S: Clone + 'static> SessionDriver<S> {
    /// A driver; call [`start`](Self::start) once the host is ready (on mount).
    pub fn new(
        machine: SessionMachine<S>,
        fetcher: impl SessionFetcher<S> + 'static,
        host: impl SessionHost<S> + 'static,
    ) -> Self {
        Self {
            inner: Rc::new(Inner {
                machine: RefCell::new(machine),
                fetcher: Box::new(fetcher),
                host: Box::new(host),
                waiters: RefCell::new(HashMap::new()),
                timer_deadline: Cell::new(None),
                timer_generation: Cell::new(0),
            }),
        }
    }

    /// Mount: fetches the session unless it is already known.
    pub fn start(&self) {
        let now = self.inner.host.now_ms();
        let commands = self.inner.machine.borrow_mut().start(now);
        self.run(commands);
    }

    /// Feeds an event (storage, visibility, online/offline; timers and fetch results are fed
    /// by the driver itself).
    pub fn dispatch(&self, event: SessionEvent<S>) {
        let now = self.inner.host.now_ms();
        let commands = self.inner.machine.borrow_mut().handle(now, event);
        self.run(commands);
    }

    /// The current state.
    pub fn state(&self) -> SessionState<S> {
        self.inner.machine.borrow().state()
    }

    /// Refetches the session (after the request in flight, if any); with `broadcast`, other
    /// tabs are told afterwards. Resolves with the fetched session.
    pub fn refetch(&self, broadcast: bool) -> impl Future<Output = SessionOutcome<S>> + 'static {
        let now = self.inner.host.now_ms();
        let (ticket, commands) = self.inner.machine.borrow_mut().refetch(now, broadcast);
        self.wait(ticket, commands)
    }

    /// `update(data)`: resolves with the new session, or `Ok(None)` when signed out / loading
    /// (nothing was sent) or the server answered no session.
    pub fn update(&self, data: Value) -> impl Future<Output = SessionOutcome<S>> + 'static {
        let now = self.inner.host.now_ms();
        let (ticket, commands) = self.inner.machine.borrow_mut().update(now, data);
        self.wait(ticket, commands)
    }

    /// Call after a successful sign-in: refetches and broadcasts. Resolves with the session.
    pub fn signed_in(&self) -> impl Future<Output = SessionOutcome<S>> + 'static {
        let now = self.inner.host.now_ms();
        let (ticket, commands) = self.inner.machine.borrow_mut().signed_in(now);
        self.wait(ticket, commands)
    }

    /// Call after a successful sign-out: broadcasts `signout` and refetches.
    pub fn signed_out(&self) -> impl Future<Output = SessionOutcome<S>> + 'static {
        let now = self.inner.host.now_ms();
        let (ticket, commands) = self.inner.machine.borrow_mut().signed_out(now);
        self.wait(ticket, commands)
    }

    fn wait(
        &self,
        ticket: Ticket,
        commands: Vec<Command<S>>,
    ) -> impl Future<Output = SessionOutcome<S>> + 'static {
        let (tx, rx) = oneshot::channel();
        self.inner.waiters.borrow_mut().insert(ticket, tx);
        self.run(commands);
        async move { rx.await.unwrap_or_else(|_| stopped()) }
    }

    fn run(&self, commands: Vec<Command<S>>) {
        for command in commands {
            match command {
                Command::Fetch { id, request } => {
                    let fetch = match request {
                        FetchRequest::Get => self.inner.fetcher.get_session(),
                        FetchRequest::Update(data) => self.inner.fetcher.update_session(data),
                    };
                    let weak: Weak<Inner<S>> = Rc::downgrade(&self.inner);
                    self.inner.host.spawn(Box::pin(async move {
                        let result = fetch.await;
                        if let Some(inner) = weak.upgrade() {
                            SessionDriver { inner }.dispatch(SessionEvent::Fetched { id, result });
                        }
                    }));
                }
                Command::Broadcast(message) => self.inner.host.broadcast(&message),
                Command::StateChanged => {
                    let state = self.inner.machine.borrow().state();
                    self.inner.host.state_changed(&state);
                }
                Command::Done { ticket, result } => {
                    let waiter = self.inner.waiters.borrow_mut().remove(&ticket);
                    if let Some(tx) = waiter {
                        let _ = tx.send(result);
                    }
                }
                Command::Unauthenticated => self.inner.host.unauthenticated(),
            }
        }
        self.reschedule();
    }

    /// Keeps exactly one live timer for the machine's next deadline.
    fn reschedule(&self) {
        let deadline = self.inner.machine.borrow().next_deadline();
        if deadline == self.inner.timer_deadline.get() {
            return;
        }
        let generation = self.inner.timer_generation.get().wrapping_add(1);
        self.inner.timer_generation.set(generation);
        self.inner.timer_deadline.set(deadline);
        let Some(deadline) = deadline else {
            return;
        };
        let now = self.inner.host.now_ms();
        let sleep = self.inner.host.sleep(deadline.saturating_sub(now));
        let weak: Weak<Inner<S>> = Rc::downgrade(&self.inner);
        self.inner.host.spawn(Box::pin(async move {
            sleep.await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            if inner.timer_generation.get() != generation {
                return; // superseded
            }
            inner.timer_deadline.set(None);
            SessionDriver { inner }.dispatch(SessionEvent::Timer);
        }));
    }
}

#[cfg(feature = "http")]
impl<S: serde::de::DeserializeOwned + 'static> SessionFetcher<S> for crate::Client {
    fn get_session(&self) -> LocalFuture<SessionOutcome<S>> {
        let client = self.clone();
        Box::pin(async move { client.get_session::<S>().await })
    }

    fn update_session(&self, data: Value) -> LocalFuture<SessionOutcome<S>> {
        let client = self.clone();
        Box::pin(async move { client.update::<S, Value>(&data).await })
    }
}
