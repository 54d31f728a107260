//! Message formatting shared by the authorizer and the escalation checks: Go's `%q` quoting, error aggregation
//! (`utilerrors.NewAggregate`), the authorization 403 text (`responsewriters.forbiddenMessage`) and
//! `apierrors.NewForbidden`'s `<resource>.<group> "<name>" is forbidden: <err>` shape.

use super::Attributes;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Go's `strconv.Quote` (what `%q` prints for a string).
pub(super) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out.push('"');
    out
}

/// Appends one character as Go escapes it inside a double-quoted string.
fn push_escaped(out: &mut String, c: char) {
    let escaped = match c {
        '"' => "\\\"",
        '\\' => "\\\\",
        '\u{7}' => "\\a",
        '\u{8}' => "\\b",
        '\u{c}' => "\\f",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        '\u{b}' => "\\v",
        c if (c as u32) < 0x20 || c == '\u{7f}' => return push_hex(out, "\\x", 2, c),
        c if c.is_control() => return push_hex(out, "\\u", 4, c),
        c => return out.push(c),
    };
    out.push_str(escaped);
}

/// Appends `prefix` and the character's code point as `width` lower-case hex digits.
fn push_hex(out: &mut String, prefix: &str, width: usize, c: char) {
    let _ = write!(out, "{prefix}{:0width$x}", c as u32);
}

/// What Go's `%q` prints for a `[]string`: `["a" "b"]`.
pub(super) fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// `utilerrors.NewAggregate(errs).Error()`: one message as is, several de-duplicated as `[a, b]`.
pub(super) fn aggregate_errors(errors: &[String]) -> String {
    if let [only] = errors {
        return only.clone();
    }
    let mut seen = BTreeSet::new();
    let unique: Vec<&str> = errors
        .iter()
        .filter(|e| seen.insert(e.as_str()))
        .map(String::as_str)
        .collect();
    match unique.as_slice() {
        [only] => (*only).to_owned(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Upstream's sanitizer: keeps the message from looking like HTML.
fn sanitize(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `apierrors.NewForbidden(GroupResource{group, resource}, name, err)`'s message.
pub fn forbidden_object_message(group: &str, resource: &str, name: &str, err: &str) -> String {
    let qualified = match group {
        "" => resource.to_owned(),
        g => format!("{resource}.{g}"),
    };
    match (qualified.as_str(), name) {
        ("", _) => format!("forbidden: {err}"),
        (q, "") => format!("{q} is forbidden: {err}"),
        (q, n) => format!("{q} {} is forbidden: {err}", go_quote(n)),
    }
}

/// The 403 message for a request no authorizer allowed, e.g. `pods "p" is forbidden: User "bob" cannot get
/// resource "pods/log" in API group "" in the namespace "default"` (`: reason` appended when non-empty).
pub fn forbidden_message(a: &Attributes, reason: &str) -> String {
    let msg = sanitize(&user_cannot(a));
    let err = match reason {
        "" => msg,
        r => format!("{msg}: {r}"),
    };
    forbidden_object_message(&a.api_group, &a.resource, &a.name, &err)
}

/// `User "bob" cannot <verb> ...`: the path for non-resource requests, else the resource, group and scope.
fn user_cannot(a: &Attributes) -> String {
    let user = go_quote(&a.user.name);
    if !a.resource_request {
        return format!("User {user} cannot {} path {}", a.verb, go_quote(&a.path));
    }
    let scope = match a.namespace.as_str() {
        "" => "at the cluster scope".to_owned(),
        ns => format!("in the namespace {}", go_quote(ns)),
    };
    let (resource, group) = (go_quote(&a.combined_resource()), go_quote(&a.api_group));
    format!(
        "User {user} cannot {} resource {resource} in API group {group} {scope}",
        a.verb
    )
}
