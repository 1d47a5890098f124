//! The Event table, for both `v1` core events and `events.k8s.io/v1` events (which name the same
//! fields differently). kubectl's event table has no leading `Name` column: it starts with
//! `Last Seen` and shows the name last, in wide output only.

use jiff::Timestamp;
use serde_json::Value;

use super::Printer;
use super::util::{Col, NAME, cell, col, int_at, opt_int, present, since, str_at, wide};

/// The columns of both event tables.
const EVENT_COLUMNS: &[Col] = &[
    col("Last Seen", "string", "Time since the event was last observed."),
    col("Type", "string", "Type of the event: Normal or Warning."),
    col("Reason", "string", "Short machine-readable reason for the event."),
    col("Object", "string", "The object the event is about, as kind/name."),
    wide("Subobject", "string", "Field path within the object, e.g. a container."),
    wide("Source", "string", "The component (and host) that reported the event."),
    col("Message", "string", "Human-readable description of the event."),
    wide("First Seen", "string", "Time since the event was first observed."),
    wide("Count", "string", "Number of times the event occurred."),
    Col { priority: 1, ..NAME },
];

/// The printer of core `v1` events.
pub(crate) static CORE_EVENT: Printer = Printer { columns: EVENT_COLUMNS, row: core_event_row };

/// The printer of `events.k8s.io/v1` events.
pub(crate) static EVENTS_EVENT: Printer = Printer { columns: EVENT_COLUMNS, row: events_event_row };

/// JSON pointers to the event fields the table reads, per API flavour.
struct Fields {
    /// The involved object reference (`involvedObject` / `regarding`).
    object: &'static str,
    /// The message (`message` / `note`).
    message: &'static str,
    /// The legacy source (`source` / `deprecatedSource`).
    source: &'static str,
    /// First timestamp (`firstTimestamp` / `deprecatedFirstTimestamp`).
    first: &'static str,
    /// Last timestamp (`lastTimestamp` / `deprecatedLastTimestamp`).
    last: &'static str,
    /// Count (`count` / `deprecatedCount`).
    count: &'static str,
}

/// Cells of a core event.
fn core_event_row(event: &Value, now: Timestamp) -> Vec<Value> {
    let fields = Fields {
        object: "/involvedObject",
        message: "/message",
        source: "/source",
        first: "/firstTimestamp",
        last: "/lastTimestamp",
        count: "/count",
    };
    event_row(event, &fields, now)
}

/// Cells of an `events.k8s.io` event.
fn events_event_row(event: &Value, now: Timestamp) -> Vec<Value> {
    let fields = Fields {
        object: "/regarding",
        message: "/note",
        source: "/deprecatedSource",
        first: "/deprecatedFirstTimestamp",
        last: "/deprecatedLastTimestamp",
        count: "/deprecatedCount",
    };
    event_row(event, &fields, now)
}

/// The first non-empty of two strings.
fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

/// Cells of an event, whichever flavour.
fn event_row(event: &Value, f: &Fields, now: Timestamp) -> Vec<Value> {
    let first_seen = if present(event, f.first) { since(event, f.first, now) } else { since(event, "/eventTime", now) };
    let mut last_seen = if present(event, f.last) { since(event, f.last, now) } else { first_seen.clone() };
    let mut count = opt_int(event, f.count).unwrap_or(0);
    if present(event, "/series") {
        last_seen = since(event, "/series/lastObservedTime", now);
        count = int_at(event, "/series/count");
    } else if count == 0 {
        // Singleton events of the new API carry no count.
        count = 1;
    }

    let kind = str_at(event, &format!("{}/kind", f.object)).to_lowercase();
    let object_name = str_at(event, &format!("{}/name", f.object));
    let target = if object_name.is_empty() { kind } else { format!("{kind}/{object_name}") };

    let component =
        first_non_empty(str_at(event, &format!("{}/component", f.source)), str_at(event, "/reportingController"));
    let host = first_non_empty(str_at(event, &format!("{}/host", f.source)), str_at(event, "/reportingInstance"));
    let source = if host.is_empty() { component.to_string() } else { format!("{component}, {host}") };

    vec![
        cell(last_seen),
        cell(str_at(event, "/type")),
        cell(str_at(event, "/reason")),
        cell(target),
        cell(str_at(event, &format!("{}/fieldPath", f.object))),
        cell(source),
        cell(str_at(event, f.message).trim()),
        cell(first_seen),
        Value::from(count),
        cell(str_at(event, "/metadata/name")),
    ]
}
