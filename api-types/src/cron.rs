//! Standard cron schedules as CronJobs use them (robfig/cron's ParseStandard, with its error
//! texts, which the API server returns in validation errors): five fields (minute, hour, day
//! of month, month, day of week) with `*`, `?`, lists, ranges, steps and month/weekday names;
//! the `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly` and `@every <duration>`
//! descriptors; and an optional `TZ=` or `CRON_TZ=` prefix. `next` (for the CronJob
//! controller) finds the first matching minute after a time, in the schedule's time zone.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

/// Set on a field written `*` or `?` (without a step above 1): day of month and day of week
/// are then combined with AND instead of OR.
const STAR: u64 = 1 << 63;

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DAYS: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const WEEKDAYS: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

#[derive(Debug, Clone)]
pub enum Schedule {
    /// Bit sets of the matching minutes, hours, days, months and weekdays.
    Fields {
        minute: u64,
        hour: u64,
        dom: u64,
        month: u64,
        dow: u64,
        tz: TimeZone,
    },
    /// `@every`: a fixed delay in whole seconds.
    Every(SignedDuration),
}

fn bits(start: u32, end: u32, step: u32) -> u64 {
    if step == 1 {
        return (!0u64 >> (63 - end)) & (!0u64 << start);
    }
    (start..=end).step_by(step as usize).fold(0, |acc, i| acc | 1 << i)
}

fn all(b: &Bounds) -> u64 {
    bits(b.min, b.max, 1) | STAR
}

/// A non-negative integer, with Go's strconv.Atoi error text.
fn number(s: &str) -> Result<i64, String> {
    let n: i64 = s
        .parse()
        .map_err(|_| format!("failed to parse int from {s}: strconv.Atoi: parsing {s:?}: invalid syntax"))?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {s}"));
    }
    Ok(n)
}

fn number_or_name(s: &str, b: &Bounds) -> Result<i64, String> {
    let lower = s.to_ascii_lowercase();
    match b.names.iter().position(|n| *n == lower) {
        Some(i) => Ok(i as i64 + i64::from(b.min)),
        None => number(s),
    }
}

