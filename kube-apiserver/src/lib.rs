//! kube-apiserver: the only process that touches storage. It serves the Kubernetes v1.33
//! REST API over HTTPS, with watch, discovery, OpenAPI and server-side printing.

pub mod cacher;
pub mod errors;
pub mod registry;
pub mod storage;
