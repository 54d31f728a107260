//! Label selectors in their string form (`app=web,tier!=db,env in (a,b),!canary`), as
//! `labelSelector=` query parameters carry them, and matching against an object's labels.

use std::fmt;

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    /// `key>N` / `key<N`: numeric comparison, as upstream's Gt/Lt operators.
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed selector: all requirements must hold. An empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl Selector {
    pub fn everything() -> Self {
        Selector::default()
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Parses the string form. Errors use upstream's wording where it has one.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let mut requirements = Vec::new();
        let mut lexer = Lexer::new(input);
        loop {
            lexer.skip_ws();
            if lexer.at_end() {
                break;
            }
            requirements.push(parse_requirement(&mut lexer)?);
            lexer.skip_ws();
            if lexer.at_end() {
                break;
            }
            if !lexer.eat(",") {
                return Err(ParseError(format!(
                    "found '{}', expected: ',' or 'end of string'",
                    lexer.peek_token()
                )));
            }
        }
        Ok(Selector { requirements })
    }

    /// Whether labels given by `get` satisfy every requirement.
    pub fn matches<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| r.matches(&get))
    }

    /// Matches a JSON labels map (`metadata.labels`), which may be absent.
    pub fn matches_json(&self, labels: Option<&serde_json::Value>) -> bool {
        let map = labels.and_then(|l| l.as_object());
        self.matches(|k| map.and_then(|m| m.get(k)).and_then(|v| v.as_str()))
    }

    /// Matches a `metav1.LabelSelector` given as JSON (`matchLabels` + `matchExpressions`).
    pub fn from_label_selector_json(sel: &serde_json::Value) -> Result<Self, ParseError> {
        let mut requirements = Vec::new();
        if let Some(ml) = sel.get("matchLabels").and_then(|m| m.as_object()) {
            for (k, v) in ml {
                requirements.push(Requirement::Equals(
                    k.clone(),
                    v.as_str().unwrap_or_default().to_string(),
                ));
            }
        }
        if let Some(exprs) = sel.get("matchExpressions").and_then(|m| m.as_array()) {
            for e in exprs {
                let key = e.get("key").and_then(|k| k.as_str()).unwrap_or_default().to_string();
                let values: Vec<String> = e
                    .get("values")
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
                    .unwrap_or_default();
                let op = e.get("operator").and_then(|o| o.as_str()).unwrap_or_default();
                requirements.push(match op {
                    "In" => Requirement::In(key, values),
                    "NotIn" => Requirement::NotIn(key, values),
                    "Exists" => Requirement::Exists(key),
                    "DoesNotExist" => Requirement::DoesNotExist(key),
                    other => return Err(ParseError(format!("{other:?} is not a valid label selector operator"))),
                });
            }
        }
        Ok(Selector { requirements })
    }
}

