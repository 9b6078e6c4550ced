//! The driver with a fake clock, fake timers, a fake fetcher and a single-threaded executor:
//! fetches run on the executor, results flow back, one timer is kept for polling, the futures
//! of refetch/update/sign-in/out resolve, broadcasts carry next-auth's JSON.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures_channel::oneshot;
use futures_executor::LocalPool;
use futures_executor::LocalSpawner;
use futures_util::task::LocalSpawnExt;
use serde_json::{Value, json};
use tessera_client::{
    BroadcastMessage, ClientError, LocalFuture, STORAGE_KEY, SessionDriver, SessionEvent,
    SessionFetcher, SessionHost, SessionMachine, SessionOptions, SessionOutcome, SessionState,
    SessionStatus,
};

type S = String;

fn spawn_local(spawner: &LocalSpawner, f: impl std::future::Future<Output = ()> + 'static) {
    spawner.spawn_local(f).expect("executor alive");
}

#[derive(Debug)]
enum Req {
    Get(oneshot::Sender<SessionOutcome<S>>),
    Update(Value, oneshot::Sender<SessionOutcome<S>>),
}

#[derive(Clone, Default)]
struct FakeFetcher {
    requests: Rc<RefCell<Vec<Req>>>,
}

impl SessionFetcher<S> for FakeFetcher {
    fn get_session(&self) -> LocalFuture<SessionOutcome<S>> {
        let (tx, rx) = oneshot::channel();
        self.requests.borrow_mut().push(Req::Get(tx));
        Box::pin(async move {
            rx.await.unwrap_or(Err(ClientError::Network {
                url: "fake".into(),
                message: "dropped".into(),
            }))
        })
    }

    fn update_session(&self, data: Value) -> LocalFuture<SessionOutcome<S>> {
        let (tx, rx) = oneshot::channel();
        self.requests.borrow_mut().push(Req::Update(data, tx));
        Box::pin(async move {
            rx.await.unwrap_or(Err(ClientError::Network {
                url: "fake".into(),
                message: "dropped".into(),
            }))
        })
    }
}

struct Sleep {
    at: u64,
    tx: oneshot::Sender<()>,
}

#[derive(Clone)]
struct FakeHost {
    now: Rc<Cell<u64>>,
    spawner: LocalSpawner,
    sleeps: Rc<RefCell<Vec<Sleep>>>,
    broadcasts: Rc<RefCell<Vec<String>>>,
    states: Rc<RefCell<Vec<SessionState<S>>>>,
    unauthenticated: Rc<Cell<u32>>,
}

impl SessionHost<S> for FakeHost {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
    fn spawn(&self, task: LocalFuture<()>) {
        spawn_local(&self.spawner, task);
    }
    fn sleep(&self, ms: u64) -> LocalFuture<()> {
        let (tx, rx) = oneshot::channel();
        self.sleeps.borrow_mut().push(Sleep {
            at: self.now.get() + ms,
            tx,
        });
        Box::pin(async move {
            let _ = rx.await;
        })
    }
    fn broadcast(&self, message: &BroadcastMessage) {
        self.broadcasts.borrow_mut().push(message.to_json());
    }
    fn state_changed(&self, state: &SessionState<S>) {
        self.states.borrow_mut().push(state.clone());
    }
    fn unauthenticated(&self) {
        self.unauthenticated.set(self.unauthenticated.get() + 1);
    }
}

struct World {
    pool: LocalPool,
    host: FakeHost,
    fetcher: FakeFetcher,
    driver: SessionDriver<S>,
}

const T0: u64 = 1_700_000_000_000;

impl World {
    fn new(machine: SessionMachine<S>) -> Self {
        let pool = LocalPool::new();
        let host = FakeHost {
            now: Rc::new(Cell::new(T0)),
            spawner: pool.spawner(),
            sleeps: Rc::default(),
            broadcasts: Rc::default(),
            states: Rc::default(),
            unauthenticated: Rc::default(),
        };
        let fetcher = FakeFetcher::default();
        let driver = SessionDriver::new(machine, fetcher.clone(), host.clone());
        Self {
            pool,
            host,
            fetcher,
            driver,
        }
    }

    fn settle(&mut self) {
        self.pool.run_until_stalled();
    }

    fn pending(&self) -> usize {
        self.fetcher.requests.borrow().len()
    }

