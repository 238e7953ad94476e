//! `cargo ecs build`: cross-compile each selected service for its task's platform.

use ecs_core::Result;
use ecs_core::build::{Artifact, compile, human_bytes};
use ecs_core::config::Resolved;
use ecs_core::report::Reporter;
use serde::Serialize;

use crate::output::Printer;

/// What `build` made for one package.
#[derive(Debug, Serialize)]
pub struct Built {
    /// The package.
    pub package: String,
    /// The compiled binary.
    pub artifact: Artifact,
}

/// Compiles every selected package, in order.
///
/// # Errors
/// The first build that fails.
pub async fn run(resolved: &[Resolved], reporter: &dyn Reporter, printer: &Printer) -> Result<()> {
    let mut built = Vec::new();
    for r in resolved {
        let artifact = compile(&r.settings, reporter).await?;
        built.push(Built { package: r.settings.package.clone(), artifact });
    }
    printer.result(&built, |all| {
        all.iter()
            .map(|b| {
                format!(
                    "{}: {} ({}, {})\n",
                    b.package,
                    b.artifact.binary.display(),
                    b.artifact.target,
                    human_bytes(b.artifact.size)
                )
            })
            .collect()
    });
    Ok(())
}
