//! ControllerRevisions: the template history of DaemonSets and StatefulSets (upstream's
//! controller/history and controller.ComputeHash). A revision stores a strategic merge patch
//! that restores the owner's pod template, `{"spec":{"template":{...,"$patch":"replace"}}}`,
//! is named `<owner>-<hash>`, and carries a `revision` number that grows with every change,
//! including a rollback to an older template (its revision is renumbered, not copied).

use crate::informer::Informer;
use crate::pods;
use api_types::labels::Selector;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, PostParams};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The label holding a revision's hash (upstream's ControllerRevisionHashLabel).
pub const HASH_LABEL: &str = "controller.kubernetes.io/hash";

/// The characters upstream's `rand.SafeEncodeString` maps to (no vowels, no look-alikes).
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A hash as upstream writes it: the decimal digits of the 32-bit value, each mapped into the
/// safe alphabet, so it never spells words and is a valid name and label value.
pub fn safe_encode(hash: u32) -> String {
    hash.to_string()
        .bytes()
        .map(|b| SAFE[b as usize % SAFE.len()] as char)
        .collect()
}

const FNV_OFFSET: u32 = 0x811c9dc5;
const FNV_PRIME: u32 = 0x01000193;

/// FNV-1 (multiply, then xor), Go's `fnv.New32`.
fn fnv1(hash: u32, bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(hash, |h, b| h.wrapping_mul(FNV_PRIME) ^ u32::from(*b))
}

/// FNV-1a (xor, then multiply), Go's `fnv.New32a`.
fn fnv1a(hash: u32, bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ u32::from(*b)).wrapping_mul(FNV_PRIME))
}

/// `value` with object keys sorted at every level and nulls dropped: the form Go's encoder
/// gives a decoded map, so equal content always has equal bytes.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                if !m[k].is_null() {
                    out.insert(k.clone(), canonical(&m[k]));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The patch a revision stores for `template` (upstream's getPatch). Go encodes the typed
/// template's zero creation time as `"creationTimestamp":null`, and clients (kubectl's
/// rollback) compare these bytes with their own encoding, so the null is kept here; hashes
/// and revision comparisons use the canonical form, which drops it.
pub fn template_patch(template: &PodTemplateSpec) -> Value {
    let mut t = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), json!("replace"));
    }
    let mut patch = canonical(&json!({"spec": {"template": t}}));
    if let Some(template) = patch.pointer_mut("/spec/template").and_then(Value::as_object_mut) {
        let meta = template.entry("metadata").or_insert_with(|| json!({}));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert("creationTimestamp".into(), Value::Null);
            meta.sort_keys();
        }
        template.sort_keys();
    }
    patch
}

/// The pod template a revision restores (upstream's ApplyRevision: the patch replaces the
/// whole template).
pub fn template_of(revision: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = revision.data.as_ref()?.0.pointer("/spec/template")?.clone();
    t.as_object_mut()?.remove("$patch");
    serde_json::from_value(t).ok()
}

/// The hash naming a revision (upstream's HashControllerRevision): FNV-1 over its data,
/// then the collision count in decimal when there is one.
pub fn hash_revision(data: &Value, collisions: Option<i32>) -> String {
    let bytes = serde_json::to_vec(&canonical(data)).unwrap_or_default();
    let mut h = fnv1(FNV_OFFSET, &bytes);
    if let Some(c) = collisions {
        h = fnv1(h, c.to_string().as_bytes());
    }
    safe_encode(h)
}

/// The hash of a pod template with a collision count (upstream's controller.ComputeHash, the
/// DaemonSet's `controller-revision-hash`): FNV-1a over the template, then the count as
/// eight little-endian bytes.
pub fn template_hash(template: &PodTemplateSpec, collisions: Option<i32>) -> String {
    let value = canonical(&serde_json::to_value(template).unwrap_or_default());
    let mut h = fnv1a(FNV_OFFSET, &serde_json::to_vec(&value).unwrap_or_default());
    if let Some(c) = collisions {
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&(c as u32).to_le_bytes());
        h = fnv1a(h, &bytes);
    }
    safe_encode(h)
}

