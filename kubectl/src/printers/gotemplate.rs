//! Go `text/template` for `-o go-template=` as kubectl runs it over unstructured objects:
//! actions with `{{- -}}` trimming and comments, field chains on `.`, `$` and variables,
//! pipelines, parenthesised arguments, `if`/`else if`/`with`/`range` (with `$k, $v :=`
//! and `else`), and the functions kubectl offers (Go's builtins plus `base64decode` and
//! `exists`). A missing key prints `<no value>`, as Go does for maps of interfaces.

use super::go_sprint;
use base64::Engine;
use serde_json::Value;
use std::fmt::Write;

/// A parsed template.
#[derive(Debug)]
pub struct GoTemplate {
    nodes: Vec<Node>,
    /// The source, for the line and column of execution errors.
    src: String,
}

#[derive(Debug)]
enum Node {
    Text(String),
    Print(Pipeline),
    If(Pipeline, Vec<Node>, Vec<Node>),
    With(Pipeline, Vec<Node>, Vec<Node>),
    Range(Pipeline, Vec<Node>, Vec<Node>),
}

#[derive(Debug, Clone)]
struct Pipeline {
    /// Variables declared (`$x :=`) or assigned (`$x =`) by this pipeline.
    vars: Vec<String>,
    declare: bool,
    commands: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone)]
enum Arg {
    /// `.`, `.a.b`, `$`, `$x.a`, `(pipeline).a`: a root followed by field names.
    Chain(Root, Vec<String>, Site),
    Func(String, Site),
    Literal(Value),
}

/// Where an operand is in the source and how Go names it in execution errors: its text, and
/// the offset Go's parser gives it (a chain's second element, else its start).
#[derive(Debug, Clone)]
struct Site {
    pos: usize,
    text: String,
}

#[derive(Debug, Clone)]
enum Root {
    Dot,
    Var(String),
    Sub(Box<Pipeline>),
}

/// A value in evaluation: JSON, or the missing value Go prints as `<no value>`.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Json(Value),
    Missing,
}

impl Val {
    fn truthy(&self) -> bool {
        match self {
            Val::Missing | Val::Json(Value::Null) => false,
            Val::Json(Value::Bool(b)) => *b,
            Val::Json(Value::Number(n)) => n.as_f64() != Some(0.0),
            Val::Json(Value::String(s)) => !s.is_empty(),
            Val::Json(Value::Array(a)) => !a.is_empty(),
            Val::Json(Value::Object(m)) => !m.is_empty(),
        }
    }

    fn text(&self) -> String {
        match self {
            Val::Missing => "<no value>".into(),
            Val::Json(v) => go_sprint(v),
        }
    }

    fn json(&self) -> Value {
        match self {
            Val::Missing => Value::Null,
            Val::Json(v) => v.clone(),
        }
    }
}

/// Parse or execution failure, in Go's words where it matters.
#[derive(Debug)]
pub struct TemplateError(pub String);

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, TemplateError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(TemplateError(msg.into()))
}

/// A piece of the template source: text, or an action's inside.
enum Piece {
    Text(String),
    /// The action's text, its line and its byte offset in the source.
    Action(String, usize, usize),
}

/// Splits the source into text and actions, applying `{{-` and `-}}` trimming and dropping
/// comments.
fn pieces(src: &str) -> Result<Vec<Piece>> {
    let mut out = Vec::new();
    let mut rest = src;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut text = rest[..open].to_string();
        if trim_next {
            text = text.trim_start().to_string();
        }
        let line = src.len() - rest.len() + open;
        let line_no = src[..line].matches('\n').count() + 1;
        let after = &rest[open + 2..];
        let (trim_left, inner_start) = match after.strip_prefix("- ") {
            Some(_) => (true, 2),
            None => (false, 0),
        };
        if trim_left {
            text = text.trim_end().to_string();
        }
        out.push(Piece::Text(text));
        let body = &after[inner_start..];
        let close = find_close(body).ok_or_else(|| {
            let last = src.matches('\n').count() + 1;
            TemplateError(if last == line_no {
                format!("template: output:{last}: unclosed action")
            } else {
                format!("template: output:{last}: unclosed action started at output:{line_no}")
            })
        })?;
        let mut inner = &body[..close];
        trim_next = false;
        if let Some(s) = inner.strip_suffix(" -") {
            inner = s;
            trim_next = true;
        }
        let offset = src.len() - body.len() + (inner.len() - inner.trim_start().len());
        let inner = inner.trim();
        if !(inner.starts_with("/*") && inner.ends_with("*/")) {
            out.push(Piece::Action(inner.to_string(), line_no, offset));
        }
        rest = &body[close + 2..];
    }
    let text = if trim_next { rest.trim_start() } else { rest };
    out.push(Piece::Text(text.to_string()));
    Ok(out)
}

