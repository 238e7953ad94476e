//! After a deploy: follow the rollout until it completes, fails (or the circuit breaker rolls it back), or times
//! out, and say why when it did not complete.
//!
//! [`state`] is pure: it reads one [`Snapshot`] of the service, its tasks and its targets, and says what it means
//! ([`assess`]), which events are new ([`new_events`]) and what went wrong ([`diagnose`]). [`poll`] takes
//! snapshots from a [`SnapshotSource`] until the verdict is final, reporting progress through a
//! [`crate::report::Reporter`].

pub mod poll;
pub mod state;

#[cfg(test)]
mod tests;

pub use poll::{MAX_CONSECUTIVE_ERRORS, SnapshotFuture, SnapshotSource, WatchOptions, WatchOutcome, watch};
pub use state::{
    ContainerExit, Diagnosis, Progress, Snapshot, StoppedTask, TargetView, TaskView, UnhealthyTarget, Verdict, assess,
    diagnose, new_events,
};
