//! The editor side of `kubectl edit`, as upstream's: the command from `$KUBE_EDITOR`,
//! `$EDITOR` or `vi` (split on spaces, or run by `$SHELL -c` — `/bin/bash` by default — when it
//! holds quotes or backslashes), the temporary file it edits (`<tmp>/kubectl-edit-<n>.yaml`),
//! the commented header with the reasons for reopening, and the ways upstream compares
//! files with their comments stripped.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The editor command line.
pub struct Editor {
    args: Vec<String>,
    shell: bool,
}

impl Editor {
    pub fn from_env() -> Editor {
        let editor = ["KUBE_EDITOR", "EDITOR"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .unwrap_or_else(|| "vi".into());
        if !editor.contains(' ') {
            return Editor {
                args: vec![editor],
                shell: false,
            };
        }
        if !editor.contains(['"', '\'', '\\']) {
            return Editor {
                args: editor.split(' ').map(str::to_string).collect(),
                shell: false,
            };
        }
        let shell = std::env::var("SHELL")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "/bin/bash".into());
        Editor {
            args: vec![shell, "-c".into(), editor],
            shell: true,
        }
    }

    /// Runs the editor on `path` with the terminal's streams and waits for it.
    pub fn launch(&self, path: &Path) -> Result<(), String> {
        let abs = std::path::absolute(path).map_err(|e| e.to_string())?;
        let mut args = self.args.clone();
        let file = abs.display().to_string();
        if self.shell {
            if let Some(last) = args.last_mut() {
                *last = format!("{last} {}", go_quote(&file));
            }
        } else {
            args.push(file);
        }
        let joined = go_quote(&self.args.join(" "));
        let status = std::process::Command::new(&args[0]).args(&args[1..]).status();
        match status {
            Ok(s) if s.success() => Ok(()),
            // Go reports "not found" only for a command looked up in $PATH.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !args[0].contains('/') => {
                Err(format!("unable to launch the editor {joined}"))
            }
            _ => Err(format!("there was a problem with the editor {joined}")),
        }
    }
}

/// A string as Go's `%q` writes it.
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

/// Writes `content` to a new file `<tmp>/<prefix><random digits><suffix>` (as Go's
/// `os.CreateTemp`, mode 0600).
pub fn temp_file(prefix: &str, suffix: &str, content: &str) -> Result<PathBuf, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::env::temp_dir();
    for _ in 0..10000 {
        let n = u32::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..4].try_into().unwrap_or_default());
        let path = dir.join(format!("{prefix}{n}{suffix}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(content.as_bytes()).map_err(|e| e.to_string())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err("could not create a temporary file".into())
}

/// Why the file is reopened: a heading and its details.
pub struct Reason {
    pub head: String,
    pub other: Vec<String>,
}

/// The comment block at the top of the file.
pub fn header(reasons: &[Reason]) -> String {
    let mut h = String::from(
        "# Please edit the object below. Lines beginning with a '#' will be ignored,\n\
         # and an empty file will abort the edit. If an error occurs while saving this file will be\n\
         # reopened with the relevant failures.\n#\n",
    );
    for r in reasons {
        let colon = if r.other.is_empty() { "" } else { ":" };
        h.push_str(&format!("# {}{colon}\n", hash_on_line_break(&r.head)));
        for o in &r.other {
            h.push_str(&format!("# * {}\n", hash_on_line_break(o)));
        }
        h.push_str("#\n");
    }
    h
}

/// Continues a multi-line message as comment lines.
fn hash_on_line_break(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' && chars.peek().is_some_and(|n| *n != '#') {
            out.push_str("\n# ");
        } else {
            out.push(c);
        }
    }
    out
}

/// The text without its comment lines (`#!` lines stay).
pub fn manual_strip(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with('#') && !t.starts_with("#!") {
            continue;
        }
        out.push_str(line);
        if i < lines.len() - 1 {
            out.push('\n');
        }
    }
    out
}

/// What upstream compares edited files by: the document's content when it parses as YAML,
/// else the text without comment lines.
#[derive(PartialEq, Debug)]
pub enum Stripped {
    Parsed(Value),
    Text(String),
}

pub fn strip_comments(text: &str) -> Stripped {
    match parse_document(text) {
        Ok(v) => Stripped::Parsed(v),
        Err(_) => Stripped::Text(manual_strip(text)),
    }
}

/// The (first) YAML document of `text` as JSON; Null when it holds nothing.
pub fn parse_document(text: &str) -> Result<Value, String> {
    let meaningful = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if !meaningful {
        return Ok(Value::Null);
    }
    serde_saphyr::from_str::<Value>(text).map_err(|e| crate::inputs::yaml_error(&e))
}

/// Whether any line holds something other than a comment.
pub fn has_lines(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    })
}

/// Upstream's client-side check of the edited file before anything is sent: it must be one
/// object with `apiVersion` and `kind`.
pub fn validate(text: &str) -> Result<(), String> {
    let stripped = match strip_comments(text) {
        Stripped::Parsed(v) => v,
        Stripped::Text(t) => parse_document(&t)?,
    };
    let Some(o) = stripped.as_object() else {
        return Err("invalid object to validate".into());
    };
    let mut errs = Vec::new();
    match o.get("apiVersion") {
        None | Some(Value::Null) => errs.push("apiVersion not set".to_string()),
        Some(Value::String(_)) => {}
        Some(_) => errs.push("apiVersion isn't string type".into()),
    }
    match o.get("kind") {
        None | Some(Value::Null) => errs.push("kind not set".to_string()),
        Some(Value::String(_)) => {}
        Some(_) => errs.push("kind isn't string type".into()),
    }
    match errs.as_slice() {
        [] => Ok(()),
        [one] => Err(one.clone()),
        many => Err(format!("[{}]", many.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_with_reasons() {
        let h = header(&[Reason {
            head: "deployments.apps \"web\" was not valid".into(),
            other: vec!["spec.replicas: Invalid value: -1: must be greater than or equal to 0".into()],
        }]);
        assert!(h.ends_with(
            "#\n# deployments.apps \"web\" was not valid:\n# * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n#\n"
        ));
        assert_eq!(hash_on_line_break("a\nb\n#c"), "a\n# b\n#c");
    }

    #[test]
    fn stripping_and_validation() {
        assert_eq!(manual_strip("# x\na: 1\n  # y\n#!keep\n"), "a: 1\n#!keep\n");
        assert_eq!(strip_comments("# c\na: 1\n"), strip_comments("a:   1 # other\n"));
        assert_eq!(validate("# only comments\n"), Err("invalid object to validate".into()));
        assert_eq!(validate("kind: X\n"), Err("apiVersion not set".into()));
        assert_eq!(validate("a: 1\n"), Err("[apiVersion not set, kind not set]".into()));
        assert!(validate("apiVersion: v1\nkind: ConfigMap\n").is_ok());
        assert!(validate("kind: D\n  bad: [x\n").unwrap_err().starts_with("yaml: line "));
        assert!(!has_lines("# a\n\n  # b\n"));
        assert_eq!(go_quote("a \"b\"\\"), "\"a \\\"b\\\"\\\\\"");
    }
}