/// The offset of the `}}` closing an action, skipping quoted strings.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        match b[i] {
            b'"' | b'`' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q {
                    if q == b'"' && b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'}' if b[i + 1] == b'}' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

impl GoTemplate {
    pub fn parse(src: &str) -> Result<GoTemplate> {
        let pieces = pieces(src)?;
        let mut iter = pieces.into_iter().peekable();
        let (nodes, end) = parse_list(&mut iter)?;
        match end {
            Stop::Eof => Ok(GoTemplate {
                nodes,
                src: src.to_string(),
            }),
            Stop::Closed(line) => err(format!("template: output:{line}: unexpected {{{{end}}}}")),
            Stop::Else(line, _) => err(format!("template: output:{line}: unexpected {{{{else}}}}")),
        }
    }

    /// Runs the template over `data`.
    pub fn execute(&self, data: &Value) -> Result<String> {
        let mut out = String::new();
        self.execute_into(data, &mut out)?;
        Ok(out)
    }

    /// Runs the template into `out`; on failure `out` keeps what was written before it, as
    /// Go's streaming executor leaves it.
    pub fn execute_into(&self, data: &Value, out: &mut String) -> Result<()> {
        let mut scope = Scope {
            vars: vec![("$".to_string(), Val::Json(data.clone()))],
            src: &self.src,
        };
        exec_list(&self.nodes, &Val::Json(data.clone()), &mut scope, out)
    }
}

/// A string as Go's `%q` (strconv.Quote) writes it.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

enum Stop {
    Eof,
    /// `end`.
    Closed(usize),
    /// `else`, with the pipeline of an `else if`.
    Else(usize, Option<Pipeline>),
}

type Pieces = std::iter::Peekable<std::vec::IntoIter<Piece>>;

fn parse_list(iter: &mut Pieces) -> Result<(Vec<Node>, Stop)> {
    let mut nodes = Vec::new();
    while let Some(piece) = iter.next() {
        let (action, line, offset) = match piece {
            Piece::Text(t) => {
                if !t.is_empty() {
                    nodes.push(Node::Text(t));
                }
                continue;
            }
            Piece::Action(a, line, offset) => (a, line, offset),
        };
        let (word, rest) = split_keyword(&action);
        match word {
            "end" => return Ok((nodes, Stop::Closed(line))),
            "else" => {
                let (w2, rest2) = split_keyword(rest);
                let elif = if w2 == "if" {
                    Some(parse_pipeline(rest2, line, offset + action.len() - rest2.len())?)
                } else {
                    None
                };
                return Ok((nodes, Stop::Else(line, elif)));
            }
            "if" | "with" | "range" => {
                let pipe = parse_pipeline(rest, line, offset + action.len() - rest.len())?;
                let (body, alt) = parse_branches(iter, line)?;
                nodes.push(match word {
                    "if" => Node::If(pipe, body, alt),
                    "with" => Node::With(pipe, body, alt),
                    _ => Node::Range(pipe, body, alt),
                });
            }
            "define" | "template" | "block" | "break" | "continue" => {
                return err(format!(
                    "template: output:{line}: {{{{{word}}}}} is not supported by this kubectl"
                ));
            }
            _ => nodes.push(Node::Print(parse_pipeline(&action, line, offset)?)),
        }
    }
    Ok((nodes, Stop::Eof))
}

/// The body of a block and its `else` part (an `else if` becomes a nested `if`).
fn parse_branches(iter: &mut Pieces, line: usize) -> Result<(Vec<Node>, Vec<Node>)> {
    let (body, end) = parse_list(iter)?;
    match end {
        Stop::Closed(_) => Ok((body, Vec::new())),
        Stop::Else(_, None) => match parse_list(iter)? {
            (alt, Stop::Closed(_)) => Ok((body, alt)),
            _ => err(format!("template: output:{line}: unexpected EOF")),
        },
        Stop::Else(l, Some(pipe)) => {
            let (inner, alt) = parse_branches(iter, l)?;
            Ok((body, vec![Node::If(pipe, inner, alt)]))
        }
        Stop::Eof => err(format!("template: output:{line}: unexpected EOF")),
    }
}

fn split_keyword(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Tokens of an action.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(Value),
    Pipe,
    Open,
    Close,
    Declare,
    Assign,
    Comma,
}

/// The tokens of an action, each with its byte offset in `s`.
fn tokens(s: &str, line: usize) -> Result<Vec<(Tok, usize)>> {
    let mut toks = Vec::new();
    let mut at = Vec::new();
    let offsets: Vec<usize> = s.char_indices().map(|(o, _)| o).collect();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let out = &mut toks;
        if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            at.push(offsets[i]);
        }
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Declare);
                i += 2;
            }
            '=' => {
                out.push(Tok::Assign);
                i += 1;
            }
            '"' => {
                let mut j = i + 1;
                let mut raw = String::from("\"");
                while j < chars.len() && chars[j] != '"' {
                    if chars[j] == '\\' && j + 1 < chars.len() {
                        raw.push(chars[j]);
                        j += 1;
                    }
                    raw.push(chars[j]);
                    j += 1;
                }
                raw.push('"');
                let text: String = serde_json::from_str(&raw)
                    .map_err(|_| TemplateError(format!("template: output:{line}: bad string {raw}")))?;
                out.push(Tok::Str(text));
                i = j + 1;
            }
            '`' => {
                let j = (i + 1..chars.len()).find(|&j| chars[j] == '`').unwrap_or(chars.len());
                out.push(Tok::Str(chars[i + 1..j].iter().collect()));
                i = j + 1;
            }
            _ => {
                let j = (i..chars.len())
                    .find(|&j| matches!(chars[j], ' ' | '\t' | '\n' | '|' | '(' | ')' | ',' | '='))
                    .map(|j| {
                        if chars[j] == '=' && j > i && chars[j - 1] == ':' {
                            j - 1
                        } else {
                            j
                        }
                    })
                    .unwrap_or(chars.len());
                let word: String = chars[i..j].iter().collect();
                let first = word.chars().next().unwrap_or(' ');
                if first.is_ascii_digit() || ((first == '-' || first == '+') && word.len() > 1) {
                    let n: Value = serde_json::from_str(word.trim_start_matches('+')).map_err(|_| {
                        TemplateError(format!("template: output:{line}: bad number syntax: \"{word}\""))
                    })?;
                    out.push(Tok::Num(n));
                } else {
                    out.push(Tok::Word(word));
                }
                i = j.max(i + 1);
            }
        }
    }
    Ok(toks.into_iter().zip(at).collect())
}

