//! Pods and pod templates (upstream's ValidatePodSpec and friends): containers, ports, env,
//! volumes and their mounts, resources, probes, scheduling fields and the update rules.

use super::{
    Errs, child, dns_label, dns_subdomain, field, int_of, label_selector, labels, list, msgs, non_negative, one_of,
    opt_one_of, port_num_or_name, str_of,
};
use crate::errors::FieldError;
use api_types::validation as v;
use serde_json::Value;
use std::collections::HashSet;

const MAX_INT32: i64 = i32::MAX as i64;

/// The volume sources, in upstream's order (the first one set wins, later ones are forbidden).
const VOLUME_SOURCES: &[&str] = &[
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "configMap",
    "scaleIO",
    "projected",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

const POD_UPDATE_FORBIDDEN: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

pub fn pod(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    pod_spec("spec", spec, errs);
    match old {
        None => {
            if !list(spec, "ephemeralContainers").is_empty() {
                errs.push(FieldError::forbidden(
                    "spec.ephemeralContainers",
                    "cannot be set on create",
                ));
            }
        }
        Some(old) => pod_update(spec, old.get("spec").unwrap_or(&Value::Null), errs),
    }
}

/// Only images, activeDeadlineSeconds, added tolerations, a negative grace period set to 1 and a
/// first nodeName (the binding) may change.
fn pod_update(new: &Value, old: &Value, errs: &mut Errs) {
    if let (Some(o), n) = (
        int_of(old, "activeDeadlineSeconds"),
        int_of(new, "activeDeadlineSeconds"),
    ) && n.is_none_or(|n| n > o)
    {
        errs.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            n.map_or(Value::Null, Value::from),
            "must be less than or equal to previous value",
        ));
    }
    let old_tols = list(old, "tolerations");
    if !old_tols.iter().all(|t| list(new, "tolerations").contains(t)) {
        errs.push(FieldError::forbidden(
            "spec.tolerations",
            "existing toleration can not be modified except its tolerationSeconds",
        ));
    }
    let strip = |s: &Value, other: &Value| {
        let mut s = s.clone();
        if let Some(m) = s.as_object_mut() {
            for k in ["activeDeadlineSeconds", "tolerations", "ephemeralContainers"] {
                m.remove(k);
            }
            if int_of(other, "terminationGracePeriodSeconds").is_some_and(|g| g < 0) {
                m.remove("terminationGracePeriodSeconds");
            }
            if str_of(other, "nodeName").is_empty() {
                m.remove("nodeName");
            }
            for key in ["containers", "initContainers"] {
                for c in m.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten() {
                    if let Some(c) = c.as_object_mut() {
                        c.remove("image");
                    }
                }
            }
        }
        s
    };
    if strip(new, old) != strip(old, old) {
        errs.push(FieldError::forbidden("spec", POD_UPDATE_FORBIDDEN));
    }
}

