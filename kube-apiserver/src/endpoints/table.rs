//! Server-side printing: Table (meta.k8s.io/v1) built from the printers, and the
//! PartialObjectMetadata view.

use super::Ctx;
use crate::printers;
use crate::registry::resources::ResourceInfo;
use serde_json::{Value, json};

/// A Table of `objects` for the request's resource.
pub fn for_objects(ctx: &Ctx, objects: &[Value], metadata: Value) -> Value {
    let include = ctx.query.get("includeObject").unwrap_or("Metadata");
    let mut t = build(ctx.info, objects, metadata, true);
    if include != "Metadata"
        && let Some(rows) = t.get_mut("rows").and_then(Value::as_array_mut)
    {
        for (row, obj) in rows.iter_mut().zip(objects) {
            row["object"] = if include == "None" { Value::Null } else { obj.clone() };
        }
    }
    t
}

/// Builds a Table; `with_columns` false leaves `columnDefinitions` null (later watch events).
pub fn build(info: &ResourceInfo, objects: &[Value], metadata: Value, with_columns: bool) -> Value {
    let printer = printers::printer_for(info.group, info.resource).unwrap_or_else(printers::default_printer);
    let now = jiff::Timestamp::now();
    let columns: Vec<Value> = printer
        .columns
        .iter()
        .map(|c| json!({"name": c.name, "type": c.kind, "format": c.format, "description": c.description, "priority": c.priority}))
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut row = json!({"cells": (printer.row)(o, now), "object": partial_metadata(o)});
            if let Some(conds) = printers::row_conditions(info.group, info.resource, o) {
                row["conditions"] = conds;
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": if with_columns { Value::Array(columns) } else { Value::Null },
        "rows": rows,
    })
}

/// The object reduced to its metadata.
pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
    })
}