/// One action's tokens: where they are, for operands' sites.
struct Source<'a> {
    text: &'a str,
    toks: Vec<Tok>,
    at: Vec<usize>,
    /// The action's offset in the template.
    base: usize,
    line: usize,
}

fn parse_pipeline(s: &str, line: usize, base: usize) -> Result<Pipeline> {
    let (toks, at) = tokens(s, line)?.into_iter().unzip();
    let src = Source {
        text: s,
        toks,
        at,
        base,
        line,
    };
    let mut pos = 0;
    let pipe = pipeline(&src, &mut pos)?;
    if pos < src.toks.len() {
        return err(format!(
            "template: output:{line}: unexpected {:?} in operand",
            src.toks[pos]
        ));
    }
    Ok(pipe)
}

fn pipeline(src: &Source, pos: &mut usize) -> Result<Pipeline> {
    let (toks, line) = (&src.toks, src.line);
    let mut p = Pipeline {
        vars: Vec::new(),
        declare: false,
        commands: Vec::new(),
    };
    // `$a :=`, `$a, $b :=` or `$a =` at the start.
    let mut look = *pos;
    let mut vars = Vec::new();
    while let Some(Tok::Word(w)) = toks.get(look)
        && w.starts_with('$')
        && !w[1..].contains('.')
    {
        vars.push(w.clone());
        look += 1;
        if toks.get(look) == Some(&Tok::Comma) {
            look += 1;
        } else {
            break;
        }
    }
    if !vars.is_empty() && matches!(toks.get(look), Some(Tok::Declare | Tok::Assign)) {
        p.declare = toks[look] == Tok::Declare;
        p.vars = vars;
        *pos = look + 1;
    }
    let mut cmd = Vec::new();
    let mut cmd_start = *pos;
    while let Some(t) = toks.get(*pos) {
        match t {
            Tok::Close => break,
            Tok::Pipe => {
                if cmd.is_empty() {
                    return err(format!("template: output:{line}: missing command"));
                }
                p.commands
                    .push(name_call(src, std::mem::take(&mut cmd), cmd_start, *pos));
                *pos += 1;
                cmd_start = *pos;
            }
            _ => cmd.push(operand(src, pos)?),
        }
    }
    if cmd.is_empty() {
        return err(format!("template: output:{line}: missing value for command"));
    }
    p.commands.push(name_call(src, cmd, cmd_start, *pos));
    Ok(p)
}