fn range(expr: &str, b: &Bounds) -> Result<u64, String> {
    let mut range_and_step = expr.split('/');
    let range = range_and_step.next().unwrap_or_default();
    let step = range_and_step.next();
    if range_and_step.next().is_some() {
        return Err(format!("too many slashes: {expr}"));
    }
    let low_high: Vec<&str> = range.split('-').collect();
    let (min, max) = (i64::from(b.min), i64::from(b.max));
    let (start, mut end, mut extra) = if low_high[0] == "*" || low_high[0] == "?" {
        (min, max, STAR)
    } else {
        let start = number_or_name(low_high[0], b)?;
        let end = match low_high.len() {
            1 => start,
            2 => number_or_name(low_high[1], b)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end, 0)
    };
    let mut step_n = 1;
    if let Some(step) = step {
        step_n = number(step)?;
        // "N/step" means "N-max/step".
        if low_high.len() == 1 {
            end = max;
        }
        if step_n > 1 {
            extra = 0;
        }
    }
    if start < min {
        return Err(format!("beginning of range ({start}) below minimum ({min}): {expr}"));
    }
    if end > max {
        return Err(format!("end of range ({end}) above maximum ({max}): {expr}"));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step_n == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    // Checked above: 0 <= start <= end <= 59, and the step fits once it is capped at 64.
    Ok(bits(start as u32, end as u32, step_n.min(64) as u32) | extra)
}

fn field(expr: &str, b: &Bounds) -> Result<u64, String> {
    expr.split(',').try_fold(0, |acc, r| Ok(acc | range(r, b)?))
}

fn descriptor(spec: &str, tz: TimeZone) -> Result<Schedule, String> {
    let fields = |minute, hour, dom, month, dow| Schedule::Fields {
        minute,
        hour,
        dom,
        month,
        dow,
        tz: tz.clone(),
    };
    Ok(match spec {
        "@yearly" | "@annually" => fields(1, 1, 1 << 1, 1 << 1, all(&WEEKDAYS)),
        "@monthly" => fields(1, 1, 1 << 1, all(&MONTHS), all(&WEEKDAYS)),
        "@weekly" => fields(1, 1, all(&DAYS), all(&MONTHS), 1),
        "@daily" | "@midnight" => fields(1, 1, all(&DAYS), all(&MONTHS), all(&WEEKDAYS)),
        "@hourly" => fields(1, all(&HOURS), all(&DAYS), all(&MONTHS), all(&WEEKDAYS)),
        _ => match spec.strip_prefix("@every ") {
            Some(d) => {
                let d = crate::duration::parse(d.trim())
                    .map_err(|_| format!("failed to parse duration {spec}: time: invalid duration {d:?}"))?;
                // Whole seconds, at least one.
                let secs = d.as_secs().max(1);
                Schedule::Every(SignedDuration::from_secs(secs as i64))
            }
            None => return Err(format!("unrecognized descriptor: {spec}")),
        },
    })
}

/// Parses a standard schedule; without a `TZ=`/`CRON_TZ=` prefix it is in `default_tz`.
pub fn parse(spec: &str, default_tz: TimeZone) -> Result<Schedule, String> {
    let mut spec = spec.trim();
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    let mut tz = default_tz;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let (zone, rest) = spec.split_once(' ').unwrap_or((spec, ""));
        let name = zone.split_once('=').map(|(_, n)| n).unwrap_or_default();
        tz = load_zone(name).map_err(|_| format!("provided bad location {name}: unknown time zone {name}"))?;
        spec = rest.trim();
    }
    if spec.starts_with('@') {
        return descriptor(spec, tz);
    }
    let parts: Vec<&str> = spec.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            parts.len(),
            parts.join(" ")
        ));
    }
    Ok(Schedule::Fields {
        minute: field(parts[0], &MINUTES)?,
        hour: field(parts[1], &HOURS)?,
        dom: field(parts[2], &DAYS)?,
        month: field(parts[3], &MONTHS)?,
        dow: field(parts[4], &WEEKDAYS)?,
        tz,
    })
}

/// A time zone by IANA name; "" and "UTC" are UTC, "Local" the system zone (Go's LoadLocation).
pub fn load_zone(name: &str) -> Result<TimeZone, String> {
    match name {
        "" | "UTC" => Ok(TimeZone::UTC),
        "Local" => Ok(TimeZone::system()),
        _ => TimeZone::get(name).map_err(|e| e.to_string()),
    }
}

fn has(set: u64, v: i8) -> bool {
    (0..63).contains(&v) && set & (1 << v) != 0
}

fn at(tz: &TimeZone, y: i16, m: i8, d: i8, h: i8) -> Option<Zoned> {
    DateTime::new(y, m, d, h, 0, 0, 0).ok()?.to_zoned(tz.clone()).ok()
}

fn floor(t: &Zoned, unit: i64) -> Zoned {
    let secs = t.timestamp().as_second();
    Timestamp::from_second(secs - secs.rem_euclid(unit))
        .unwrap_or(t.timestamp())
        .to_zoned(t.time_zone().clone())
}

