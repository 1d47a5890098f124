//! Kubernetes timestamps (`2026-01-02T15:04:05Z`) and kubectl's human-readable durations.

use jiff::Timestamp;

/// Formats a timestamp the way the API server does for `metav1.Time`: RFC 3339, whole seconds, UTC.
pub fn format_timestamp(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Formats a timestamp with microseconds, as `metav1.MicroTime` fields (`eventTime`, lease renew times) are.
pub fn format_micro_timestamp(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses an RFC 3339 timestamp as found in object JSON; `None` when absent or malformed.
pub fn parse_timestamp(value: Option<&serde_json::Value>) -> Option<Timestamp> {
    value?.as_str()?.parse::<Timestamp>().ok()
}

/// Seconds from `then` to `now`, never negative (clock skew shows as zero, as kubectl does).
pub fn seconds_between(then: Timestamp, now: Timestamp) -> i64 {
    (now.as_second() - then.as_second()).max(0)
}

/// kubectl's human duration (apimachinery `HumanDuration`): `45s`, `3m20s`, `25m`, `5h10m`, `30h`, `3d4h`,
/// `200d`, `2y326d`, `9y`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < 0 {
        return "<invalid>".to_string();
    }
    let s = seconds;
    if s < 60 * 2 {
        return format!("{s}s");
    }
    let minutes = s / 60;
    if minutes < 10 {
        let rem = s % 60;
        return if rem == 0 { format!("{minutes}m") } else { format!("{minutes}m{rem}s") };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = s / 3600;
    if hours < 8 {
        let rem = minutes % 60;
        return if rem == 0 { format!("{hours}h") } else { format!("{hours}h{rem}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let days = hours / 24;
        let rem = hours % 24;
        return if rem == 0 { format!("{days}d") } else { format!("{days}d{rem}h") };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let years = hours / 24 / 365;
        let days = (hours / 24) % 365;
        return if days == 0 { format!("{years}y") } else { format!("{years}y{days}d") };
    }
    format!("{}y", hours / 24 / 365)
}

/// The age of an object (`now - creationTimestamp`) as a human duration, or `<unknown>`.
pub fn age(obj: &serde_json::Value, now: Timestamp) -> String {
    match parse_timestamp(obj.pointer("/metadata/creationTimestamp")) {
        Some(created) => human_duration(seconds_between(created, now)),
        None => "<unknown>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_kubectl() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(200), "3m20s");
        assert_eq!(human_duration(180), "3m");
        assert_eq!(human_duration(25 * 60), "25m");
        assert_eq!(human_duration(5 * 3600 + 600), "5h10m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400 + 4 * 3600), "3d4h");
        assert_eq!(human_duration(200 * 86400), "200d");
        assert_eq!(human_duration((2 * 365 + 326) * 86400), "2y326d");
        assert_eq!(human_duration(9 * 365 * 86400), "9y");
    }

    #[test]
    fn timestamps_round_trip() {
        let ts: Timestamp = "2026-01-02T15:04:05Z".parse().expect("valid");
        assert_eq!(format_timestamp(ts), "2026-01-02T15:04:05Z");
        assert_eq!(parse_timestamp(Some(&serde_json::json!("2026-01-02T15:04:05Z"))), Some(ts));
        assert_eq!(parse_timestamp(Some(&serde_json::json!("garbage"))), None);
    }
}
