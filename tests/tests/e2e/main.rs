//! End-to-end tests: one binary, one module per area.

mod aggregation;
mod autoscaling;
mod bad_input;
mod bootstrap;
mod controller_manager;
mod durability;
mod jobs;
mod kube_client;
mod kubectl;
mod kubectl_apply;
mod kubectl_parity;
mod kubectl_parity_describe;
mod kubectl_parity_verbs;
mod list_semantics;
mod node_simulator;
mod nodes;
mod object_semantics;
mod pod_streams;
mod scheduler;
mod security;
mod services;
mod sets;
mod workloads;
