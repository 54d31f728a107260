#!/usr/bin/env python3
"""Generate the type definitions the API server serves as OpenAPI and uses for patches and field validation.

Reads two crates from the local cargo registry (the same ones tools/gen_proto_schema.py reads, with its helpers):
  * k8s-openapi 0.29.0 (v1_33): each type's OpenAPI schema (the `schemars` impls: descriptions, JSON names,
    types, formats, required fields) and the (group, version, kind) of each resource (`Resource` impls).
  * k8s-pb 0.9.0: the doc comments of the upstream Go types, which keep the code-generation markers
    (`+patchStrategy`, `+patchMergeKey`, `+listType`, `+listMapKey`, `+mapType`, `+structType`). Upstream's
    OpenAPI extensions x-kubernetes-patch-strategy/-patch-merge-key/-list-type/-list-map-keys/-map-type come from
    these markers and the matching Go struct tags; k8s-openapi keeps none of them (its DeepMerge impls carry a
    list type but drop optional list-map keys such as Container.ports' `protocol`). k8s-pb also gives the
    `XxxList` types, which k8s-openapi replaces with a generic List<T>.

Rerun (from the kube-apiserver crate directory) after bumping either crate:
    python3 tools/gen_openapi_schema.py > src/schema/definitions.json

Output: one JSON object {"definitions": {name: definition}} with keys sorted. A definition has
"description", optional "gvk" ([[group, version, kind], ...]), "required", "mapType" (a `+structType=atomic`
struct), and either "properties" ({jsonName: property}) or "special": true (types with a JSON form of their own:
Quantity, IntOrString, Time, ...). A property has "type" ("string", "integer", "number", "boolean", "object",
"#<definition>", "[]<type>" or "{}<type>" for string-keyed maps), optional "format" (of the innermost scalar),
"description", "patchStrategy", "patchMergeKey", "listType", "listMapKeys" and "mapType".
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_proto_schema as gps  # noqa: E402  (shared parsing helpers and the module list)

STRING_RE = r'"(?:[^"\\]|\\.)*"'
SUBSCHEMA_RE = r"__gen\.subschema_for::<crate::([\w:]+)>\(\)"
INSERT_RE = re.compile(r"insert\((" + STRING_RE + r")\.into\(\), (" + STRING_RE + r")\.into\(\)\)", re.S)
# ({ let mut schema_obj = <subschema>; schema_obj.ensure_object().insert("k".into(), "v".into()); ... schema_obj })
WRAPPED_RE = re.compile(
    r"\(\{\s*let mut schema_obj = " + SUBSCHEMA_RE + r";((?:\s*schema_obj\.ensure_object\(\)\.insert\("
    + STRING_RE + r"\.into\(\), " + STRING_RE + r"\.into\(\)\);)*)\s*schema_obj\s*\}\)",
    re.S,
)
BARE_RE = re.compile(r"\(?" + SUBSCHEMA_RE + r"\)?")


# ---------------------------------------------------------------- k8s-openapi schemars impls


def outside_strings(text):
    """Yield (index, char) for every character outside Rust/JSON string literals."""
    in_str, escape = False, False
    for i, c in enumerate(text):
        if in_str:
            in_str = escape or c != '"'
            escape = not escape and c == "\\"
        elif c == '"':
            in_str = True
        else:
            yield i, c


def macro_body(text):
    """The text inside `json_schema!( ... )`, or None."""
    start = text.find("json_schema!(")
    if start < 0:
        return None
    begin = start + len("json_schema!(")
    depth = 1
    for i, c in outside_strings(text[begin:]):
        depth += (c in "([{") - (c in ")]}")
        if depth == 0:
            return text[begin : begin + i]
    sys.exit("unterminated json_schema! macro")


def ref_object(path, inserts=""):
    parts = [f'"$ref": "{path}"']
    parts += [f"{k}: {v}" for k, v in INSERT_RE.findall(inserts)]
    return "{" + ", ".join(parts) + "}"


def strip_trailing_commas(text):
    drop = {i for i, c in outside_strings(text) if c == "," and re.match(r"\s*[}\]]", text[i + 1 :])}
    return "".join(c for i, c in enumerate(text) if i not in drop)


def parse_schemars(text):
    """The JSON schema of one k8s-openapi type, with `$ref`s as crate paths (`api::core::v1::Affinity`)."""
    body = macro_body(text)
    if body is None:
        return None
    body = WRAPPED_RE.sub(lambda m: ref_object(m.group(1), m.group(2)), body)
    body = BARE_RE.sub(lambda m: ref_object(m.group(1)), body)
    try:
        return json.loads(strip_trailing_commas(body))
    except json.JSONDecodeError as err:
        sys.exit(f"cannot parse schemars body: {err}: {body[max(0, err.pos - 80) : err.pos + 80]!r}")


def load_types(root):
    """(module, normalised struct) -> {definition, schema, kind, list_kind} for every k8s-openapi type we serve."""
    types = {}
    base = os.path.join(root, "src", "v1_33")
    for module in gps.MODULES:
        mod_dir = os.path.join(base, module)
        for name in sorted(os.listdir(mod_dir)):
            if not name.endswith(".rs") or name == "mod.rs":
                continue
            path = os.path.join(mod_dir, name)
            info = gps.parse_openapi_file(path)
            if not info:
                continue
            info["schema"] = parse_schemars(open(path, encoding="utf-8").read())
            info["module"] = module
            types[(module, gps.norm(info["struct"]))] = info
    return types


def crate_path_to_definition(path, types):
    module, struct = path.rsplit("::", 1)
    info = types.get((module.replace("::", "/"), gps.norm(struct)))
    if not info:
        sys.exit(f"unknown type {path}")
    return info["definition"]


# ---------------------------------------------------------------- k8s-pb markers and List types

PB_STRUCT_RE = re.compile(r"((?:^///[^\n]*\n)*)(?:^#\[[^\n]*\n)*^pub struct (\w+) \{\n(.*?)^\}", re.M | re.S)
PB_FIELD_RE = re.compile(
    r"((?:^    ///[^\n]*\n)*)(?:^    #\[[^\n]*\n)*^    pub ((?:r#)?\w+):\s*(.*?),\n(?=    ///|    #\[|    pub |\Z)", re.M | re.S
)


def doc_lines(block):
    return [re.sub(r"^\s*/// ?", "", line) for line in block.splitlines()]


def markers(lines):
    found = {}
    for line in lines:
        m = re.match(r"^\+(\w+)=(\S+)\s*$", line.strip())
        if m:
            found.setdefault(m.group(1), []).append(m.group(2))
    return found


def clean_doc(lines):
    """A Go doc comment as upstream's OpenAPI descriptions render it (paragraphs joined, markers dropped)."""
    paragraphs, current = [], []
    for line in lines:
        text = line.strip()
        if text.startswith("+") or text.startswith("---"):
            continue
        if not text:
            if current:
                paragraphs.append(" ".join(current))
            current = []
            continue
        current.append(re.sub(r"<(https?://[^>]+)>", r"\1", text).replace("\\[", "[").replace("\\]", "]"))
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def load_pb_docs(root):
    """(module, struct) -> {"doc": lines, "markers": {...}, "fields": [(rust name, rust type, doc lines)]}."""
    out = {}
    for module in gps.MODULES:
        text = open(os.path.join(root, "src", module, "mod.rs"), encoding="utf-8").read()
        for sm in PB_STRUCT_RE.finditer(text):
            fields = [(fm.group(2), " ".join(fm.group(3).split()), doc_lines(fm.group(1))) for fm in PB_FIELD_RE.finditer(sm.group(3))]
            lines = doc_lines(sm.group(1))
            out[(module, sm.group(2))] = {"doc": lines, "markers": markers(lines), "fields": fields}
    return out