    /// Answers the oldest request.
    fn answer(&mut self, outcome: SessionOutcome<S>) -> Option<Value> {
        let req = self.fetcher.requests.borrow_mut().remove(0);
        let data = match req {
            Req::Get(tx) => {
                let _ = tx.send(outcome);
                None
            }
            Req::Update(data, tx) => {
                let _ = tx.send(outcome);
                Some(data)
            }
        };
        self.settle();
        data
    }

    /// Moves the clock and fires due timers.
    fn advance(&mut self, ms: u64) {
        self.host.now.set(self.host.now.get() + ms);
        let now = self.host.now.get();
        let due: Vec<Sleep> = {
            let mut sleeps = self.host.sleeps.borrow_mut();
            let (due, rest): (Vec<_>, Vec<_>) = sleeps.drain(..).partition(|s| s.at <= now);
            *sleeps = rest;
            due
        };
        for s in due {
            let _ = s.tx.send(());
        }
        self.settle();
    }

    fn last_state(&self) -> SessionState<S> {
        self.host
            .states
            .borrow()
            .last()
            .cloned()
            .expect("a rendered state")
    }
}

fn alice() -> SessionOutcome<S> {
    Ok(Some("alice".to_owned()))
}

#[test]
fn mount_fetches_renders_and_broadcasts() {
    let mut w = World::new(SessionMachine::new(SessionOptions::new()));
    w.driver.start();
    w.settle();
    assert_eq!(w.pending(), 1);
    assert_eq!(w.driver.state().status, SessionStatus::Loading);
    w.answer(alice());
    assert_eq!(w.last_state().status, SessionStatus::Authenticated);
    assert_eq!(w.last_state().data.as_deref(), Some("alice"));
    assert_eq!(
        *w.host.broadcasts.borrow(),
        vec![format!(
            r#"{{"event":"session","data":{{"trigger":"getSession"}},"timestamp":{}}}"#,
            T0 / 1000
        )]
    );
}

#[test]
fn polls_on_the_interval_with_a_single_live_timer() {
    let opts = SessionOptions::new().with_refetch_interval(Some(Duration::from_secs(5)));
    let mut w = World::new(SessionMachine::new(opts));
    w.driver.start();
    w.settle();
    assert!(w.host.sleeps.borrow().is_empty(), "no timer while loading");
    w.answer(alice());
    assert_eq!(w.host.sleeps.borrow().len(), 1);
    w.advance(4_999);
    assert_eq!(w.pending(), 0);
    w.advance(1);
    assert_eq!(w.pending(), 1, "polled at 5 s");
    w.answer(alice());
    w.advance(5_000);
    assert_eq!(w.pending(), 1, "polled again at 10 s");
    // A focus refetch in between moves the deadline; the superseded timer does not fire a
    // second poll.
    w.answer(alice());
    w.advance(2_000);
    w.driver
        .dispatch(SessionEvent::VisibilityChange { visible: true });
    w.settle();
    assert_eq!(w.pending(), 1);
    w.answer(alice());
    w.advance(3_000); // old deadline (15 s): nothing
    assert_eq!(w.pending(), 0);
    w.advance(2_000); // new deadline (12 s + 5 s)
    assert_eq!(w.pending(), 1);
    // Signed out: polling stops.
    w.answer(Ok(None));
    w.advance(60_000);
    assert_eq!(w.pending(), 0);
}

#[test]
fn update_resolves_with_the_new_session() {
    let mut w = World::new(SessionMachine::with_initial(
        SessionOptions::new(),
        Some(Some("alice".to_owned())),
    ));
    w.driver.start();
    w.settle();
    assert_eq!(w.pending(), 0, "a known session is not fetched");
    let result = Rc::new(RefCell::new(None));
    let r = result.clone();
    let fut = w.driver.update(json!({"name": "Al"}));
    spawn_local(&w.host.spawner, async move {
        *r.borrow_mut() = Some(fut.await);
    });
    w.settle();
    assert_eq!(w.last_state().status, SessionStatus::Loading);
    let sent = w.answer(Ok(Some("Al".to_owned())));
    assert_eq!(sent, Some(json!({"name": "Al"})));
    assert_eq!(*result.borrow(), Some(Ok(Some("Al".to_owned()))));
    assert_eq!(w.last_state().data.as_deref(), Some("Al"));
    assert_eq!(w.host.broadcasts.borrow().len(), 1);
}

