//! Human-readable output from server-side Tables (meta.k8s.io/v1 `Table`): priority-0
//! columns (all with `-o wide`), plus the columns kubectl adds on the client from each row's
//! object metadata: NAMESPACE (`-A`), `-L` label columns and LABELS (`--show-labels`).

use serde_json::Value;

#[derive(Default, Clone)]
pub struct TableOptions {
    pub wide: bool,
    pub no_headers: bool,
    pub with_namespace: bool,
    pub show_labels: bool,
    pub label_columns: Vec<String>,
    /// `kind.group` to prefix names with (`deployment.apps`), when several kinds are printed.
    pub kind_prefix: Option<String>,
}

/// Prints tables of one resource type; the header is written once, before the first row.
pub struct TablePrinter {
    opts: TableOptions,
    header_done: bool,
}

impl TablePrinter {
    pub fn new(opts: TableOptions) -> TablePrinter {
        TablePrinter {
            opts,
            header_done: false,
        }
    }

    /// Tab-separated lines for one Table; nothing when it has no rows.
    pub fn print(&mut self, table: &Value) -> String {
        self.print_event(table, None)
    }

    /// As `print`, with an EVENT column first holding `event` (`get --output-watch-events`).
    pub fn print_event(&mut self, table: &Value, event: Option<&str>) -> String {
        let mut out = String::new();
        let columns = table["columnDefinitions"].as_array().cloned().unwrap_or_default();
        let rows = table["rows"].as_array().cloned().unwrap_or_default();
        if rows.is_empty() {
            return out;
        }
        let shown: Vec<usize> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| self.opts.wide || c["priority"].as_i64().unwrap_or(0) == 0)
            .map(|(i, _)| i)
            .collect();
        let name_column = columns.iter().position(|c| c["format"] == "name");
        if !self.opts.no_headers && !self.header_done {
            let mut headers = Vec::new();
            if event.is_some() {
                headers.push("EVENT".to_string());
            }
            if self.opts.with_namespace {
                headers.push("NAMESPACE".to_string());
            }
            for &i in &shown {
                headers.push(columns[i]["name"].as_str().unwrap_or_default().to_uppercase());
            }
            for l in &self.opts.label_columns {
                headers.push(label_header(l));
            }
            if self.opts.show_labels {
                headers.push("LABELS".to_string());
            }
            out.push_str(&headers.join("\t"));
            out.push('\n');
        }
        self.header_done = true;
        for row in &rows {
            let meta = &row["object"]["metadata"];
            // Event types are padded to one width, so the column does not grow mid-stream.
            let mut cells: Vec<String> = event.into_iter().map(|e| format!("{e:<8}")).collect();
            if self.opts.with_namespace {
                cells.push(meta["namespace"].as_str().unwrap_or_default().to_string());
            }
            let row_cells = row["cells"].as_array().cloned().unwrap_or_default();
            for &i in &shown {
                let mut text = cell_text(row_cells.get(i).unwrap_or(&Value::Null));
                if Some(i) == name_column
                    && let Some(kind) = &self.opts.kind_prefix
                {
                    text = format!("{kind}/{text}");
                }
                cells.push(text);
            }
            for l in &self.opts.label_columns {
                cells.push(meta["labels"][l.as_str()].as_str().unwrap_or_default().to_string());
            }
            if self.opts.show_labels {
                cells.push(format_labels(&meta["labels"]));
            }
            out.push_str(&cells.join("\t"));
            out.push('\n');
        }
        out
    }
}

/// The header of a `-L` column: the key's last path segment, upper-cased.
fn label_header(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).to_uppercase()
}

/// `k=v,k2=v2` in key order, or `<none>`.
pub fn format_labels(labels: &Value) -> String {
    let Some(m) = labels.as_object() else {
        return "<none>".into();
    };
    if m.is_empty() {
        return "<none>".into();
    }
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    keys.iter()
        .map(|k| format!("{k}={}", m[k.as_str()].as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(",")
}

/// One cell: strings up to their first line break (then `...`), other values as Go prints them.
fn cell_text(v: &Value) -> String {
    let text = match v {
        Value::Null => return String::new(),
        Value::String(s) => match s.find(['\n', '\r', '\x0c']) {
            Some(i) => format!("{}...", &s[..i]),
            None => s.clone(),
        },
        other => super::go_sprint(other),
    };
    // Tabs would break the alignment; kubectl escapes terminal control characters.
    text.replace('\t', "\\t")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table() -> Value {
        json!({"kind": "Table", "columnDefinitions": [
            {"name": "Name", "format": "name", "priority": 0},
            {"name": "Ready", "format": "", "priority": 0},
            {"name": "Node", "format": "", "priority": 1}],
          "rows": [{"cells": ["p1", "1/1", "n1"], "object": {"metadata": {"name": "p1", "namespace": "ns",
            "labels": {"b": "2", "app.kubernetes.io/name": "x"}}}}]})
    }

    #[test]
    fn default_and_wide() {
        let mut p = TablePrinter::new(TableOptions::default());
        assert_eq!(p.print(&table()), "NAME\tREADY\np1\t1/1\n");
        let mut p = TablePrinter::new(TableOptions {
            wide: true,
            ..Default::default()
        });
        assert_eq!(p.print(&table()), "NAME\tREADY\tNODE\np1\t1/1\tn1\n");
    }

    #[test]
    fn client_side_columns() {
        let mut p = TablePrinter::new(TableOptions {
            with_namespace: true,
            show_labels: true,
            label_columns: vec!["app.kubernetes.io/name".into(), "zz".into()],
            kind_prefix: Some("pod".into()),
            ..Default::default()
        });
        assert_eq!(
            p.print(&table()),
            "NAMESPACE\tNAME\tREADY\tNAME\tZZ\tLABELS\nns\tpod/p1\t1/1\tx\t\tapp.kubernetes.io/name=x,b=2\n"
        );
        // The header is printed once per resource type.
        assert!(!p.print(&table()).contains("NAMESPACE"));
    }

    #[test]
    fn empty_table_prints_nothing() {
        let mut p = TablePrinter::new(TableOptions::default());
        assert_eq!(p.print(&json!({"columnDefinitions": [], "rows": []})), "");
    }
}
