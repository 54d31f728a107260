//! The operations upstream documents for each resource (read, list, create, replace, patch, delete,
//! deletecollection, watch, subresources and connect), named the way upstream names them
//! (`readCoreV1NamespacedPod`, `patchAppsV1NamespacedDeploymentScale`).

use crate::registry::resources::{ResourceInfo, Subresource, SubresourceInfo};
use crate::schema::{Schema, SchemaLookup};

use super::params::{self, Param};

pub(super) const MEDIA: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];
const MEDIA_STREAM: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
];
const PATCH_TYPES: &[&str] = &[
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";

/// What an operation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Returns {
    /// A definition, with the status codes upstream lists.
    Type(String, &'static [u16]),
    /// Plain text (logs, connect).
    Text,
}

/// A request body: the definition and the media types accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Body {
    pub type_name: String,
    pub media: &'static [&'static str],
}

#[derive(Debug, Clone)]
pub(super) struct Operation {
    pub method: &'static str,
    pub id: String,
    pub description: String,
    pub action: &'static str,
    pub gvk: (String, String, String),
    pub params: &'static [Param],
    pub body: Option<Body>,
    pub returns: Returns,
    pub produces: &'static [&'static str],
}

#[derive(Debug, Clone)]
pub(super) struct PathItem {
    pub path: String,
    pub kind: String,
    pub params: Vec<Param>,
    pub operations: Vec<Operation>,
}

/// "Core", "Apps", "RbacAuthorization", "FlowcontrolApiserver": the group as operation ids spell it.
pub(super) fn group_ident(group: &str) -> String {
    if group.is_empty() {
        return "Core".to_string();
    }
    group.trim_end_matches(".k8s.io").split('.').map(capitalize).collect()
}

/// "core_v1", "rbacAuthorization_v1": the tag of a group version's operations.
pub(super) fn tag(group: &str, version: &str) -> String {
    let ident = group_ident(group);
    let mut chars = ident.chars();
    let first = chars.next().map(|c| c.to_ascii_lowercase()).unwrap_or_default();
    format!("{first}{}_{version}", chars.as_str())
}

pub(super) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// "/api/v1" or "/apis/apps/v1".
pub(super) fn gv_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// One resource in one version, with what the operations need to know about it.
struct Ctx<'a> {
    res: &'a ResourceInfo,
    version: &'a str,
    type_name: String,
    list_type: Option<String>,
    /// "CoreV1", "AppsV1".
    gv_ident: String,
}

impl Ctx<'_> {
    fn has(&self, verb: &str) -> bool {
        self.res.verbs.contains(&verb)
    }

    fn gvk(&self) -> (String, String, String) {
        (self.res.group.into(), self.version.into(), self.res.kind.into())
    }

    fn scope(&self) -> &'static str {
        if self.res.namespaced { "Namespaced" } else { "" }
    }

    fn id(&self, verb: &str, suffix: &str) -> String {
        format!("{verb}{}{}{}{suffix}", self.gv_ident, self.scope(), self.res.kind)
    }

    fn base(&self, watch: bool) -> String {
        let watch = if watch { "/watch" } else { "" };
        let ns = if self.res.namespaced {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        format!(
            "{}{watch}{ns}/{}",
            gv_prefix(self.res.group, self.version),
            self.res.resource
        )
    }

    fn path_params(&self, named: bool) -> Vec<Param> {
        let mut out = Vec::new();
        if named {
            out.push(Param::Name);
        }
        if self.res.namespaced {
            out.push(Param::Namespace);
        }
        out.push(Param::Pretty);
        out
    }

    fn item(&self, path: String, params: Vec<Param>, operations: Vec<Operation>) -> Option<PathItem> {
        (!operations.is_empty()).then(|| PathItem {
            path,
            kind: self.res.kind.to_string(),
            params,
            operations,
        })
    }
}

fn op(method: &'static str, id: String, description: String, action: &'static str, ctx: &Ctx) -> Operation {
    Operation {
        method,
        id,
        description,
        action,
        gvk: ctx.gvk(),
        params: &[],
        body: None,
        returns: Returns::Text,
        produces: MEDIA,
    }
}