/// A function call is named in errors by its whole command (`<index .data 5>`).
fn name_call(src: &Source, mut cmd: Vec<Arg>, first: usize, end: usize) -> Vec<Arg> {
    if let Some(Arg::Func(_, site)) = cmd.first_mut() {
        let to = src.at.get(end).copied().unwrap_or(src.text.len());
        site.text = src.text[src.at[first]..to].trim_end().to_string();
    }
    cmd
}

fn operand(src: &Source, pos: &mut usize) -> Result<Arg> {
    let (toks, line) = (&src.toks, src.line);
    let start = src.at[*pos];
    let t = toks[*pos].clone();
    *pos += 1;
    // A chain's site is its second element, when it has one.
    let site = |word: &str, start: usize| Site {
        pos: src.base + start + word[1..].find('.').map_or(0, |i| i + 1),
        text: word.to_string(),
    };
    Ok(match t {
        Tok::Str(s) => Arg::Literal(Value::String(s)),
        Tok::Num(n) => Arg::Literal(n),
        Tok::Open => {
            let inner = pipeline(src, pos)?;
            if toks.get(*pos) != Some(&Tok::Close) {
                return err(format!("template: output:{line}: unclosed left paren"));
            }
            *pos += 1;
            // `(pipeline).a.b`
            let mut fields = Vec::new();
            let mut end = src.at[*pos - 1] + 1;
            let mut at = src.base + start;
            if let Some(Tok::Word(w)) = toks.get(*pos)
                && w.starts_with('.')
            {
                fields = field_names(w);
                at = src.base + src.at[*pos];
                end = src.at[*pos] + w.len();
                *pos += 1;
            }
            let text = src.text[start..end].to_string();
            Arg::Chain(Root::Sub(Box::new(inner)), fields, Site { pos: at, text })
        }
        Tok::Word(w) => match w.as_str() {
            "true" => Arg::Literal(Value::Bool(true)),
            "false" => Arg::Literal(Value::Bool(false)),
            "nil" => Arg::Literal(Value::Null),
            "." => Arg::Chain(Root::Dot, Vec::new(), site(&w, start)),
            _ if w.starts_with('.') => Arg::Chain(Root::Dot, field_names(&w), site(&w, start)),
            _ if w.starts_with('$') => {
                let (var, fields) = match w.find('.') {
                    Some(i) => (w[..i].to_string(), field_names(&w[i..])),
                    None => (w.clone(), Vec::new()),
                };
                let s = Site {
                    pos: src.base + start + w.find('.').unwrap_or(0),
                    text: w.clone(),
                };
                Arg::Chain(Root::Var(var), fields, s)
            }
            _ if FUNCTIONS.contains(&w.as_str()) => {
                let s = Site {
                    pos: src.base + start,
                    text: w.clone(),
                };
                Arg::Func(w, s)
            }
            _ => return err(format!("template: output:{line}: function \"{w}\" not defined")),
        },
        other => return err(format!("template: output:{line}: unexpected {other:?} in operand")),
    })
}

