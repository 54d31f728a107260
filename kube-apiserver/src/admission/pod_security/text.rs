//! Text helpers shared by the checks: Go-style quoting, pluralization and quoted lists.

/// Go's `%q` for a string: double-quoted with `\"`, `\\` and control characters escaped.
pub(crate) fn go_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `singular` when `count == 1`, otherwise `plural`.
pub(crate) fn pluralize(singular: &'static str, plural: &'static str, count: usize) -> &'static str {
    if count == 1 { singular } else { plural }
}

/// Upstream's `joinQuote`: `"a", "b"` (items wrapped in quotes without escaping); empty for no items.
pub(crate) fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|item| format!("\"{}\"", item.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `container "a"` / `containers "a", "b"`.
pub(crate) fn containers_phrase<S: AsRef<str>>(names: &[S]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// Appends `containers "a", "b"` to `setters` when `names` is non-empty.
pub(crate) fn push_containers<S: AsRef<str>>(setters: &mut Vec<String>, names: &[S]) {
    if !names.is_empty() {
        setters.push(containers_phrase(names));
    }
}
