//! `explain`'s argument, `RESOURCE[.field.path]`, read as upstream reads it: as a JSONPath
//! (`{.<arg>}`, kubectl's parser, so `a..b` and `['key']` parse as they do there), whose first
//! field names the resource through the RESTMapper (plural or singular name, short names
//! expanded first) and the rest name fields. Without `--api-version`, a group-qualified form
//! (`deployments.apps.spec`) is recognised by the first matching resource whose
//! `resource.group` prefixes the argument.

use crate::discovery::{Discovery, Resource};

/// One JSONPath node, as far as `explain` cares.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Field(String),
    Recursive,
    /// Anything else: arrays, filters, quoted text, numbers, identifiers, wildcards.
    Other,
}

/// Why an argument could not be resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum PathError {
    /// No resource of that name: upstream prints `the server doesn't have a resource type "x"`.
    NoMatch(String),
    /// Any other error, printed after `error: `.
    Invalid(String),
}

/// `jsonPathParse`: the nodes of `{.<in>}`, a trailing `.` ignored.
pub fn parse(input: &str) -> Result<Vec<Node>, String> {
    let input = input.strip_suffix('.').unwrap_or(input);
    let mut p = Parser {
        input: format!("{{.{input}}}"),
        pos: 0,
        start: 0,
        width: 0,
        root: Vec::new(),
    };
    p.parse_text()?;
    match p.root.as_slice() {
        [Item::List(nodes)] => Ok(nodes.clone()),
        [_] => Ok(Vec::new()),
        _ => Err("must pass in 1 jsonpath string".into()),
    }
}

enum Item {
    Text,
    List(Vec<Node>),
}

struct Parser {
    input: String,
    pos: usize,
    start: usize,
    width: usize,
    root: Vec<Item>,
}

const EOF: Option<char> = None;

fn is_terminator(r: Option<char>) -> bool {
    match r {
        None => true,
        Some(c) => matches!(
            c,
            ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}'
        ),
    }
}

fn is_alphanumeric(r: Option<char>) -> bool {
    r.is_some_and(|c| c == '_' || c.is_alphabetic() || c.is_numeric())
}

impl Parser {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn consume(&mut self) -> String {
        let v = self.input[self.start..self.pos].to_string();
        self.start = self.pos;
        v
    }

    fn next(&mut self) -> Option<char> {
        match self.rest().chars().next() {
            None => {
                self.width = 0;
                EOF
            }
            Some(c) => {
                self.width = c.len_utf8();
                self.pos += self.width;
                Some(c)
            }
        }
    }

    fn peek(&mut self) -> Option<char> {
        let r = self.next();
        self.backup();
        r
    }

    fn backup(&mut self) {
        self.pos -= self.width;
    }

    fn cur(&mut self) -> &mut Vec<Node> {
        match self.root.last_mut() {
            Some(Item::List(l)) => l,
            _ => unreachable!("inside an action there is always a list"),
        }
    }

    fn parse_text(&mut self) -> Result<(), String> {
        loop {
            if self.rest().starts_with('{') {
                if self.pos > self.start {
                    self.consume();
                    self.root.push(Item::Text);
                }
                self.pos += 1;
                self.consume();
                self.root.push(Item::List(Vec::new()));
                return self.parse_inside_action();
            }
            if self.next() == EOF {
                break;
            }
        }
        if self.pos > self.start {
            self.consume();
            self.root.push(Item::Text);
        }
        Ok(())
    }

    fn parse_inside_action(&mut self) -> Result<(), String> {
        if self.rest().starts_with('}') {
            self.pos += 1;
            self.consume();
            return self.parse_text();
        }
        if self.rest().starts_with("[?(") {
            return self.parse_filter();
        }
        if self.rest().starts_with("..") {
            if self.cur().last() == Some(&Node::Recursive) {
                return Err("invalid multiple recursive descent".into());
            }
            self.pos += 2;
            self.consume();
            self.cur().push(Node::Recursive);
            if is_alphanumeric(self.peek()) {
                return self.parse_field();
            }
            return self.parse_inside_action();
        }
        match self.next() {
            None | Some('\r') | Some('\n') => return Err("unclosed action".into()),
            Some(' ') | Some('@') | Some('$') => {
                self.consume();
            }
            Some('[') => return self.parse_array(),
            Some(q @ ('"' | '\'')) => return self.parse_quote(q),
            Some('.') => return self.parse_field(),
            Some(c) if c == '+' || c == '-' || c.is_numeric() => {
                self.backup();
                return self.parse_number();
            }
            c if is_alphanumeric(c) => {
                self.backup();
                loop {
                    let r = self.next();
                    if is_terminator(r) {
                        self.backup();
                        break;
                    }
                }
                self.consume();
                self.cur().push(Node::Other);
            }
            Some(c) => {
                return Err(format!("unrecognized character in action: U+{:04X} '{c}'", c as u32));
            }
        }
        self.parse_inside_action()
    }

