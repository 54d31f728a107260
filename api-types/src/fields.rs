//! Field selectors (`metadata.name=x,status.phase!=Running`) as `fieldSelector=` carries them.
//! Which fields a resource supports, and their values, is the API server's business.

/// One `field=value` or `field!=value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub field: String,
    pub value: String,
    pub negated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    pub terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl FieldSelector {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let mut terms = Vec::new();
        for part in split_unescaped(input) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, true)
            } else {
                return Err(ParseError(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                )));
            };
            terms.push(Term {
                field: f_trim(field),
                value: unescape(value),
                negated: !negated,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Whether the values given by `get` satisfy every term. A field `get` does not know is
    /// treated as empty, which callers avoid by validating fields first.
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.terms.iter().all(|t| {
            let v = get(&t.field).unwrap_or_default();
            (v == t.value) != t.negated
        })
    }

    /// The value required for `field` by an equality term, if any (used to narrow lookups).
    pub fn required_value(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == field && !t.negated)
            .map(|t| t.value.as_str())
    }
}

fn f_trim(s: &str) -> String {
    s.trim().to_string()
}

fn split_unescaped(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terms() {
        let s = FieldSelector::parse("metadata.name=x,status.phase!=Running,spec.nodeName==n1").unwrap();
        assert_eq!(s.terms.len(), 3);
        assert!(s.terms[1].negated);
        assert_eq!(s.required_value("spec.nodeName"), Some("n1"));
        assert!(s.matches(|f| match f {
            "metadata.name" => Some("x".into()),
            "status.phase" => Some("Pending".into()),
            "spec.nodeName" => Some("n1".into()),
            _ => None,
        }));
        assert!(!s.matches(|_| Some("x".into())));
    }

    #[test]
    fn empty_value_and_errors() {
        let s = FieldSelector::parse("spec.nodeName=").unwrap();
        assert!(s.matches(|_| None));
        assert!(FieldSelector::parse("bogus").is_err());
    }
}
