//! The bridge badge: is Mossy connected, and if not, when do we try again.
//!
//! The app subscribes once to the bridge stream and shares the latest [`BridgeUpdate`] through
//! context, so any page can read it.

use leptos::prelude::*;
use mossy_protocol::ipc::{BridgeStatus, BridgeUpdate};

use crate::format;
use crate::ipc;

/// How often the "retrying in N s" countdown checks the clock; a quarter second keeps the
/// whole seconds honest. The label itself changes, and the page repaints, once a second, and
/// only while retrying: an idle app must not spend CPU on a clock nobody sees change.
const COUNTDOWN_TICK_MS: u64 = 250;

/// The latest bridge update, shared through context; `None` until the backend answers.
#[derive(Clone, Copy)]
pub struct BridgeStatusStore(pub ReadSignal<Option<BridgeUpdate>>);

/// Subscribes to bridge updates for the app's lifetime and provides them as context.
pub fn provide_bridge_status() {
    let (update, set_update) = signal(None::<BridgeUpdate>);
    let (error, set_error) = signal(None::<String>);
    let subscription = StoredValue::new_local(None::<ipc::Subscription>);

    leptos::task::spawn_local(async move {
        match ipc::subscribe_bridge(move |next| set_update.set(Some(next))).await {
            Ok(sub) => subscription.set_value(Some(sub)),
            Err(err) => set_error.set(Some(err.message)),
        }
    });

    provide_context(BridgeStatusStore(update));
    provide_context(BridgeBadgeError(error));
}

#[derive(Clone, Copy)]
struct BridgeBadgeError(ReadSignal<Option<String>>);

/// The badge in the navigation bar.
#[component]
pub fn BridgeBadge() -> impl IntoView {
    let BridgeStatusStore(update) = expect_context::<BridgeStatusStore>();
    let BridgeBadgeError(error) = expect_context::<BridgeBadgeError>();
    let (now, set_now) = signal(format::now_ms());

    let retrying = move || {
        update.with_untracked(|u| {
            matches!(
                u,
                Some(BridgeUpdate {
                    status: BridgeStatus::Retrying { .. },
                    ..
                })
            )
        })
    };
    let ticker = set_interval_with_handle(
        move || {
            if retrying() {
                set_now.set(format::now_ms());
            }
        },
        std::time::Duration::from_millis(COUNTDOWN_TICK_MS),
    )
    .ok();
    on_cleanup(move || {
        if let Some(ticker) = ticker {
            ticker.clear();
        }
    });

    let state = move || match update.get().map(|u| u.status) {
        None => "loading",
        Some(BridgeStatus::Connecting { .. }) => "connecting",
        Some(BridgeStatus::Connected { .. }) => "connected",
        Some(BridgeStatus::Retrying { .. }) => "retrying",
        Some(BridgeStatus::Disabled) => "disabled",
    };
    let label = Memo::new(move |_| {
        if let Some(message) = error.get() {
            return format!("Bridge unavailable: {message}");
        }
        match update.get().map(|u| u.status) {
            None => "Bridge: starting…".to_owned(),
            Some(BridgeStatus::Connecting { .. }) => "Mossy: connecting…".to_owned(),
            Some(BridgeStatus::Connected { .. }) => "Mossy: connected".to_owned(),
            Some(BridgeStatus::Retrying { retry_at_ms, .. }) => {
                let seconds = ((retry_at_ms as f64 - now.get()) / 1000.0).ceil().max(0.0);
                format!("Mossy: retrying in {seconds} s")
            }
            Some(BridgeStatus::Disabled) => "Mossy: bridge off".to_owned(),
        }
    });
    let title = move || match update.get() {
        Some(BridgeUpdate { status, counters }) => {
            let detail = match status {
                BridgeStatus::Connecting { url } | BridgeStatus::Connected { url } => url,
                BridgeStatus::Retrying {
                    url,
                    attempt,
                    reason,
                    ..
                } => {
                    format!("{url}\nattempt {attempt} failed: {reason}")
                }
                BridgeStatus::Disabled => "Turned off in settings".to_owned(),
            };
            format!(
                "{detail}\n{} messages, {} unknown, {} dropped",
                counters.accepted, counters.unknown, counters.dropped
            )
        }
        None => String::new(),
    };

    view! {
        <div id="bridge-badge" class="bridge-badge" data-state=state title=title>
            <span class="dot"></span>
            <span class="label">{label}</span>
        </div>
    }
}
