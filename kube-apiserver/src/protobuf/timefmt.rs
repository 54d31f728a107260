//! Text forms of `meta.v1.Time`, `MicroTime` and `Duration` as Kubernetes JSON writes them.

use jiff::Timestamp;

/// Go's zero `time.Time` (0001-01-01T00:00:00Z) as Unix seconds.
pub const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Formats seconds + nanos as RFC 3339 in UTC with `frac_digits` (0 or 6) fractional digits.
pub fn format_time(seconds: i64, nanos: i32, frac_digits: u8) -> Option<String> {
    let ts = Timestamp::new(seconds, nanos).ok()?;
    let base = ts.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if frac_digits == 0 {
        return Some(format!("{base}Z"));
    }
    let micros = ts.subsec_nanosecond() / 1000;
    Some(format!("{base}.{micros:06}Z"))
}

/// Parses an RFC 3339 timestamp into (seconds, nanos); nanos are truncated to `frac_digits`.
pub fn parse_time(text: &str, frac_digits: u8) -> Option<(i64, i32)> {
    let ts: Timestamp = text.parse().ok()?;
    let nanos = ts.subsec_nanosecond();
    let nanos = match frac_digits {
        0 => 0,
        _ => nanos - nanos % 1000,
    };
    Some((ts.as_second(), nanos))
}

/// Formats nanoseconds like Go's `time.Duration.String()` ("1h2m3.5s", "300ms", "0s").
pub fn format_duration(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let abs = nanos.unsigned_abs();
    if abs == 0 {
        return "0s".to_string();
    }
    if abs < 1_000 {
        return format!("{sign}{abs}ns");
    }
    if abs < 1_000_000 {
        return format!("{sign}{}µs", decimal(abs, 1_000));
    }
    if abs < 1_000_000_000 {
        return format!("{sign}{}ms", decimal(abs, 1_000_000));
    }
    let total_secs = abs / 1_000_000_000;
    let frac = abs % 1_000_000_000;
    let (hours, minutes, secs) = (total_secs / 3600, (total_secs / 60) % 60, total_secs % 60);
    let secs_text = decimal(secs * 1_000_000_000 + frac, 1_000_000_000);
    match (hours, minutes) {
        (0, 0) => format!("{sign}{secs_text}s"),
        (0, m) => format!("{sign}{m}m{secs_text}s"),
        (h, m) => format!("{sign}{h}h{m}m{secs_text}s"),
    }
}

/// `value / unit` as a decimal with trailing fractional zeros removed.
fn decimal(value: u64, unit: u64) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Parses a Go duration string ("1h30m", "1.5s", "-300ms") into nanoseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let (nanos, tail) = parse_duration_part(rest)?;
        total = total.checked_add(nanos)?;
        rest = tail;
    }
    let total = if negative { -total } else { total };
    i64::try_from(total).ok()
}

/// Parses one `<number>[.<fraction>]<unit>` component.
fn parse_duration_part(text: &str) -> Option<(i128, &str)> {
    let num_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, tail) = text.split_at(num_end);
    let unit_end = tail
        .find(|c: char| c.is_ascii_digit() || c == '.')
        .unwrap_or(tail.len());
    let (unit, rest) = tail.split_at(unit_end);
    let scale: i128 = match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SECOND,
        "m" => 60 * NANOS_PER_SECOND,
        "h" => 3600 * NANOS_PER_SECOND,
        _ => return None,
    };
    Some((scaled(number, scale)?, rest))
}

fn scaled(number: &str, scale: i128) -> Option<i128> {
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut value = whole.checked_mul(scale)?;
    let mut place = scale;
    for digit in frac.chars() {
        place /= 10;
        value += i128::from(digit.to_digit(10)?) * place;
    }
    Some(value)
}
