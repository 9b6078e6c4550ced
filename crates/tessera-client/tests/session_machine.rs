//! The session state machine, driven by hand with a fake clock: next-auth/react's semantics
//! (status, polling, focus, reconnect, tab sync, update, required) and the one-request rule.

use std::time::Duration;

use serde_json::json;
use tessera_client::{
    BroadcastMessage, ClientError, Command, FetchRequest, RequestId, STORAGE_KEY, SessionEvent,
    SessionMachine, SessionOptions, SessionStatus, Trigger,
};

type S = String;
type M = SessionMachine<S>;
type Cmds = Vec<Command<S>>;

const T0: u64 = 1_700_000_000_000;

fn fetch_id(cmds: &Cmds) -> RequestId {
    let ids: Vec<_> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Fetch { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 1, "expected exactly one fetch in {cmds:?}");
    ids[0]
}

fn fetch_request(cmds: &Cmds) -> FetchRequest {
    cmds.iter()
        .find_map(|c| match c {
            Command::Fetch { request, .. } => Some(request.clone()),
            _ => None,
        })
        .expect("a fetch")
}

fn no_fetch(cmds: &Cmds) {
    assert!(
        !cmds.iter().any(|c| matches!(c, Command::Fetch { .. })),
        "unexpected fetch in {cmds:?}"
    );
}

