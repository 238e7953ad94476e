//! `cargo ecs push`: build each selected service's image and push it to ECR (only what the registry lacks).

use ecs_core::Result;
use ecs_core::aws::Clients;
use ecs_core::config::Resolved;
use ecs_core::publish::{PublishOptions, Published, publish};
use ecs_core::report::Reporter;
use ecs_core::report::human_size;

use super::aws_options;
use crate::cli::GlobalArgs;
use crate::output::Printer;

/// Builds and pushes every selected package, in order.
///
/// # Errors
/// The first failure.
pub async fn run(global: &GlobalArgs, resolved: &[Resolved], reporter: &dyn Reporter, printer: &Printer) -> Result<()> {
    let options = PublishOptions { registry_endpoint: std::env::var("CARGO_ECS_REGISTRY_ENDPOINT").ok() };
    let mut published: Vec<Published> = Vec::new();
    for r in resolved {
        let clients = Clients::from_options(&aws_options(global, &r.settings)).await;
        published.push(publish(&r.settings, &clients, &options, reporter).await?);
    }
    printer.result(&published, |all| all.iter().map(render).collect());
    Ok(())
}

fn render(p: &Published) -> String {
    let push = &p.push;
    format!(
        "{}: pushed {}\n  tags {}; {} blob(s) uploaded ({}), {} already there; image {} for a {} binary\n",
        p.package,
        p.image,
        if push.tags.is_empty() { "none".to_owned() } else { push.tags.join(", ") },
        push.blobs_uploaded,
        human_size(push.bytes_uploaded),
        push.blobs_skipped,
        human_size(p.image_size),
        human_size(p.binary_size),
    )
}
