//! The library behind `cargo ecs`: settings, build, image, registry, plan, apply and status.
//!
//! It never prints. Commands return data that the binary renders as text or JSON.

pub mod aws;
pub mod build;
pub mod config;
pub mod cost;
pub mod deploy;
pub mod destroy;
pub mod error;
pub mod fleet;
pub mod image;
pub mod init;
pub mod interrupt;
pub mod lock;
pub mod logs;
pub mod publish;
pub mod registry;
pub mod report;
pub mod rollback;
pub mod run;
pub mod shared;
pub mod stack;
pub mod status;
pub mod time;
pub mod watch;
pub mod workspace;

pub use error::{Error, Result};
