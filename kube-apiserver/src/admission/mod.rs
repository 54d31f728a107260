//! Admission: the mutating and validating plugins a write passes before it is stored.

pub mod pod_security;
pub mod rbac;