    fn parse_field(&mut self) -> Result<(), String> {
        self.consume();
        loop {
            let r = self.next();
            if r == Some('\\') {
                self.next();
            } else if is_terminator(r) {
                self.backup();
                break;
            }
        }
        let value = self.consume();
        let node = if value == "*" {
            Node::Other
        } else {
            Node::Field(value.replace('\\', ""))
        };
        self.cur().push(node);
        self.parse_inside_action()
    }

    fn parse_array(&mut self) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated array".into()),
                Some(']') => break,
                _ => {}
            }
        }
        let text = self.consume();
        let inner = &text[1..text.len() - 1];
        // ['key'] is the field `key`.
        if !inner.contains(',')
            && inner.len() >= 2
            && inner.starts_with('\'')
            && inner.ends_with('\'')
            && !inner[1..inner.len() - 1].contains('\'')
        {
            let nodes = parse(&inner[1..inner.len() - 1])?;
            self.cur().extend(nodes);
        } else if inner.contains(',') {
            self.cur().push(Node::Other);
        } else {
            let index = if inner == "*" { ":" } else { inner };
            slice_operator(index)?;
            self.cur().push(Node::Other);
        }
        self.parse_inside_action()
    }

    fn parse_quote(&mut self, end: char) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated quoted string".into()),
                Some(c) if c == end && self.input.as_bytes().get(self.pos.wrapping_sub(2)) != Some(&b'\\') => {
                    break;
                }
                _ => {}
            }
        }
        self.consume();
        self.cur().push(Node::Other);
        self.parse_inside_action()
    }

    fn parse_number(&mut self) -> Result<(), String> {
        if matches!(self.peek(), Some('+') | Some('-')) {
            self.next();
        }
        loop {
            match self.next() {
                Some(c) if c == '.' || c.is_numeric() => {}
                _ => {
                    self.backup();
                    break;
                }
            }
        }
        let value = self.consume();
        if value.parse::<i64>().is_err() && value.parse::<f64>().is_err() {
            return Err(format!("cannot parse number {value}"));
        }
        self.cur().push(Node::Other);
        self.parse_inside_action()
    }

    fn parse_filter(&mut self) -> Result<(), String> {
        self.pos += 3;
        self.consume();
        let (mut begin, mut end, mut pair) = (false, false, ' ');
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated filter".into()),
                Some(r @ ('"' | '\'')) => {
                    if !begin {
                        begin = true;
                        pair = r;
                        continue;
                    }
                    if self.input.as_bytes().get(self.pos.wrapping_sub(2)) != Some(&b'\\') && r == pair {
                        end = true;
                    }
                }
                Some(')') if begin == end => break,
                _ => {}
            }
        }
        if self.next() != Some(']') {
            return Err("unclosed array expect ]".into());
        }
        self.consume();
        self.cur().push(Node::Other);
        self.parse_inside_action()
    }
}

/// An array index `[start:end:step]` as upstream's parser checks it.
fn slice_operator(text: &str) -> Result<(), String> {
    let parts: Vec<&str> = text.split(':').collect();
    let number = |p: &str| {
        let digits = p.strip_prefix('-').unwrap_or(p);
        digits.chars().all(|c| c.is_ascii_digit())
    };
    if parts.len() > 3 || !parts.iter().all(|p| number(p)) {
        return Err(format!("invalid array index {text}"));
    }
    for p in parts {
        if p == "-" {
            return Err(format!("array index {p} is not a number"));
        }
    }
    Ok(())
}

