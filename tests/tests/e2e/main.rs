//! End-to-end tests: one binary, one module per area.

mod bad_input;
mod controller_manager;
mod durability;
mod kube_client;
mod kubectl;
mod list_semantics;
mod node_simulator;
mod object_semantics;
mod scheduler;
mod security;
