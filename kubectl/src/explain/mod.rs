//! `kubectl explain`'s plaintext rendering of an OpenAPI v3 group-version document, as upstream
//! 1.33 renders it with its `plaintext` template: the GROUP/KIND/VERSION header from the
//! operation that serves the resource, then either the DESCRIPTION and FIELDS of the kind or,
//! for a field path, the FIELD line, its DESCRIPTION and its FIELDS. References (`$ref`,
//! single `allOf`), arrays (`items`) and maps (`additionalProperties`) are followed the way
//! the template follows them, descriptions are word-wrapped as go-wordwrap wraps them, and
//! `--recursive` lists nested fields two spaces deeper per level, stopping at cycles.

pub mod path;

#[cfg(test)]
mod tests;

use serde_json::Value;
use std::collections::BTreeSet;

/// What `explain` was asked about: the resource (as discovery names it) and a field path.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub group: String,
    pub version: String,
    pub resource: String,
    pub fields: Vec<String>,
    pub recursive: bool,
}

impl Request {
    /// `apps/v1, Resource=deployments` (`/v1, Resource=pods` for the core group), as upstream
    /// prints a GroupVersionResource.
    pub fn gvr_string(&self) -> String {
        format!("{}/{}, Resource={}", self.group, self.version, self.resource)
    }
}

/// The rendered text, and the error that stopped rendering (after the text printed so far).
#[derive(Debug, Default, PartialEq)]
pub struct Rendered {
    pub text: String,
    pub error: Option<String>,
}

/// Renders `req` from the group-version document `doc`.
pub fn render(doc: &Value, req: &Request) -> Rendered {
    let mut out = Rendered::default();
    let Some(gvk) = find_gvk(doc, req) else {
        out.error = Some(format!("error: GVR ({}) not found in OpenAPI schema", req.gvr_string()));
        return out;
    };
    if truthy(gvk.get("group")) {
        out.text.push_str(&format!("GROUP:      {}\n", go_fmt(&gvk["group"])));
    }
    out.text
        .push_str(&format!("KIND:       {}\n", go_fmt_field(gvk.get("kind"))));
    out.text
        .push_str(&format!("VERSION:    {}\n", go_fmt_field(gvk.get("version"))));
    out.text.push('\n');
    let r = Renderer {
        doc,
        recursive: req.recursive,
    };
    match r.schema(gvk, &req.fields) {
        Ok(s) if !s.is_empty() => {
            out.text.push_str(&s);
            out.text.push('\n');
        }
        Ok(_) => out.error = Some(format!("error: GVK {} not found in OpenAPI schema", go_fmt(gvk))),
        Err(e) => out.error = Some(e),
    }
    out
}

/// The kind served at the resource's paths: the `x-kubernetes-group-version-kind` of the
/// first operation that has one, looked up at the cluster-scoped and namespaced collection
/// and item paths (the last path that has operations decides, as in the template).
fn find_gvk<'a>(doc: &'a Value, req: &Request) -> Option<&'a Value> {
    let prefix = if req.group.is_empty() {
        "/api".to_string()
    } else {
        format!("/apis/{}", req.group)
    };
    let (v, r) = (&req.version, &req.resource);
    let searches = [
        format!("{prefix}/{v}/{r}"),
        format!("{prefix}/{v}/{r}/{{name}}"),
        format!("{prefix}/{v}/namespaces/{{namespace}}/{r}"),
        format!("{prefix}/{v}/namespaces/{{namespace}}/{r}/{{name}}"),
    ];
    let mut gvk: Option<&Value> = None;
    for search in &searches {
        let Some(element) = doc["paths"].get(search).filter(|e| truthy(Some(e))) else {
            continue;
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = element.get(method).filter(|e| truthy(Some(e))) else {
                continue;
            };
            gvk = op.get("x-kubernetes-group-version-kind");
            if truthy(gvk) {
                break;
            }
        }
    }
    gvk.filter(|g| truthy(Some(g)))
}

/// Go template truthiness of a JSON value (missing and null are false).
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// `additionalProperties` when it is a schema (not `true`/`false`) and not empty.
fn additional(s: &Value) -> Option<&Value> {
    s.get("additionalProperties")
        .filter(|a| !a.is_boolean() && truthy(Some(a)))
}

