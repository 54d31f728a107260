//! Kubernetes JSONPath templates (`-o jsonpath=…`, custom-columns): text with `{…}` actions
//! holding paths (`.a.b`, `[0]`, `[*]`, `[1:3]`, `..name`, `[?(@.x=="y")]`, unions), string
//! literals and `range … end`. Missing keys print nothing, as kubectl allows them.

use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JsonPathError {
    #[error("unclosed action")]
    Unclosed,
    #[error("unrecognized character in action: {0}")]
    BadChar(String),
    #[error("not in range, nothing to end")]
    StrayEnd,
    #[error("unterminated string")]
    UnterminatedString,
    #[error("unterminated array")]
    UnterminatedArray,
    #[error("invalid array index {0}")]
    BadIndex(String),
    #[error("unclosed filter")]
    BadFilter,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Debug, Clone)]
enum Step {
    Root,
    Field(String),
    AllFields,
    Recursive(Option<String>),
    Index(Vec<Slice>),
    Filter(Box<Filter>),
    Union(Vec<String>),
}

#[derive(Debug, Clone)]
enum Slice {
    One(i64),
    Range(Option<i64>, Option<i64>, Option<i64>),
    All,
}

#[derive(Debug, Clone)]
struct Filter {
    left: Operand,
    op: Option<(String, Operand)>,
}

#[derive(Debug, Clone)]
enum Operand {
    Path(Vec<Step>),
    Literal(Value),
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct JsonPath {
    nodes: Vec<Node>,
}

impl JsonPath {
    pub fn parse(template: &str) -> Result<JsonPath, JsonPathError> {
        let mut items: Vec<Item> = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find('{') {
                None => {
                    items.push(Item::Text(rest.to_string()));
                    break;
                }
                Some(i) => {
                    if i > 0 {
                        items.push(Item::Text(rest[..i].to_string()));
                    }
                    let after = &rest[i + 1..];
                    let end = find_action_end(after).ok_or(JsonPathError::Unclosed)?;
                    items.push(parse_action(after[..end].trim())?);
                    rest = &after[end + 1..];
                }
            }
        }
        let mut iter = items.into_iter();
        let nodes = build(&mut iter, false)?;
        Ok(JsonPath { nodes })
    }

    /// Evaluates against `data` and returns the text.
    pub fn execute(&self, data: &Value) -> String {
        let mut out = String::new();
        run(&self.nodes, data, data, &mut out);
        out
    }

    /// The values one template selects, for custom-columns (each `{…}` in order).
    pub fn values(&self, data: &Value) -> Vec<Value> {
        let mut all = Vec::new();
        for n in &self.nodes {
            if let Node::Path(steps) = n {
                all.extend(eval(steps, data, data));
            }
        }
        all
    }
}

enum Item {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>),
    End,
}

fn build(iter: &mut std::vec::IntoIter<Item>, in_range: bool) -> Result<Vec<Node>, JsonPathError> {
    let mut nodes = Vec::new();
    while let Some(item) = iter.next() {
        match item {
            Item::Text(t) => nodes.push(Node::Text(t)),
            Item::Path(p) => nodes.push(Node::Path(p)),
            Item::Range(p) => {
                let body = build(iter, true)?;
                nodes.push(Node::Range(p, body));
            }
            Item::End => {
                if in_range {
                    return Ok(nodes);
                }
                return Err(JsonPathError::StrayEnd);
            }
        }
    }
    Ok(nodes)
}

/// The index of the `}` closing an action, skipping quoted strings.
fn find_action_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '}' => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse_action(text: &str) -> Result<Item, JsonPathError> {
    if text == "end" {
        return Ok(Item::End);
    }
    if let Some(rest) = text.strip_prefix("range ") {
        return Ok(Item::Range(parse_path(rest.trim())?));
    }
    if text.starts_with('"') {
        return Ok(Item::Text(unquote(text)?));
    }
    Ok(Item::Path(parse_path(text)?))
}

fn unquote(text: &str) -> Result<String, JsonPathError> {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or(JsonPathError::UnterminatedString)?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn parse_path(text: &str) -> Result<Vec<Step>, JsonPathError> {
    let chars: Vec<char> = text.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '$' => {
                steps.push(Step::Root);
                i += 1;
            }
            '@' => i += 1,
            '.' => {
                if chars.get(i + 1) == Some(&'.') {
                    i += 2;
                    let (name, next) = read_name(&chars, i);
                    i = next;
                    steps.push(Step::Recursive(if name.is_empty() || name == "*" {
                        None
                    } else {
                        Some(name)
                    }));
                } else {
                    i += 1;
                    let (name, next) = read_name(&chars, i);
                    i = next;
                    if name == "*" {
                        steps.push(Step::AllFields);
                    } else if !name.is_empty() {
                        steps.push(Step::Field(name));
                    }
                }
            }
            '[' => {
                let close = find_bracket_end(&chars, i).ok_or(JsonPathError::UnterminatedArray)?;
                let inner: String = chars[i + 1..close].iter().collect();
                steps.push(parse_bracket(inner.trim())?);
                i = close + 1;
            }
            ' ' => i += 1,
            c if c.is_alphanumeric() || c == '_' => {
                // A bare field name at the start (`metadata.name`).
                let (name, next) = read_name(&chars, i);
                i = next;
                steps.push(Step::Field(name));
            }
            c => return Err(JsonPathError::BadChar(c.to_string())),
        }
    }
    Ok(steps)
}