fn broadcasts(cmds: &Cmds) -> Vec<BroadcastMessage> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Broadcast(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn changed(cmds: &Cmds) -> bool {
    cmds.iter().any(|c| matches!(c, Command::StateChanged))
}

fn unauthenticated_cmds(cmds: &Cmds) -> usize {
    cmds.iter()
        .filter(|c| matches!(c, Command::Unauthenticated))
        .count()
}

fn ok(id: RequestId, s: Option<&str>) -> SessionEvent<S> {
    SessionEvent::Fetched {
        id,
        result: Ok(s.map(str::to_owned)),
    }
}

fn err(id: RequestId) -> SessionEvent<S> {
    SessionEvent::Fetched {
        id,
        result: Err(ClientError::Network {
            url: "u".into(),
            message: "refused".into(),
        }),
    }
}

fn storage(trigger: &str) -> SessionEvent<S> {
    SessionEvent::Storage {
        key: Some(STORAGE_KEY.into()),
        new_value: Some(format!(
            r#"{{"event":"session","data":{{"trigger":"{trigger}"}},"timestamp":1}}"#
        )),
    }
}

/// A machine that is signed in as "alice" at T0, nothing in flight.
fn signed_in(options: SessionOptions) -> M {
    let mut m = M::new(options);
    let c = m.start(T0);
    let id = fetch_id(&c);
    m.handle(T0 + 5, ok(id, Some("alice")));
    assert_eq!(m.status(), SessionStatus::Authenticated);
    m
}

fn signed_out_machine(options: SessionOptions) -> M {
    let mut m = M::new(options);
    let c = m.start(T0);
    let id = fetch_id(&c);
    m.handle(T0 + 5, ok(id, None));
    assert_eq!(m.status(), SessionStatus::Unauthenticated);
    m
}

// --- mount -------------------------------------------------------------------------------------

#[test]
fn mount_fetches_and_broadcasts_like_get_session() {
    let mut m = M::new(SessionOptions::new());
    assert_eq!(m.status(), SessionStatus::Loading);
    assert_eq!(m.data(), None);
    let c = m.start(T0);
    assert_eq!(fetch_request(&c), FetchRequest::Get);
    assert!(!changed(&c), "still loading: nothing to render");
    assert!(m.is_fetching());
    let c = m.handle(T0 + 250, ok(fetch_id(&c), Some("alice")));
    assert_eq!(m.status(), SessionStatus::Authenticated);
    assert_eq!(m.data().map(String::as_str), Some("alice"));
    assert!(changed(&c));
    // next-auth's getSession() broadcasts after every fetch it makes on mount.
    assert_eq!(
        broadcasts(&c),
        vec![BroadcastMessage::session(
            Trigger::GetSession,
            (T0 + 250) / 1000
        )]
    );
    assert!(!m.is_fetching());
}

#[test]
fn mount_signed_out() {
    let mut m = M::new(SessionOptions::new());
    let c = m.start(T0);
    let c = m.handle(T0, ok(fetch_id(&c), None));
    assert_eq!(m.status(), SessionStatus::Unauthenticated);
    assert_eq!(m.data(), None);
    assert!(changed(&c));
    assert_eq!(broadcasts(&c).len(), 1);
}

#[test]
fn known_initial_session_is_not_fetched_on_mount() {
    let mut m = M::with_initial(SessionOptions::new(), Some(Some("alice".to_owned())));
    assert_eq!(m.status(), SessionStatus::Authenticated);
    let c = m.start(T0);
    assert!(c.is_empty(), "{c:?}");
    let mut m = M::with_initial(SessionOptions::new(), Some(None));
    assert_eq!(m.status(), SessionStatus::Unauthenticated);
    assert!(m.start(T0).is_empty());
    // Unknown initial (no server session) fetches like a plain mount.
    let mut m = M::with_initial(SessionOptions::new(), None);
    fetch_id(&m.start(T0));
}

#[test]
fn state_snapshot() {
    let m = signed_in(SessionOptions::new());
    let s = m.state();
    assert_eq!(s.status, SessionStatus::Authenticated);
    assert_eq!(s.data.as_deref(), Some("alice"));
    assert_eq!(s.error, None);
}

// --- errors ------------------------------------------------------------------------------------

#[test]
fn first_fetch_failing_means_unauthenticated_with_the_error() {
    let mut m = M::new(SessionOptions::new());
    let c = m.start(T0);
    let c = m.handle(T0, err(fetch_id(&c)));
    assert_eq!(m.status(), SessionStatus::Unauthenticated);
    assert!(matches!(m.error(), Some(ClientError::Network { .. })));
    assert!(changed(&c));
}

#[test]
fn a_failing_refetch_keeps_the_session_and_the_next_success_clears_the_error() {
    let mut m = signed_in(SessionOptions::new());
    let c = m.handle(T0 + 10, SessionEvent::VisibilityChange { visible: true });
    m.handle(T0 + 20, err(fetch_id(&c)));
    assert_eq!(m.status(), SessionStatus::Authenticated);
    assert_eq!(m.data().map(String::as_str), Some("alice"));
    assert!(m.error().is_some());
    let c = m.handle(T0 + 30, SessionEvent::VisibilityChange { visible: true });
    m.handle(T0 + 40, ok(fetch_id(&c), Some("alice")));
    assert_eq!(m.error(), None);
}

#[test]
fn results_for_stale_requests_are_ignored() {
    let mut m = M::new(SessionOptions::new());
    let c = m.start(T0);
    let first = fetch_id(&c);
    assert!(changed(&m.handle(T0, ok(first, Some("alice")))));
    // The same result again, while idle: ignored.
    let again = m.handle(T0, ok(first, None));
    assert!(again.is_empty(), "{again:?}");
    // And while a newer request runs: ignored, the newer one is still awaited.
    let c = m.handle(T0 + 1, storage("getSession"));
    let second = fetch_id(&c);
    assert!(m.handle(T0 + 2, ok(first, None)).is_empty());
    assert!(m.is_fetching());
    assert_eq!(m.status(), SessionStatus::Authenticated);
    m.handle(T0 + 3, ok(second, None));
    assert_eq!(m.status(), SessionStatus::Unauthenticated);
}

// --- polling -----------------------------------------------------------------------------------

#[test]
fn polling_only_while_signed_in_and_idle() {
    let every = Duration::from_secs(60);
    let opts = SessionOptions::new().with_refetch_interval(Some(every));
    // Loading: no deadline.
    let mut m = M::new(opts.clone());
    let c = m.start(T0);
    assert_eq!(m.next_deadline(), None, "in flight");
    m.handle(T0 + 100, ok(fetch_id(&c), Some("alice")));
    // The deadline counts from when the request started.
    assert_eq!(m.next_deadline(), Some(T0 + 60_000));
    // Early timer: nothing.
    let c = m.handle(T0 + 59_999, SessionEvent::Timer);
    assert!(c.is_empty(), "{c:?}");
    // Due: a fetch that broadcasts like getSession().
    let c = m.handle(T0 + 60_000, SessionEvent::Timer);
    let id = fetch_id(&c);
    assert_eq!(m.next_deadline(), None);
    // While in flight, a timer does nothing.
    no_fetch(&m.handle(T0 + 200_000, SessionEvent::Timer));
    let c = m.handle(T0 + 60_050, ok(id, Some("alice")));
    assert_eq!(broadcasts(&c).len(), 1);
    assert_eq!(m.next_deadline(), Some(T0 + 120_000));
    // Signed out: no polling.
    let c = m.handle(T0 + 120_000, SessionEvent::Timer);
    m.handle(T0 + 120_010, ok(fetch_id(&c), None));
    assert_eq!(m.next_deadline(), None);
    no_fetch(&m.handle(T0 + 999_999, SessionEvent::Timer));
}

#[test]
fn no_polling_without_interval_or_with_zero() {
    let m = signed_in(SessionOptions::new());
    assert_eq!(m.next_deadline(), None);
    let m = signed_in(SessionOptions::new().with_refetch_interval(Some(Duration::ZERO)));
    assert_eq!(m.next_deadline(), None);
    assert_eq!(m.options().refetch_interval, None);
}

#[test]
fn a_focus_refetch_pushes_the_next_poll_back() {
    let opts = SessionOptions::new().with_refetch_interval(Some(Duration::from_secs(10)));
    let mut m = signed_in(opts);
    let c = m.handle(T0 + 7_000, SessionEvent::VisibilityChange { visible: true });
    m.handle(T0 + 7_010, ok(fetch_id(&c), Some("alice")));
    assert_eq!(m.next_deadline(), Some(T0 + 17_000));
}

#[test]
fn refetch_when_offline_false_pauses_polling_offline() {
    let opts = SessionOptions::new()
        .with_refetch_interval(Some(Duration::from_secs(30)))
        .with_refetch_when_offline(false)
        .with_refetch_on_reconnect(false);
    let mut m = signed_in(opts);
    assert!(m.next_deadline().is_some());
    let c = m.handle(T0 + 1, SessionEvent::Offline);
    assert!(c.is_empty(), "offline is not rendered: {c:?}");
    assert!(!m.is_online());
    assert_eq!(m.next_deadline(), None);
    no_fetch(&m.handle(T0 + 100_000, SessionEvent::Timer));
    no_fetch(&m.handle(T0 + 100_001, SessionEvent::Online));
    assert!(m.is_online());
    assert_eq!(m.next_deadline(), Some(T0 + 30_000));
    fetch_id(&m.handle(T0 + 100_002, SessionEvent::Timer));
}

#[test]
fn refetch_when_offline_true_keeps_polling_offline() {
    let opts = SessionOptions::new().with_refetch_interval(Some(Duration::from_secs(30)));
    let mut m = signed_in(opts);
    m.handle(T0 + 1, SessionEvent::Offline);
    assert_eq!(m.next_deadline(), Some(T0 + 30_000));
}

// --- focus and reconnect -----------------------------------------------------------------------

#[test]
fn becoming_visible_refetches_while_signed_in() {
    let mut m = signed_in(SessionOptions::new());
    no_fetch(&m.handle(T0 + 1, SessionEvent::VisibilityChange { visible: false }));
    let c = m.handle(T0 + 2, SessionEvent::VisibilityChange { visible: true });
    let id = fetch_id(&c);
    // One request at a time: a second focus while in flight is dropped.
    no_fetch(&m.handle(T0 + 3, SessionEvent::VisibilityChange { visible: true }));
    let c = m.handle(T0 + 4, ok(id, Some("alice")));
    assert_eq!(
        broadcasts(&c).len(),
        1,
        "a focus refetch broadcasts like getSession()"
    );
    no_fetch(&c);
}

#[test]
fn becoming_visible_does_not_refetch_when_signed_out_or_disabled() {
    let mut m = signed_out_machine(SessionOptions::new());
    no_fetch(&m.handle(T0 + 1, SessionEvent::VisibilityChange { visible: true }));
    let mut m = signed_in(SessionOptions::new().with_refetch_on_window_focus(false));
    no_fetch(&m.handle(T0 + 1, SessionEvent::VisibilityChange { visible: true }));
}

#[test]
fn coming_back_online_refetches_without_broadcasting() {
    let mut m = signed_in(SessionOptions::new());
    no_fetch(&m.handle(T0 + 1, SessionEvent::Offline));
    let c = m.handle(T0 + 2, SessionEvent::Online);
    let c = m.handle(T0 + 3, ok(fetch_id(&c), None));
    assert!(
        broadcasts(&c).is_empty(),
        "every tab gets `online`: no broadcast storm"
    );
    assert_eq!(m.status(), SessionStatus::Unauthenticated);
    // Not when signed out or disabled.
    no_fetch(&m.handle(T0 + 4, SessionEvent::Online));
    let mut m = signed_in(SessionOptions::new().with_refetch_on_reconnect(false));
    no_fetch(&m.handle(T0 + 5, SessionEvent::Online));
}

// --- tab sync ----------------------------------------------------------------------------------

#[test]
fn a_storage_message_refetches_without_rebroadcasting() {
    let mut m = signed_in(SessionOptions::new());
    let c = m.handle(T0 + 1, storage("signout"));
    let c = m.handle(T0 + 2, ok(fetch_id(&c), None));
    assert!(broadcasts(&c).is_empty(), "no ping-pong between tabs");
    assert_eq!(m.status(), SessionStatus::Unauthenticated);
    // Even signed out, a message refetches (another tab may have signed in).
    let c = m.handle(T0 + 3, storage("getSession"));
    m.handle(T0 + 4, ok(fetch_id(&c), Some("bob")));
    assert_eq!(m.data().map(String::as_str), Some("bob"));
}

#[test]
fn storage_events_that_next_auth_ignores_are_ignored() {
    let mut m = signed_in(SessionOptions::new());
    for (key, value) in [
        (
            Some("other-key"),
            Some(r#"{"event":"session","data":{"trigger":"signout"}}"#),
        ),
        (None, None),
        (Some(STORAGE_KEY), None),
        (Some(STORAGE_KEY), Some("garbage")),
        (Some(STORAGE_KEY), Some(r#"{"event":"other","data":{}}"#)),
        (Some(STORAGE_KEY), Some(r#"{"event":"session"}"#)),
    ] {
        let c = m.handle(
            T0,
            SessionEvent::Storage {
                key: key.map(str::to_owned),
                new_value: value.map(str::to_owned),
            },
        );
        assert!(c.is_empty(), "{key:?} {value:?}: {c:?}");
    }
}

#[test]
fn messages_during_a_request_coalesce_into_one_follow_up() {
    let mut m = signed_in(SessionOptions::new());
    let c = m.handle(T0 + 1, SessionEvent::VisibilityChange { visible: true });
    let first = fetch_id(&c);
    // Three messages while the request runs: they may describe a change the running request
    // predates, so one more request follows; not three.
    for i in 0..3 {
        no_fetch(&m.handle(T0 + 2 + i, storage("signout")));
    }
    let c = m.handle(T0 + 10, ok(first, Some("alice")));
    let second = fetch_id(&c);
    assert_ne!(first, second);
    assert_eq!(broadcasts(&c).len(), 1, "the focus refetch's own broadcast");
    let c = m.handle(T0 + 20, ok(second, None));
    no_fetch(&c);
    assert!(
        broadcasts(&c).is_empty(),
        "the storage-triggered follow-up does not broadcast"
    );
    assert_eq!(m.status(), SessionStatus::Unauthenticated);
}

// --- explicit refetch, sign-in, sign-out -------------------------------------------------------

#[test]
fn refetch_resolves_its_ticket() {
    let mut m = signed_out_machine(SessionOptions::new());
    let (ticket, c) = m.refetch(T0 + 1, false);
    let c = m.handle(T0 + 2, ok(fetch_id(&c), Some("alice")));
    assert!(c.iter().any(|cmd| matches!(cmd,
        Command::Done { ticket: t, result: Ok(Some(s)) } if *t == ticket && s == "alice")));
}

#[test]
fn refetch_while_busy_waits_for_a_fresh_request() {
    let mut m = signed_in(SessionOptions::new());
    let c = m.handle(T0 + 1, SessionEvent::VisibilityChange { visible: true });
    let first = fetch_id(&c);
    let (ticket, c) = m.refetch(T0 + 2, true);
    no_fetch(&c);
    let c = m.handle(T0 + 3, ok(first, Some("stale")));
    assert!(
        !c.iter().any(|cmd| matches!(cmd, Command::Done { .. })),
        "the running request predates the call"
    );
    let second = fetch_id(&c);
    let c = m.handle(T0 + 4, ok(second, Some("fresh")));
    assert!(c.iter().any(|cmd| matches!(cmd,
        Command::Done { ticket: t, result: Ok(Some(s)) } if *t == ticket && s == "fresh")));
    assert_eq!(
        broadcasts(&c).len(),
        1,
        "broadcast requested by the queued refetch"
    );
}

#[test]
fn sign_in_refetches_then_broadcasts() {
    let mut m = signed_out_machine(SessionOptions::new());
    let (ticket, c) = m.signed_in(T0 + 1_000);
    assert!(
        broadcasts(&c).is_empty(),
        "nothing to tell before the session is known"
    );
    let c = m.handle(T0 + 2_000, ok(fetch_id(&c), Some("alice")));
    assert_eq!(
        broadcasts(&c),
        vec![BroadcastMessage::session(
            Trigger::GetSession,
            (T0 + 2_000) / 1000
        )]
    );
    assert!(
        c.iter()
            .any(|cmd| matches!(cmd, Command::Done { ticket: t, .. } if *t == ticket))
    );
    assert_eq!(m.status(), SessionStatus::Authenticated);
}

#[test]
fn sign_out_broadcasts_signout_first_then_refetches_quietly() {
    let mut m = signed_in(SessionOptions::new());
    let (ticket, c) = m.signed_out(T0 + 3_000);
    assert!(matches!(&c[0], Command::Broadcast(b) if b.trigger == Some(Trigger::Signout)));
    assert_eq!(
        broadcasts(&c)[0].to_json(),
        format!(
            r#"{{"event":"session","data":{{"trigger":"signout"}},"timestamp":{}}}"#,
            (T0 + 3_000) / 1000
        )
    );
    let c = m.handle(T0 + 3_100, ok(fetch_id(&c), None));
    assert!(broadcasts(&c).is_empty());
    assert!(c.iter().any(|cmd| matches!(cmd,
        Command::Done { ticket: t, result: Ok(None) } if *t == ticket)));
    assert_eq!(m.status(), SessionStatus::Unauthenticated);
}

// --- update ------------------------------------------------------------------------------------

#[test]
fn update_is_a_no_op_while_loading_or_signed_out() {
    let mut m = M::new(SessionOptions::new());
    let c = m.start(T0);
    let id = fetch_id(&c);
    let (ticket, c) = m.update(T0 + 1, json!({"name": "x"}));
    no_fetch(&c);
    assert!(c.iter().any(|cmd| matches!(cmd,
        Command::Done { ticket: t, result: Ok(None) } if *t == ticket)));
    m.handle(T0 + 2, ok(id, None));
    let (ticket, c) = m.update(T0 + 3, json!({"name": "x"}));
    no_fetch(&c);
    assert!(c.iter().any(|cmd| matches!(cmd,
        Command::Done { ticket: t, result: Ok(None) } if *t == ticket)));
}

#[test]
fn update_posts_shows_loading_keeps_data_and_broadcasts_the_new_session() {
    let mut m = signed_in(SessionOptions::new());
    let (ticket, c) = m.update(T0 + 10, json!({"name": "Al"}));
    assert_eq!(
        fetch_request(&c),
        FetchRequest::Update(json!({"name": "Al"}))
    );
    assert!(changed(&c));
    assert_eq!(
        m.status(),
        SessionStatus::Loading,
        "next-auth sets loading during update()"
    );
    assert_eq!(
        m.data().map(String::as_str),
        Some("alice"),
        "data is kept while loading"
    );
    let c = m.handle(T0 + 20, ok(fetch_id(&c), Some("Al")));
    assert_eq!(m.status(), SessionStatus::Authenticated);
    assert_eq!(m.data().map(String::as_str), Some("Al"));
    assert_eq!(
        broadcasts(&c),
        vec![BroadcastMessage::session(
            Trigger::GetSession,
            (T0 + 20) / 1000
        )]
    );
    assert!(c.iter().any(|cmd| matches!(cmd,
        Command::Done { ticket: t, result: Ok(Some(s)) } if *t == ticket && s == "Al")));
}

#[test]
fn update_answering_nothing_or_failing_keeps_the_session() {
    let mut m = signed_in(SessionOptions::new());
    let (_, c) = m.update(T0 + 10, json!(1));
    let c = m.handle(T0 + 11, ok(fetch_id(&c), None));
    assert!(broadcasts(&c).is_empty());
    assert_eq!(m.status(), SessionStatus::Authenticated);
    assert_eq!(m.data().map(String::as_str), Some("alice"));
    let (ticket, c) = m.update(T0 + 12, json!(2));
    let c = m.handle(T0 + 13, err(fetch_id(&c)));
    assert!(c.iter().any(|cmd| matches!(cmd,
        Command::Done { ticket: t, result: Err(_) } if *t == ticket)));
    assert_eq!(m.status(), SessionStatus::Authenticated);
    assert!(m.error().is_some());
}

#[test]
fn updates_queue_behind_the_request_in_flight_in_order() {
    let mut m = signed_in(SessionOptions::new());
    let c = m.handle(T0 + 1, SessionEvent::VisibilityChange { visible: true });
    let get = fetch_id(&c);
    let (t1, c) = m.update(T0 + 2, json!(1));
    no_fetch(&c);
    let (t2, c) = m.update(T0 + 3, json!(2));
    no_fetch(&c);
    let c = m.handle(T0 + 4, ok(get, Some("alice")));
    assert_eq!(fetch_request(&c), FetchRequest::Update(json!(1)));
    let c = m.handle(T0 + 5, ok(fetch_id(&c), Some("one")));
    assert!(
        c.iter()
            .any(|cmd| matches!(cmd, Command::Done { ticket, .. } if *ticket == t1))
    );
    assert_eq!(fetch_request(&c), FetchRequest::Update(json!(2)));
    let c = m.handle(T0 + 6, ok(fetch_id(&c), Some("two")));
    assert!(
        c.iter()
            .any(|cmd| matches!(cmd, Command::Done { ticket, .. } if *ticket == t2))
    );
    assert_eq!(m.data().map(String::as_str), Some("two"));
    assert!(!m.is_fetching());
}

#[test]
fn a_queued_update_is_dropped_if_the_session_ended_meanwhile() {
    let mut m = signed_in(SessionOptions::new());
    let c = m.handle(T0 + 1, storage("signout"));
    let get = fetch_id(&c);
    let (ticket, _) = m.update(T0 + 2, json!({"x": 1}));
    let c = m.handle(T0 + 3, ok(get, None));
    no_fetch(&c);
    assert!(c.iter().any(|cmd| matches!(cmd,
        Command::Done { ticket: t, result: Ok(None) } if *t == ticket)));
}

#[test]
fn a_queued_refetch_runs_before_queued_updates() {
    let mut m = signed_in(SessionOptions::new());
    let (_, c) = m.update(T0 + 1, json!(1));
    let upd = fetch_id(&c);
    let (_, c) = m.update(T0 + 2, json!(2));
    no_fetch(&c);
    no_fetch(&m.handle(T0 + 3, storage("signout")));
    let c = m.handle(T0 + 4, ok(upd, Some("one")));
    assert_eq!(fetch_request(&c), FetchRequest::Get);
}

// --- required ----------------------------------------------------------------------------------

#[test]
fn required_shows_loading_and_asks_for_sign_in_once_per_sign_out() {
    let opts = SessionOptions::new().with_required(true);
    let mut m = M::new(opts.clone());
    let c = m.start(T0);
    let c = m.handle(T0 + 1, ok(fetch_id(&c), None));
    assert_eq!(
        m.status(),
        SessionStatus::Loading,
        "required: unauthenticated shows as loading"
    );
    assert_eq!(unauthenticated_cmds(&c), 1);
    // Still signed out after another fetch: no second redirect.
    let c = m.handle(T0 + 2, storage("getSession"));
    let c = m.handle(T0 + 3, ok(fetch_id(&c), None));
    assert_eq!(unauthenticated_cmds(&c), 0);
    // Signs in (another tab), then out again: asks again.
    let c = m.handle(T0 + 4, storage("getSession"));
    let c = m.handle(T0 + 5, ok(fetch_id(&c), Some("alice")));
    assert_eq!(m.status(), SessionStatus::Authenticated);
    assert_eq!(unauthenticated_cmds(&c), 0);
    let (_, c) = m.signed_out(T0 + 6);
    let c = m.handle(T0 + 7, ok(fetch_id(&c), None));
    assert_eq!(unauthenticated_cmds(&c), 1);
}

#[test]
fn required_with_a_known_signed_out_session_asks_on_mount() {
    let mut m = M::with_initial(SessionOptions::new().with_required(true), Some(None));
    assert_eq!(m.status(), SessionStatus::Loading);
    let c = m.start(T0);
    assert_eq!(unauthenticated_cmds(&c), 1);
    no_fetch(&c);
}

#[test]
fn not_required_never_asks() {
    let mut m = signed_in(SessionOptions::new());
    let (_, c) = m.signed_out(T0 + 1);
    let c = m.handle(T0 + 2, ok(fetch_id(&c), None));
    assert_eq!(unauthenticated_cmds(&c), 0);
    assert_eq!(m.status(), SessionStatus::Unauthenticated);
}

#[test]
fn status_strings_match_next_auth() {
    assert_eq!(SessionStatus::Loading.as_str(), "loading");
    assert_eq!(SessionStatus::Authenticated.to_string(), "authenticated");
    assert_eq!(
        serde_json::to_string(&SessionStatus::Unauthenticated).unwrap(),
        r#""unauthenticated""#
    );
    assert_eq!(
        SessionStatus::Unauthenticated.when_required(),
        SessionStatus::Loading
    );
    assert_eq!(
        SessionStatus::Authenticated.when_required(),
        SessionStatus::Authenticated
    );
}
