//! Go-style durations as upstream flags take them (`300ms`, `5m`, `1h30m`).

/// Go-style durations: "300ms", "5m", "1h30m", "90s".
pub fn parse(s: &str) -> Result<std::time::Duration, String> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next().unwrap_or('s'));
        }
        let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?}"))?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(format!("invalid duration {s:?}")),
        };
    }
    if !num.is_empty() {
        if s == "0" {
            return Ok(std::time::Duration::ZERO);
        }
        return Err(format!("missing unit in duration {s:?}"));
    }
    Ok(std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse("5m").unwrap().as_secs(), 300);
        assert_eq!(parse("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse("250ms").unwrap().as_millis(), 250);
        assert!(parse("5").is_err());
        assert!(parse("").is_err());
    }
}
