"""Every AWS message text the shims produce, in one place.

Each group names the AWS documentation page it follows. Where a page only
describes a message, the exact wording was taken from the page's examples and
from service events recorded from real AWS accounts (quoted in public issue
threads); keep these in sync with AWS, never with what the product expects.
"""

# --- Amazon ECS Developer Guide, "Amazon ECS service event messages"
# (service-event-messages.html). Newest first in DescribeServices.events;
# task ids are the 32-hex-digit task ids; no trailing period on the
# (de)registered messages, as AWS writes them.
EVENT_STARTED = "(service {service}) has started {n} tasks: {tasks}."
EVENT_STOPPED = "(service {service}) has stopped {n} running tasks: {tasks}."
EVENT_REGISTERED = "(service {service}) registered {n} targets in (target-group {tg})"
EVENT_DEREGISTERED = "(service {service}) deregistered {n} targets in (target-group {tg})"
EVENT_DRAINING = "(service {service}) has begun draining connections on {n} tasks."
EVENT_STEADY = "(service {service}) has reached a steady state."
EVENT_DEPLOYMENT_COMPLETED = "(service {service}) (deployment {deployment}) deployment completed."
EVENT_TARGET_UNHEALTHY = (
    "(service {service}) (task {task}) (port {port}) is unhealthy in (target-group {tg}) "
    "due to (reason Health checks failed with these codes: [{code}])."
)
# "(task a) (task b)" in the started/stopped messages.
EVENT_TASK_LIST_ITEM = "(task {task})"

# --- Amazon ECS Developer Guide, "How the Amazon ECS deployment circuit
# breaker detects failures" (deployment-circuit-breaker.html) and "Amazon ECS
# service deployment state change events" (ecs_service_deployment_events.html):
# rolloutStateReason of Deployment, and the events written on failure.
ROLLOUT_IN_PROGRESS = "ECS deployment {deployment} in progress."
ROLLOUT_COMPLETED = "ECS deployment {deployment} completed."
ROLLOUT_FAILED = "ECS deployment circuit breaker: tasks failed to start."
ROLLOUT_ROLLING_BACK = "ECS deployment circuit breaker: rolling back to deploymentId {deployment}."
EVENT_DEPLOYMENT_FAILED = "(service {service}) (deployment {deployment}) deployment failed: tasks failed to start."
EVENT_ROLLING_BACK = "(service {service}) rolling back to deployment {deployment}."
# Failure threshold: "minimum threshold <= 0.5 * desired task count => maximum threshold",
# minimum 3, maximum 200.
CIRCUIT_BREAKER_MIN, CIRCUIT_BREAKER_MAX = 3, 200

# --- Amazon ECS Developer Guide, "Amazon ECS stopped tasks errors" /
# API Reference, Task (stopCode, stoppedReason).
STOP_CODE_ESSENTIAL = "EssentialContainerExited"
STOP_CODE_SCHEDULER = "ServiceSchedulerInitiated"
STOP_CODE_USER = "UserInitiated"
STOPPED_ESSENTIAL = "Essential container in task exited"
STOPPED_SCALING = "Scaling activity initiated by (deployment {deployment})"
STOPPED_ELB = "Task failed ELB health checks in (target-group {tg})"

# --- Amazon ECS API Reference: CreateService, UpdateService,
# RegisterTaskDefinition (errors), and the Developer Guide page
# "Amazon ECS task definition parameters for Fargate" (task size table).
ERR_NOT_IDEMPOTENT = "Creation of service was not idempotent."
ERR_LAUNCH_TYPE_AND_STRATEGY = (
    "Specifying both a launch type and capacity provider strategy is not supported. "
    "Remove one and try again."
)
ERR_SERVICE_NOT_ACTIVE = "Service was not ACTIVE."
ERR_NO_FARGATE_CONFIG = (
    "No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. "
    "See the Amazon ECS documentation for the valid values."
)

# --- Elastic Load Balancing API Reference, TargetHealth (State, Reason,
# Description) and "Target group health checks" in the ALB guide.
TARGET_INITIAL = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
TARGET_HEALTHY = ("healthy", None, None)
TARGET_DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
TARGET_UNHEALTHY = ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [{code}]")

# --- Elastic Load Balancing API Reference, CreateListener.
ERR_LISTENER_CERTIFICATE = "A certificate must be specified for {protocol} listeners"

# --- Amazon Route 53 API Reference, ChangeResourceRecordSets (InvalidChangeBatch)
# and CreateHostedZone (HostedZoneAlreadyExists).
ERR_HOSTED_ZONE_EXISTS = "A hosted zone has already been created with the specified caller reference."
# (the record-exists text is moto's ResourceRecordAlreadyExists, which matches AWS:
#  "Tried to create resource record set [name='{name}', type='{type}'] but it already exists")

# --- Amazon CloudWatch Logs API Reference, PutRetentionPolicy (retentionInDays).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
ERR_RETENTION_CONSTRAINT = "Member must satisfy enum value set: [{values}]"
