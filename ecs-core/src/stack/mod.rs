//! One service's stack on AWS: what the settings ask for, what exists, the plan between them, and applying it.
//!
//! Observe (read-only, concurrent) → plan (pure: `plan(desired, observed)`) → apply (dependency order) → watch.
//! AWS is the only state: every resource cargo-ecs creates is tagged, and nothing else is changed unless the
//! user named it in the settings.

pub mod apply;
pub mod desired;
pub mod model;
pub mod names;
pub mod observe;
pub mod observed;
pub mod plan;
pub mod rollout;

#[cfg(test)]
mod shared_tests;
#[cfg(test)]
mod tests;

pub use desired::{Desired, Lookups, desired};
pub use observed::Observed;
pub use plan::{Action, Change, Kind, Plan, PlanError, Step, plan};
