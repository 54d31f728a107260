//! RBAC escalation prevention on writes of roles and bindings (upstream's policy-based
//! storages): nobody grants permissions they do not hold, unless they may `escalate` (roles)
//! or `bind` (bindings), or are in system:masters. Only enforced when RBAC authorizes.

use crate::auth::User;
use crate::auth::authz::{self, CachedPolicy, Mode};
use crate::auth::rbac::{self, RBAC_GROUP, RoleWrite};
use crate::errors::{ApiError, ApiResult};
use crate::registry::meta;
use crate::registry::resources::ResourceInfo;
use crate::state::Api;
use serde_json::{Value, json};

/// Checks a Role, ClusterRole, RoleBinding or ClusterRoleBinding about to be written.
pub fn check(
    api: &Api,
    user: &User,
    info: &ResourceInfo,
    url_name: &str,
    new: &Value,
    old: Option<&Value>,
) -> ApiResult<()> {
    if info.group != RBAC_GROUP || !api.authorization_modes.contains(&Mode::Rbac) {
        return Ok(());
    }
    let policy = CachedPolicy::new(api);
    let allowed_by_chain = |a: &rbac::Attributes| authz::authorize(api, a).0;
    let namespace = meta::namespace(new);
    let result = match info.resource {
        "roles" | "clusterroles" => {
            let w = RoleWrite {
                user,
                namespace,
                url_name,
                role: new,
                old_role: old,
            };
            rbac::may_write_role(&policy, &w, &allowed_by_chain)
        }
        "rolebindings" | "clusterrolebindings" => {
            let role_ref = new.get("roleRef").cloned().unwrap_or(Value::Null);
            rbac::may_bind(&policy, user, namespace, &role_ref, &allowed_by_chain)
        }
        _ => Ok(()),
    };
    result.map_err(|reason| {
        let name = meta::name(new);
        if reason.ends_with("not found") {
            return ApiError::new(404, "NotFound", reason);
        }
        ApiError::forbidden(rbac::forbidden_object_message(RBAC_GROUP, info.resource, name, &reason))
            .with_details(json!({"name": name, "group": RBAC_GROUP, "kind": info.resource}))
    })
}
