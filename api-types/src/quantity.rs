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
}
