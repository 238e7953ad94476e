//! What exists in AWS for one service, as plain data: the input of the planner beside [`super::desired::Desired`].

use serde::Serialize;

use super::model::{
    ClusterState, Found, ListenerState, LoadBalancerState, LogGroupState, RecordState, RoleState, RuleState,
    SecurityGroupState, ServiceState, TargetGroupState, TaskDefinitionState,
};

/// Everything observe read. `None` means "does not exist".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Observed {
    /// The execution role, when cargo-ecs manages it by name.
    pub execution_role: Option<Found<RoleState>>,
    /// The task role, when cargo-ecs manages it by name.
    pub task_role: Option<Found<RoleState>>,
    /// The log group.
    pub log_group: Option<Found<LogGroupState>>,
    /// The cluster.
    pub cluster: Option<Found<ClusterState>>,
    /// The load balancer's security group.
    pub lb_security_group: Option<Found<SecurityGroupState>>,
    /// The tasks' security group.
    pub service_security_group: Option<Found<SecurityGroupState>>,
    /// The load balancer.
    pub load_balancer: Option<Found<LoadBalancerState>>,
    /// The target group.
    pub target_group: Option<Found<TargetGroupState>>,
    /// The load balancer's listeners.
    pub listeners: Vec<ListenerState>,
    /// The rules of those listeners (every service's), default rules excluded.
    pub rules: Vec<RuleState>,
    /// The family's latest ACTIVE revision.
    pub task_definition: Option<TaskDefinitionState>,
    /// The service.
    pub service: Option<Found<ServiceState>>,
    /// The DNS record.
    pub record: Option<RecordState>,
}
