//! `-o custom-columns=HEADER:.path,…`: one column per JSONPath, `<none>` where a path
//! selects nothing, several values joined with commas.

use super::jsonpath::{JsonPath, JsonPathError};
use serde_json::Value;

pub struct Column {
    header: String,
    path: JsonPath,
}

#[derive(Debug, thiserror::Error)]
pub enum ColumnsError {
    #[error("unexpected custom-columns spec: {0}, expected <header>:<json-path-expr>")]
    Spec(String),
    #[error("custom-columns format specified but no custom columns given")]
    Empty,
    #[error("{0}")]
    Path(#[from] JsonPathError),
}

/// Parses `NAME:.metadata.name,NS:{.metadata.namespace}`.
pub fn parse(spec: &str) -> Result<Vec<Column>, ColumnsError> {
    if spec.is_empty() {
        return Err(ColumnsError::Empty);
    }
    let mut columns = Vec::new();
    for part in spec.split(',') {
        let Some((header, path)) = part.split_once(':') else {
            return Err(ColumnsError::Spec(part.to_string()));
        };
        columns.push(Column {
            header: header.to_string(),
            path: JsonPath::parse(&relaxed(path))?,
        });
    }
    Ok(columns)
}

/// kubectl's RelaxedJSONPathExpression: `.a.b` and `a.b` become `{.a.b}`.
fn relaxed(path: &str) -> String {
    let p = path.trim();
    if p.starts_with('{') && p.ends_with('}') {
        return p.to_string();
    }
    let inner = p.trim_start_matches('{').trim_end_matches('}');
    if inner.starts_with('.') || inner.starts_with('$') || inner.starts_with('@') {
        format!("{{{inner}}}")
    } else {
        format!("{{.{inner}}}")
    }
}

/// The tab-separated text for `objects` (aligned later by the tabwriter).
pub fn print(columns: &[Column], objects: &[Value], no_headers: bool) -> String {
    let mut out = String::new();
    if !no_headers {
        let headers: Vec<&str> = columns.iter().map(|c| c.header.as_str()).collect();
        out.push_str(&headers.join("\t"));
        out.push('\n');
    }
    for obj in objects {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                let values = c.path.values(obj);
                if values.is_empty() {
                    "<none>".to_string()
                } else {
                    values.iter().map(super::go_sprint).collect::<Vec<_>>().join(",")
                }
            })
            .collect();
        out.push_str(&cells.join("\t"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_with_missing_and_maps() {
        let cols = parse("N:.metadata.name,D:.data,X:.nope,C:{.spec.containers[*].name}").expect("spec");
        let obj = json!({"metadata": {"name": "c1"}, "data": {"a": "b"}, "spec": {"containers": [{"name": "x"}, {"name": "y"}]}});
        let text = super::super::tabwriter::align(&print(&cols, &[obj], false));
        assert_eq!(text, "N     D          X        C\nc1    map[a:b]   <none>   x,y\n");
    }

    #[test]
    fn bad_spec() {
        assert!(parse("NAME").is_err());
    }
}