fn read_name(chars: &[char], mut i: usize) -> (String, usize) {
    let mut name = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            name.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if c == '.' || c == '[' || c == ' ' || c == '(' || c == ')' || c == '=' || c == '!' || c == '<' || c == '>' {
            break;
        }
        name.push(c);
        i += 1;
    }
    (name, i)
}

fn find_bracket_end(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (j, &c) in chars.iter().enumerate().skip(open) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_bracket(inner: &str) -> Result<Step, JsonPathError> {
    if let Some(f) = inner.strip_prefix("?(") {
        let body = f.strip_suffix(')').ok_or(JsonPathError::BadFilter)?;
        return Ok(Step::Filter(Box::new(parse_filter(body.trim())?)));
    }
    if inner == "*" {
        return Ok(Step::Index(vec![Slice::All]));
    }
    if inner.starts_with('\'') || inner.starts_with('"') {
        let names = inner
            .split(',')
            .map(|p| p.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
            .collect();
        return Ok(Step::Union(names));
    }
    let mut slices = Vec::new();
    for part in inner.split(',') {
        let part = part.trim();
        if part.contains(':') {
            let nums: Vec<Option<i64>> = part
                .split(':')
                .map(|n| {
                    let n = n.trim();
                    if n.is_empty() { Ok(None) } else { n.parse().map(Some) }
                })
                .collect::<Result<_, _>>()
                .map_err(|_| JsonPathError::BadIndex(part.to_string()))?;
            slices.push(Slice::Range(
                nums.first().copied().flatten(),
                nums.get(1).copied().flatten(),
                nums.get(2).copied().flatten(),
            ));
        } else {
            let n = part.parse().map_err(|_| JsonPathError::BadIndex(part.to_string()))?;
            slices.push(Slice::One(n));
        }
    }
    Ok(Step::Index(slices))
}

fn parse_filter(body: &str) -> Result<Filter, JsonPathError> {
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some((l, r)) = split_outside_quotes(body, op) {
            return Ok(Filter {
                left: parse_operand(l.trim())?,
                op: Some((op.to_string(), parse_operand(r.trim())?)),
            });
        }
    }
    Ok(Filter {
        left: parse_operand(body)?,
        op: None,
    })
}

fn split_outside_quotes<'a>(s: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            continue;
        }
        if s[i..].starts_with(op) {
            return Some((&s[..i], &s[i + op.len()..]));
        }
    }
    None
}

fn parse_operand(s: &str) -> Result<Operand, JsonPathError> {
    if s.starts_with('@') || s.starts_with('$') || s.starts_with('.') {
        return Ok(Operand::Path(parse_path(s)?));
    }
    if (s.starts_with('\'') && s.ends_with('\'') && s.len() >= 2)
        || (s.starts_with('"') && s.ends_with('"') && s.len() >= 2)
    {
        return Ok(Operand::Literal(Value::String(s[1..s.len() - 1].to_string())));
    }
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Operand::Literal(Value::from(i)));
    }
    if let Ok(f) = s.parse::<f64>() {
        return Ok(Operand::Literal(Value::from(f)));
    }
    match s {
        "true" => Ok(Operand::Literal(Value::Bool(true))),
        "false" => Ok(Operand::Literal(Value::Bool(false))),
        "nil" | "null" => Ok(Operand::Literal(Value::Null)),
        _ => Err(JsonPathError::BadChar(s.to_string())),
    }
}

fn run(nodes: &[Node], root: &Value, current: &Value, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(steps) => {
                let results = eval(steps, root, current);
                let texts: Vec<String> = results.iter().map(text_of).collect();
                out.push_str(&texts.join(" "));
            }
            Node::Range(steps, body) => {
                for v in eval(steps, root, current) {
                    // `range` over a list iterates its elements when the path ends in one value.
                    run(body, root, &v, out);
                }
            }
        }
    }
}

/// How one result prints: strings as they are, maps and lists as compact JSON.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(_) | Value::Array(_) => super::json::to_compact(v),
        Value::Number(n) => {
            if n.is_f64() {
                super::yaml::go_float(n.as_f64().unwrap_or(0.0))
            } else {
                n.to_string()
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::Null => "<nil>".to_string(),
    }
}

fn eval(steps: &[Step], root: &Value, current: &Value) -> Vec<Value> {
    let mut cur = vec![current.clone()];
    for step in steps {
        let mut next = Vec::new();
        for v in &cur {
            apply(step, root, v, &mut next);
        }
        cur = next;
    }
    cur
}