#[test]
fn update_while_signed_out_resolves_at_once_without_a_request() {
    let mut w = World::new(SessionMachine::with_initial(
        SessionOptions::new(),
        Some(None),
    ));
    w.driver.start();
    let result = Rc::new(RefCell::new(None));
    let r = result.clone();
    let fut = w.driver.update(json!(1));
    spawn_local(&w.host.spawner, async move {
        *r.borrow_mut() = Some(fut.await);
    });
    w.settle();
    assert_eq!(*result.borrow(), Some(Ok(None)));
    assert_eq!(w.pending(), 0);
}

#[test]
fn sign_out_broadcasts_then_resolves_after_the_refetch() {
    let mut w = World::new(SessionMachine::with_initial(
        SessionOptions::new(),
        Some(Some("alice".to_owned())),
    ));
    w.driver.start();
    let done = Rc::new(Cell::new(false));
    let d = done.clone();
    let fut = w.driver.signed_out();
    spawn_local(&w.host.spawner, async move {
        assert_eq!(fut.await, Ok(None));
        d.set(true);
    });
    w.settle();
    assert!(!done.get());
    assert_eq!(
        w.host.broadcasts.borrow()[0],
        format!(
            r#"{{"event":"session","data":{{"trigger":"signout"}},"timestamp":{}}}"#,
            T0 / 1000
        )
    );
    w.answer(Ok(None));
    assert!(done.get());
    assert_eq!(w.last_state().status, SessionStatus::Unauthenticated);
    assert_eq!(
        w.host.broadcasts.borrow().len(),
        1,
        "the refetch after sign-out is quiet"
    );
}

#[test]
fn storage_messages_from_another_tab_refetch() {
    let mut w = World::new(SessionMachine::with_initial(
        SessionOptions::new(),
        Some(Some("alice".to_owned())),
    ));
    w.driver.start();
    w.driver.dispatch(SessionEvent::Storage {
        key: Some(STORAGE_KEY.to_owned()),
        new_value: Some(
            r#"{"event":"session","data":{"trigger":"signout"},"timestamp":1}"#.to_owned(),
        ),
    });
    w.settle();
    assert_eq!(w.pending(), 1);
    w.answer(Ok(None));
    assert_eq!(w.last_state().status, SessionStatus::Unauthenticated);
    assert!(w.host.broadcasts.borrow().is_empty());
}

#[test]
fn required_calls_the_host_when_signed_out() {
    let mut w = World::new(SessionMachine::new(
        SessionOptions::new().with_required(true),
    ));
    w.driver.start();
    w.settle();
    w.answer(Ok(None));
    assert_eq!(w.host.unauthenticated.get(), 1);
    assert_eq!(w.driver.state().status, SessionStatus::Loading);
}

#[test]
fn dropping_the_driver_resolves_waiters_with_an_error_and_ignores_late_results() {
    let mut w = World::new(SessionMachine::with_initial(
        SessionOptions::new(),
        Some(None),
    ));
    let result = Rc::new(RefCell::new(None));
    let r = result.clone();
    let fut = w.driver.refetch(false);
    spawn_local(&w.host.spawner, async move {
        *r.borrow_mut() = Some(fut.await);
    });
    w.settle();
    assert_eq!(w.pending(), 1);
    let World {
        mut pool,
        fetcher,
        driver,
        ..
    } = w;
    drop(driver);
    // The fetch task still holds only a weak reference: answering it is harmless.
    if let Req::Get(tx) = fetcher.requests.borrow_mut().remove(0) {
        let _ = tx.send(alice());
    }
    pool.run_until_stalled();
    assert!(matches!(
        *result.borrow(),
        Some(Err(ClientError::Unsupported(_)))
    ));
}

#[test]
fn failed_fetches_surface_as_errors_in_the_state() {
    let mut w = World::new(SessionMachine::new(SessionOptions::new()));
    w.driver.start();
    w.settle();
    w.answer(Err(ClientError::Timeout { url: "u".into() }));
    let s = w.last_state();
    assert_eq!(s.status, SessionStatus::Unauthenticated);
    assert_eq!(s.error, Some(ClientError::Timeout { url: "u".into() }));
}
