//! Resource quantities (`100m`, `1.5Gi`, `2e3`) as exact milli-units, for comparing and
//! summing requests, limits and quota usage; formatted back in upstream's style.

use std::fmt;

/// A quantity in thousandths of a unit (fractions below a milli-unit round up, as upstream's
/// MilliValue does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Quantity(pub i128);

const BINARY: &[(&str, u32)] = &[("Ki", 1), ("Mi", 2), ("Gi", 3), ("Ti", 4), ("Pi", 5), ("Ei", 6)];
const DECIMAL: &[(&str, i32)] = &[
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

impl Quantity {
    pub fn zero() -> Quantity {
        Quantity(0)
    }

    pub fn from_units(n: i64) -> Quantity {
        Quantity(n as i128 * 1000)
    }

    /// Parses upstream's quantity syntax; None when `s` is not a quantity.
    pub fn parse(s: &str) -> Option<Quantity> {
        let s = s.trim();
        let split = s
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '+' || c == '-'))))
            .map_or(s.len(), |(i, _)| i);
        let (num, suffix) = s.split_at(split);
        let negative = num.starts_with('-');
        let digits = num.trim_start_matches(['+', '-']);
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if int_part.is_empty() && frac_part.is_empty()
            || !(int_part.bytes().chain(frac_part.bytes())).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        // value = mantissa * 10^exp10 * 1024^exp2, computed in milli-units.
        let mantissa: i128 = format!("{int_part}{frac_part}").parse().ok()?;
        let mut exp10: i32 = 3 - frac_part.len() as i32;
        let mut exp2: u32 = 0;
        if let Some((_, p)) = BINARY.iter().find(|(sfx, _)| *sfx == suffix) {
            exp2 = 10 * p;
        } else if let Some((_, e)) = DECIMAL.iter().find(|(sfx, _)| *sfx == suffix) {
            exp10 += e;
        } else {
            let e = suffix.strip_prefix(['e', 'E'])?;
            exp10 += e.parse::<i32>().ok()?;
        }
        let mut v = mantissa.checked_mul(1i128.checked_shl(exp2)?)?;
        if exp10 >= 0 {
            v = v.checked_mul(10i128.checked_pow(exp10 as u32)?)?;
        } else {
            let d = 10i128.checked_pow((-exp10) as u32)?;
            v = (v + d - 1) / d;
        }
        Some(Quantity(if negative { -v } else { v }))
    }
}

impl std::ops::Add for Quantity {
    type Output = Quantity;
    fn add(self, o: Quantity) -> Quantity {
        Quantity(self.0.saturating_add(o.0))
    }
}

impl fmt::Display for Quantity {
    /// Whole units print plain (`2`), binary multiples with their suffix (`1Gi`), the rest in
    /// milli-units (`500m`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        if m % 1000 != 0 {
            return write!(f, "{m}m");
        }
        let units = m / 1000;
        for (sfx, p) in BINARY.iter().rev() {
            let base = 1i128 << (10 * p);
            if units != 0 && units.abs() >= base && units % base == 0 {
                return write!(f, "{}{sfx}", units / base);
            }
        }
        write!(f, "{units}")
    }
}

/// The error upstream's ParseQuantity gives for text that is not a quantity.
pub const FORMAT_ERROR: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/// The error for a well-formed number with an unknown suffix.
pub const SUFFIX_ERROR: &str = "unable to parse quantity's suffix";
const NUMERIC_ERROR: &str = "unable to parse numeric part of quantity";

#[derive(Clone, Copy, PartialEq)]
enum Format {
    DecimalSi,
    BinarySi,
    DecimalExponent,
}