/// A string field, or "" (`or (index $.schema "$ref") ""`).
fn str_field<'a>(s: &'a Value, key: &str) -> &'a str {
    s.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Go's `indent`: the pad before the text and after every newline in it.
pub fn indent(amount: usize, s: &str) -> String {
    let pad = " ".repeat(amount);
    format!("{pad}{}", s.replace('\n', &format!("\n{pad}")))
}

/// go-wordwrap 1.0.1's `WrapString` behind kubectl's word-wrap writer (no wrapping at limit 0):
/// breaks at whitespace so lines stay within `lim` runes where words allow, keeps the text's
/// own newlines, and drops the whitespace at an inserted break.
pub fn wrap(lim: usize, s: &str) -> String {
    if lim == 0 {
        return s.to_string();
    }
    let mut buf = String::with_capacity(s.len() + s.len() / lim.max(1));
    let mut current = 0usize;
    let (mut word, mut space) = (String::new(), String::new());
    let (mut word_len, mut space_len) = (0usize, 0usize);
    for c in s.chars() {
        if c == '\n' {
            if word.is_empty() {
                if current + space_len <= lim {
                    buf.push_str(&space);
                }
            } else {
                buf.push_str(&space);
                buf.push_str(&word);
                word.clear();
                word_len = 0;
            }
            space.clear();
            space_len = 0;
            buf.push(c);
            current = 0;
        } else if c.is_whitespace() && c != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += space_len + word_len;
                buf.push_str(&space);
                space.clear();
                space_len = 0;
                buf.push_str(&word);
                word.clear();
                word_len = 0;
            }
            space.push(c);
            space_len += 1;
        } else {
            word.push(c);
            word_len += 1;
            if current + space_len + word_len > lim && word_len < lim {
                buf.push('\n');
                current = 0;
                space.clear();
                space_len = 0;
            }
        }
    }
    if word.is_empty() {
        if current + space_len <= lim {
            buf.push_str(&space);
        }
    } else {
        buf.push_str(&space);
        buf.push_str(&word);
    }
    buf
}

