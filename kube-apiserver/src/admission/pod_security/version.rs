//! Policy versions: `latest` or `v1.<minor>`, and the newest policy version this implementation knows.

/// The `latest` version label value.
pub(crate) const LATEST: &str = "latest";

/// The newest policy version with checks defined (Kubernetes v1.33); `latest` and newer versions map here.
pub(crate) const MAX_MINOR: u32 = 33;

/// Parses `latest` (→ `None`) or `v1.<minor>` with no leading zeros (→ `Some(minor)`).
/// Errors carry upstream's message.
pub(crate) fn parse(value: &str) -> Result<Option<u32>, &'static str> {
    const INVALID: &str = r#"must be "latest" or "v1.x""#;
    if value == LATEST {
        return Ok(None);
    }
    let digits = value.strip_prefix("v1.").ok_or(INVALID)?;
    let well_formed = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == 1 || !digits.starts_with('0'));
    if !well_formed {
        return Err(INVALID);
    }
    digits.parse::<u32>().map(Some).map_err(|_| INVALID)
}

/// The minor version whose checks apply: invalid values count as `latest`, and everything newer than
/// the newest known version is clamped to it.
pub(crate) fn effective_minor(value: &str) -> u32 {
    match parse(value) {
        Ok(Some(minor)) => minor.min(MAX_MINOR),
        Ok(None) | Err(_) => MAX_MINOR,
    }
}