fn field_names(chain: &str) -> Vec<String> {
    chain.split('.').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

const FUNCTIONS: &[&str] = &[
    "and",
    "or",
    "not",
    "len",
    "index",
    "print",
    "printf",
    "println",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "html",
    "js",
    "urlquery",
    "base64decode",
    "exists",
];

struct Scope<'a> {
    vars: Vec<(String, Val)>,
    src: &'a str,
}

impl Scope<'_> {
    /// An execution error at `site`, located as Go's ErrorContext does it.
    fn fail(&self, site: &Site, msg: &str) -> TemplateError {
        let pos = site.pos.min(self.src.len());
        let before = &self.src[..pos];
        let line = before.matches('\n').count() + 1;
        let col = before.rfind('\n').map_or(pos, |i| pos - i - 1);
        TemplateError(format!(
            "template: output:{line}:{col}: executing \"output\" at <{}>: {msg}",
            site.text
        ))
    }

    fn get(&self, name: &str) -> Result<Val> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => err(format!("template: output: undefined variable: {name}")),
        }
    }

    fn set(&mut self, name: &str, v: Val, declare: bool) {
        if !declare && let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = v;
            return;
        }
        self.vars.push((name.to_string(), v));
    }
}

fn exec_list(nodes: &[Node], dot: &Val, scope: &mut Scope, out: &mut String) -> Result<()> {
    let mark = scope.vars.len();
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Print(p) => {
                let v = eval_pipeline(p, dot, scope)?;
                if p.vars.is_empty() {
                    out.push_str(&v.text());
                }
            }
            Node::If(p, body, alt) => {
                let v = eval_pipeline(p, dot, scope)?;
                exec_list(if v.truthy() { body } else { alt }, dot, scope, out)?;
            }
            Node::With(p, body, alt) => {
                let v = eval_pipeline(p, dot, scope)?;
                if v.truthy() {
                    exec_list(body, &v, scope, out)?;
                } else {
                    exec_list(alt, dot, scope, out)?;
                }
            }
            Node::Range(p, body, alt) => {
                let mut bare = p.clone();
                bare.vars.clear();
                let v = eval_pipeline(&bare, dot, scope)?;
                let items: Vec<(Value, Value)> = match v.json() {
                    Value::Array(a) => a.into_iter().enumerate().map(|(i, x)| (Value::from(i), x)).collect(),
                    Value::Object(m) => {
                        let mut keys: Vec<_> = m.into_iter().collect();
                        keys.sort_by(|a, b| a.0.cmp(&b.0));
                        keys.into_iter().map(|(k, x)| (Value::String(k), x)).collect()
                    }
                    Value::Null => Vec::new(),
                    Value::Number(n) if n.as_i64().is_some() => (0..n.as_i64().unwrap_or(0))
                        .map(|i| (Value::from(i), Value::from(i)))
                        .collect(),
                    other => {
                        let msg = format!("range can't iterate over {}", go_sprint(&other));
                        return Err(match last_site(&bare) {
                            Some(site) => scope.fail(site, &msg),
                            None => TemplateError(msg),
                        });
                    }
                };
                if items.is_empty() {
                    exec_list(alt, dot, scope, out)?;
                }
                for (k, x) in items {
                    let inner = scope.vars.len();
                    match p.vars.as_slice() {
                        [v] => scope.set(v, Val::Json(x.clone()), true),
                        [kv, v] => {
                            scope.set(kv, Val::Json(k), true);
                            scope.set(v, Val::Json(x.clone()), true);
                        }
                        _ => {}
                    }
                    exec_list(body, &Val::Json(x), scope, out)?;
                    scope.vars.truncate(inner);
                }
            }
        }
    }
    scope.vars.truncate(mark);
    Ok(())
}

/// The operand Go's executor last stood on after a pipeline: its last command's first.
fn last_site(p: &Pipeline) -> Option<&Site> {
    match p.commands.last()?.first()? {
        Arg::Chain(_, _, site) | Arg::Func(_, site) => Some(site),
        Arg::Literal(_) => None,
    }
}

fn eval_pipeline(p: &Pipeline, dot: &Val, scope: &mut Scope) -> Result<Val> {
    let mut last: Option<Val> = None;
    for cmd in &p.commands {
        last = Some(eval_command(cmd, dot, scope, last)?);
    }
    let v = last.unwrap_or(Val::Missing);
    for name in &p.vars {
        scope.set(name, v.clone(), p.declare);
    }
    Ok(v)
}

