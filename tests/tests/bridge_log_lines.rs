//! The bridge client's promise of one log line per dropped frame, checked with a subscriber
//! installed process-wide. It lives in its own test binary: a scoped subscriber in the core's
//! unit tests raced other test threads over tracing's per-callsite interest cache and failed
//! now and then under load.

use std::sync::{Arc, Mutex};

use mossy_core::bridge::Inbox;
use mossy_core::bus::Bus;
use tracing::{Event, Level, Metadata, span};

/// A subscriber that keeps the sorted field names of every warning.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<Vec<&'static str>>>>);

impl tracing::Subscriber for Warnings {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        if *event.metadata().level() == Level::WARN {
            let mut names: Vec<_> = event.fields().map(|field| field.name()).collect();
            names.sort_unstable();
            self.0.lock().expect("not poisoned").push(names);
        }
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

// Guards the promise of one warning per dropped frame, with its reason and length, and
// none for good or unknown frames.
#[test]
fn logs_one_warning_with_fields_per_dropped_frame() {
    let warnings = Warnings::default();
    let mut inbox = Inbox::new(Bus::new());

    tracing::subscriber::with_default(warnings.clone(), || {
        // Regression: another test thread may have met these callsites first, with no
        // subscriber, and cached "never interested"; recompute with this one in place.
        tracing::callsite::rebuild_interest_cache();
        inbox.accept_text(r#"{"type":"tool_detected","tool":"Blender"}"#);
        inbox.accept_text(r#"{"type":"notification"}"#);
        inbox.accept_text(r#"{"type":"build_progress","percent":150}"#);
        inbox.accept_binary(3);
    });

    let logged = warnings.0.lock().expect("not poisoned").clone();
    assert_eq!(
        logged,
        [
            ["length", "message", "reason"],
            ["length", "message", "reason"]
        ]
    );
}