/// A PodTemplateSpec: its labels, annotations and spec.
pub fn pod_template(path: &str, template: Option<&Value>, errs: &mut Errs) {
    let Some(t) = template.filter(|t| !t.is_null()) else {
        errs.push(FieldError::required(path, ""));
        return;
    };
    labels(&format!("{path}.metadata.labels"), t.pointer("/metadata/labels"), errs);
    let spec = t.get("spec").unwrap_or(&Value::Null);
    pod_spec(&child(path, "spec"), spec, errs);
    if !list(spec, "ephemeralContainers").is_empty() {
        errs.push(FieldError::forbidden(
            &format!("{path}.spec.ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
}

pub fn pod_spec(path: &str, spec: &Value, errs: &mut Errs) {
    let p = |c: &str| child(path, c);
    let volumes = volumes(&p("volumes"), list(spec, "volumes"), errs);
    let host_network = spec.pointer("/securityContext/hostNetwork").and_then(Value::as_bool) == Some(true);
    let mut names = HashSet::new();
    let ctx = Ctx {
        volumes: &volumes,
        host_network,
    };
    for (i, c) in list(spec, "initContainers").iter().enumerate() {
        let cp = format!("{path}.initContainers[{i}]");
        container(&cp, c, &ctx, &mut names, errs);
        init_container_rules(&cp, c, errs);
    }
    let containers = list(spec, "containers");
    if containers.is_empty() {
        errs.push(FieldError::required(&p("containers"), ""));
    }
    for (i, c) in containers.iter().enumerate() {
        let cp = format!("{path}.containers[{i}]");
        container(&cp, c, &ctx, &mut names, errs);
        for probe in ["livenessProbe", "startupProbe"] {
            if let Some(t) = field(c, probe).and_then(|pr| int_of(pr, "successThreshold"))
                && t != 1
            {
                errs.push(FieldError::invalid(
                    &format!("{cp}.{probe}.successThreshold"),
                    t,
                    "must be 1",
                ));
            }
        }
        if field(c, "restartPolicy").is_some() {
            errs.push(FieldError::forbidden(
                &format!("{cp}.restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    for (i, c) in list(spec, "ephemeralContainers").iter().enumerate() {
        let cp = format!("{path}.ephemeralContainers[{i}]");
        container(&cp, c, &ctx, &mut names, errs);
    }
    match str_of(spec, "restartPolicy") {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(FieldError::required(&p("restartPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            &p("restartPolicy"),
            other,
            &["Always", "OnFailure", "Never"],
        )),
    }
    dns_policy(path, spec, errs);
    labels(&p("nodeSelector"), spec.get("nodeSelector"), errs);
    let sa = str_of(spec, "serviceAccountName");
    if !sa.is_empty() {
        dns_subdomain(&p("serviceAccountName"), sa, errs);
    }
    let node = str_of(spec, "nodeName");
    if !node.is_empty() {
        dns_subdomain(&p("nodeName"), node, errs);
    }
    for key in ["hostname", "subdomain"] {
        let s = str_of(spec, key);
        if !s.is_empty() {
            dns_label(&p(key), s, errs);
        }
    }
    let pc = str_of(spec, "priorityClassName");
    if !pc.is_empty() {
        dns_subdomain(&p("priorityClassName"), pc, errs);
    }
    if let Some(ads) = int_of(spec, "activeDeadlineSeconds")
        && !(1..=MAX_INT32).contains(&ads)
    {
        errs.push(FieldError::invalid(
            &p("activeDeadlineSeconds"),
            ads,
            &format!("must be between 1 and {MAX_INT32}, inclusive"),
        ));
    }
    for (i, s) in list(spec, "imagePullSecrets").iter().enumerate() {
        if str_of(s, "name").is_empty() {
            errs.push(FieldError::required(&format!("{path}.imagePullSecrets[{i}].name"), ""));
        }
    }
    tolerations(&p("tolerations"), list(spec, "tolerations"), errs);
    if let Some(a) = field(spec, "affinity") {
        affinity(&p("affinity"), a, errs);
    }
    if let Some(sc) = field(spec, "securityContext") {
        ids(&p("securityContext"), sc, &["runAsUser", "runAsGroup", "fsGroup"], errs);
        for (i, g) in list(sc, "supplementalGroups").iter().enumerate() {
            let g = g.as_i64().unwrap_or(-1);
            msgs(
                &format!("{path}.securityContext.supplementalGroups[{i}]"),
                g,
                v::is_in_range(g, 0, MAX_INT32),
                errs,
            );
        }
    }
}

struct Ctx<'a> {
    /// Names of the volumes that validated.
    volumes: &'a HashSet<String>,
    host_network: bool,
}

fn dns_policy(path: &str, spec: &Value, errs: &mut Errs) {
    let policy = str_of(spec, "dnsPolicy");
    one_of(
        &child(path, "dnsPolicy"),
        policy,
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        errs,
    );
    if policy == "None" && field(spec, "dnsConfig").is_none() {
        errs.push(FieldError::required(
            &child(path, "dnsConfig"),
            "must provide `dnsConfig` when `dnsPolicy` is None",
        ));
    }
}

/// UIDs and GIDs in a security context: 0..=2^31-1.
fn ids(path: &str, sc: &Value, keys: &[&str], errs: &mut Errs) {
    for key in keys {
        if let Some(id) = int_of(sc, key) {
            msgs(&child(path, key), id, v::is_in_range(id, 0, MAX_INT32), errs);
        }
    }
}

/// Validates the volumes; returns the names of those that are valid (mounts may refer only
/// to those).
fn volumes(path: &str, vols: &[Value], errs: &mut Errs) -> HashSet<String> {
    let mut names = HashSet::new();
    for (i, vol) in vols.iter().enumerate() {
        let vp = format!("{path}[{i}]");
        let mut el = Vec::new();
        volume_source(&vp, vol, &mut el);
        let name = str_of(vol, "name");
        if name.is_empty() {
            el.push(FieldError::required(&child(&vp, "name"), ""));
        } else {
            dns_label(&child(&vp, "name"), name, &mut el);
        }
        if names.contains(name) {
            el.push(FieldError::duplicate(&child(&vp, "name"), name));
        }
        if el.is_empty() {
            names.insert(name.to_string());
        }
        errs.extend(el);
    }
    names
}

fn volume_source(vp: &str, vol: &Value, errs: &mut Errs) {
    let mut n = 0;
    for src in VOLUME_SOURCES {
        let Some(s) = field(vol, src) else { continue };
        let sp = child(vp, src);
        if n > 0 {
            errs.push(FieldError::forbidden(&sp, "may not specify more than 1 volume type"));
            continue;
        }
        n += 1;
        let required = |key: &str, errs: &mut Errs| {
            if str_of(s, key).is_empty() {
                errs.push(FieldError::required(&child(&sp, key), ""));
            }
        };
        match *src {
            "hostPath" => required("path", errs),
            "secret" => required("secretName", errs),
            "configMap" => required("name", errs),
            "persistentVolumeClaim" => required("claimName", errs),
            "nfs" => {
                required("server", errs);
                required("path", errs);
                let path = str_of(s, "path");
                if !path.is_empty() && !path.starts_with('/') {
                    errs.push(FieldError::invalid(
                        &child(&sp, "path"),
                        path,
                        "must be an absolute path",
                    ));
                }
            }
            "csi" => required("driver", errs),
            _ => {}
        }
        if let Some(mode) = int_of(s, "defaultMode")
            && !(0..=0o777).contains(&mode)
        {
            errs.push(FieldError::invalid(
                &child(&sp, "defaultMode"),
                mode,
                "must be a number between 0 and 0777 (octal), both inclusive",
            ));
        }
    }
    if n == 0 {
        errs.push(FieldError::required(vp, "must specify a volume type"));
    }
}

/// What every container (regular, init, ephemeral) must satisfy.
fn container(cp: &str, c: &Value, ctx: &Ctx, names: &mut HashSet<String>, errs: &mut Errs) {
    let p = |k: &str| child(cp, k);
    let name = str_of(c, "name");
    if name.is_empty() {
        errs.push(FieldError::required(&p("name"), ""));
    } else {
        dns_label(&p("name"), name, errs);
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(&p("name"), name));
        }
    }
    let image = str_of(c, "image");
    if image.is_empty() {
        errs.push(FieldError::required(&p("image"), ""));
    } else if image.trim() != image {
        errs.push(FieldError::invalid(
            &p("image"),
            image,
            "must not have leading or trailing whitespace",
        ));
    }
    opt_one_of(
        cp,
        c,
        "terminationMessagePolicy",
        &["File", "FallbackToLogsOnError"],
        errs,
    );
    opt_one_of(cp, c, "imagePullPolicy", &["Always", "IfNotPresent", "Never"], errs);
    ports(&p("ports"), list(c, "ports"), ctx.host_network, errs);
    env(&p("env"), list(c, "env"), errs);
    env_from(&p("envFrom"), list(c, "envFrom"), errs);
    volume_mounts(&p("volumeMounts"), list(c, "volumeMounts"), ctx.volumes, errs);
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(pr) = field(c, probe) {
            self::probe(&p(probe), pr, errs);
        }
    }
    if let Some(t) = c
        .pointer("/readinessProbe/terminationGracePeriodSeconds")
        .filter(|t| !t.is_null())
    {
        errs.push(FieldError::invalid(
            &format!("{cp}.readinessProbe.terminationGracePeriodSeconds"),
            t.clone(),
            "must not be set for readinessProbes",
        ));
    }
    if let Some(lc) = field(c, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = field(lc, hook) {
                handler(
                    &format!("{cp}.lifecycle.{hook}"),
                    h,
                    &["exec", "httpGet", "tcpSocket", "sleep"],
                    errs,
                );
            }
        }
    }
    if let Some(r) = field(c, "resources") {
        resources(&p("resources"), r, errs);
    }
    if let Some(sc) = field(c, "securityContext") {
        ids(&p("securityContext"), sc, &["runAsUser", "runAsGroup"], errs);
        let privileged = sc.get("privileged").and_then(Value::as_bool) == Some(true);
        let no_escalation = sc.get("allowPrivilegeEscalation").and_then(Value::as_bool) == Some(false);
        if privileged && no_escalation {
            errs.push(FieldError::invalid(
                &p("securityContext"),
                sc.clone(),
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            ));
        }
    }
}

/// Init containers: restartPolicy only `Always` (sidecars); probes and lifecycle only on sidecars.
fn init_container_rules(cp: &str, c: &Value, errs: &mut Errs) {
    let sidecar = match field(c, "restartPolicy") {
        None => false,
        Some(Value::String(s)) if s == "Always" => true,
        Some(other) => {
            errs.push(FieldError::not_supported(
                &child(cp, "restartPolicy"),
                other.clone(),
                &["Always"],
            ));
            false
        }
    };
    if !sidecar {
        for f in ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] {
            if field(c, f).is_some() {
                errs.push(FieldError::forbidden(
                    &child(cp, f),
                    "may not be set for init containers without restartPolicy=Always",
                ));
            }
        }
    }
}

fn ports(path: &str, ports: &[Value], host_network: bool, errs: &mut Errs) {
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let pp = format!("{path}[{i}]");
        let name = str_of(port, "name");
        if !name.is_empty() {
            let m = v::is_valid_port_name(name);
            if !m.is_empty() {
                msgs(&child(&pp, "name"), name, m, errs);
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(&child(&pp, "name"), name));
            }
        }
        let cport = int_of(port, "containerPort").unwrap_or(0);
        if cport == 0 {
            errs.push(FieldError::required(&child(&pp, "containerPort"), ""));
        } else {
            msgs(&child(&pp, "containerPort"), cport, v::is_valid_port_num(cport), errs);
        }
        let hport = int_of(port, "hostPort").unwrap_or(0);
        if hport != 0 {
            msgs(&child(&pp, "hostPort"), hport, v::is_valid_port_num(hport), errs);
            if host_network && hport != cport {
                errs.push(FieldError::invalid(
                    &child(&pp, "hostPort"),
                    hport,
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
        one_of(
            &child(&pp, "protocol"),
            str_of(port, "protocol"),
            &["SCTP", "TCP", "UDP"],
            errs,
        );
    }
}

const FIELD_REF_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

fn env(path: &str, vars: &[Value], errs: &mut Errs) {
    for (i, ev) in vars.iter().enumerate() {
        let ep = format!("{path}[{i}]");
        let name = str_of(ev, "name");
        if name.is_empty() {
            errs.push(FieldError::required(&child(&ep, "name"), ""));
        } else {
            msgs(&child(&ep, "name"), name, v::is_relaxed_env_var_name(name), errs);
        }
        if let Some(from) = field(ev, "valueFrom") {
            value_from(&child(&ep, "valueFrom"), from, !str_of(ev, "value").is_empty(), errs);
        }
    }
}

fn value_from(vp: &str, from: &Value, has_value: bool, errs: &mut Errs) {
    let mut n = 0;
    if let Some(f) = field(from, "fieldRef") {
        n += 1;
        let fp = child(vp, "fieldRef");
        if str_of(f, "apiVersion").is_empty() {
            errs.push(FieldError::required(&child(&fp, "apiVersion"), ""));
        }
        let path = str_of(f, "fieldPath");
        let subscripted = ["metadata.labels['", "metadata.annotations['"]
            .iter()
            .any(|pre| path.starts_with(pre) && path.ends_with("']"));
        if path.is_empty() {
            errs.push(FieldError::required(&child(&fp, "fieldPath"), ""));
        } else if !subscripted && !FIELD_REF_PATHS.contains(&path) {
            let mut supported = FIELD_REF_PATHS.to_vec();
            supported.extend(["metadata.annotations", "metadata.labels"]);
            supported.sort_unstable();
            errs.push(FieldError::not_supported(&child(&fp, "fieldPath"), path, &supported));
        }
    }
    if let Some(r) = field(from, "resourceFieldRef") {
        n += 1;
        if str_of(r, "resource").is_empty() {
            errs.push(FieldError::required(&format!("{vp}.resourceFieldRef.resource"), ""));
        }
    }
    for key in ["configMapKeyRef", "secretKeyRef"] {
        if let Some(r) = field(from, key) {
            n += 1;
            key_selector(&child(vp, key), r, errs);
        }
    }
    let detail = match n {
        0 => Some("must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"),
        _ if has_value => Some("may not be specified when `value` is not empty"),
        1 => None,
        _ => Some("may not have more than one field specified at a time"),
    };
    if let Some(d) = detail {
        errs.push(FieldError::invalid(vp, "", d));
    }
}

/// A ConfigMap or Secret key reference: name and key required, key a config key.
fn key_selector(path: &str, r: &Value, errs: &mut Errs) {
    if str_of(r, "name").is_empty() {
        errs.push(FieldError::required(&child(path, "name"), ""));
    }
    let key = str_of(r, "key");
    if key.is_empty() {
        errs.push(FieldError::required(&child(path, "key"), ""));
    } else {
        msgs(&child(path, "key"), key, v::is_config_map_key(key), errs);
    }
}

fn env_from(path: &str, sources: &[Value], errs: &mut Errs) {
    for (i, src) in sources.iter().enumerate() {
        let sp = format!("{path}[{i}]");
        let prefix = str_of(src, "prefix");
        if !prefix.is_empty() {
            msgs(&child(&sp, "prefix"), prefix, v::is_relaxed_env_var_name(prefix), errs);
        }
        let refs: Vec<&str> = ["configMapRef", "secretRef"]
            .into_iter()
            .filter(|k| field(src, k).is_some())
            .collect();
        for k in &refs {
            if field(src, k).is_some_and(|r| str_of(r, "name").is_empty()) {
                errs.push(FieldError::required(&format!("{sp}.{k}.name"), ""));
            }
        }
        match refs.len() {
            0 => errs.push(FieldError::invalid(
                &sp,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            )),
            1 => {}
            _ => errs.push(FieldError::invalid(
                &sp,
                "",
                "may not have more than one field specified at a time",
            )),
        }
    }
}

fn volume_mounts(path: &str, mounts: &[Value], volumes: &HashSet<String>, errs: &mut Errs) {
    let mut points = HashSet::new();
    for (i, m) in mounts.iter().enumerate() {
        let mp = format!("{path}[{i}]");
        let name = str_of(m, "name");
        if name.is_empty() {
            errs.push(FieldError::required(&child(&mp, "name"), ""));
        }
        if !volumes.contains(name) {
            errs.push(FieldError::not_found(&child(&mp, "name"), name));
        }
        let mount_path = str_of(m, "mountPath");
        if mount_path.is_empty() {
            errs.push(FieldError::required(&child(&mp, "mountPath"), ""));
        }
        if !points.insert(mount_path) {
            errs.push(FieldError::invalid(
                &child(&mp, "mountPath"),
                mount_path,
                "must be unique",
            ));
        }
        let sub = str_of(m, "subPath");
        if !sub.is_empty() {
            local_descending_path(&child(&mp, "subPath"), sub, errs);
        }
    }
}

/// A relative path that does not climb out with `..`.
fn local_descending_path(path: &str, target: &str, errs: &mut Errs) {
    if target.starts_with('/') {
        errs.push(FieldError::invalid(path, target, "must be a relative path"));
    }
    if target.split(['/', '\\']).any(|part| part == "..") {
        errs.push(FieldError::invalid(path, target, "must not contain '..'"));
    }
}

fn probe(path: &str, pr: &Value, errs: &mut Errs) {
    handler(path, pr, &["exec", "httpGet", "tcpSocket", "grpc"], errs);
    for key in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        non_negative(path, pr, key, errs);
    }
    if let Some(t) = int_of(pr, "terminationGracePeriodSeconds")
        && t <= 0
    {
        errs.push(FieldError::invalid(
            &child(path, "terminationGracePeriodSeconds"),
            t,
            "must be greater than 0",
        ));
    }
}

/// Exactly one handler of `kinds` (probes: exec, httpGet, tcpSocket, grpc; hooks add sleep).
fn handler(path: &str, h: &Value, kinds: &[&str], errs: &mut Errs) {
    let mut n = 0;
    for kind in kinds {
        let Some(x) = field(h, kind) else { continue };
        let kp = child(path, kind);
        if n > 0 {
            errs.push(FieldError::forbidden(&kp, "may not specify more than 1 handler type"));
            continue;
        }
        n += 1;
        match *kind {
            "exec" if list(x, "command").is_empty() => errs.push(FieldError::required(&child(&kp, "command"), "")),
            "httpGet" => {
                if str_of(x, "path").is_empty() {
                    errs.push(FieldError::required(&child(&kp, "path"), ""));
                }
                port_num_or_name(&child(&kp, "port"), x.get("port").unwrap_or(&Value::Null), errs);
                opt_one_of(&kp, x, "scheme", &["HTTP", "HTTPS"], errs);
            }
            "tcpSocket" => port_num_or_name(&child(&kp, "port"), x.get("port").unwrap_or(&Value::Null), errs),
            "grpc" => {
                let port = int_of(x, "port").unwrap_or(0);
                msgs(&child(&kp, "port"), port, v::is_valid_port_num(port), errs);
            }
            _ => {}
        }
    }
    if n == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
}

const CONTAINER_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];
const OTHER_STANDARD_RESOURCES: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "requests.storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "services.nodeports",
    "services.loadbalancers",
];

fn is_container_resource(name: &str) -> bool {
    CONTAINER_RESOURCES.contains(&name) || name.starts_with("hugepages-")
}

/// Resources whose requests must equal their limits (everything but cpu, memory, storage).
fn overcommit_allowed(name: &str) -> bool {
    is_container_resource(name) && !name.starts_with("hugepages-")
        || name.starts_with("kubernetes.io/") && !name.starts_with("requests.")
}

/// Requests and limits: standard or qualified names, non-negative quantities, requests within limits.
pub fn resources(path: &str, r: &Value, errs: &mut Errs) {
    let lim_path = child(path, "limits");
    let limits = r.get("limits").and_then(Value::as_object);
    for (name, q) in limits.into_iter().flatten() {
        let fp = format!("{lim_path}[{name}]");
        resource_name(&fp, name, errs);
        quantity(&fp, name, q, errs);
    }
    for (name, q) in r.get("requests").and_then(Value::as_object).into_iter().flatten() {
        let fp = format!("{path}.requests[{name}]");
        resource_name(&fp, name, errs);
        let Some(req) = quantity(&fp, name, q, errs) else {
            continue;
        };
        let text = q.as_str().map_or_else(|| q.to_string(), str::to_string);
        match limits.and_then(|l| l.get(name)) {
            Some(lq) => {
                let ltext = lq.as_str().map_or_else(|| lq.to_string(), str::to_string);
                let Some(lim) = quantity_value(lq) else { continue };
                if req != lim && !overcommit_allowed(name) {
                    let detail = format!("must be equal to {name} limit of {ltext}");
                    errs.push(FieldError::invalid(&fp, text.as_str(), &detail));
                } else if req > lim {
                    let detail = format!("must be less than or equal to {name} limit of {ltext}");
                    errs.push(FieldError::invalid(&fp, text.as_str(), &detail));
                }
            }
            None if !overcommit_allowed(name) => {
                errs.push(FieldError::required(
                    &lim_path,
                    "Limit must be set for non overcommitable resources",
                ));
            }
            None => {}
        }
    }
}

fn resource_name(path: &str, name: &str, errs: &mut Errs) {
    msgs(path, name, v::is_qualified_name(name), errs);
    if !name.contains('/') {
        if !is_container_resource(name) && !OTHER_STANDARD_RESOURCES.contains(&name) {
            errs.push(FieldError::invalid(
                path,
                name,
                "must be a standard resource type or fully qualified",
            ));
        }
        if !is_container_resource(name) {
            errs.push(FieldError::invalid(
                path,
                name,
                "must be a standard resource for containers",
            ));
        }
    }
}

fn quantity_value(q: &Value) -> Option<f64> {
    match q {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => v::parse_quantity(s),
        _ => None,
    }
}

/// A quantity: well-formed, non-negative, whole for integer resources. Returns its value.
pub fn quantity(path: &str, name: &str, q: &Value, errs: &mut Errs) -> Option<f64> {
    let text = q.as_str().map_or_else(|| q.to_string(), str::to_string);
    let Some(val) = quantity_value(q) else {
        errs.push(FieldError::invalid(path, text.as_str(), v::QUANTITY_FORMAT_ERROR));
        return None;
    };
    if val < 0.0 {
        errs.push(FieldError::invalid(
            path,
            text.as_str(),
            "must be greater than or equal to 0",
        ));
    }
    let integer = name.starts_with("requests.") && !name.starts_with("requests.cpu")
        || !name.contains('.') && !is_container_resource(name) && name.contains('/');
    if integer && val.fract() != 0.0 {
        errs.push(FieldError::invalid(path, text.as_str(), "must be an integer"));
    }
    Some(val)
}

pub fn tolerations(path: &str, tols: &[Value], errs: &mut Errs) {
    for (i, t) in tols.iter().enumerate() {
        let tp = format!("{path}[{i}]");
        let key = str_of(t, "key");
        let op = str_of(t, "operator");
        let effect = str_of(t, "effect");
        if !key.is_empty() {
            msgs(&child(&tp, "key"), key, v::is_qualified_name(key), errs);
        }
        if key.is_empty() && op != "Exists" {
            errs.push(FieldError::invalid(
                &child(&tp, "operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if field(t, "tolerationSeconds").is_some() && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                &child(&tp, "effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        let value = str_of(t, "value");
        match op {
            "Equal" | "" => {
                let m = v::is_valid_label_value(value);
                if !m.is_empty() {
                    errs.push(FieldError::invalid(&child(&tp, "operator"), value, &m.join(";")));
                }
            }
            "Exists" if !value.is_empty() => errs.push(FieldError::invalid(
                &child(&tp, "operator"),
                t.clone(),
                "value must be empty when `operator` is 'Exists'",
            )),
            "Exists" => {}
            _ => errs.push(FieldError::not_supported(
                &child(&tp, "operator"),
                op,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() {
            taint_effect(&child(&tp, "effect"), effect, errs);
        }
    }
}

pub fn taint_effect(path: &str, effect: &str, errs: &mut Errs) {
    one_of(path, effect, &["NoSchedule", "PreferNoSchedule", "NoExecute"], errs);
}

fn affinity(path: &str, a: &Value, errs: &mut Errs) {
    if let Some(na) = field(a, "nodeAffinity") {
        let np = child(path, "nodeAffinity");
        if let Some(req) = field(na, "requiredDuringSchedulingIgnoredDuringExecution") {
            let rp = child(&np, "requiredDuringSchedulingIgnoredDuringExecution");
            let terms = list(req, "nodeSelectorTerms");
            if terms.is_empty() {
                errs.push(FieldError::required(
                    &child(&rp, "nodeSelectorTerms"),
                    "must have at least one node selector term",
                ));
            }
            for (i, term) in terms.iter().enumerate() {
                node_selector_term(&format!("{rp}.nodeSelectorTerms[{i}]"), term, errs);
            }
        }
        for (i, w) in list(na, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let wp = format!("{np}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            weight(&wp, w, errs);
            node_selector_term(
                &child(&wp, "preference"),
                w.get("preference").unwrap_or(&Value::Null),
                errs,
            );
        }
    }
    for kind in ["podAffinity", "podAntiAffinity"] {
        let Some(pa) = field(a, kind) else { continue };
        let kp = child(path, kind);
        for (i, term) in list(pa, "requiredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            pod_affinity_term(
                &format!("{kp}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"),
                term,
                errs,
            );
        }
        for (i, w) in list(pa, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let wp = format!("{kp}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            weight(&wp, w, errs);
            pod_affinity_term(
                &child(&wp, "podAffinityTerm"),
                w.get("podAffinityTerm").unwrap_or(&Value::Null),
                errs,
            );
        }
    }
}

fn weight(path: &str, w: &Value, errs: &mut Errs) {
    let n = int_of(w, "weight").unwrap_or(0);
    if !(1..=100).contains(&n) {
        errs.push(FieldError::invalid(
            &child(path, "weight"),
            n,
            "must be in the range 1-100",
        ));
    }
}

fn node_selector_term(path: &str, term: &Value, errs: &mut Errs) {
    for (i, rq) in list(term, "matchExpressions").iter().enumerate() {
        let rp = format!("{path}.matchExpressions[{i}]");
        let values = list(rq, "values");
        let op = str_of(rq, "operator");
        match op {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                &child(&rp, "values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                &child(&rp, "values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "Gt" | "Lt" if values.len() != 1 => errs.push(FieldError::required(
                &child(&rp, "values"),
                "must be specified single value when `operator` is 'Lt' or 'Gt'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" => {}
            _ => errs.push(FieldError::invalid(
                &child(&rp, "operator"),
                op,
                "not a valid selector operator",
            )),
        }
        let key = str_of(rq, "key");
        msgs(&child(&rp, "key"), key, v::is_qualified_name(key), errs);
    }
}

fn pod_affinity_term(path: &str, term: &Value, errs: &mut Errs) {
    if let Some(sel) = field(term, "labelSelector") {
        label_selector(&child(path, "labelSelector"), sel, errs);
    }
    if let Some(sel) = field(term, "namespaceSelector") {
        label_selector(&child(path, "namespaceSelector"), sel, errs);
    }
    for (i, ns) in list(term, "namespaces").iter().enumerate() {
        let ns = ns.as_str().unwrap_or_default();
        dns_label(&format!("{path}.namespaces[{i}]"), ns, errs);
    }
    let key = str_of(term, "topologyKey");
    if key.is_empty() {
        errs.push(FieldError::required(&child(path, "topologyKey"), "can not be empty"));
    } else {
        msgs(&child(path, "topologyKey"), key, v::is_qualified_name(key), errs);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::registry::strategy::defaults;
    use serde_json::{Value, json};

    /// A pod as defaulting leaves it.
    fn pod(spec: Value) -> Value {
        let mut spec = spec;
        defaults::pod_spec(&mut spec);
        json!({"metadata": {"name": "p", "namespace": "default"}, "spec": spec})
    }

    fn c(extra: Value) -> Value {
        let mut base = json!({"name": "c", "image": "busybox"});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        base
    }

    #[test]
    fn containers() {
        check(
            "",
            "v1",
            "pods",
            &[
                ("valid", pod(json!({"containers": [c(json!({}))]})), &[]),
                (
                    "no containers",
                    pod(json!({"containers": []})),
                    &["spec.containers: Required value"],
                ),
                (
                    "no image, bad name",
                    pod(json!({"containers": [{"name": "Bad"}]})),
                    &[
                        "spec.containers[0].name: Invalid value: \"Bad\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                        "spec.containers[0].image: Required value",
                    ],
                ),
                (
                    "duplicate across init",
                    pod(json!({"initContainers": [c(json!({}))], "containers": [c(json!({}))]})),
                    &["spec.containers[0].name: Duplicate value: \"c\""],
                ),
                (
                    "image whitespace",
                    pod(json!({"containers": [c(json!({"image": " x"}))]})),
                    &["spec.containers[0].image: Invalid value: \" x\": must not have leading or trailing whitespace"],
                ),
                (
                    "ephemeral on create",
                    pod(json!({"containers": [c(json!({}))], "ephemeralContainers": [{"name": "e", "image": "x"}]})),
                    &["spec.ephemeralContainers: Forbidden: cannot be set on create"],
                ),
            ],
        );
    }

    #[test]
    fn ports() {
        check(
            "",
            "v1",
            "pods",
            &[
                (
                    "valid",
                    pod(
                        json!({"containers": [c(json!({"ports": [{"name": "http", "containerPort": 80}, {"containerPort": 53, "protocol": "UDP", "hostPort": 53}]}))]}),
                    ),
                    &[],
                ),
                (
                    "range, name, protocol",
                    pod(
                        json!({"containers": [c(json!({"ports": [{"name": "a_b", "containerPort": 70000, "hostPort": -1, "protocol": "ICMP"}]}))]}),
                    ),
                    &[
                        "spec.containers[0].ports[0].name: Invalid value: \"a_b\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                        "spec.containers[0].ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive",
                        "spec.containers[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                    ],
                ),
                (
                    "missing and duplicate",
                    pod(
                        json!({"containers": [c(json!({"ports": [{"name": "web", "containerPort": 1}, {"name": "web"}]}))]}),
                    ),
                    &[
                        "spec.containers[0].ports[1].name: Duplicate value: \"web\"",
                        "spec.containers[0].ports[1].containerPort: Required value",
                    ],
                ),
            ],
        );
    }

    #[test]
    fn env_and_mounts() {
        check(
            "",
            "v1",
            "pods",
            &[
                (
                    "valid",
                    pod(
                        json!({"volumes": [{"name": "data", "emptyDir": {}}], "containers": [c(json!({
                        "env": [{"name": "A", "value": "1"}, {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}))]}),
                    ),
                    &[],
                ),
                (
                    "env rules",
                    pod(json!({"containers": [c(json!({"env": [
                        {"name": ""}, {"name": "A=B"}, {"name": "X", "valueFrom": {}},
                        {"name": "Y", "value": "v", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                        {"name": "Z", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}, "configMapKeyRef": {"name": "c", "key": "k"}}}]}))]})),
                    &[
                        "spec.containers[0].env[0].name: Required value",
                        "spec.containers[0].env[1].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
                        "spec.containers[0].env[2].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                        "spec.containers[0].env[3].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
                        "spec.containers[0].env[4].valueFrom: Invalid value: \"\": may not have more than one field specified at a time",
                    ],
                ),
                (
                    "mounts",
                    pod(
                        json!({"volumes": [{"name": "v", "emptyDir": {}}], "containers": [c(json!({"volumeMounts": [
                        {"name": "nope", "mountPath": "/a"}, {"name": "v", "mountPath": "/a", "subPath": "../x"}]}))]}),
                    ),
                    &[
                        "spec.containers[0].volumeMounts[0].name: Not found: \"nope\"",
                        "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/a\": must be unique",
                        "spec.containers[0].volumeMounts[1].subPath: Invalid value: \"../x\": must not contain '..'",
                    ],
                ),
                (
                    "volumes",
                    pod(
                        json!({"volumes": [{"name": "a"}, {"name": "b", "emptyDir": {}, "hostPath": {"path": "/x"}}, {"name": "c", "secret": {}}], "containers": [c(json!({}))]}),
                    ),
                    &[
                        "spec.volumes[0]: Required value: must specify a volume type",
                        "spec.volumes[1].hostPath: Forbidden: may not specify more than 1 volume type",
                        "spec.volumes[2].secret.secretName: Required value",
                    ],
                ),
            ],
        );
    }

    #[test]
    fn resources_and_probes() {
        check(
            "",
            "v1",
            "pods",
            &[
                (
                    "valid",
                    pod(
                        json!({"containers": [c(json!({"resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
                        "livenessProbe": {"httpGet": {"port": 8080}}, "readinessProbe": {"tcpSocket": {"port": "http"}}}))]}),
                    ),
                    &[],
                ),
                (
                    "requests above limits",
                    pod(
                        json!({"containers": [c(json!({"resources": {"requests": {"cpu": "2", "memory": "-1"}, "limits": {"cpu": "1"}}}))]}),
                    ),
                    &[
                        "spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                        "spec.containers[0].resources.requests[memory]: Invalid value: \"-1\": must be greater than or equal to 0",
                    ],
                ),
                (
                    "unknown resource",
                    pod(json!({"containers": [c(json!({"resources": {"limits": {"gpu": "1"}}}))]})),
                    &[
                        "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified",
                        "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
                    ],
                ),
                (
                    "probe handlers",
                    pod(
                        json!({"containers": [c(json!({"livenessProbe": {"successThreshold": 2}, "readinessProbe": {"exec": {"command": ["x"]}, "tcpSocket": {"port": 0}}}))]}),
                    ),
                    &[
                        "spec.containers[0].livenessProbe: Required value: must specify a handler type",
                        "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
                        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
                    ],
                ),
            ],
        );
    }

    #[test]
    fn scheduling_fields() {
        let good = pod(json!({"containers": [c(json!({}))], "nodeSelector": {"disk": "ssd"},
            "tolerations": [{"operator": "Exists"}, {"key": "k", "value": "v", "effect": "NoExecute", "tolerationSeconds": 5}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"]}]}]}}}}));
        let bad = with(
            pod(
                json!({"containers": [c(json!({}))], "restartPolicy": "Sometimes", "dnsPolicy": "Other",
            "serviceAccountName": "Bad_SA", "hostname": "a.b",
            "tolerations": [{"operator": "Equal", "value": "x"}, {"key": "k", "operator": "Exists", "value": "v"}, {"key": "k", "operator": "Gt", "effect": "Never"}, {"key": "k", "tolerationSeconds": 1, "effect": "NoSchedule"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}}),
            ),
            "/spec/activeDeadlineSeconds",
            json!(0),
        );
        let errs = errors("", "v1", "pods", &bad, None);
        assert!(errors("", "v1", "pods", &good, None).is_empty());
        let want = [
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            "spec.dnsPolicy: Unsupported value: \"Other\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
            "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
            "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            "spec.tolerations[2].operator: Unsupported value: \"Gt\": supported values: \"Equal\", \"Exists\"",
            "spec.tolerations[2].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            "spec.tolerations[3].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
            "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term",
        ];
        for w in want {
            assert!(errs.iter().any(|e| e == w), "missing {w} in {errs:#?}");
        }
        assert!(
            errs.iter()
                .any(|e| e.starts_with("spec.serviceAccountName: Invalid value: \"Bad_SA\""))
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("spec.hostname: Invalid value: \"a.b\""))
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("spec.tolerations[1].operator: Invalid value: {")
                    && e.ends_with("value must be empty when `operator` is 'Exists'"))
        );
    }

    #[test]
    fn updates() {
        let old = with(pod(json!({"containers": [c(json!({}))]})), "/spec/nodeName", json!(""));
        check_update(
            "",
            "v1",
            "pods",
            &[
                (
                    "image change",
                    old.clone(),
                    with(old.clone(), "/spec/containers/0/image", json!("nginx")),
                    &[],
                ),
                (
                    "binding",
                    old.clone(),
                    with(old.clone(), "/spec/nodeName", json!("node-1")),
                    &[],
                ),
                (
                    "other field",
                    old.clone(),
                    with(old.clone(), "/spec/restartPolicy", json!("Never")),
                    &[&format!("spec: Forbidden: {}", super::POD_UPDATE_FORBIDDEN)],
                ),
                (
                    "deadline raised",
                    with(old.clone(), "/spec/activeDeadlineSeconds", json!(10)),
                    with(old.clone(), "/spec/activeDeadlineSeconds", json!(20)),
                    &["spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value"],
                ),
            ],
        );
    }

    #[test]
    fn template_requires_spec() {
        let t = json!({"metadata": {"name": "t", "namespace": "d"}});
        assert_eq!(errors("", "v1", "podtemplates", &t, None), ["template: Required value"]);
    }
}