impl Schedule {
    /// The first activation strictly after `t`, or None within five years.
    pub fn next(&self, t: Timestamp) -> Option<Timestamp> {
        let (minute, hour, dom, month, dow, tz) = match self {
            Schedule::Every(delay) => {
                let whole = Timestamp::from_second(t.as_second()).ok()?;
                return whole.checked_add(*delay).ok();
            }
            Schedule::Fields {
                minute,
                hour,
                dom,
                month,
                dow,
                tz,
            } => (*minute, *hour, *dom, *month, *dow, tz),
        };
        let day_matches = |z: &Zoned| {
            let (d, w) = (has(dom, z.day()), has(dow, z.weekday().to_sunday_zero_offset()));
            if dom & STAR != 0 || dow & STAR != 0 {
                d && w
            } else {
                d || w
            }
        };
        // From the next whole second; the first step that moves resets the smaller units.
        let mut z = Timestamp::from_second(t.as_second() + 1).ok()?.to_zoned(tz.clone());
        let year_limit = z.year() + 5;
        let mut reset = false;
        'wrap: loop {
            if z.year() > year_limit {
                return None;
            }
            while !has(month, z.month()) {
                if !reset {
                    reset = true;
                    z = at(tz, z.year(), z.month(), 1, 0)?;
                }
                let (y, m) = if z.month() == 12 {
                    (z.year() + 1, 1)
                } else {
                    (z.year(), z.month() + 1)
                };
                z = at(tz, y, m, 1, 0)?;
                if z.month() == 1 {
                    continue 'wrap;
                }
            }
            while !day_matches(&z) {
                if !reset {
                    reset = true;
                    z = at(tz, z.year(), z.month(), z.day(), 0)?;
                }
                let next = z.date().tomorrow().ok()?;
                z = at(tz, next.year(), next.month(), next.day(), 0)?;
                if z.day() == 1 {
                    continue 'wrap;
                }
            }
            while !has(hour, z.hour()) {
                if !reset {
                    reset = true;
                    z = at(tz, z.year(), z.month(), z.day(), z.hour())?;
                }
                z = z.checked_add(SignedDuration::from_hours(1)).ok()?;
                if z.hour() == 0 {
                    continue 'wrap;
                }
            }
            while !has(minute, z.minute()) {
                if !reset {
                    reset = true;
                    z = floor(&z, 60);
                }
                z = z.checked_add(SignedDuration::from_mins(1)).ok()?;
                if z.minute() == 0 {
                    continue 'wrap;
                }
            }
            // Standard schedules fire at second 0.
            while z.second() != 0 {
                if !reset {
                    reset = true;
                    z = floor(&z, 1);
                }
                z = z.checked_add(SignedDuration::from_secs(1)).ok()?;
                if z.second() == 0 {
                    continue 'wrap;
                }
            }
            return Some(z.timestamp());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn next(spec: &str, from: &str) -> String {
        let s = parse(spec, TimeZone::UTC).unwrap();
        s.next(at(from)).map(|t| t.to_string()).unwrap_or_default()
    }

    #[test]
    fn every_minute_and_steps() {
        assert_eq!(next("* * * * *", "2026-03-01T10:00:00Z"), "2026-03-01T10:01:00Z");
        assert_eq!(next("* * * * *", "2026-03-01T10:00:30Z"), "2026-03-01T10:01:00Z");
        assert_eq!(next("*/15 * * * *", "2026-03-01T10:07:00Z"), "2026-03-01T10:15:00Z");
        assert_eq!(next("5/20 * * * *", "2026-03-01T10:26:00Z"), "2026-03-01T10:45:00Z");
        assert_eq!(next("0 9-17/4 * * *", "2026-03-01T14:00:00Z"), "2026-03-01T17:00:00Z");
        assert_eq!(next("30 23 * * *", "2026-12-31T23:30:00Z"), "2027-01-01T23:30:00Z");
    }

    #[test]
    fn names_lists_and_day_semantics() {
        // 2026-03-02 is a Monday.
        assert_eq!(next("0 0 * * MON", "2026-03-01T12:00:00Z"), "2026-03-02T00:00:00Z");
        assert_eq!(next("0 0 * JAN,feb *", "2026-03-01T00:00:00Z"), "2027-01-01T00:00:00Z");
        // Day of month and weekday both restricted: either matches.
        assert_eq!(next("0 0 13 * 5", "2026-03-01T00:00:00Z"), "2026-03-06T00:00:00Z");
        // One of them `*`: both must match.
        assert_eq!(next("0 0 13 * *", "2026-03-01T00:00:00Z"), "2026-03-13T00:00:00Z");
        assert_eq!(next("0 0 ? * 0", "2026-03-01T00:00:00Z"), "2026-03-08T00:00:00Z");
        assert_eq!(next("0 0 29 2 *", "2026-03-01T00:00:00Z"), "2028-02-29T00:00:00Z");
        assert_eq!(next("0 0 30 2 *", "2026-03-01T00:00:00Z"), "");
    }

    #[test]
    fn descriptors_and_every() {
        assert_eq!(next("@hourly", "2026-03-01T10:20:00Z"), "2026-03-01T11:00:00Z");
        assert_eq!(next("@daily", "2026-03-01T10:20:00Z"), "2026-03-02T00:00:00Z");
        assert_eq!(next("@weekly", "2026-03-02T10:20:00Z"), "2026-03-08T00:00:00Z");
        assert_eq!(next("@monthly", "2026-03-02T10:20:00Z"), "2026-04-01T00:00:00Z");
        assert_eq!(next("@yearly", "2026-03-02T10:20:00Z"), "2027-01-01T00:00:00Z");
        assert_eq!(next("@every 90s", "2026-03-02T10:20:00.5Z"), "2026-03-02T10:21:30Z");
    }

    #[test]
    fn time_zones() {
        assert_eq!(
            next("CRON_TZ=Asia/Tokyo 0 9 * * *", "2026-03-01T00:30:00Z"),
            "2026-03-02T00:00:00Z"
        );
        assert_eq!(
            next("TZ=America/New_York 0 2 * * *", "2026-01-10T12:00:00Z"),
            "2026-01-11T07:00:00Z"
        );
        // 02:00 does not exist on the day daylight saving time starts.
        assert_eq!(
            next("TZ=America/New_York 0 2 * * *", "2026-03-07T12:00:00Z"),
            "2026-03-09T06:00:00Z"
        );
        let s = parse("0 9 * * *", load_zone("Asia/Tokyo").unwrap()).unwrap();
        assert_eq!(s.next(at("2026-03-01T00:30:00Z")), Some(at("2026-03-02T00:00:00Z")));
        assert!(parse("TZ=Nowhere/Land * * * * *", TimeZone::UTC).is_err());
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = |s: &str| parse(s, TimeZone::UTC).err().unwrap_or_default();
        assert_eq!(err("* * * *"), "expected exactly 5 fields, found 4: [* * * *]");
        assert_eq!(err("60 * * * *"), "end of range (60) above maximum (59): 60");
        assert_eq!(err("* * 0 * *"), "beginning of range (0) below minimum (1): 0");
        assert_eq!(
            err("5-1 * * * *"),
            "beginning of range (5) beyond end of range (1): 5-1"
        );
        assert_eq!(err("*/0 * * * *"), "step of range should be a positive number: */0");
        assert_eq!(err("* * * * 7"), "end of range (7) above maximum (6): 7");
        assert_eq!(err("@often"), "unrecognized descriptor: @often");
        assert_eq!(
            err("x * * * *"),
            "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(err("1-2-3 * * * *"), "too many hyphens: 1-2-3");
        assert_eq!(
            err("99999999999 * * * *"),
            "end of range (99999999999) above maximum (59): 99999999999"
        );
        assert_eq!(
            err("@every 1x"),
            "failed to parse duration @every 1x: time: invalid duration \"1x\""
        );
        assert_eq!(
            err("TZ=Mars/Base * * * * *"),
            "provided bad location Mars/Base: unknown time zone Mars/Base"
        );
        for ok in [
            "*/99 * * * *",
            "0 0 * * *",
            "*/15 9-17 * jan-dec mon-fri",
            "0 0 1,15 * ?",
            "@every 1h30m",
            "5 4 * * sun",
        ] {
            assert!(parse(ok, TimeZone::UTC).is_ok(), "{ok}");
        }
    }
}
