//! Objects from `-f FILE|DIR|-` (with `-R/--recursive`) as upstream kubectl's resource builder
//! reads them: YAML streams split on `---` lines, JSON documents, `List` kinds flattened,
//! directories walked in lexical order taking only `.json`, `.yaml` and `.yml` files, and
//! upstream's error wording for missing paths and unparsable documents.

use crate::error::CmdError;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One object read from a source, with the source's name as kubectl reports it
/// (`"x.yaml"`, `"STDIN"`).
#[derive(Debug, Clone)]
pub struct InputObject {
    pub source: String,
    pub object: Value,
}

const EXTENSIONS: &[&str] = &["json", "yaml", "yml"];

/// Reads every `-f` argument in order.
pub async fn read_all(files: &[String], recursive: bool) -> Result<Vec<InputObject>, CmdError> {
    let mut out = Vec::new();
    for f in files {
        if f == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| CmdError::msg(format!("error reading STDIN: {e}")))?;
            out.extend(parse_source("STDIN", &text)?);
            continue;
        }
        if f.starts_with("http://") || f.starts_with("https://") {
            out.extend(parse_source(f, &crate::fetch::get(f).await?)?);
            continue;
        }
        let path = Path::new(f);
        if !path.exists() {
            return Err(CmdError::msg(format!("the path \"{f}\" does not exist")));
        }
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, recursive, &mut files)?;
            for p in files {
                let name = p.display().to_string();
                let text = std::fs::read_to_string(&p).map_err(|e| CmdError::msg(format!("{name}: {e}")))?;
                out.extend(parse_source(&name, &text)?);
            }
        } else {
            let text = std::fs::read_to_string(path).map_err(|e| CmdError::msg(format!("{f}: {e}")))?;
            out.extend(parse_source(f, &text)?);
        }
    }
    Ok(out)
}

/// The files of a directory in lexical order (subdirectories only with `recursive`).
fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> Result<(), CmdError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| CmdError::msg(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if recursive {
                walk(&p, recursive, out)?;
            }
            continue;
        }
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
        if EXTENSIONS.contains(&ext) {
            out.push(p);
        }
    }
    Ok(())
}

/// Splits a YAML stream into documents on `---` separator lines, as Go's YAMLReader does.
pub fn split_documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        if trimmed.starts_with("---") && trimmed[3..].trim().is_empty() {
            docs.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push_str(line);
    }
    docs.push(cur);
    docs
}

/// Every object of one source; empty documents are skipped and `List`s flattened.
pub fn parse_source(source: &str, text: &str) -> Result<Vec<InputObject>, CmdError> {
    let mut out = Vec::new();
    let trimmed = text.trim_start();
    let docs: Vec<String> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        vec![text.to_string()]
    } else {
        split_documents(text)
    };
    for doc in docs {
        let Some(value) = parse_document(source, &doc)? else {
            continue;
        };
        push_object(source, value, &mut out)?;
    }
    Ok(out)
}

fn push_object(source: &str, value: Value, out: &mut Vec<InputObject>) -> Result<(), CmdError> {
    if !value.is_object() {
        return Err(CmdError::msg(format!(
            "error validating \"{source}\": error validating data: invalid object to validate"
        )));
    }
    let kind = value["kind"].as_str().unwrap_or_default();
    if kind.ends_with("List") && value["items"].is_array() {
        for item in value["items"].as_array().into_iter().flatten() {
            push_object(source, item.clone(), out)?;
        }
        return Ok(());
    }
    if value["apiVersion"].as_str().unwrap_or_default().is_empty() {
        return Err(CmdError::msg(format!(
            "error validating \"{source}\": error validating data: apiVersion not set; if you choose to ignore these errors, turn validation off with --validate=false"
        )));
    }
    if kind.is_empty() {
        return Err(CmdError::msg(format!(
            "error validating \"{source}\": error validating data: kind not set; if you choose to ignore these errors, turn validation off with --validate=false"
        )));
    }
    out.push(InputObject {
        source: source.to_string(),
        object: value,
    });
    Ok(())
}

