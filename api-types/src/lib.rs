//! The vocabulary every component shares: the Kubernetes v1.33 types (re-exported from
//! k8s-openapi) and what they lack: label and field selectors, name validation, logging setup.

pub use k8s_openapi;

pub mod cron;
pub mod duration;
pub mod fields;
pub mod labels;
pub mod leader;
pub mod logging;
pub mod quantity;
pub mod sa_key;
pub mod serving;
pub mod validation;
