//! Names of the stack's resources that no setting names directly: one place, read by both the desired stack and
//! observe, so the two can never look for different names.

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

/// The log group: `/ecs/SERVICE`.
#[must_use]
pub fn log_group(settings: &Settings) -> String {
    format!("/ecs/{}", settings.service)
}