/// Splits upstream's quantity syntax into sign, integer digits (leading zeros dropped), fraction
/// digits and suffix, with upstream's error for malformed text.
fn split_quantity(s: &str) -> Result<(bool, String, String, String), &'static str> {
    let b = s.as_bytes();
    let mut pos = 0;
    let mut positive = true;
    if let Some(&c) = b.first()
        && (c == b'-' || c == b'+')
    {
        positive = c == b'+';
        pos = 1;
    }
    while pos < b.len() && b[pos] == b'0' {
        pos += 1;
    }
    let start = pos;
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let mut num = s[start..pos].to_string();
    if num.is_empty() {
        num = "0".into();
    }
    let mut denom = String::new();
    if pos < b.len() && b[pos] == b'.' {
        pos += 1;
        let d = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = s[d..pos].to_string();
    }
    let suffix_start = pos;
    while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < b.len() && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < b.len() {
        return Err(FORMAT_ERROR);
    }
    Ok((positive, num, denom, s[suffix_start..].to_string()))
}

/// A suffix's base, exponent and format (`Mi` is 2^20, `k` is 10^3, `e3` is 10^3).
fn interpret_suffix(suffix: &str) -> Option<(u32, i32, Format)> {
    if let Some((_, p)) = BINARY.iter().find(|(sfx, _)| *sfx == suffix) {
        return Some((2, 10 * *p as i32, Format::BinarySi));
    }
    if let Some((_, e)) = DECIMAL.iter().find(|(sfx, _)| *sfx == suffix) {
        return Some((10, *e, Format::DecimalSi));
    }
    let rest = suffix.strip_prefix(['e', 'E'])?;
    let digits = rest.trim_start_matches(['+', '-']);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((10, rest.parse().ok()?, Format::DecimalExponent))
}