fn eval_command(cmd: &[Arg], dot: &Val, scope: &mut Scope, piped: Option<Val>) -> Result<Val> {
    match &cmd[0] {
        Arg::Func(name, site) => {
            let mut args = Vec::new();
            for a in &cmd[1..] {
                args.push(eval_arg(a, dot, scope)?);
            }
            args.extend(piped);
            call(name, args).map_err(|e| scope.fail(site, &e.0))
        }
        first => {
            if cmd.len() > 1 || piped.is_some() {
                return err(format!("can't give argument to non-function {first:?}"));
            }
            eval_arg(first, dot, scope)
        }
    }
}

fn eval_arg(a: &Arg, dot: &Val, scope: &mut Scope) -> Result<Val> {
    match a {
        Arg::Literal(v) => Ok(Val::Json(v.clone())),
        Arg::Func(name, site) => call(name, Vec::new()).map_err(|e| scope.fail(site, &e.0)),
        Arg::Chain(root, fields, site) => {
            let mut v = match root {
                Root::Dot => dot.clone(),
                Root::Var(name) => scope.get(name)?,
                Root::Sub(p) => eval_pipeline(p, dot, scope)?,
            };
            for (i, f) in fields.iter().enumerate() {
                v = match v {
                    Val::Json(Value::Object(m)) => m.get(f).cloned().map_or(Val::Missing, Val::Json),
                    Val::Missing | Val::Json(Value::Null) => Val::Missing,
                    Val::Json(other) => {
                        // Values read out of maps are interfaces; a function's result is typed.
                        let typ = match root {
                            Root::Sub(_) if i == 0 => go_type(&other),
                            _ => "interface {}",
                        };
                        let msg = format!("can't evaluate field {f} in type {typ}");
                        return Err(scope.fail(site, &msg));
                    }
                };
            }
            Ok(v)
        }
    }
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        Value::Null => "interface {}",
    }
}

fn call(name: &str, args: Vec<Val>) -> Result<Val> {
    let need = |n: usize| -> Result<()> {
        if args.len() < n {
            return err(format!("wrong number of args for {name}: want {n} got {}", args.len()));
        }
        Ok(())
    };
    let json = |v: Value| Ok(Val::Json(v));
    match name {
        "and" => {
            need(1)?;
            Ok(args
                .iter()
                .find(|a| !a.truthy())
                .unwrap_or(&args[args.len() - 1])
                .clone())
        }
        "or" => {
            need(1)?;
            Ok(args
                .iter()
                .find(|a| a.truthy())
                .unwrap_or(&args[args.len() - 1])
                .clone())
        }
        "not" => {
            need(1)?;
            json(Value::Bool(!args[0].truthy()))
        }
        "len" => {
            need(1)?;
            let n = match args[0].json() {
                Value::String(s) => s.len(),
                Value::Array(a) => a.len(),
                Value::Object(m) => m.len(),
                other => return err(format!("error calling len: len of type {}", go_type(&other))),
            };
            json(Value::from(n))
        }
        "index" => {
            need(1)?;
            let mut v = args[0].clone();
            for k in &args[1..] {
                v = match (v.json(), k.json()) {
                    (Value::Object(m), Value::String(s)) => m.get(&s).cloned().map_or(Val::Missing, Val::Json),
                    (Value::Object(_), k) => {
                        let typ = if k.is_i64() { "int" } else { go_type(&k) };
                        return err(format!("error calling index: value has type {typ}; should be string"));
                    }
                    (Value::Array(a), Value::Number(n)) => match n.as_u64().and_then(|i| a.get(i as usize)) {
                        Some(x) => Val::Json(x.clone()),
                        None => return err(format!("error calling index: index out of range: {n}")),
                    },
                    (Value::Null, _) => return err("error calling index: index of untyped nil"),
                    (other, _) => {
                        return err(format!(
                            "error calling index: can't index item of type {}",
                            go_type(&other)
                        ));
                    }
                };
            }
            Ok(v)
        }
        "print" => json(Value::String(sprint(&args))),
        "println" => {
            let parts: Vec<String> = args.iter().map(Val::text).collect();
            json(Value::String(parts.join(" ") + "\n"))
        }
        "printf" => {
            need(1)?;
            let format = args[0].json();
            json(Value::String(printf(format.as_str().unwrap_or_default(), &args[1..])))
        }
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
            need(2)?;
            let result = if name == "eq" {
                args[1..].iter().any(|b| equal(&args[0], b))
            } else {
                let ord = order(&args[0], &args[1])?;
                match name {
                    "ne" => ord != std::cmp::Ordering::Equal,
                    "lt" => ord == std::cmp::Ordering::Less,
                    "le" => ord != std::cmp::Ordering::Greater,
                    "gt" => ord == std::cmp::Ordering::Greater,
                    _ => ord != std::cmp::Ordering::Less,
                }
            };
            json(Value::Bool(result))
        }
        "html" => json(Value::String(html_escape(&sprint(&args)))),
        "js" => json(Value::String(js_escape(&sprint(&args)))),
        "urlquery" => json(Value::String(
            form_urlencoded::byte_serialize(sprint(&args).as_bytes()).collect(),
        )),
        "base64decode" => {
            need(1)?;
            let text = args[0].text();
            match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
                Ok(b) => json(Value::String(String::from_utf8_lossy(&b).into_owned())),
                Err(e) => err(format!("error calling base64decode: base64 decode failed: {e}")),
            }
        }
        "exists" => {
            need(1)?;
            let mut v = args[0].json();
            for k in &args[1..] {
                v = match (&v, k.json()) {
                    (Value::Object(m), Value::String(s)) if m.contains_key(&s) => m[&s].clone(),
                    _ => return json(Value::Bool(false)),
                };
            }
            json(Value::Bool(true))
        }
        _ => err(format!("function \"{name}\" not defined")),
    }
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
fn sprint(args: &[Val]) -> String {
    let mut out = String::new();
    let mut prev_string = true;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Val::Json(Value::String(_)));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        out.push_str(&a.text());
        prev_string = is_string;
    }
    out
}

