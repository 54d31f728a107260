#!/usr/bin/env python3
"""Generate the protobuf schema table used by kube-apiserver/src/protobuf.

Reads two crates from the local cargo registry:
  * k8s-pb 0.9.0      : prost structs -> message names, field tags, wire kinds, cardinality.
  * k8s-openapi 0.29.0: the same types (v1_33) -> exact JSON field names, "required" fields,
                        canonical (Go) type names and the (apiVersion, kind) of each resource.

Rerun (from the kube-apiserver crate directory) after bumping either crate:
    python3 tools/gen_proto_schema.py > src/protobuf/schema.txt

Output format (one record per line, space separated):
    M <message type name>                         starts a message
    <tag> <jsonName> <card> <type> [r]            a field of the current message
        card: ? optional, * repeated, % map (string keys; type is the value type)
        type: string|int32|int64|bool|bytes|double or a message type name
        r   : the field is required in the OpenAPI schema (Go emits it even when empty)
        i   : an embedded Go struct whose fields are inlined into the parent's JSON (name is -)
    K <apiVersion> <kind> <message type name>     a top-level kind
"""

import glob
import os
import re
import sys

REGISTRY = os.path.expanduser("~/.cargo/registry/src")

# k8s-pb module paths (relative to src/) that go into the table.
MODULES = [
    "api/core/v1",
    "api/apps/v1",
    "api/batch/v1",
    "api/autoscaling/v1",
    "api/autoscaling/v2",
    "api/coordination/v1",
    "api/discovery/v1",
    "api/events/v1",
    "api/networking/v1",
    "api/policy/v1",
    "api/rbac/v1",
    "api/scheduling/v1",
    "api/certificates/v1",
    "api/node/v1",
    "api/storage/v1",
    "api/authentication/v1",
    "api/authorization/v1",
    "api/admissionregistration/v1",
    "apiextensions_apiserver/pkg/apis/apiextensions/v1",
    "kube_aggregator/pkg/apis/apiregistration/v1",
    "apimachinery/pkg/apis/meta/v1",
    "apimachinery/pkg/runtime",
    "apimachinery/pkg/util/intstr",
    "apimachinery/pkg/api/resource",
]

# JSON names that cannot be derived from the Rust field names.
JSON_OVERRIDES = {
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "ref"): "$ref",
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "schema"): "$schema",
}

SCALARS = {"string", "int32", "int64", "bool", "double"}


def crate_dir(name):
    found = sorted(glob.glob(os.path.join(REGISTRY, "*", name)))
    if not found:
        sys.exit(f"crate {name} not found under {REGISTRY}")
    return found[-1]


def norm(name):
    """Normalise a Rust identifier for loose matching (r#type, type_, pod_i_ps)."""
    return name.replace("r#", "").replace("_", "").lower()


def camel(snake):
    head, *rest = snake.replace("r#", "").split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def strip_comments(text):
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))


# ---------------------------------------------------------------- k8s-openapi


def parse_openapi_file(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"// Generated from definition (\S+)", text)
    s = re.search(r"pub struct (\w+) \{(.*?)\n\}", text, re.S)
    if not m:
        return None
    if not s:
        # Newtypes and enums (Time, IntOrString, JSONSchemaPropsOrBool): only the name matters.
        t = re.search(r"pub (?:struct|enum) (\w+)", text)
        if not t:
            return None
        return {"definition": m.group(1), "struct": t.group(1), "required": {}, "json": {}, "kind": None, "list_kind": None}
    fields = {}
    for fm in re.finditer(r"^\s*pub (\w+): (.*),$", s.group(2), re.M):
        fields[fm.group(1)] = not fm.group(2).startswith("Option<")
    json_names = {}
    for jm in re.finditer(r'"([^"]+)" => Field::Key_(\w+),', text):
        json_names[jm.group(2)] = jm.group(1)
    kind = re.search(r'const API_VERSION: &\'static str = "([^"]+)";.*?const KIND: &\'static str = "([^"]+)";', text, re.S)
    list_kind = re.search(r'const LIST_KIND: &\'static str = "([^"]+)";', text)
    return {
        "definition": m.group(1),
        "struct": s.group(1),
        "required": fields,
        "json": json_names,
        "kind": (kind.group(1), kind.group(2)) if kind else None,
        "list_kind": list_kind.group(1) if list_kind else None,
    }


def load_openapi(root):
    """Map (module path, normalised struct name) -> parsed k8s-openapi type."""
    types = {}
    base = os.path.join(root, "src", "v1_33")
    for module in MODULES:
        for path in glob.glob(os.path.join(base, module, "*.rs")):
            if path.endswith("mod.rs"):
                continue
            parsed = parse_openapi_file(path)
            if parsed:
                types[(module, norm(parsed["struct"]))] = parsed
    return types


# ---------------------------------------------------------------- k8s-pb

FIELD_RE = re.compile(r"#\[prost\((.*?)\)\]\s*pub\s+((?:r#)?\w+)\s*:\s*(.*?),\s*$", re.S)


def split_fields(body):
    chunks = body.split("#[prost(")[1:]
    for chunk in chunks:
        m = FIELD_RE.match("#[prost(" + chunk.strip())
        if not m:
            sys.exit(f"cannot parse prost field: {chunk!r}")
        yield m.group(1), m.group(2), " ".join(m.group(3).split())


def inner_type(rust_type):
    t = rust_type.replace(" ", "").replace(",>", ">")
    for wrapper in ("::core::option::Option<", "::prost::alloc::boxed::Box<", "::prost::alloc::vec::Vec<"):
        while t.startswith(wrapper):
            t = t[len(wrapper) : -1]
    return t