fn apply(step: &Step, root: &Value, v: &Value, out: &mut Vec<Value>) {
    match step {
        Step::Root => out.push(root.clone()),
        Step::Field(name) => {
            if let Some(x) = v.get(name.as_str()) {
                out.push(x.clone());
            }
        }
        Step::AllFields => match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.extend(keys.into_iter().map(|k| m[k.as_str()].clone()));
            }
            Value::Array(a) => out.extend(a.iter().cloned()),
            _ => {}
        },
        Step::Union(names) => {
            for n in names {
                if let Some(x) = v.get(n.as_str()) {
                    out.push(x.clone());
                }
            }
        }
        Step::Recursive(name) => recurse(v, name.as_deref(), out),
        Step::Index(slices) => {
            let Value::Array(a) = v else { return };
            let len = a.len() as i64;
            for s in slices {
                match s {
                    Slice::All => out.extend(a.iter().cloned()),
                    Slice::One(i) => {
                        let i = if *i < 0 { len + i } else { *i };
                        if (0..len).contains(&i) {
                            out.push(a[i as usize].clone());
                        }
                    }
                    Slice::Range(start, end, step) => {
                        let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                        let s = start.map(norm).unwrap_or(0);
                        let e = end.map(norm).unwrap_or(len);
                        let st = step.unwrap_or(1).max(1) as usize;
                        let mut i = s;
                        while i < e {
                            out.push(a[i as usize].clone());
                            i += st as i64;
                        }
                    }
                }
            }
        }
        Step::Filter(f) => {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if filter_matches(f, root, item) {
                    out.push(item.clone());
                }
            }
        }
    }
}

fn recurse(v: &Value, name: Option<&str>, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                let child = &m[k.as_str()];
                if name.is_none_or(|n| n == k) {
                    out.push(child.clone());
                }
                recurse(child, name, out);
            }
        }
        Value::Array(a) => {
            for child in a {
                if name.is_none() {
                    out.push(child.clone());
                }
                recurse(child, name, out);
            }
        }
        _ => {}
    }
}

fn operand_values(o: &Operand, root: &Value, item: &Value) -> Vec<Value> {
    match o {
        Operand::Literal(v) => vec![v.clone()],
        Operand::Path(p) => eval(p, root, item),
    }
}

fn filter_matches(f: &Filter, root: &Value, item: &Value) -> bool {
    let left = operand_values(&f.left, root, item);
    let Some((op, right)) = &f.op else {
        return !left.is_empty();
    };
    let right = operand_values(right, root, item);
    let (Some(l), Some(r)) = (left.first(), right.first()) else {
        return false;
    };
    let ord = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    use std::cmp::Ordering::*;
    match op.as_str() {
        "==" => l == r || ord == Some(Equal),
        "!=" => !(l == r || ord == Some(Equal)),
        "<" => ord == Some(Less),
        ">" => ord == Some(Greater),
        "<=" => matches!(ord, Some(Less | Equal)),
        ">=" => matches!(ord, Some(Greater | Equal)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: &str, v: &Value) -> String {
        JsonPath::parse(t)
            .map(|p| p.execute(v))
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    fn list() -> Value {
        json!({"kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app": "x"}}, "spec": {"replicas": 2},
             "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
            {"metadata": {"name": "b"}, "spec": {"replicas": 3},
             "status": {"conditions": [{"type": "Ready", "status": "False"}]}}]})
    }

    #[test]
    fn fields_and_wildcards() {
        let v = list();
        assert_eq!(run("{.items[*].metadata.name}", &v), "a b");
        assert_eq!(run("{.items[0].spec.replicas}", &v), "2");
        assert_eq!(run("{.items[-1].metadata.name}", &v), "b");
        assert_eq!(run("{.items[0:1].metadata.name}", &v), "a");
        assert_eq!(run("{.items[0].metadata.labels}", &v), "{\"app\":\"x\"}");
        assert_eq!(run("{.items[*].missing}", &v), "");
        assert_eq!(run("kind={.kind}", &v), "kind=List");
        assert_eq!(run("{..name}", &v), "a b");
    }

    #[test]
    fn range_and_literals() {
        let v = list();
        assert_eq!(
            run(
                "{range .items[*]}{.metadata.name}{\"\\t\"}{.spec.replicas}{\"\\n\"}{end}",
                &v
            ),
            "a\t2\nb\t3\n"
        );
    }

    #[test]
    fn filters() {
        let v = list();
        assert_eq!(
            run("{.items[?(@.status.conditions[0].status==\"True\")].metadata.name}", &v),
            "a"
        );
        assert_eq!(run("{.items[?(@.spec.replicas>2)].metadata.name}", &v), "b");
        assert_eq!(run("{.items[?(@.metadata.labels)].metadata.name}", &v), "a");
        assert_eq!(
            run("{.items[0].status.conditions[?(@.type=='Ready')].status}", &v),
            "True"
        );
    }

    #[test]
    fn errors() {
        assert!(JsonPath::parse("{.items").is_err());
        assert!(JsonPath::parse("{end}").is_err());
    }
}