/// One document: `None` when it holds nothing (blank or comments only).
fn parse_document(source: &str, doc: &str) -> Result<Option<Value>, CmdError> {
    let meaningful = doc
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if !meaningful {
        return Ok(None);
    }
    let t = doc.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        return match serde_json::from_str::<Value>(doc) {
            Ok(v) => Ok(Some(v)),
            // Upstream reads JSON with a YAML parser, which forgives e.g. trailing commas.
            Err(e) if !e.is_eof() => match serde_saphyr::from_str::<Value>(doc) {
                Ok(v) => Ok(Some(v)),
                Err(_) => Err(CmdError::msg(format!("error parsing {source}: {}", json_error(&e)))),
            },
            Err(e) => Err(CmdError::msg(format!("error parsing {source}: {}", json_error(&e)))),
        };
    }
    match serde_saphyr::from_str::<Value>(doc) {
        Ok(Value::Null) => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(CmdError::msg(format!(
            "error parsing {source}: error converting YAML to JSON: {}",
            yaml_error(&e)
        ))),
    }
}

/// go-yaml's text for a syntax error: `yaml: line N: reason`.
pub fn yaml_error(e: &serde_saphyr::Error) -> String {
    let line = e.location().map(|l| l.line()).unwrap_or(1);
    format!("yaml: line {line}: {}", yaml_reason(&e.to_string()))
}

/// go-yaml's wording for the common syntax errors.
fn yaml_reason(text: &str) -> String {
    let t = text.to_lowercase();
    if t.contains("mapping values are not allowed") || t.contains("mapping value") {
        "mapping values are not allowed in this context".into()
    } else if t.contains("could not find expected ':'") || t.contains("simple key") {
        "could not find expected ':'".into()
    } else if t.contains("tab") {
        "found character that cannot start any token".into()
    } else if t.contains("unclosed bracket '{'") {
        "did not find expected ',' or '}'".into()
    } else if t.contains("unclosed bracket") {
        "did not find expected ',' or ']'".into()
    } else if t.contains("flow") || t.contains("did not find expected") {
        "did not find expected node content".into()
    } else {
        text.lines().next().unwrap_or_default().to_string()
    }
}

fn json_error(e: &serde_json::Error) -> String {
    if e.is_eof() {
        return "unexpected EOF".into();
    }
    format!("error converting YAML to JSON: yaml: line {}: {e}", e.line())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_lists() {
        let text = "# c\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n";
        let objs = parse_source("x.yaml", text).unwrap();
        let names: Vec<&str> = objs
            .iter()
            .map(|o| o.object["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["a", "b", "c"]);
        let j = parse_source(
            "x.json",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"}}"#,
        )
        .unwrap();
        assert_eq!(j.len(), 1);
    }

    #[test]
    fn directories_in_lexical_order() {
        let dir = tempfile::tempdir().unwrap();
        let cm = |n: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n");
        std::fs::write(dir.path().join("b.yaml"), cm("b")).unwrap();
        std::fs::write(dir.path().join("a.yml"), cm("a")).unwrap();
        std::fs::write(dir.path().join("c.txt"), cm("c")).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/d.json"),
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d"}}"#,
        )
        .unwrap();
        let d = dir.path().display().to_string();
        let names = |r| -> Vec<String> {
            futures::executor::block_on(read_all(std::slice::from_ref(&d), r))
                .unwrap()
                .iter()
                .map(|o| o.object["metadata"]["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(false), vec!["a", "b"]);
        assert_eq!(names(true), vec!["a", "b", "d"]);
        let missing = futures::executor::block_on(read_all(&["nope.yaml".to_string()], false)).unwrap_err();
        assert_eq!(missing.to_string(), "error: the path \"nope.yaml\" does not exist");
    }
}