/// Upstream's text for a quantity once parsed and serialised again (what a typed client sends):
/// `0.5` → `500m`, `1024Mi` → `1Gi`, `1000` → `1k`; text already canonical stays as written.
pub fn canonical(s: &str) -> Result<String, &'static str> {
    if s.is_empty() {
        return Err(FORMAT_ERROR);
    }
    if s == "0" {
        return Ok("0".into());
    }
    let (positive, num, denom, suffix) = split_quantity(s)?;
    let (base, exponent, mut format) = interpret_suffix(&suffix).ok_or(SUFFIX_ERROR)?;
    let digits = format!("{num}{denom}");
    // Upstream keeps the text as written when it parses on its fast path in canonical form.
    match format {
        Format::BinarySi if exponent >= 0 && denom.is_empty() => {
            let precision = 15 - num.len() as i32 - (exponent as f32 * 3.0 / 10.0) as i32 - 1;
            if precision >= 0 && exponent % 10 == 0 && num.parse::<i64>().is_ok_and(|v| v & 7 != 0) {
                return Ok(s.to_string());
            }
        }
        Format::DecimalSi | Format::DecimalExponent => {
            let precision = 18 - (num.len() + denom.len()) as i32;
            let scale = exponent - denom.len() as i32;
            if precision >= 0
                && scale >= -9
                && scale % 3 == 0
                && !digits.ends_with("000")
                && !digits.starts_with('0')
                && digits.parse::<i64>().is_ok()
            {
                return Ok(s.to_string());
            }
        }
        _ => {}
    }
    // value = n × 10^scale, exactly.
    let mut n: i128 = digits.parse().map_err(|_| NUMERIC_ERROR)?;
    let mut scale = -(denom.len() as i32);
    if base == 2 {
        n = n
            .checked_mul(1i128.checked_shl(exponent as u32).ok_or(NUMERIC_ERROR)?)
            .ok_or(NUMERIC_ERROR)?;
    } else {
        scale += exponent;
    }
    if n == 0 {
        return Ok("0".into());
    }
    // Below a nano-unit rounds up.
    if scale < -9 {
        let d = 10i128.checked_pow((-9 - scale) as u32).ok_or(NUMERIC_ERROR)?;
        n = (n + d - 1) / d;
        scale = -9;
    }
    let sign = if positive { "" } else { "-" };
    if format == Format::BinarySi {
        let integer = if scale >= 0 {
            n.checked_mul(10i128.checked_pow(scale as u32).ok_or(NUMERIC_ERROR)?)
        } else {
            let d = 10i128.pow((-scale) as u32);
            (n % d == 0).then(|| n / d)
        };
        match integer {
            Some(mut v) if v >= 1024 => {
                let mut power = 0;
                while v % 1024 == 0 && power < BINARY.len() {
                    v /= 1024;
                    power += 1;
                }
                let sfx = if power == 0 { "" } else { BINARY[power - 1].0 };
                return Ok(format!("{sign}{v}{sfx}"));
            }
            _ => format = Format::DecimalSi,
        }
    }
    while n % 10 == 0 {
        n /= 10;
        scale += 1;
    }
    match scale.rem_euclid(3) {
        1 => {
            n *= 10;
            scale -= 1;
        }
        2 => {
            n *= 100;
            scale -= 2;
        }
        _ => {}
    }
    let sfx = match format {
        Format::DecimalExponent if scale == 0 => String::new(),
        Format::DecimalExponent => format!("e{scale}"),
        _ => DECIMAL
            .iter()
            .find(|(_, e)| *e == scale)
            .map(|(s, _)| s.to_string())
            .unwrap_or_else(|| format!("e{scale}")),
    };
    Ok(format!("{sign}{n}{sfx}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let q = |s: &str| Quantity::parse(s).unwrap();
        assert_eq!(q("100m"), Quantity(100));
        assert_eq!(q("1"), Quantity(1000));
        assert_eq!(q("1.5"), Quantity(1500));
        assert_eq!(q("1Gi").0, 1024i128 * 1024 * 1024 * 1000);
        assert_eq!(q("2e3"), q("2k"));
        assert_eq!(q("1n"), Quantity(1));
        assert!(Quantity::parse("abc").is_none());
        assert!(Quantity::parse("1Gx").is_none());
        assert_eq!((q("500m") + q("500m")).to_string(), "1");
        assert_eq!((q("512Mi") + q("512Mi")).to_string(), "1Gi");
        assert_eq!(q("250m").to_string(), "250m");
        assert!(q("1") > q("999m"));
    }

    #[test]
    fn canonical_text() {
        let c = |s: &str| canonical(s).unwrap();
        assert_eq!(c("0.5"), "500m");
        assert_eq!(c("1.5"), "1500m");
        assert_eq!(c("1000m"), "1");
        assert_eq!(c("100m"), "100m");
        assert_eq!(c("1000"), "1k");
        assert_eq!(c("1200"), "1200");
        assert_eq!(c("1024Mi"), "1Gi");
        assert_eq!(c("1536Mi"), "1536Mi");
        assert_eq!(c("1.5Gi"), "1536Mi");
        assert_eq!(c("512Mi"), "512Mi");
        assert_eq!(c("0.5Ki"), "512");
        assert_eq!(c("2e3"), "2e3");
        assert_eq!(c("+1"), "+1");
        assert_eq!(c("-1"), "-1");
        assert_eq!(c("0"), "0");
        assert_eq!(c("0.0"), "0");
        // Upstream kubectl 1.33's output for each.
        for (input, want) in [
            ("1.5n", "2n"),
            ("12e3", "12e3"),
            ("1E3", "1E3"),
            ("0100m", "0100m"),
            ("1k", "1k"),
            ("1000k", "1M"),
            ("1e-3", "1e-3"),
            ("0.1", "100m"),
            ("2Ki", "2Ki"),
            ("1023", "1023"),
            ("1025Ki", "1025Ki"),
            ("3.3Ki", "3379200m"),
            ("1e21", "1e21"),
            ("100Ti", "100Ti"),
        ] {
            assert_eq!(c(input), want, "{input}");
        }
        assert_eq!(canonical("1.2.3"), Err(FORMAT_ERROR));
        assert_eq!(canonical("abc"), Err(FORMAT_ERROR));
        assert_eq!(canonical("1Gx"), Err(FORMAT_ERROR));
        assert_eq!(canonical(""), Err(FORMAT_ERROR));
        assert_eq!(canonical("1Gii"), Err(SUFFIX_ERROR));
    }
}
