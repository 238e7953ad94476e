//! Names of the stack's resources that no setting names directly, and the service's URL: one place, read by the
//! desired stack, observe, deploy, status, logs and rollback, so they can never disagree.

use crate::config::Settings;

/// The load balancer's security group: `LB-lb`.
#[must_use]
pub fn lb_security_group(settings: &Settings) -> Option<String> {
    settings.load_balancer.as_ref().map(|lb| format!("{}-lb", lb.name))
}

/// The tasks' security group: `SERVICE-tasks`.
#[must_use]
pub fn service_security_group(settings: &Settings) -> String {
    format!("{}-tasks", settings.service)
}

/// The awslogs stream prefix of the container: its streams are `ecs/CONTAINER/TASK_ID`.
pub const LOG_STREAM_PREFIX: &str = "ecs";

/// `https://NAME` with a DNS record and a certificate (`http` without one), else the load balancer's own DNS name.
#[must_use]
pub fn url(settings: &Settings, load_balancer_dns: Option<&str>) -> Option<String> {
    let lb = settings.load_balancer.as_ref()?;
    let scheme = if lb.certificate.is_some() { "https" } else { "http" };
    match &settings.dns {
        Some(dns) => Some(format!("{scheme}://{}", dns.name)),
        None => load_balancer_dns.map(|dns| format!("{scheme}://{dns}")),
    }
}

/// The log group: `/ecs/SERVICE`.
#[must_use]
pub fn log_group(settings: &Settings) -> String {
    format!("/ecs/{}", settings.service)
}
