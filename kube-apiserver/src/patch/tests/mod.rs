//! Tests for the patch engines, against a small hand-built schema of core and apps types.

mod json;
mod schema;
mod smp;
mod ssa;
