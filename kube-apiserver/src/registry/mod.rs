//! The registry: which resources exist, and the generic store that gives every one of them
//! upstream's object semantics (uid, generation, finalizers, graceful deletion, ...).

pub mod resources;