def field_markers(key, pb, names, types, global_json, pb_structs):
    """JSON field name -> markers for one k8s-pb message, following inlined (embedded) Go structs."""
    module, struct = key
    api = types.get((module, gps.norm(struct)))
    result = {}
    for rust_field, rust_type, lines in pb.get(key, {}).get("fields", []):
        ref = gps.resolve(module, gps.inner_type(rust_type))
        if ref in pb and gps.is_inline(rust_field, api, ref, pb_structs):
            result.update(field_markers(ref, pb, names, types, global_json, pb_structs))
            continue
        ext = property_extensions(markers(lines))
        if ext:
            result[gps.json_name(names[key], rust_field, api, global_json)] = ext
    return result


def property_extensions(found):
    """Output keys for the markers upstream turns into x-kubernetes-* field extensions."""
    ext = {key: found[key][0] for key in ("patchStrategy", "patchMergeKey", "listType", "mapType") if key in found}
    if "listMapKey" in found:
        ext["listMapKeys"] = found["listMapKey"]
    return ext


# ---------------------------------------------------------------- conversion


def type_string(schema, types):
    """(type string, innermost format) of a property schema."""
    if "$ref" in schema:
        return "#" + crate_path_to_definition(schema["$ref"], types), None
    kind = schema.get("type")
    if kind == "array":
        inner, fmt = type_string(schema["items"], types)
        return "[]" + inner, fmt
    if kind == "object" and "additionalProperties" in schema:
        inner, fmt = type_string(schema["additionalProperties"], types)
        return "{}" + inner, fmt
    if kind in ("string", "integer", "number", "boolean", "object"):
        return kind, schema.get("format")
    sys.exit(f"unsupported property schema {schema}")