/// `RESTMapper.ResourcesFor` for a bare resource token: a short name is first expanded to its
/// resource (unless the token is itself a resource's plural or singular name), then every
/// version of every group with that plural or singular name, groups in priority order and the
/// preferred version first. Discovery's mapper also knows each kind's `<Kind>List` under a
/// guessed name (`podlists`), which resolves only when nothing else does. The warnings are
/// upstream's for a short name that lower-priority groups also use.
pub fn resources_for(d: &Discovery, token: &str) -> (Vec<Resource>, Vec<String>) {
    let all = d.resources();
    let warnings = crate::resources::short_name_warnings(d, token);
    let exact = all.iter().any(|r| r.name == token || r.singular == token);
    let mut name = token.to_string();
    let mut group: Option<String> = None;
    if !exact && let Some(r) = all.iter().find(|r| r.short_names.iter().any(|s| s == token)) {
        name = r.name.clone();
        group = Some(r.group.clone());
    }
    let name = name.to_lowercase();
    let in_group = |r: &Resource| group.as_ref().is_none_or(|g| &r.group == g);
    let found: Vec<Resource> = all
        .iter()
        .filter(|r| in_group(r))
        .filter(|r| {
            let singular = if r.singular.is_empty() {
                r.kind.to_lowercase()
            } else {
                r.singular.clone()
            };
            r.name == name || singular == name
        })
        .cloned()
        .collect();
    if !found.is_empty() {
        return (found, warnings);
    }
    let mut lists: Vec<Resource> = Vec::new();
    for r in all.iter().filter(|r| in_group(r)) {
        let singular = format!("{}list", r.kind.to_lowercase());
        let plural = format!("{singular}s");
        if (plural == name || singular == name)
            && !lists
                .iter()
                .any(|l| l.group == r.group && l.version == r.version && l.name == plural)
        {
            let mut l = r.clone();
            l.name = plural;
            l.singular = singular;
            l.kind = format!("{}List", r.kind);
            lists.push(l);
        }
    }
    (lists, warnings)
}

fn fields_of(nodes: &[Node], message: &str) -> Result<Vec<String>, PathError> {
    nodes
        .iter()
        .map(|n| match n {
            Node::Field(f) => Ok(f.clone()),
            _ => Err(PathError::Invalid(message.into())),
        })
        .collect()
}

const FIRST_FIELD: &str = "invalid jsonpath syntax, first node must be field node";

/// What an argument resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub resource: Resource,
    pub fields: Vec<String>,
    /// Printed on stderr (`Warning: short name …`).
    pub warnings: Vec<String>,
}

fn first_field(input: &str) -> Result<(String, Vec<Node>), PathError> {
    let nodes = parse(input).map_err(PathError::Invalid)?;
    match nodes.first() {
        Some(Node::Field(f)) if f.is_empty() => Err(PathError::Invalid(
            "a resource must be present, got: /, Resource=".into(),
        )),
        Some(Node::Field(f)) => Ok((f.clone(), nodes)),
        _ => Err(PathError::Invalid(FIRST_FIELD.into())),
    }
}

/// `SplitAndParseResourceRequestWithMatchingPrefix` (no `--api-version`).
pub fn split_with_matching_prefix(d: &Discovery, input: &str) -> Result<Resolved, PathError> {
    let (resource, nodes) = first_field(input)?;
    let (candidates, warnings) = resources_for(d, &resource);
    if candidates.is_empty() {
        return Err(PathError::NoMatch(resource));
    }
    for r in &candidates {
        let gr = r.group_resource();
        if let Some(suffix) = input.strip_prefix(gr.as_str()) {
            let mut fields = Vec::new();
            if !suffix.is_empty() {
                let suffix_nodes = parse(suffix).map_err(PathError::Invalid)?;
                if !suffix_nodes.is_empty() {
                    fields = fields_of(&suffix_nodes[1..], FIRST_FIELD)?;
                }
            }
            return Ok(Resolved {
                resource: r.clone(),
                fields,
                warnings,
            });
        }
    }
    let fields = fields_of(&nodes[1..], FIRST_FIELD)?;
    Ok(Resolved {
        resource: candidates[0].clone(),
        fields,
        warnings,
    })
}

/// `SplitAndParseResourceRequest` (with `--api-version`): the first node is the resource.
pub fn split_plain(d: &Discovery, input: &str) -> Result<Resolved, PathError> {
    let (resource, nodes) = first_field(input)?;
    let (candidates, warnings) = resources_for(d, &resource);
    let Some(first) = candidates.first() else {
        return Err(PathError::NoMatch(resource));
    };
    let fields = fields_of(&nodes[1..], "invalid jsonpath syntax, all nodes must be field nodes")?;
    Ok(Resolved {
        resource: first.clone(),
        fields,
        warnings,
    })
}
