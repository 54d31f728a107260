//! kube-apiserver: the only process that touches storage. It serves the Kubernetes v1.33
//! REST API over HTTPS, with watch, discovery, OpenAPI and server-side printing.

pub mod admission;
pub mod aggregator;
pub mod auth;
pub mod bootstrap;
pub mod cacher;
pub mod certs;
pub mod endpoints;
pub mod errors;
pub mod openapi;
pub mod options;
pub mod patch;
pub mod printers;
pub mod protobuf;
pub mod registry;
pub mod schema;
pub mod server;
pub mod state;
pub mod storage;
