//! Cron schedules as the CronJob controller reads them (the standard five fields of the cron library
//! Kubernetes uses): `minute hour day-of-month month day-of-week` with `*`, `?`, lists, ranges, steps
//! (`*/5`, `1-30/2`, `5/15`), month and weekday names, the descriptors `@yearly`, `@annually`,
//! `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly` and `@every <duration>`, and an optional
//! `TZ=`/`CRON_TZ=` prefix. When both day fields are restricted a day matching either runs, as in cron.
//! Parse errors use the library's wording, since the controller reports them in events.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

/// Set when a field was `*` or `?` (it then does not widen the day match).
const STAR: u64 = 1 << 63;

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTES: Bounds = Bounds { min: 0, max: 59, names: &[] };
const HOURS: Bounds = Bounds { min: 0, max: 23, names: &[] };
const DOM: Bounds = Bounds { min: 1, max: 31, names: &[] };
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
};
const DOW: Bounds = Bounds { min: 0, max: 6, names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"] };

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    kind: Kind,
    /// The time zone named by a `TZ=` prefix, if any.
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Fields { minute: u64, hour: u64, dom: u64, month: u64, dow: u64 },
    Every(SignedDuration),
}

/// Parses a schedule; the error is the cron library's message.
pub fn parse(spec: &str) -> Result<Schedule, String> {
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    let mut spec = spec;
    let mut time_zone = None;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let space = spec.find(' ').unwrap_or(spec.len());
        let eq = spec.find('=').unwrap_or(0);
        let name = &spec[eq + 1..space];
        TimeZone::get(name).map_err(|e| format!("provided bad location {name}: {e}"))?;
        time_zone = Some(name.to_string());
        spec = spec[space..].trim();
    }
    let kind = if spec.starts_with('@') { descriptor(spec)? } else { fields(spec)? };
    Ok(Schedule { kind, time_zone })
}

fn descriptor(spec: &str) -> Result<Kind, String> {
    let equivalent = match spec {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => {
            let Some(d) = spec.strip_prefix("@every ") else {
                return Err(format!("unrecognized descriptor: {spec}"));
            };
            let every = go_duration(d).map_err(|e| format!("failed to parse duration {spec}: {e}"))?;
            let whole = SignedDuration::from_secs(every.as_secs().max(1));
            return Ok(Kind::Every(whole));
        }
    };
    fields(equivalent)
}

fn fields(spec: &str) -> Result<Kind, String> {
    let parts: Vec<&str> = spec.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(format!("expected exactly 5 fields, found {}: [{}]", parts.len(), parts.join(" ")));
    }
    Ok(Kind::Fields {
        minute: field(parts[0], &MINUTES)?,
        hour: field(parts[1], &HOURS)?,
        dom: field(parts[2], &DOM)?,
        month: field(parts[3], &MONTHS)?,
        dow: field(parts[4], &DOW)?,
    })
}

fn field(text: &str, bounds: &Bounds) -> Result<u64, String> {
    text.split(',').try_fold(0u64, |bits, expr| Ok(bits | range(expr, bounds)?))
}

