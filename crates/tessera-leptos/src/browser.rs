//! The browser side: the driver with fetch, `setTimeout`, `localStorage` and the window's
//! `storage`, `visibilitychange`, `online` and `offline` events.

use std::time::Duration;

use futures_channel::oneshot;
use leptos::prelude::*;
use serde_json::Value;
use tessera_client::{
    BroadcastMessage, Client, LocalFuture, SessionDriver, SessionEvent, SessionHost,
    SessionMachine, SessionOptions, SessionState,
};
use wasm_bindgen::JsCast;

use crate::context::{InitialSession, SessionContext};

struct Host {
    state: RwSignal<SessionState<Value>>,
}

impl SessionHost<Value> for Host {
    fn now_ms(&self) -> u64 {
        tessera_client::browser::now_ms()
    }

    fn spawn(&self, task: LocalFuture<()>) {
        leptos::task::spawn_local(task);
    }

    fn sleep(&self, ms: u64) -> LocalFuture<()> {
        let (tx, rx) = oneshot::channel::<()>();
        set_timeout(
            move || {
                let _ = tx.send(());
            },
            Duration::from_millis(ms),
        );
        Box::pin(async move {
            let _ = rx.await;
        })
    }

    fn broadcast(&self, message: &BroadcastMessage) {
        tessera_client::browser::post_message(message);
    }

    fn state_changed(&self, state: &SessionState<Value>) {
        // The provider may be gone (unmounted); then there is nothing to render.
        let _ = self.state.try_set(state.clone());
    }
}

/// Creates the driver, listens to the window, and starts it once mounted.
pub(crate) fn start(ctx: SessionContext, options: SessionOptions, initial: InitialSession) {
    let client = match Client::new(&ctx.base_path()) {
        Ok(c) => c,
        Err(e) => {
            leptos::logging::error!("tessera-leptos: {e}");
            return;
        }
    };
    let machine = SessionMachine::with_initial(options, initial.into_option());
    let driver = SessionDriver::new(machine, client, Host { state: ctx.state });
    ctx.driver.set_value(Some(driver.clone()));

    let d = driver.clone();
    let storage = window_event_listener_untyped("storage", move |ev| {
        if let Some(ev) = ev.dyn_ref::<web_sys::StorageEvent>() {
            d.dispatch(SessionEvent::Storage {
                key: ev.key(),
                new_value: ev.new_value(),
            });
        }
    });
    // `visibilitychange` is fired at the document and bubbles to the window.
    let d = driver.clone();
    let visibility = window_event_listener_untyped("visibilitychange", move |_| {
        let visible = document().visibility_state() == web_sys::VisibilityState::Visible;
        d.dispatch(SessionEvent::VisibilityChange { visible });
    });
    let d = driver.clone();
    let online = window_event_listener_untyped("online", move |_| d.dispatch(SessionEvent::Online));
    let d = driver.clone();
    let offline =
        window_event_listener_untyped("offline", move |_| d.dispatch(SessionEvent::Offline));
    on_cleanup(move || {
        storage.remove();
        visibility.remove();
        online.remove();
        offline.remove();
    });

    // After hydration: fetch the session unless the server rendered it.
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            if !window().navigator().on_line() {
                driver.dispatch(SessionEvent::Offline);
            }
            driver.start();
        }
    });
}

pub(crate) fn navigate(url: &str) {
    let _ = window().location().set_href(url);
}

pub(crate) fn current_href() -> String {
    tessera_client::browser::current_href().unwrap_or_else(|| "/".to_owned())
}