fn returns(type_name: &str, codes: &'static [u16]) -> Returns {
    Returns::Type(type_name.to_string(), codes)
}

fn json_body(type_name: &str) -> Option<Body> {
    Some(Body {
        type_name: type_name.to_string(),
        media: &["*/*"],
    })
}

fn patch_body() -> Option<Body> {
    Some(Body {
        type_name: PATCH.to_string(),
        media: PATCH_TYPES,
    })
}

/// All path items of the resources served in `group`/`version` whose kinds the schema knows.
pub(super) fn resource_paths(schema: &Schema, resources: &[ResourceInfo], group: &str, version: &str) -> Vec<PathItem> {
    let gv_ident = format!("{}{}", group_ident(group), capitalize(version));
    resources
        .iter()
        .filter(|r| r.group == group && r.versions.contains(&version))
        .filter_map(|res| {
            let type_name = schema.kind_type(group, version, res.kind)?.to_string();
            let list_type = schema
                .kind_type(group, version, &format!("{}List", res.kind))
                .map(str::to_string);
            Some(Ctx {
                res,
                version,
                type_name,
                list_type,
                gv_ident: gv_ident.clone(),
            })
        })
        .flat_map(|ctx| paths_of(schema, &ctx))
        .collect()
}

fn paths_of(schema: &Schema, ctx: &Ctx) -> Vec<PathItem> {
    let mut out: Vec<PathItem> = [collection(ctx), named(ctx), all_namespaces(ctx)]
        .into_iter()
        .flatten()
        .collect();
    out.extend(watch_paths(ctx));
    out.extend(ctx.res.subresources.iter().flat_map(|s| subresource(schema, ctx, s)));
    out
}

fn collection(ctx: &Ctx) -> Option<PathItem> {
    let kind = ctx.res.kind;
    let mut ops = Vec::new();
    if let (true, Some(list)) = (ctx.has("list"), &ctx.list_type) {
        let mut o = op(
            "get",
            ctx.id("list", ""),
            format!("list or watch objects of kind {kind}"),
            "list",
            ctx,
        );
        o.params = params::LIST;
        o.returns = returns(list, &[200]);
        o.produces = MEDIA_STREAM;
        ops.push(o);
    }
    if ctx.has("create") {
        let mut o = op(
            "post",
            ctx.id("create", ""),
            format!("create {}", article(kind)),
            "post",
            ctx,
        );
        o.params = params::CREATE;
        o.body = json_body(&ctx.type_name);
        o.returns = returns(&ctx.type_name, &[200, 201, 202]);
        ops.push(o);
    }
    if ctx.has("deletecollection") {
        let id = format!("delete{}Collection{}{}", ctx.gv_ident, ctx.scope(), kind);
        let mut o = op(
            "delete",
            id,
            format!("delete collection of {kind}"),
            "deletecollection",
            ctx,
        );
        o.params = params::DELETE;
        o.body = json_body(DELETE_OPTIONS);
        o.returns = returns(STATUS, &[200]);
        ops.push(o);
    }
    ctx.item(ctx.base(false), ctx.path_params(false), ops)
}

fn named(ctx: &Ctx) -> Option<PathItem> {
    let kind = ctx.res.kind;
    let mut ops = Vec::new();
    if ctx.has("get") {
        let mut o = op(
            "get",
            ctx.id("read", ""),
            format!("read the specified {kind}"),
            "get",
            ctx,
        );
        o.returns = returns(&ctx.type_name, &[200]);
        ops.push(o);
    }
    if ctx.has("update") {
        let mut o = op(
            "put",
            ctx.id("replace", ""),
            format!("replace the specified {kind}"),
            "put",
            ctx,
        );
        o.params = params::CREATE;
        o.body = json_body(&ctx.type_name);
        o.returns = returns(&ctx.type_name, &[200, 201]);
        ops.push(o);
    }
    if ctx.has("patch") {
        let mut o = op(
            "patch",
            ctx.id("patch", ""),
            format!("partially update the specified {kind}"),
            "patch",
            ctx,
        );
        o.params = params::PATCH;
        o.body = patch_body();
        o.returns = returns(&ctx.type_name, &[200, 201]);
        ops.push(o);
    }
    if ctx.has("delete") {
        let mut o = op(
            "delete",
            ctx.id("delete", ""),
            format!("delete {}", article(kind)),
            "delete",
            ctx,
        );
        o.params = params::DELETE;
        o.body = json_body(DELETE_OPTIONS);
        o.returns = returns(STATUS, &[200, 202]);
        ops.push(o);
    }
    ctx.item(format!("{}/{{name}}", ctx.base(false)), ctx.path_params(true), ops)
}