fn range(expr: &str, b: &Bounds) -> Result<u64, String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = range_and_step[0].split('-').collect();
    let (mut start, mut end, mut extra) = (b.min, b.max, 0u64);
    if low_high[0] == "*" || low_high[0] == "?" {
        extra = STAR;
    } else {
        start = int_or_name(low_high[0], b.names)?;
        end = match low_high.len() {
            1 => start,
            2 => int_or_name(low_high[1], b.names)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = plain_int(range_and_step[1])?;
            if low_high.len() == 1 {
                end = b.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < b.min {
        return Err(format!("beginning of range ({start}) below minimum ({}): {expr}", b.min));
    }
    if end > b.max {
        return Err(format!("end of range ({end}) above maximum ({}): {expr}", b.max));
    }
    if start > end {
        return Err(format!("beginning of range ({start}) beyond end of range ({end}): {expr}"));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok((start..=end).step_by(step as usize).fold(extra, |bits, v| bits | (1u64 << v)))
}

fn int_or_name(text: &str, names: &[&str]) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    match names.iter().position(|n| *n == lower) {
        // Month names count from 1, weekday names from 0.
        Some(i) if names.len() == 12 => Ok(i as u32 + 1),
        Some(i) => Ok(i as u32),
        None => plain_int(text),
    }
}

fn plain_int(text: &str) -> Result<u32, String> {
    let n: i64 = text
        .parse()
        .map_err(|_| format!("failed to parse int from {text}: strconv.Atoi: parsing \"{text}\": invalid syntax"))?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {text}"));
    }
    u32::try_from(n).map_err(|_| format!("failed to parse int from {text}: value out of range"))
}

/// A Go duration (`90s`, `1h30m`, `1.5h`).
fn go_duration(text: &str) -> Result<SignedDuration, String> {
    let invalid = || format!("time: invalid duration \"{text}\"");
    let mut rest = text.strip_prefix(['+', '-']).unwrap_or(text);
    if rest.is_empty() {
        return Err(invalid());
    }
    if rest == "0" {
        return Ok(SignedDuration::ZERO);
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let secs = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("time: missing unit in duration \"{text}\"")),
            other => return Err(format!("time: unknown unit \"{other}\" in duration \"{text}\"")),
        };
        total += number * secs;
        rest = &rest[unit_len..];
    }
    let total = if text.starts_with('-') { -total } else { total };
    Ok(SignedDuration::from_secs_f64(total))
}

impl Schedule {
    /// The first activation strictly after `after`, in `tz` (a `TZ=` prefix wins), searching five years.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        match &self.kind {
            Kind::Every(d) => {
                let whole = Timestamp::from_second(after.as_second()).ok()?;
                whole.checked_add(*d).ok()
            }
            Kind::Fields { .. } => {
                let tz = self.time_zone.as_deref().and_then(|n| TimeZone::get(n).ok()).unwrap_or_else(|| tz.clone());
                self.next_civil(after, &tz)
            }
        }
    }

    fn next_civil(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let Kind::Fields { minute, hour, dom, month, dow } = &self.kind else { return None };
        let local = after.to_zoned(tz.clone()).datetime();
        let mut t = local.with().second(0).subsec_nanosecond(0).build().ok()?.checked_add(1.minute()).ok()?;
        let limit = t.year() + 5;
        let has = |bits: u64, v: i8| bits & (1u64 << v) != 0;
        while t.year() <= limit {
            t = if !has(*month, t.month()) {
                t.first_of_month().date().at(0, 0, 0, 0).checked_add(1.month()).ok()?
            } else if !day_matches(*dom, *dow, t) {
                t.date().tomorrow().ok()?.at(0, 0, 0, 0)
            } else if !has(*hour, t.hour()) {
                t.with().minute(0).build().ok()?.checked_add(1.hour()).ok()?
            } else if !has(*minute, t.minute()) {
                t.checked_add(1.minute()).ok()?
            } else {
                match tz.to_ambiguous_timestamp(t).compatible() {
                    Ok(ts) if ts > after => return Some(ts),
                    _ => t.checked_add(1.minute()).ok()?,
                }
            };
        }
        None
    }

    /// The latest activation in `(earliest, now]` and how many activations fell in that window.
    pub fn most_recent(&self, earliest: Timestamp, now: Timestamp, tz: &TimeZone) -> (Option<Timestamp>, usize) {
        let mut latest = None;
        let mut count = 0;
        let mut t = earliest;
        while let Some(next) = self.next_after(t, tz).filter(|n| *n <= now) {
            latest = Some(next);
            count += 1;
            t = next;
            if count > 1_000_000 {
                break;
            }
        }
        (latest, count)
    }
}

