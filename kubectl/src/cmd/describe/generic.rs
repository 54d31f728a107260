//! upstream's generic describer for kinds without a specific one: Name, Namespace, Labels,
//! Annotations, then every other field of the object in sorted order with "smart" labels
//! (`apiVersion` → `API Version`), and the Events section.

use super::{
    Ctx, PrefixWriter, annotations_multiline, events_for, kind_of, labels_multiline, plain, str_at, write_events,
};
use crate::discovery::Resource;
use serde_json::Value;

const SKIP: &[&str] = &[
    ".metadata.managedFields",
    ".metadata.name",
    ".metadata.namespace",
    ".metadata.labels",
    ".metadata.annotations",
];

pub async fn describe(ctx: &Ctx<'_>, _r: &Resource, o: &Value) -> String {
    let events = events_for(ctx, o, Some(kind_of(o)), None).await;
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(o, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(o, &["metadata", "namespace"])));
    labels_multiline(&mut w, "", "Labels", &o["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &o["metadata"]["annotations"]);
    content(&mut w, 0, o, "");
    write_events(&mut w, events);
    w.finish()
}

fn content(w: &mut PrefixWriter, level: usize, v: &Value, prefix: &str) {
    let Some(map) = v.as_object() else { return };
    let mut fields: Vec<&String> = map.keys().collect();
    fields.sort();
    for f in fields {
        let value = &map[f.as_str()];
        let path = format!("{prefix}.{f}");
        if SKIP.contains(&path.as_str()) {
            continue;
        }
        match value {
            Value::Object(_) => {
                w.write(level, &format!("{}:\n", smart_label(f)));
                content(w, level + 1, value, &path);
            }
            Value::Array(items) => {
                w.write(level, &format!("{}:\n", smart_label(f)));
                for item in items {
                    if item.is_object() {
                        content(w, level + 1, item, &path);
                    } else {
                        w.write(level + 1, &format!("{}\n", plain(item)));
                    }
                }
            }
            other => w.write(level, &format!("{}:\t{}\n", smart_label(f), plain(other))),
        }
    }
}

/// Splits camelCase into words (as github.com/fatih/camelcase: runs of upper case, lower
/// case, digits and other characters), titles them and upper-cases common acronyms.
pub fn smart_label(field: &str) -> String {
    if field.chars().any(|c| !c.is_alphabetic() && c != '-') {
        return field.to_string();
    }
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Lower,
        Upper,
        Digit,
        Other,
    }
    let class = |c: char| {
        if c.is_lowercase() {
            Class::Lower
        } else if c.is_uppercase() {
            Class::Upper
        } else if c.is_numeric() {
            Class::Digit
        } else {
            Class::Other
        }
    };
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last: Option<Class> = None;
    for c in field.chars() {
        let k = class(c);
        if Some(k) == last {
            if let Some(r) = runs.last_mut() {
                r.push(c);
            }
        } else {
            runs.push(vec![c]);
        }
        last = Some(k);
    }
    // An upper-case run followed by a lower-case run gives its last letter to the latter.
    for i in 0..runs.len().saturating_sub(1) {
        if runs[i].first().is_some_and(|c| c.is_uppercase())
            && runs[i + 1].first().is_some_and(|c| c.is_lowercase())
            && let Some(c) = runs[i].pop()
        {
            runs[i + 1].insert(0, c);
        }
    }
    const ACRONYMS: &[&str] = &["API", "URL", "UID", "OSB", "GUID"];
    runs.iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.iter().collect::<String>())
        .filter(|p| p != "_")
        .map(|p| {
            let upper = p.to_uppercase();
            if ACRONYMS.contains(&upper.as_str()) {
                upper
            } else {
                let mut cs = p.chars();
                match cs.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + cs.as_str(),
                    None => String::new(),
                }
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_labels() {
        assert_eq!(smart_label("apiVersion"), "API Version");
        assert_eq!(smart_label("creationTimestamp"), "Creation Timestamp");
        assert_eq!(smart_label("uid"), "UID");
        assert_eq!(smart_label("PDName"), "PD Name");
        assert_eq!(smart_label("a.b"), "a.b");
    }
}
