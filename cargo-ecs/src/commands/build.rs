//! `cargo ecs build`: cross-compile each selected service and build its container image.

use ecs_core::Result;
use ecs_core::build::compile_all;
use ecs_core::config::{Resolved, Settings};
use ecs_core::publish::image_of;
use ecs_core::report::Reporter;
use ecs_core::report::human_size;
use serde::Serialize;

use crate::output::Printer;

/// What `build` made for one package.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Built {
    /// The package.
    pub package: String,
    /// The compiled binary.
    pub artifact: ecs_core::build::Artifact,
    /// The image digest.
    pub digest: String,
    /// `os/architecture` of the image.
    pub platform: String,
    /// Compressed size of the layers.
    pub image_size: u64,
    /// Digest and compressed size of each layer, base first.
    pub layers: Vec<(String, u64)>,
}

/// Builds every selected package, in order.
///
/// # Errors
/// The first build that fails.
pub async fn run(resolved: &[Resolved], reporter: &dyn Reporter, printer: &Printer) -> Result<()> {
    let mut built = Vec::new();
    let settings: Vec<&Settings> = resolved.iter().map(|r| &r.settings).collect();
    // Several packages compile in one cargo invocation.
    let compiled = compile_all(&settings, reporter).await;
    for (r, artifact) in resolved.iter().zip(compiled) {
        let b = image_of(&r.settings, artifact?, reporter).await?;
        built.push(Built {
            package: r.settings.package.clone(),
            digest: b.image.digest().to_owned(),
            platform: format!("{}/{}", b.image.platform.os, b.image.platform.architecture),
            image_size: b.image.layers_size(),
            layers: b.image.layers.iter().map(|l| (l.digest.clone(), l.size())).collect(),
            artifact: b.artifact,
        });
    }
    printer.result(&built, |all| {
        all.iter()
            .map(|b| {
                format!(
                    "{}: image {} ({}, {} in {} layers; binary {})\n",
                    b.package,
                    b.digest,
                    b.platform,
                    human_size(b.image_size),
                    b.layers.len(),
                    human_size(b.artifact.size),
                )
            })
            .collect()
    });
    Ok(())
}