fn equal(a: &Val, b: &Val) -> bool {
    match (a.json(), b.json()) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (x, y) => x == y,
    }
}

fn order(a: &Val, b: &Val) -> Result<std::cmp::Ordering> {
    match (a.json(), b.json()) {
        (Value::Number(x), Value::Number(y)) => {
            Ok(x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(std::cmp::Ordering::Equal))
        }
        (Value::String(x), Value::String(y)) => Ok(x.cmp(&y)),
        (Value::Bool(x), Value::Bool(y)) if x == y => Ok(std::cmp::Ordering::Equal),
        _ => err("error calling comparison: incompatible types for comparison"),
    }
}

/// Go's `fmt.Sprintf` for the verbs templates use: `%s %v %d %q %f %x %%`, with flags
/// `-` and `0`, a width and a precision.
fn printf(format: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next = args.iter();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut left, mut zero) = (false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' | ' ' | '#' => {}
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = next.next() else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        let v = arg.json();
        let text = match (verb, &v) {
            ('d', Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            ('f' | 'F', Value::Number(n)) => format!("{:.*}", precision.unwrap_or(6), n.as_f64().unwrap_or(0.0)),
            ('q', Value::String(s)) => serde_json::to_string(s).unwrap_or_default(),
            ('x', Value::String(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
            ('x', Value::Number(n)) if n.is_i64() => format!("{:x}", n.as_i64().unwrap_or(0)),
            ('s' | 'v', _) => {
                let t = arg.text();
                match precision {
                    Some(p) if verb == 's' => t.chars().take(p).collect(),
                    _ => t,
                }
            }
            ('t', Value::Bool(b)) => b.to_string(),
            _ => format!("%!{verb}({}={})", go_type(&v), arg.text()),
        };
        let width: usize = width.parse().unwrap_or(0);
        let pad = width.saturating_sub(text.chars().count());
        if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            let fill = if zero && matches!(v, Value::Number(_)) {
                '0'
            } else {
                ' '
            };
            out.extend(std::iter::repeat_n(fill, pad));
            out.push_str(&text);
        }
    }
    if next.next().is_some() {
        out.push_str("%!(EXTRA ");
        let rest: Vec<String> = args[args.len() - next.count() - 1..]
            .iter()
            .map(|a| format!("{}={}", go_type(&a.json()), a.text()))
            .collect();
        out.push_str(&rest.join(", "));
        out.push(')');
    }
    out
}

fn html_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: &str, data: &Value) -> String {
        GoTemplate::parse(t).expect("parses").execute(data).expect("runs")
    }

    #[test]
    fn fields_ranges_and_missing_keys() {
        let d = json!({"items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]});
        assert_eq!(run("{{range .items}}{{.metadata.name}} {{end}}", &d), "a b ");
        assert_eq!(run("{{.nope}}|{{.nope.deeper}}", &d), "<no value>|<no value>");
        assert_eq!(
            run("{{range $i, $e := .items}}{{$i}}={{$e.metadata.name}};{{end}}", &d),
            "0=a;1=b;"
        );
        assert_eq!(run("{{range .none}}x{{else}}empty{{end}}", &d), "empty");
    }

    #[test]
    fn conditions_and_functions() {
        let d = json!({"n": "w0", "data": {"b": "2", "a": "1"}, "k": 3});
        assert_eq!(run("{{if eq .n \"w0\"}}yes{{else if .k}}k{{else}}no{{end}}", &d), "yes");
        assert_eq!(run("{{if eq .n \"x\"}}yes{{else if .k}}k{{else}}no{{end}}", &d), "k");
        assert_eq!(run("{{range $k, $v := .data}}{{$k}}={{$v}};{{end}}", &d), "a=1;b=2;");
        assert_eq!(run("{{print 1 2 \"a\" \"b\" 3}}", &d), "1 2ab3");
        assert_eq!(
            run("{{printf \"%s-%5d|%-4s|%q|%v\" .n 42 \"x\" \"y\" .data}}", &d),
            "w0-   42|x   |\"y\"|map[a:1 b:2]"
        );
        assert_eq!(
            run("{{.n | printf \"%s!\"}} {{len .data}} {{index .data \"a\"}}", &d),
            "w0! 2 1"
        );
        assert_eq!(
            run("{{$x := 5}}{{$x}} {{and 1 0}} {{or 0 \"\" \"z\"}} {{not true}}", &d),
            "5 0 z false"
        );
        assert_eq!(
            run("{{html \"<a>\"}} {{urlquery \"a b&\"}} {{js \"it's\"}}", &d),
            "&lt;a&gt; a+b%26 it\\'s"
        );
        assert_eq!(
            run(
                "{{base64decode \"aGk=\"}} {{exists . \"data\" \"a\"}} {{exists . \"x\"}}",
                &d
            ),
            "hi true false"
        );
        assert_eq!(run("{{with .data}}{{.a}}{{end}} {{- \" t\" -}}  x", &d), "1 tx");
        assert_eq!(run("{{/* note */}}{{ (index .data \"b\") }}", &d), "2");
    }

    #[test]
    fn quoting_as_go() {
        assert_eq!(go_quote("a\n{{ \"x\" }}\\"), "\"a\\n{{ \\\"x\\\" }}\\\\\"");
    }

    #[test]
    fn execution_errors_are_located() {
        let d = json!({"metadata": {"name": "w0"}});
        let t = GoTemplate::parse("{{range .metadata.name}}x{{end}}").expect("parses");
        let e = t.execute(&d).expect_err("fails");
        assert_eq!(
            e.0,
            "template: output:1:17: executing \"output\" at <.metadata.name>: range can't iterate over w0"
        );
        let t = GoTemplate::parse("a\n{{ index .metadata 5 }}").expect("parses");
        let mut out = String::new();
        let e = t.execute_into(&d, &mut out).expect_err("fails");
        assert_eq!(out, "a\n");
        assert_eq!(
            e.0,
            "template: output:2:3: executing \"output\" at <index .metadata 5>: error calling index: value has type int; should be string"
        );
    }

    #[test]
    fn parse_errors() {
        let e = GoTemplate::parse("{{.foo\n").expect_err("unclosed");
        assert_eq!(e.0, "template: output:2: unclosed action started at output:1");
        let e = GoTemplate::parse("{{.foo").expect_err("unclosed");
        assert_eq!(e.0, "template: output:1: unclosed action");
        assert!(GoTemplate::parse("{{if .a}}x").is_err());
        assert!(GoTemplate::parse("{{nofunc .a}}").is_err());
    }
}
