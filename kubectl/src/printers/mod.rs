//! Output printers, one module each: server-side tables (`table`), JSON, YAML, names,
//! JSONPath and Go templates and custom columns, all aligned by kubectl's `tabwriter`.

pub mod custom_columns;
pub mod gotemplate;
pub mod json;
pub mod jsonpath;
pub mod table;
pub mod tabwriter;
pub mod yaml;

use serde_json::Value;

/// A value as Go's `fmt.Sprint` prints an unstructured value (`map[a:b]`, `[x y]`).
pub fn go_sprint(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if n.is_f64() {
                yaml::go_float(n.as_f64().unwrap_or(0.0))
            } else {
                n.to_string()
            }
        }
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_sprint).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_sprint(&m[k.as_str()])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// `kind.group/name` as `-o name` prints it (`pod/x`, `deployment.apps/web`).
pub fn name_of(kind: &str, group: &str, name: &str) -> String {
    let kind = kind.to_lowercase();
    if group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{group}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_formatting_of_maps() {
        assert_eq!(go_sprint(&json!({"b": 1, "a": "x"})), "map[a:x b:1]");
        assert_eq!(go_sprint(&json!(["a", 2])), "[a 2]");
        assert_eq!(name_of("Deployment", "apps", "web"), "deployment.apps/web");
    }
}