/// `<owner>-<hash>`, the owner part cut so the name stays within 253 characters.
pub fn revision_name(owner: &str, hash: &str) -> String {
    let cut = owner.char_indices().nth(223).map_or(owner.len(), |(i, _)| i);
    format!("{}-{hash}", &owner[..cut])
}

/// A revision of `owner` holding `data` (upstream's NewControllerRevision): the template's
/// labels plus the hash label, named by the hash.
pub fn new_revision(
    owner: &ObjectMeta,
    reference: OwnerReference,
    template_labels: Option<&BTreeMap<String, String>>,
    data: Value,
    revision: i64,
    collisions: Option<i32>,
) -> ControllerRevision {
    let hash = hash_revision(&data, collisions);
    let mut labels = template_labels.cloned().unwrap_or_default();
    labels.insert(HASH_LABEL.into(), hash.clone());
    ControllerRevision {
        metadata: ObjectMeta {
            name: Some(revision_name(owner.name.as_deref().unwrap_or_default(), &hash)),
            namespace: owner.namespace.clone(),
            labels: Some(labels),
            owner_references: Some(vec![reference]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision,
    }
}

fn data_of(r: &ControllerRevision) -> Value {
    r.data.as_ref().map(|d| canonical(&d.0)).unwrap_or(Value::Null)
}

/// Same content (upstream's EqualRevision): hash labels, when both are numbers, must agree;
/// then the data must be equal.
pub fn equal_revision(a: &ControllerRevision, b: &ControllerRevision) -> bool {
    let hash = |r: &ControllerRevision| {
        r.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(HASH_LABEL))
            .and_then(|h| h.parse::<i64>().ok())
    };
    if let (Some(x), Some(y)) = (hash(a), hash(b))
        && x != y
    {
        return false;
    }
    data_of(a) == data_of(b)
}

/// Orders revisions oldest first: by revision number, then creation time, then name.
pub fn sort(revisions: &mut [Arc<ControllerRevision>]) {
    revisions.sort_by(|a, b| {
        let created = |r: &ControllerRevision| r.metadata.creation_timestamp.as_ref().map(|t| t.0);
        a.revision
            .cmp(&b.revision)
            .then_with(|| created(a).cmp(&created(b)))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

/// The number after the newest of sorted `revisions`.
pub fn next_revision(sorted: &[Arc<ControllerRevision>]) -> i64 {
    sorted.last().map_or(1, |r| r.revision + 1)
}

/// The revisions in the owner's namespace it controls, plus orphans its selector matches
/// (upstream's ListControllerRevisions).
pub fn owned_or_orphaned(
    informer: &Informer<ControllerRevision>,
    owner: &ObjectMeta,
    selector: &Selector,
) -> Vec<Arc<ControllerRevision>> {
    let ns = owner.namespace.as_deref().unwrap_or_default();
    let uid = owner.uid.as_deref().unwrap_or_default();
    informer
        .list_namespace(ns)
        .into_iter()
        .filter(|r| pods::matches(selector, r.metadata.labels.as_ref()))
        .filter(|r| pods::controller_of(&r.metadata).is_none_or(|c| c.uid == uid))
        .collect()
}

/// Creates `revision`; a name taken by other content raises `collisions` and tries the next
/// name (upstream's CreateControllerRevision). Taken by the same content, that one is it.
pub async fn create(
    api: &Api<ControllerRevision>,
    owner: &str,
    revision: &ControllerRevision,
    collisions: &mut i32,
) -> Result<ControllerRevision, kube::Error> {
    let data = revision.data.as_ref().map(|d| d.0.clone()).unwrap_or(Value::Null);
    let mut attempt = revision.clone();
    loop {
        attempt.metadata.name = Some(revision_name(owner, &hash_revision(&data, Some(*collisions))));
        match api.create(&PostParams::default(), &attempt).await {
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let name = attempt.metadata.name.clone().unwrap_or_default();
                let existing = api.get(&name).await?;
                if data_of(&existing) == data_of(&attempt) {
                    return Ok(existing);
                }
                *collisions += 1;
            }
            other => return other,
        }
    }
}

/// Renumbers a revision (a rollback to its template makes it the newest).
pub async fn renumber(
    api: &Api<ControllerRevision>,
    revision: &ControllerRevision,
    number: i64,
) -> Result<ControllerRevision, kube::Error> {
    let name = revision.metadata.name.clone().unwrap_or_default();
    let mut next = revision.clone();
    for _ in 0..5 {
        if next.revision == number {
            return Ok(next);
        }
        next.revision = number;
        match api.replace(&name, &PostParams::default(), &next).await {
            Err(kube::Error::Api(s)) if s.code == 409 => next = api.get(&name).await?,
            other => return other,
        }
    }
    next.revision = number;
    api.replace(&name, &PostParams::default(), &next).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(json!({"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": image}]}}))
        .unwrap()
    }

    #[test]
    fn fnv_matches_go() {
        // Go: fnv.New32() / New32a() over "a".
        assert_eq!(fnv1(FNV_OFFSET, b"a"), 0x050c5d7e);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xe40c292c);
    }

    #[test]
    fn safe_encoding_uses_upstream_alphabet() {
        // '1' is 49, 49 % 27 = 22 -> '5'; '0' is 48 -> '4'.
        assert_eq!(safe_encode(10), "54");
        assert!(safe_encode(u32::MAX).bytes().all(|b| SAFE.contains(&b)));
    }

    #[test]
    fn patch_restores_the_template_and_is_canonical() {
        let t = template("nginx:1");
        let patch = template_patch(&t);
        let text = serde_json::to_string(&patch).unwrap();
        assert!(
            text.starts_with(r#"{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"#),
            "{text}"
        );
        let r = ControllerRevision {
            data: Some(RawExtension(patch)),
            ..Default::default()
        };
        assert_eq!(template_of(&r), Some(t));
    }

    #[test]
    fn hashes_are_stable_and_change_with_content_and_collisions() {
        let a = template_patch(&template("nginx:1"));
        let b = template_patch(&template("nginx:2"));
        assert_eq!(hash_revision(&a, None), hash_revision(&a.clone(), None));
        assert_ne!(hash_revision(&a, None), hash_revision(&b, None));
        assert_ne!(hash_revision(&a, Some(0)), hash_revision(&a, Some(1)));
        let t = template("nginx:1");
        assert_ne!(template_hash(&t, None), template_hash(&t, Some(1)));
        assert_ne!(template_hash(&t, None), template_hash(&template("nginx:2"), None));
    }

    #[test]
    fn revisions_compare_by_content_and_sort_by_number() {
        let owner = ObjectMeta {
            name: Some("web".into()),
            ..Default::default()
        };
        let reference = pods::controller_ref("apps/v1", "StatefulSet", &owner);
        let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
        let rev = |image: &str, n: i64| {
            let data = template_patch(&template(image));
            Arc::new(new_revision(&owner, reference.clone(), Some(&labels), data, n, Some(0)))
        };
        let (one, two, again) = (rev("nginx:1", 2), rev("nginx:2", 1), rev("nginx:1", 3));
        assert!(one.metadata.name.as_deref().unwrap().starts_with("web-"));
        assert!(equal_revision(&one, &again));
        assert!(!equal_revision(&one, &two));
        let mut all = vec![again.clone(), one.clone(), two.clone()];
        sort(&mut all);
        assert_eq!(all.iter().map(|r| r.revision).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(next_revision(&all), 4);
        assert_eq!(revision_name(&"x".repeat(300), "h").len(), 225);
    }
}