def convert_property(schema, types, ext):
    type_str, fmt = type_string(schema, types)
    prop = {"type": type_str}
    if fmt:
        prop["format"] = fmt
    if schema.get("description"):
        prop["description"] = schema["description"]
    prop.update(ext)
    return prop


def convert_definition(info, types, ext_by_field, pb_entry):
    schema = info["schema"]
    out = {"description": schema.get("description", "")}
    if info["kind"]:
        api_version, kind = info["kind"]
        group, _, version = api_version.rpartition("/")
        out["gvk"] = [[group, version, kind]]
    if pb_entry and pb_entry["markers"].get("structType") == ["atomic"]:
        out["mapType"] = "atomic"
    if "properties" not in schema:
        out["special"] = True
        out.update({k: schema[k] for k in ("type", "format") if k in schema})
        return out
    out["properties"] = {
        name: convert_property(prop, types, ext_by_field.get(name, {})) for name, prop in schema["properties"].items()
    }
    # k8s-openapi makes a resource's `metadata` required (its structs hold ObjectMeta, not an
    # Option); upstream's types mark it optional, and `kubectl explain` shows the difference.
    required = [r for r in schema.get("required", []) if r != "metadata"]
    if required:
        out["required"] = required
    return out


def list_definition(info, pb, pb_key):
    """The upstream `XxxList` type of a listable kind, from the k8s-pb message and the item type."""
    entry = pb[pb_key]
    docs = {rust: clean_doc(lines) for rust, _, lines in entry["fields"]}
    item_props = info["schema"]["properties"]
    api_version, _ = info["kind"]
    group, _, version = api_version.rpartition("/")
    return {
        "description": clean_doc(entry["doc"]),
        "gvk": [[group, version, info["list_kind"]]],
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": item_props["apiVersion"]["description"]},
            "items": {"type": "[]#" + info["definition"], "description": docs.get("items", "")},
            "kind": {"type": "string", "description": item_props["kind"]["description"]},
            "metadata": {
                "type": "#io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
                "description": docs.get("metadata", ""),
            },
        },
    }


def build(types, pb, pb_structs):
    names = gps.type_names(pb_structs, types)
    by_definition = {name: key for key, name in names.items()}
    global_json = {}
    for info in types.values():
        for key, value in info["json"].items():
            global_json.setdefault(gps.norm(key), value)
    defs = {}
    for info in types.values():
        pb_key = by_definition.get(info["definition"])
        ext = field_markers(pb_key, pb, names, types, global_json, pb_structs) if pb_key else {}
        defs[info["definition"]] = convert_definition(info, types, ext, pb.get(pb_key))
        list_key = by_definition.get(info["definition"] + "List")
        if info["list_kind"] and list_key:
            defs[info["definition"] + "List"] = list_definition(info, pb, list_key)
    return defs


def main():
    types = load_types(gps.crate_dir("k8s-openapi-0.29.0"))
    pb_root = gps.crate_dir("k8s-pb-0.9.0")
    defs = build(types, load_pb_docs(pb_root), gps.load_pb(pb_root))
    json.dump({"definitions": defs}, sys.stdout, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