def map_value_type(rust_type):
    t = rust_type.replace(" ", "").replace(",>", ">")
    m = re.match(r"::prost::alloc::collections::BTreeMap<::prost::alloc::string::String,(.*)>$", t)
    if not m:
        sys.exit(f"unexpected map type {rust_type}")
    return m.group(1)


def parse_attr(attr):
    """Return (card, scalar-or-None) from a prost attribute list."""
    m = re.match(r'btree_map = "string, (\w+)"', attr)
    if m:
        return "%", None if m.group(1) == "message" else m.group(1)
    card = "*" if "repeated" in attr else "?"
    kind = attr.split(",")[0].strip()
    if kind.startswith("bytes"):
        return card, "bytes"
    if kind in SCALARS:
        return card, kind
    if kind == "message":
        return card, None
    sys.exit(f"unsupported prost attribute {attr}")


def load_pb(root):
    """Map (module, struct name) -> list of raw fields."""
    structs = {}
    for module in MODULES:
        text = strip_comments(open(os.path.join(root, "src", module, "mod.rs"), encoding="utf-8").read())
        for sm in re.finditer(r"pub struct (\w+) \{([^{}]*)\}", text):
            structs[(module, sm.group(1))] = list(split_fields(sm.group(2)))
    return structs


def resolve(module, rust_path):
    parts = rust_path.split("::")
    mod_parts = module.split("/")
    while parts and parts[0] == "super":
        parts.pop(0)
        mod_parts.pop()
    return "/".join(mod_parts + parts[:-1]), parts[-1]


def default_name(module, struct):
    return "io.k8s." + module.replace("apiextensions_apiserver", "apiextensions-apiserver").replace("kube_aggregator", "kube-aggregator").replace("/", ".") + "." + struct


# ---------------------------------------------------------------- assembly


def type_names(structs, openapi):
    names = {}
    for module, struct in structs:
        api = openapi.get((module, norm(struct)))
        if api:
            names[(module, struct)] = api["definition"]
    for module, struct in structs:
        if (module, struct) in names:
            continue
        item = names.get((module, struct[:-4])) if struct.endswith("List") else None
        names[(module, struct)] = item + "List" if item else default_name(module, struct)
    return names


def json_name(type_name, rust_field, api, global_json):
    if (type_name, rust_field.replace("r#", "")) in JSON_OVERRIDES:
        return JSON_OVERRIDES[(type_name, rust_field.replace("r#", ""))]
    if api and api["json"]:
        for key, value in api["json"].items():
            if norm(key) == norm(rust_field):
                return value
        print(f"note: {type_name}.{rust_field} not in k8s-openapi", file=sys.stderr)
    return global_json.get(norm(rust_field), camel(rust_field))


def leaf_names(ref, structs, keys, seen=()):
    """Rust field names of a message, expanding nested embedded messages not named in `keys`."""
    names = []
    seen = seen + (ref,)
    for attr, rust_field, rust_type in structs.get(ref, []):
        if norm(rust_field) in keys or not attr.startswith("message"):
            names.append(rust_field)
            continue
        nested = resolve(ref[0], inner_type(rust_type))
        expand = nested in structs and nested not in seen
        names.extend(leaf_names(nested, structs, keys, seen) if expand else [rust_field])
    return names


def is_inline(rust_field, api, ref, structs):
    """Go embeds some structs with `json:",inline"`: their fields appear in the parent's JSON."""
    if not api or not api["json"] or ref not in structs:
        return False
    keys = {norm(k) for k in api["json"]}
    if norm(rust_field) in keys:
        return False
    leaves = leaf_names(ref, structs, keys)
    matched = sum(1 for f in leaves if norm(f) in keys)
    return bool(leaves) and matched >= 0.8 * len(leaves)


def is_required(rust_field, api):
    if not api:
        return False
    return any(norm(k) == norm(rust_field) and v for k, v in api["required"].items())


def emit_message(out, key, fields, names, openapi, global_json, structs):
    module, struct = key
    name = names[key]
    api = openapi.get((module, norm(struct)))
    out.append(f"M {name}")
    for attr, rust_field, rust_type in fields:
        tag = re.search(r'tag = "(\d+)"', attr).group(1)
        card, scalar = parse_attr(attr)
        if scalar is None:
            target = map_value_type(rust_type) if card == "%" else inner_type(rust_type)
            ref = resolve(module, target)
            if ref not in names:
                sys.exit(f"{name}.{rust_field}: unknown message {ref}")
            scalar = names[ref]
            if is_inline(rust_field, api, ref, structs):
                out.append(f"{tag} - {card} {scalar} i")
                continue
        req = " r" if is_required(rust_field, api) else ""
        out.append(f"{tag} {json_name(name, rust_field, api, global_json)} {card} {scalar}{req}")


def main():
    pb_root = crate_dir("k8s-pb-0.9.0")
    api_root = crate_dir("k8s-openapi-0.29.0")
    openapi = load_openapi(api_root)
    structs = load_pb(pb_root)
    names = type_names(structs, openapi)
    global_json = {}
    for api in openapi.values():
        for key, value in api["json"].items():
            global_json.setdefault(norm(key), value)
    out = ["# generated by tools/gen_proto_schema.py from k8s-pb 0.9.0 + k8s-openapi 0.29.0 (v1_33); do not edit"]
    for key in sorted(structs, key=lambda k: names[k]):
        emit_message(out, key, structs[key], names, openapi, global_json, structs)
    kinds = set()
    for (module, _), api in openapi.items():
        if api["kind"]:
            kinds.add((api["kind"][0], api["kind"][1], api["definition"]))
            if api["list_kind"]:
                kinds.add((api["kind"][0], api["list_kind"], api["definition"] + "List"))
    known = set(names.values())
    for api_version, kind, definition in sorted(kinds):
        if definition in known:
            out.append(f"K {api_version} {kind} {definition}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
