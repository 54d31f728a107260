//! The registry: which resources exist, and the generic store that gives every one of them
//! upstream's object semantics (uid, generation, finalizers, graceful deletion, ...).

pub mod convert;
pub mod fields;
pub mod meta;
pub mod resources;
pub mod services;
pub mod store;
pub mod strategy;