impl Requirement {
    fn matches<'a>(&self, get: &impl Fn(&str) -> Option<&'a str>) -> bool {
        match self {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
            Requirement::GreaterThan(k, n) => get(k).and_then(|x| x.parse::<i64>().ok()).is_some_and(|x| x > *n),
            Requirement::LessThan(k, n) => get(k).and_then(|x| x.parse::<i64>().ok()).is_some_and(|x| x < *n),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
                Requirement::GreaterThan(k, n) => format!("{k}>{n}"),
                Requirement::LessThan(k, n) => format!("{k}<{n}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

fn parse_requirement(lx: &mut Lexer) -> Result<Requirement, ParseError> {
    if lx.eat("!") {
        lx.skip_ws();
        let key = lx.ident()?;
        return Ok(Requirement::DoesNotExist(key));
    }
    let key = lx.ident()?;
    lx.skip_ws();
    if lx.at_end() || lx.peek_char() == Some(',') {
        return Ok(Requirement::Exists(key));
    }
    if lx.eat("!=") {
        return Ok(Requirement::NotEquals(key, lx.value()?));
    }
    if lx.eat("==") || lx.eat("=") {
        return Ok(Requirement::Equals(key, lx.value()?));
    }
    if lx.eat(">") {
        return Ok(Requirement::GreaterThan(key, lx.number()?));
    }
    if lx.eat("<") {
        return Ok(Requirement::LessThan(key, lx.number()?));
    }
    if lx.eat_word("notin") {
        return Ok(Requirement::NotIn(key, lx.set()?));
    }
    if lx.eat_word("in") {
        return Ok(Requirement::In(key, lx.set()?));
    }
    Err(ParseError(format!(
        "found '{}', expected: in, notin, =, ==, !=, gt, lt",
        lx.peek_token()
    )))
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer { s, pos: 0 }
    }
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn peek_token(&self) -> String {
        let r = self.rest();
        let end = r.find(|c: char| c.is_whitespace() || c == ',').unwrap_or(r.len());
        if end == 0 {
            r.chars().take(1).collect()
        } else {
            r[..end].to_string()
        }
    }
    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.rest().starts_with(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }
    fn eat_word(&mut self, w: &str) -> bool {
        let r = self.rest();
        if r.starts_with(w) && !r[w.len()..].starts_with(is_ident_char) {
            self.pos += w.len();
            true
        } else {
            false
        }
    }
    fn ident(&mut self) -> Result<String, ParseError> {
        let r = self.rest();
        let end = r.find(|c: char| !is_ident_char(c)).unwrap_or(r.len());
        if end == 0 {
            return Err(ParseError(format!(
                "found '{}', expected: identifier",
                self.peek_token()
            )));
        }
        self.pos += end;
        Ok(r[..end].to_string())
    }
    fn value(&mut self) -> Result<String, ParseError> {
        self.skip_ws();
        let r = self.rest();
        let end = r.find(|c: char| !is_ident_char(c)).unwrap_or(r.len());
        self.pos += end;
        Ok(r[..end].to_string())
    }
    fn number(&mut self) -> Result<i64, ParseError> {
        let v = self.value()?;
        v.parse()
            .map_err(|_| ParseError(format!("for 'Gt', 'Lt' operators, the value must be an integer: {v}")))
    }
    fn set(&mut self) -> Result<Vec<String>, ParseError> {
        self.skip_ws();
        if !self.eat("(") {
            return Err(ParseError(format!("found '{}', expected: '('", self.peek_token())));
        }
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(")") {
                break;
            }
            out.push(self.value()?);
            self.skip_ws();
            if self.eat(")") {
                break;
            }
            if !self.eat(",") {
                return Err(ParseError(format!(
                    "found '{}', expected: ',' or ')'",
                    self.peek_token()
                )));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn check(sel: &str, l: &BTreeMap<String, String>) -> bool {
        Selector::parse(sel).unwrap().matches(|k| l.get(k).map(String::as_str))
    }

    #[test]
    fn parses_and_matches_every_operator() {
        let l = labels(&[("app", "web"), ("tier", "fe"), ("n", "5")]);
        assert!(check("app=web", &l));
        assert!(check("app==web,tier=fe", &l));
        assert!(!check("app=db", &l));
        assert!(check("app!=db", &l));
        assert!(check("tier in (fe, be)", &l));
        assert!(!check("tier notin (fe)", &l));
        assert!(check("missing notin (x)", &l));
        assert!(check("app", &l));
        assert!(check("!canary", &l));
        assert!(!check("!app", &l));
        assert!(check("n>3,n<6", &l));
        assert!(check("", &l));
    }

    #[test]
    fn rejects_garbage() {
        assert!(Selector::parse("app=web,,").is_err());
        assert!(Selector::parse("tier in fe").is_err());
        assert!(Selector::parse("=x").is_err());
    }

    #[test]
    fn round_trips_display() {
        let s = Selector::parse("a=b,c!=d,e in (x,y),!f").unwrap();
        assert_eq!(s.to_string(), "a=b,c!=d,e in (x,y),!f");
    }

    #[test]
    fn label_selector_json() {
        let sel = serde_json::json!({"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["fe"]}]});
        let s = Selector::from_label_selector_json(&sel).unwrap();
        assert!(s.matches_json(Some(&serde_json::json!({"app":"web","tier":"fe"}))));
        assert!(!s.matches_json(Some(&serde_json::json!({"app":"web"}))));
    }
}