fn all_namespaces(ctx: &Ctx) -> Option<PathItem> {
    let list = ctx
        .list_type
        .as_ref()
        .filter(|_| ctx.res.namespaced && ctx.has("list"))?;
    let kind = ctx.res.kind;
    let id = format!("list{}{kind}ForAllNamespaces", ctx.gv_ident);
    let mut o = op("get", id, format!("list or watch objects of kind {kind}"), "list", ctx);
    o.returns = returns(list, &[200]);
    o.produces = MEDIA_STREAM;
    let path = format!("{}/{}", gv_prefix(ctx.res.group, ctx.version), ctx.res.resource);
    let mut params = params::LIST.to_vec();
    params.push(Param::Pretty);
    ctx.item(path, params, vec![o])
}

const WATCH_ONE: &str = "watch changes to an object of kind {}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.";
const WATCH_LIST: &str =
    "watch individual changes to a list of {}. deprecated: use the 'watch' parameter with a list operation instead.";

fn watch_op(ctx: &Ctx, id: String, template: &str, action: &'static str) -> Operation {
    let mut o = op("get", id, template.replace("{}", ctx.res.kind), action, ctx);
    o.returns = returns(WATCH_EVENT, &[200]);
    o.produces = MEDIA_STREAM;
    o
}

fn watch_paths(ctx: &Ctx) -> Vec<PathItem> {
    if !ctx.has("watch") {
        return Vec::new();
    }
    let kind = ctx.res.kind;
    let with = |mut p: Vec<Param>| {
        p.extend_from_slice(params::LIST);
        p
    };
    let mut out = Vec::new();
    let list = watch_op(ctx, ctx.id("watch", "List"), WATCH_LIST, "watchlist");
    out.extend(ctx.item(ctx.base(true), with(ctx.path_params(false)), vec![list]));
    let one = watch_op(ctx, ctx.id("watch", ""), WATCH_ONE, "watch");
    out.extend(ctx.item(
        format!("{}/{{name}}", ctx.base(true)),
        with(ctx.path_params(true)),
        vec![one],
    ));
    if ctx.res.namespaced {
        let id = format!("watch{}{kind}ListForAllNamespaces", ctx.gv_ident);
        let path = format!("{}/watch/{}", gv_prefix(ctx.res.group, ctx.version), ctx.res.resource);
        let all = watch_op(ctx, id, WATCH_LIST, "watchlist");
        out.extend(ctx.item(path, with(vec![Param::Pretty]), vec![all]));
    }
    out
}

fn article(kind: &str) -> String {
    let vowel = kind.starts_with(['A', 'E', 'I', 'O', 'U']);
    format!("{} {kind}", if vowel { "an" } else { "a" })
}

/// The (group, version, kind) and definition of a subresource's body.
fn subresource_type(schema: &Schema, ctx: &Ctx, sub: &SubresourceInfo) -> Option<((String, String, String), String)> {
    match sub.response {
        Some((g, v, k)) => Some(((g.into(), v.into(), k.into()), schema.kind_type(g, v, k)?.to_string())),
        None => Some((ctx.gvk(), ctx.type_name.clone())),
    }
}