fn day_matches(dom: u64, dow: u64, t: DateTime) -> bool {
    let dom_match = dom & (1u64 << t.day()) != 0;
    let dow_match = dow & (1u64 << t.weekday().to_sunday_zero_offset()) != 0;
    if dom & STAR != 0 || dow & STAR != 0 { dom_match && dow_match } else { dom_match || dow_match }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn next(spec: &str, after: &str) -> String {
        let sched = parse(spec).expect("parses");
        sched.next_after(ts(after), &TimeZone::UTC).map(|t| t.to_string()).unwrap_or_default()
    }

    #[test]
    fn fields_lists_ranges_and_steps() {
        assert_eq!(next("*/5 * * * *", "2026-03-01T10:02:30Z"), "2026-03-01T10:05:00Z");
        assert_eq!(next("*/1 * * * *", "2026-03-01T10:02:00Z"), "2026-03-01T10:03:00Z");
        assert_eq!(next("0 9-17/4 * * *", "2026-03-01T10:00:00Z"), "2026-03-01T13:00:00Z");
        assert_eq!(next("15,45 * * * *", "2026-03-01T10:20:00Z"), "2026-03-01T10:45:00Z");
        assert_eq!(next("5/20 * * * *", "2026-03-01T10:26:00Z"), "2026-03-01T10:45:00Z");
        assert_eq!(next("0 0 1 jan *", "2026-03-01T10:00:00Z"), "2027-01-01T00:00:00Z");
        assert_eq!(next("30 2 * * MON-FRI", "2026-03-06T03:00:00Z"), "2026-03-09T02:30:00Z");
    }

    #[test]
    fn restricted_day_fields_match_either() {
        // The 13th (a Friday in March 2026 is the 13th) or any Monday.
        assert_eq!(next("0 0 13 * 1", "2026-03-10T00:00:00Z"), "2026-03-13T00:00:00Z");
        assert_eq!(next("0 0 13 * 1", "2026-03-13T00:00:00Z"), "2026-03-16T00:00:00Z");
        // A star in day-of-month: only the weekday counts.
        assert_eq!(next("0 0 * * 0", "2026-03-10T00:00:00Z"), "2026-03-15T00:00:00Z");
    }

    #[test]
    fn descriptors() {
        assert_eq!(next("@hourly", "2026-03-01T10:02:00Z"), "2026-03-01T11:00:00Z");
        assert_eq!(next("@daily", "2026-03-01T10:02:00Z"), "2026-03-02T00:00:00Z");
        assert_eq!(next("@weekly", "2026-03-02T10:02:00Z"), "2026-03-08T00:00:00Z");
        assert_eq!(next("@monthly", "2026-03-02T10:02:00Z"), "2026-04-01T00:00:00Z");
        assert_eq!(next("@yearly", "2026-03-02T10:02:00Z"), "2027-01-01T00:00:00Z");
        assert_eq!(next("@every 90s", "2026-03-02T10:02:00.5Z"), "2026-03-02T10:03:30Z");
        assert_eq!(next("@every 1h30m", "2026-03-02T10:00:00Z"), "2026-03-02T11:30:00Z");
    }

    #[test]
    fn errors_use_the_library_wording() {
        assert_eq!(parse("").expect_err("fails"), "empty spec string");
        assert_eq!(parse("* * *").expect_err("fails"), "expected exactly 5 fields, found 3: [* * *]");
        assert_eq!(parse("61 * * * *").expect_err("fails"), "end of range (61) above maximum (59): 61");
        assert_eq!(parse("* * 0 * *").expect_err("fails"), "beginning of range (0) below minimum (1): 0");
        assert_eq!(parse("5-1 * * * *").expect_err("fails"), "beginning of range (5) beyond end of range (1): 5-1");
        assert_eq!(parse("*/0 * * * *").expect_err("fails"), "step of range should be a positive number: */0");
        assert_eq!(
            parse("x * * * *").expect_err("fails"),
            "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(parse("@fortnightly").expect_err("fails"), "unrecognized descriptor: @fortnightly");
        assert!(parse("@every 5x").expect_err("fails").contains("unknown unit \"x\""));
    }

    #[test]
    fn most_recent_counts_missed_runs() {
        let sched = parse("*/10 * * * *").expect("parses");
        let (latest, missed) =
            sched.most_recent(ts("2026-03-01T10:00:00Z"), ts("2026-03-01T10:35:00Z"), &TimeZone::UTC);
        assert_eq!(latest, Some(ts("2026-03-01T10:30:00Z")));
        assert_eq!(missed, 3);
        let (none, _) = sched.most_recent(ts("2026-03-01T10:31:00Z"), ts("2026-03-01T10:35:00Z"), &TimeZone::UTC);
        assert_eq!(none, None);
    }
}