/// How Go's fmt prints a value decoded from JSON (`%v`): strings as they are, numbers as
/// float64, maps with sorted keys (`map[a:1 b:2]`), lists as `[a b]`.
pub fn go_fmt(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_float(n.as_f64().unwrap_or_default()),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_fmt).collect::<Vec<_>>().join(" ")),
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys.iter().map(|k| format!("{k}:{}", go_fmt(&o[*k]))).collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// A template field printed as text/template prints it (`<no value>` when missing).
fn go_fmt_field(v: Option<&Value>) -> String {
    match v {
        None => "<no value>".into(),
        Some(v) => go_fmt(v),
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`): the shortest digits, in
/// exponent form (`1e+06`) when the decimal exponent is below -4 or at least 6.
fn go_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e6".
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1;
    if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{sign}{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{sign}{a}.{b}")
    }
}

struct Renderer<'a> {
    doc: &'a Value,
    recursive: bool,
}

type History = BTreeSet<String>;

impl<'a> Renderer<'a> {
    /// `resolveRef`: the object a `#/…` fragment reference points to in the document.
    fn resolve_ref(&self, r: &str) -> Option<&'a Value> {
        let fragment = r.strip_prefix('#').filter(|f| !f.is_empty())?;
        let mut cur = self.doc;
        for k in fragment.split('/').filter(|k| !k.is_empty()) {
            cur = cur.get(k).filter(|v| v.is_object())?;
        }
        cur.is_object().then_some(cur)
    }

    /// `or (resolveRef $ref) $schema`: the referenced schema when it is a non-empty object.
    fn resolved(&self, s: &'a Value) -> &'a Value {
        match s.get("$ref").and_then(Value::as_str).and_then(|r| self.resolve_ref(r)) {
            Some(r) if truthy(Some(r)) => r,
            _ => s,
        }
    }

    /// The kind's schema (the first in name order with this group-version-kind), rendered
    /// along the field path; a path that leads nowhere names its last field.
    fn schema(&self, gvk: &Value, fields: &[String]) -> Result<String, String> {
        let Some(schemas) = self.doc["components"]["schemas"].as_object() else {
            return Ok(String::new());
        };
        let mut names: Vec<&String> = schemas.keys().collect();
        names.sort();
        for name in names {
            let s = &schemas[name];
            let matches = s["x-kubernetes-group-version-kind"]
                .as_array()
                .is_some_and(|l| l.iter().any(|g| g == gvk));
            if matches {
                let out = self.output(s, None, fields)?;
                if out.is_empty() {
                    let last = fields.last().cloned().unwrap_or_default();
                    return Err(format!("error: field \"{last}\" does not exist"));
                }
                return Ok(out);
            }
        }
        Ok(String::new())
    }

    /// The `output` template: follows the field path, then prints the DESCRIPTION and FIELDS.
    fn output(&self, schema: &'a Value, history: Option<&History>, fields: &[String]) -> Result<String, String> {
        let ref_string = str_field(schema, "$ref");
        let mut next: History = history.cloned().unwrap_or_default();
        next.insert(ref_string.to_string());
        let resolved = self.resolved(schema);
        let mut out = String::new();
        if fields.is_empty() {
            out.push_str("DESCRIPTION:\n");
            let d = self.description(resolved);
            let d = if d.is_empty() { "<empty>".to_string() } else { d };
            out.push_str(&indent(4, &wrap(76, &d)));
            out.push('\n');
            let list = self.field_list(resolved, 1, None)?;
            if !list.is_empty() {
                out.push_str("FIELDS:\n");
                out.push_str(&list);
            }
            return Ok(out);
        }
        if !ref_string.is_empty() && history.is_some_and(|h| h.contains(ref_string)) {
            return Ok(out);
        }
        let first = &fields[0];
        if let Some(sub) = resolved
            .get("properties")
            .filter(|p| truthy(Some(p)))
            .and_then(|p| p.get(first.as_str()))
            .filter(|s| truthy(Some(s)))
        {
            if fields.len() == 1 {
                out.push_str(&format!("FIELD: {first} <{}>\n", self.type_guess(sub)?));
                out.push_str(&extract_enum(sub, true, -1, 0));
                out.push('\n');
                out.push('\n');
            }
            out.push_str(&self.output(sub, Some(&History::new()), &fields[1..])?);
        } else if let Some(items) = resolved.get("items").filter(|i| truthy(Some(i))) {
            out.push_str(&self.output(items, Some(&next), fields)?);
        } else if let Some(ap) = additional(resolved) {
            out.push_str(&self.output(ap, Some(&next), fields)?);
        } else {
            for sub in resolved.get("allOf").and_then(Value::as_array).into_iter().flatten() {
                let o = self.output(sub, Some(&next), fields)?;
                if !o.is_empty() {
                    out.push_str(&o);
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The `description` template: the schema's description and those of its `allOf`
    /// members, items and map values, one per line.
    fn description(&self, schema: &'a Value) -> String {
        let s = self.resolved(schema);
        let mut out = String::new();
        if !truthy(Some(s)) {
            return out;
        }
        if truthy(s.get("description")) {
            out.push_str(&go_fmt(&s["description"]));
            out.push('\n');
        }
        for sub in s.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            out.push_str(&self.description(sub));
        }
        if let Some(items) = s.get("items").filter(|i| truthy(Some(i))) {
            out.push_str(&self.description(items));
        }
        if let Some(ap) = additional(s) {
            out.push_str(&self.description(ap));
        }
        out
    }

    /// The `fieldList` template: each property (in name order) with its type and description,
    /// or with `--recursive` one line per field and its nested fields below it.
    fn field_list(&self, schema: &'a Value, level: usize, history: Option<&History>) -> Result<String, String> {
        let ref_string = str_field(schema, "$ref");
        if !ref_string.is_empty() && history.is_some_and(|h| h.contains(ref_string)) {
            return Ok(String::new());
        }
        let mut next: History = history.cloned().unwrap_or_default();
        next.insert(ref_string.to_string());
        let resolved = self.resolved(schema);
        let mut out = String::new();
        if let Some(props) = resolved.get("properties").and_then(Value::as_object) {
            let mut names: Vec<&String> = props.keys().collect();
            names.sort();
            for name in names {
                out.push_str(&self.field_detail(name, resolved, level)?);
                if self.recursive {
                    out.push_str(&self.field_list(&props[name], level + 1, Some(&next))?);
                }
            }
        }
        for sub in resolved.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            out.push_str(&self.field_list(sub, level, Some(&next))?);
        }
        if let Some(items) = resolved.get("items").filter(|i| truthy(Some(i))) {
            out.push_str(&self.field_list(items, level, Some(&next))?);
        }
        if let Some(ap) = additional(resolved) {
            out.push_str(&self.field_list(ap, level, Some(&next))?);
        }
        Ok(out)
    }

    /// The `fieldDetail` template: `name\t<type> -required-`, the first enum values, then
    /// (unless recursive) the wrapped description. (1.33's template prints no external docs.)
    fn field_detail(&self, name: &str, parent: &'a Value, level: usize) -> Result<String, String> {
        let amount = level * 2;
        let field = &parent["properties"][name];
        let mut out = format!("{}\t<{}>", indent(amount, name), self.type_guess(field)?);
        if parent["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(name)))
        {
            out.push_str(" -required-");
        }
        out.push_str(&extract_enum(field, false, 4, amount));
        out.push('\n');
        if !self.recursive {
            let d = if truthy(field.get("description")) {
                go_fmt(&field["description"])
            } else {
                "<no description>".to_string()
            };
            out.push_str(&indent(amount + 2, &wrap(78usize.saturating_sub(amount), &d)));
            out.push('\n');
            out.push('\n');
        }
        Ok(out)
    }

    /// The `typeGuess` template: `[]T` for arrays, `map[string]T` for maps, the referenced
    /// type's short name for objects (`ObjectMeta`), its JSON type for scalars (`string`),
    /// `Object` for untyped or inline objects.
    fn type_guess(&self, schema: &'a Value) -> Result<String, String> {
        if !truthy(Some(schema)) {
            return Err("expected schema argument to subtemplate 'typeguess'".into());
        }
        if let Some(items) = schema.get("items").filter(|i| truthy(Some(i))) {
            return Ok(format!("[]{}", self.type_guess(items)?));
        }
        if let Some(ap) = additional(schema) {
            return Ok(format!("map[string]{}", self.type_guess(ap)?));
        }
        if let Some([only]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice)
            && !truthy(schema.get("properties"))
        {
            return self.type_guess(only);
        }
        if truthy(schema.get("$ref")) {
            let r = go_fmt(&schema["$ref"]);
            let target = self.resolve_ref(&r).filter(|t| truthy(Some(t)));
            let ty = target.and_then(|t| t.get("type")).filter(|t| truthy(Some(t)));
            return Ok(match ty {
                Some(t) if t.as_str() != Some("object") => go_fmt(t),
                _ => {
                    let name = r.rsplit('/').next().unwrap_or_default();
                    let short = name.rsplit('.').next().unwrap_or_default();
                    if short.is_empty() {
                        "Object".into()
                    } else {
                        short.to_string()
                    }
                }
            });
        }
        Ok(match schema.get("type") {
            Some(t) if t.as_str() == Some("object") => "Object".into(),
            Some(t) if truthy(Some(t)) => go_fmt(t),
            _ => "Object".into(),
        })
    }
}

/// The `extractEnum` template: `\n<pad>enum: A, B, C, D, ....` in a field list (at most
/// `limit` values), `ENUM:` and one value per line for a single field; `""` for the empty
/// string.
fn extract_enum(schema: &Value, long: bool, limit: i64, amount: usize) -> String {
    let Some(values) = schema.get("enum").and_then(Value::as_array).filter(|v| !v.is_empty()) else {
        return String::new();
    };
    let limit = if limit == 0 { -1 } else { limit };
    let mut out = if long {
        "ENUM:".to_string()
    } else {
        format!("\n{}enum: ", " ".repeat(amount))
    };
    for (i, v) in values.iter().enumerate() {
        if limit > -1 && i as i64 >= limit {
            out.push_str(", ....");
            break;
        }
        if i > 0 && !long {
            out.push_str(", ");
        } else if long {
            out.push_str("\n    ");
        }
        if v.as_str() == Some("") {
            out.push_str("\"\"");
        } else {
            out.push_str(&go_fmt(v));
        }
    }
    out
}