fn subresource(schema: &Schema, ctx: &Ctx, sub: &SubresourceInfo) -> Vec<PathItem> {
    if sub.kind == Subresource::Connect {
        return connect(ctx, sub);
    }
    let Some((gvk, type_name)) = subresource_type(schema, ctx, sub) else {
        return Vec::new();
    };
    let suffix = capitalize(sub.name);
    let what = format!("{} of the specified {}", sub.name, ctx.res.kind);
    let mut ops = Vec::new();
    let has = |v: &str| sub.verbs.contains(&v);
    let mut push = |method, verb: &str, description: String, action, params, body, codes| {
        let mut o = op(method, ctx.id(verb, &suffix), description, action, ctx);
        o.gvk = gvk.clone();
        o.params = params;
        o.body = body;
        o.returns = returns(&type_name, codes);
        ops.push(o);
    };
    if has("get") {
        push("get", "read", format!("read {what}"), "get", &[][..], None, &[200][..]);
    }
    if has("update") {
        push(
            "put",
            "replace",
            format!("replace {what}"),
            "put",
            params::CREATE,
            json_body(&type_name),
            &[200, 201],
        );
    }
    if has("patch") {
        push(
            "patch",
            "patch",
            format!("partially update {what}"),
            "patch",
            params::PATCH,
            patch_body(),
            &[200, 201],
        );
    }
    if has("create") {
        let description = format!("create {} of {}", sub.name, article(ctx.res.kind));
        push(
            "post",
            "create",
            description,
            "post",
            params::CREATE,
            json_body(&type_name),
            &[200, 201, 202],
        );
    }
    let path = format!("{}/{{name}}/{}", ctx.base(false), sub.name);
    ctx.item(path, ctx.path_params(true), ops).into_iter().collect()
}

/// Connect subresources (exec, attach, portforward, proxy) and log.
fn connect(ctx: &Ctx, sub: &SubresourceInfo) -> Vec<PathItem> {
    let kind = ctx.res.kind;
    let path = format!("{}/{{name}}/{}", ctx.base(false), sub.name);
    if sub.name == "log" {
        let mut o = op(
            "get",
            ctx.id("read", "Log"),
            format!("read log of the specified {kind}"),
            "get",
            ctx,
        );
        o.produces = &[
            "text/plain",
            "application/json",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
        ];
        return ctx.item(path, ctx.path_params(true), vec![o]).into_iter().collect();
    }
    let options = format!("{kind}{}Options", connect_ident(sub.name));
    let methods = connect_methods(sub.verbs);
    let build = |with_path: bool| {
        let suffix = format!("{}{}", connect_ident(sub.name), if with_path { "WithPath" } else { "" });
        let ops: Vec<Operation> = methods
            .iter()
            .map(|m| {
                let id = format!(
                    "connect{}{}{}{}{suffix}",
                    ctx.gv_ident,
                    capitalize(m),
                    ctx.scope(),
                    kind
                );
                let description = format!("connect {} requests to {} of {kind}", m.to_uppercase(), sub.name);
                let mut o = op(m, id, description, "connect", ctx);
                o.gvk = (ctx.res.group.into(), ctx.version.into(), options.clone());
                o.produces = &["*/*"];
                o
            })
            .collect();
        ops
    };
    let mut out: Vec<PathItem> = ctx
        .item(path.clone(), vec![Param::Name, Param::Namespace], build(false))
        .into_iter()
        .collect();
    if sub.name == "proxy" {
        let params = [Param::Name, Param::Namespace, Param::Path].to_vec();
        out.extend(ctx.item(format!("{path}/{{path}}"), params, build(true)));
    }
    for item in &mut out {
        item.params.retain(|p| *p != Param::Namespace || ctx.res.namespaced);
    }
    out
}

fn connect_ident(name: &str) -> &'static str {
    match name {
        "exec" => "Exec",
        "attach" => "Attach",
        "portforward" => "Portforward",
        _ => "Proxy",
    }
}

/// HTTP methods of a connect subresource, from its verbs (create = POST, get = GET, …).
fn connect_methods(verbs: &[&str]) -> Vec<&'static str> {
    let table = [
        ("delete", "delete"),
        ("get", "get"),
        ("get", "head"),
        ("get", "options"),
        ("patch", "patch"),
        ("create", "post"),
        ("update", "put"),
    ];
    let proxy = verbs.len() > 2;
    table
        .iter()
        .filter(|(verb, method)| verbs.contains(verb) && (proxy || !matches!(*method, "head" | "options")))
        .map(|(_, method)| *method)
        .collect()
}
