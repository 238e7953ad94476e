//! The watch on plain data: snapshots shaped like DescribeServices / DescribeTasks / DescribeTargetHealth answers,
//! with the field values and message texts of the ECS and ELB documentation (service event messages, deployment
//! circuit breaker, stopped task errors, target health reasons).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::state::MAX_STOPPED_IN_DIAGNOSIS;
use super::*;
use crate::aws::AwsError;
use crate::report::{Event, Recorder};
use crate::stack::model::{Deployment, ServiceEvent, ServiceState};

const SERVICE: &str = "hello";
const TD6: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/hello:6";
const TD7: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/hello:7";
const OLD: &str = "ecs-svc/1111111111111111111";
const NEW: &str = "ecs-svc/2222222222222222222";
const ROLLBACK: &str = "ecs-svc/3333333333333333333";
const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/hello/0123456789abcdef";
const T0: i64 = 1_760_000_000;

// --- builders ------------------------------------------------------------------------------------------------

struct Dep {
    id: &'static str,
    status: &'static str,
    td: &'static str,
    desired: i32,
    running: i32,
    pending: i32,
    failed: i32,
    rollout: &'static str,
    reason: String,
    created: i64,
}

impl Dep {
    fn new(id: &'static str, status: &'static str, td: &'static str, created: i64) -> Self {
        Self {
            id,
            status,
            td,
            desired: 2,
            running: 0,
            pending: 0,
            failed: 0,
            rollout: "IN_PROGRESS",
            reason: format!("ECS deployment {id} in progress."),
            created,
        }
    }
    fn counts(mut self, running: i32, pending: i32) -> Self {
        self.running = running;
        self.pending = pending;
        self
    }
    fn failed(mut self, failed: i32) -> Self {
        self.failed = failed;
        self
    }
    fn completed(mut self) -> Self {
        self.rollout = "COMPLETED";
        self.reason = format!("ECS deployment {} completed.", self.id);
        self
    }
    fn breaker_failed(mut self) -> Self {
        self.rollout = "FAILED";
        self.reason = "ECS deployment circuit breaker: tasks failed to start.".to_owned();
        self
    }
    fn rolling_back_to(mut self, to: &str) -> Self {
        self.reason = format!("ECS deployment circuit breaker: rolling back to deploymentId {to}.");
        self
    }
    fn build(self) -> Deployment {
        Deployment {
            id: self.id.to_owned(),
            status: self.status.to_owned(),
            task_definition: self.td.to_owned(),
            desired: self.desired,
            running: self.running,
            pending: self.pending,
            failed: self.failed,
            rollout_state: Some(self.rollout.to_owned()),
            rollout_state_reason: Some(self.reason),
            created_at: Some(self.created),
        }
    }
}

/// Events are given oldest first here; the service lists them newest first, as DescribeServices does.
fn service(deployments: Vec<Dep>, events: &[(i64, &str)]) -> ServiceState {
    let deployments: Vec<Deployment> = deployments.into_iter().map(Dep::build).collect();
    let primary = deployments.iter().find(|d| d.status == "PRIMARY").map_or(TD6, |d| d.task_definition.as_str());
    ServiceState {
        name: SERVICE.to_owned(),
        arn: format!("arn:aws:ecs:us-east-1:123456789012:service/demo/{SERVICE}"),
        status: "ACTIVE".to_owned(),
        task_definition: primary.to_owned(),
        desired_count: 2,
        running_count: u32::try_from(deployments.iter().map(|d| d.running).sum::<i32>()).unwrap_or(0),
        pending_count: u32::try_from(deployments.iter().map(|d| d.pending).sum::<i32>()).unwrap_or(0),
        spot: false,
        subnets: vec!["subnet-0a1b2c3d".to_owned()],
        security_groups: vec!["hello-tasks".to_owned()],
        assign_public_ip: false,
        load_balancer: None,
        health_check_grace_period: Some(10),
        minimum_healthy_percent: 100,
        maximum_percent: 200,
        circuit_breaker: true,
        deployments,
        events: events
            .iter()
            .rev()
            .map(|(at, message)| ServiceEvent {
                id: event_id(*at, message),
                created_at: Some(*at),
                message: (*message).to_owned(),
            })
            .collect(),
    }
}

/// A stable id per event, as AWS gives each event one.
fn event_id(at: i64, message: &str) -> String {
    format!("{at}-{:08x}", message.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))))
}

fn snap(service: ServiceState, now: i64) -> Snapshot {
    Snapshot { service, tasks: Vec::new(), stopped: Vec::new(), targets: Vec::new(), now }
}

fn task(id: &str, status: &str, deployment: &str) -> TaskView {
    TaskView {
        id: id.to_owned(),
        last_status: status.to_owned(),
        health: Some("UNKNOWN".to_owned()),
        stopped_reason: None,
        containers: vec![ContainerExit { name: SERVICE.to_owned(), exit_code: None, reason: None }],
        deployment: Some(deployment.to_owned()),
    }
}

fn crashed(id: &str, deployment: &str, code: i32) -> TaskView {
    TaskView {
        stopped_reason: Some("Essential container in task exited".to_owned()),
        containers: vec![ContainerExit { name: SERVICE.to_owned(), exit_code: Some(code), reason: None }],
        ..task(id, "STOPPED", deployment)
    }
}

fn replaced(id: &str, by: &str) -> TaskView {
    TaskView {
        stopped_reason: Some(format!("Scaling activity initiated by (deployment {by})")),
        containers: vec![ContainerExit { name: SERVICE.to_owned(), exit_code: Some(0), reason: None }],
        ..task(id, "STOPPED", OLD)
    }
}

fn target(ip: &str, state: &str) -> TargetView {
    let (reason, description) = match state {
        "initial" => (Some("Elb.RegistrationInProgress"), Some("Target registration is in progress")),
        "draining" => (Some("Target.DeregistrationInProgress"), Some("Target deregistration is in progress")),
        "unhealthy" => (Some("Target.ResponseCodeMismatch"), Some("Health checks failed with these codes: [404]")),
        _ => (None, None),
    };
    TargetView {
        id: ip.to_owned(),
        port: Some(8080),
        state: state.to_owned(),
        reason: reason.map(str::to_owned),
        description: description.map(str::to_owned),
    }
}

fn msg_started(tasks: &[&str]) -> String {
    let list: Vec<String> = tasks.iter().map(|t| format!("(task {t})")).collect();
    format!("(service {SERVICE}) has started {} tasks: {}.", tasks.len(), list.join(" "))
}

fn msg_stopped(tasks: &[&str]) -> String {
    let list: Vec<String> = tasks.iter().map(|t| format!("(task {t})")).collect();
    format!("(service {SERVICE}) has stopped {} running tasks: {}.", tasks.len(), list.join(" "))
}

fn msg_steady() -> String {
    format!("(service {SERVICE}) has reached a steady state.")
}

fn msg_completed(deployment: &str) -> String {
    format!("(service {SERVICE}) (deployment {deployment}) deployment completed.")
}

fn msg_failed(deployment: &str) -> String {
    format!("(service {SERVICE}) (deployment {deployment}) deployment failed: tasks failed to start.")
}

fn msg_rolling_back(to: &str) -> String {
    format!("(service {SERVICE}) rolling back to deployment {to}.")
}

fn msg_registered(n: u32) -> String {
    format!("(service {SERVICE}) registered {n} targets in (target-group {TG})")
}

fn msg_deregistered(n: u32) -> String {
    format!("(service {SERVICE}) deregistered {n} targets in (target-group {TG})")
}

fn msg_draining(n: u32) -> String {
    format!("(service {SERVICE}) has begun draining connections on {n} tasks.")
}

fn msg_unhealthy(task: &str) -> String {
    format!(
        "(service {SERVICE}) (task {task}) (port 8080) is unhealthy in (target-group {TG}) due to (reason Health \
         checks failed with these codes: [404])."
    )
}

/// Events of the last deployment (hours before), then the ones of this rollout, oldest first.
fn history() -> Vec<(i64, String)> {
    vec![(T0 - 7200, msg_started(&["0a0a", "0b0b"])), (T0 - 7190, msg_steady()), (T0 - 7190, msg_completed(OLD))]
}

fn with_history(events: &[(i64, String)]) -> Vec<(i64, String)> {
    let mut all = history();
    all.extend(events.iter().cloned());
    all
}

fn refs(events: &[(i64, String)]) -> Vec<(i64, &str)> {
    events.iter().map(|(at, m)| (*at, m.as_str())).collect()
}

fn old_completed() -> Dep {
    Dep::new(OLD, "ACTIVE", TD6, T0 - 7200).counts(2, 0).completed()
}

// --- a successful rolling update, as the scheduler makes it (desired 2) ---------------------------------------

fn success_rollout() -> Vec<Snapshot> {
    let e1 = vec![(T0, msg_started(&["1a1a", "1b1b"]))];
    let mut s1 = snap(
        service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(0, 2), old_completed()], &refs(&with_history(&e1))),
        T0 + 1,
    );
    s1.tasks = vec![task("0a0a", "RUNNING", OLD), task("0b0b", "RUNNING", OLD), task("1a1a", "PENDING", NEW)];
    s1.tasks.push(task("1b1b", "PENDING", NEW));
    s1.targets = vec![target("10.0.1.10", "healthy"), target("10.0.2.10", "healthy")];

    let mut e2 = e1.clone();
    e2.push((T0 + 5, msg_registered(2)));
    let mut s2 = snap(
        service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(2, 0), old_completed()], &refs(&with_history(&e2))),
        T0 + 6,
    );
    s2.targets = vec![
        target("10.0.1.10", "healthy"),
        target("10.0.2.10", "healthy"),
        target("10.0.1.11", "initial"),
        target("10.0.2.11", "initial"),
    ];

    let mut e3 = e2.clone();
    e3.push((T0 + 10, msg_draining(2)));
    e3.push((T0 + 10, msg_deregistered(2)));
    let mut s3 = snap(
        service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(2, 0), old_completed()], &refs(&with_history(&e3))),
        T0 + 11,
    );
    s3.targets = vec![
        target("10.0.1.10", "draining"),
        target("10.0.2.10", "draining"),
        target("10.0.1.11", "healthy"),
        target("10.0.2.11", "healthy"),
    ];

    let mut e4 = e3.clone();
    e4.push((T0 + 15, msg_stopped(&["0a0a", "0b0b"])));
    e4.push((T0 + 20, msg_steady()));
    e4.push((T0 + 20, msg_completed(NEW)));
    let mut s4 = snap(
        service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(2, 0).completed()], &refs(&with_history(&e4))),
        T0 + 21,
    );
    s4.stopped = vec![replaced("0a0a", NEW), replaced("0b0b", NEW)];
    s4.targets = vec![target("10.0.1.11", "healthy"), target("10.0.2.11", "healthy")];
    vec![s1, s2, s3, s4]
}

// --- the circuit breaker fails the deployment and rolls back -------------------------------------------------

fn rollback_rollout() -> Vec<Snapshot> {
    let e1 = vec![(T0, msg_started(&["2a2a", "2b2b"]))];
    let mut s1 = snap(
        service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(0, 2), old_completed()], &refs(&with_history(&e1))),
        T0 + 1,
    );
    s1.tasks = vec![task("2a2a", "PENDING", NEW), task("2b2b", "PENDING", NEW)];

    let mut e2 = e1.clone();
    e2.push((T0 + 5, msg_started(&["2c2c", "2d2d"])));
    let mut s2 = snap(
        service(
            vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(0, 2).failed(2), old_completed()],
            &refs(&with_history(&e2)),
        ),
        T0 + 6,
    );
    s2.stopped = vec![crashed("2a2a", NEW, 1), crashed("2b2b", NEW, 1)];

    let mut e3 = e2.clone();
    e3.push((T0 + 10, msg_failed(NEW)));
    e3.push((T0 + 10, msg_rolling_back(OLD)));
    let mut s3 = snap(
        service(
            vec![
                Dep::new(ROLLBACK, "PRIMARY", TD6, T0 + 10).counts(0, 0).rolling_back_to(OLD),
                Dep::new(NEW, "ACTIVE", TD7, T0).counts(0, 0).failed(3).breaker_failed(),
                old_completed(),
            ],
            &refs(&with_history(&e3)),
        ),
        T0 + 11,
    );
    s3.stopped = vec![crashed("2c2c", NEW, 1), crashed("2a2a", NEW, 1), crashed("2b2b", NEW, 1)];
    s3.tasks = vec![task("0a0a", "RUNNING", OLD), task("0b0b", "RUNNING", OLD), task("9a9a", "PENDING", ROLLBACK)];

    let mut e4 = e3.clone();
    e4.push((T0 + 20, msg_steady()));
    e4.push((T0 + 20, msg_completed(ROLLBACK)));
    let s4 = snap(
        service(vec![Dep::new(ROLLBACK, "PRIMARY", TD6, T0 + 10).counts(2, 0).completed()], &refs(&with_history(&e4))),
        T0 + 21,
    );
    vec![s1, s2, s3, s4]
}

// --- assess ------------------------------------------------------------------------------------------------------

#[test]
fn a_rolling_update_is_in_progress_until_its_deployment_completes() {
    let snaps = success_rollout();
    let verdicts: Vec<Verdict> = snaps.iter().map(|s| assess(NEW, s, T0, 600)).collect();
    let Verdict::InProgress(p) = &verdicts[0] else { panic!("{:?}", verdicts[0]) };
    assert_eq!((p.running, p.pending, p.desired, p.healthy_targets, p.total_targets), (0, 2, 2, 2, 2));
    assert_eq!(p.phase, "starting tasks");
    let Verdict::InProgress(p) = &verdicts[1] else { panic!("{:?}", verdicts[1]) };
    assert_eq!((p.running, p.healthy_targets, p.total_targets), (2, 2, 4));
    assert_eq!(p.phase, "waiting for load balancer health checks");
    assert_eq!(p.to_string(), "2/2 running, 0 pending, targets 2/4 healthy: waiting for load balancer health checks");
    let Verdict::InProgress(p) = &verdicts[2] else { panic!("{:?}", verdicts[2]) };
    assert_eq!((p.healthy_targets, p.total_targets), (2, 2), "draining targets are not counted");
    assert_eq!(p.phase, "2 old task(s) still running");
    assert_eq!(verdicts[3], Verdict::Completed);
    assert!(verdicts[3].is_success() && verdicts[3].is_final());
}

#[test]
fn a_circuit_breaker_rollback_is_not_a_success_even_when_the_rollback_completes() {
    let snaps = rollback_rollout();
    assert!(matches!(assess(NEW, &snaps[0], T0, 600), Verdict::InProgress(_)));
    let Verdict::InProgress(p) = assess(NEW, &snaps[1], T0, 600) else { panic!() };
    assert_eq!(p.failed, 2);
    assert_eq!(p.to_string(), "0/2 running, 2 pending, 2 failed: starting tasks");
    let expected = Verdict::RolledBack {
        reason: "ECS deployment circuit breaker: tasks failed to start.".to_owned(),
        to_task_definition: TD6.to_owned(),
    };
    assert_eq!(assess(NEW, &snaps[2], T0, 600), expected, "the failed deployment is still listed");
    // The rollback deployment completed and the failed one is gone: the events still tell.
    let after = assess(NEW, &snaps[3], T0, 600);
    assert_eq!(
        after,
        Verdict::RolledBack {
            reason: "deployment failed: tasks failed to start.".to_owned(),
            to_task_definition: TD6.to_owned()
        }
    );
    assert!(!after.is_success());
    assert_eq!(after.to_string(), "failed and rolled back to hello:6: deployment failed: tasks failed to start.");
}

#[test]
fn a_rollback_deployment_without_a_failed_rollout_state_is_still_a_rollback() {
    // AWS may list the new PRIMARY rollback before the failed deployment's rolloutState reads FAILED.
    let events = with_history(&[(T0 + 10, msg_rolling_back(OLD))]);
    let s = snap(
        service(
            vec![
                Dep::new(ROLLBACK, "PRIMARY", TD6, T0 + 10).rolling_back_to(OLD),
                Dep::new(NEW, "ACTIVE", TD7, T0).failed(3),
                old_completed(),
            ],
            &refs(&events),
        ),
        T0 + 11,
    );
    let Verdict::RolledBack { reason, to_task_definition } = assess(NEW, &s, T0, 600) else { panic!() };
    assert_eq!(to_task_definition, TD6);
    assert_eq!(reason, format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}."));
}

#[test]
fn a_failed_deployment_without_rollback_fails() {
    let events = with_history(&[(T0, msg_started(&["3a3a", "3b3b"])), (T0 + 10, msg_failed(NEW))]);
    let s = snap(
        service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).failed(3).breaker_failed(), old_completed()], &refs(&events)),
        T0 + 11,
    );
    assert_eq!(
        assess(NEW, &s, T0, 600),
        Verdict::Failed { reason: "ECS deployment circuit breaker: tasks failed to start.".to_owned() }
    );
}

#[test]
fn a_deployment_that_vanished_without_a_trace_fails() {
    let s = snap(service(vec![Dep::new(OLD, "PRIMARY", TD6, T0 - 7200).counts(2, 0).completed()], &[]), T0 + 5);
    let Verdict::Failed { reason } = assess(NEW, &s, T0, 600) else { panic!() };
    assert!(reason.contains(NEW) && reason.contains("no longer among") && reason.contains("hello:6"), "{reason}");
}

#[test]
fn a_deployment_that_completed_and_was_replaced_later_completed() {
    let events = with_history(&[(T0 + 20, msg_completed(NEW))]);
    let s = snap(service(vec![Dep::new(ROLLBACK, "PRIMARY", TD7, T0 + 30)], &refs(&events)), T0 + 31);
    assert_eq!(assess(NEW, &s, T0, 600), Verdict::Completed);
}

#[test]
fn another_update_replacing_the_deployment_is_a_failure_not_a_rollback() {
    let newer = Dep::new(ROLLBACK, "PRIMARY", "arn:aws:ecs:us-east-1:123456789012:task-definition/hello:8", T0 + 5);
    // An old rollback event from a past deploy must not count.
    let events = with_history(&[(T0 - 3000, msg_rolling_back(OLD))]);
    let s = snap(
        service(vec![newer, Dep::new(NEW, "ACTIVE", TD7, T0).counts(1, 0), old_completed()], &refs(&events)),
        T0 + 6,
    );
    let Verdict::Failed { reason } = assess(NEW, &s, T0, 600) else { panic!("{:?}", assess(NEW, &s, T0, 600)) };
    assert!(reason.contains("replaced by deployment") && reason.contains("hello:8"), "{reason}");
}

#[test]
fn a_rollout_that_never_gets_steady_times_out_at_the_limit() {
    let s = |now| {
        let mut s = snap(service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(0, 2), old_completed()], &[]), now);
        s.tasks = vec![task("4a4a", "PENDING", NEW), task("4b4b", "PENDING", NEW)];
        s
    };
    assert!(matches!(assess(NEW, &s(T0 + 599), T0, 600), Verdict::InProgress(_)));
    let Verdict::TimedOut { waited_secs, progress } = assess(NEW, &s(T0 + 600), T0, 600) else { panic!() };
    assert_eq!(waited_secs, 600);
    assert_eq!(progress.pending, 2);
    assert!(matches!(assess(NEW, &s(T0 + 100_000), T0, 0), Verdict::InProgress(_)), "0: no limit");
}

#[test]
fn a_final_state_wins_over_the_time_limit() {
    let snaps = success_rollout();
    assert_eq!(assess(NEW, &snaps[3], T0, 5), Verdict::Completed);
    let snaps = rollback_rollout();
    assert!(matches!(assess(NEW, &snaps[3], T0, 5), Verdict::RolledBack { .. }));
}

#[test]
fn without_a_deployment_a_steady_service_is_complete_at_once() {
    let steady = snap(service(vec![Dep::new(OLD, "PRIMARY", TD6, T0 - 7200).counts(2, 0).completed()], &[]), T0);
    assert_eq!(assess("", &steady, T0, 600), Verdict::Completed);
    // A rollout of an earlier deploy still under way: follow it.
    let busy = snap(service(vec![Dep::new(NEW, "PRIMARY", TD7, T0 - 5).counts(1, 1), old_completed()], &[]), T0);
    let Verdict::InProgress(p) = assess("", &busy, T0, 600) else { panic!() };
    assert_eq!((p.running, p.pending), (1, 1));
    let mut done = busy.clone();
    done.service.deployments = vec![Dep::new(NEW, "PRIMARY", TD7, T0 - 5).counts(2, 0).completed().build()];
    assert_eq!(assess("", &done, T0, 600), Verdict::Completed);
}

#[test]
fn a_deployment_without_rollout_state_completes_when_it_alone_runs_every_task() {
    let mut s = snap(service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(2, 0)], &[]), T0 + 5);
    s.service.deployments[0].rollout_state = None;
    assert_eq!(assess(NEW, &s, T0, 600), Verdict::Completed);
    s.service.deployments[0].running = 1;
    assert!(matches!(assess(NEW, &s, T0, 600), Verdict::InProgress(_)));
}

#[test]
fn a_service_being_deleted_fails_the_watch() {
    let mut s = snap(service(vec![Dep::new(NEW, "PRIMARY", TD7, T0)], &[]), T0 + 5);
    s.service.status = "DRAINING".to_owned();
    assert_eq!(
        assess(NEW, &s, T0, 600),
        Verdict::Failed { reason: "service hello is DRAINING, not ACTIVE".to_owned() }
    );
}

#[test]
fn verdicts_serialize_as_tagged_kebab_case() {
    let rolled = Verdict::RolledBack { reason: "r".to_owned(), to_task_definition: TD6.to_owned() };
    assert_eq!(
        serde_json::to_value(&rolled).ok(),
        Some(serde_json::json!({"state": "rolled-back", "reason": "r", "to-task-definition": TD6}))
    );
    let Verdict::InProgress(p) = assess(NEW, &success_rollout()[1], T0, 600) else { panic!() };
    let json = serde_json::to_value(Verdict::InProgress(p)).unwrap_or_default();
    assert_eq!(json["state"], "in-progress");
    assert_eq!(json["healthy-targets"], 2);
    assert_eq!(serde_json::to_value(Verdict::Completed).ok(), Some(serde_json::json!({"state": "completed"})));
}

// --- new_events ---------------------------------------------------------------------------------------------

#[test]
fn new_events_are_the_unseen_ones_oldest_first() {
    let snaps = success_rollout();
    let first: Vec<&str> = new_events(&HashSet::new(), &snaps[0].service).iter().map(|e| e.message.as_str()).collect();
    assert_eq!(first.first().copied(), Some(msg_started(&["0a0a", "0b0b"]).as_str()));
    assert_eq!(first.last().copied(), Some(msg_started(&["1a1a", "1b1b"]).as_str()));
    let seen: HashSet<String> = snaps[0].service.events.iter().map(|e| e.id.clone()).collect();
    let next: Vec<&str> = new_events(&seen, &snaps[3].service).iter().map(|e| e.message.as_str()).collect();
    let expected = [
        msg_registered(2),
        msg_draining(2),
        msg_deregistered(2),
        msg_stopped(&["0a0a", "0b0b"]),
        msg_steady(),
        msg_completed(NEW),
    ];
    assert_eq!(next, expected.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn new_events_lists_an_event_listed_twice_once() {
    let mut s = service(vec![Dep::new(NEW, "PRIMARY", TD7, T0)], &[(T0, "a"), (T0 + 1, "b")]);
    let dup = s.events[1].clone();
    s.events.push(dup);
    let fresh: Vec<&str> = new_events(&HashSet::new(), &s).iter().map(|e| e.message.as_str()).collect();
    assert_eq!(fresh, ["a", "b"]);
}

// --- diagnose -------------------------------------------------------------------------------------------------

#[test]
fn the_diagnosis_shows_why_tasks_stopped_with_exit_codes_but_not_planned_replacements() {
    let mut s = rollback_rollout().remove(2);
    s.stopped.push(replaced("0a0a", NEW));
    let mut pull = task("5a5a", "STOPPED", NEW);
    pull.stopped_reason = Some("CannotPullContainerError: pull image manifest has been retried 5 time(s)".to_owned());
    pull.containers[0].reason = Some("CannotPullContainerError: ref not found".to_owned());
    s.stopped.push(pull);
    let d = diagnose(&s);
    let ids: Vec<&str> = d.stopped.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["2c2c", "2a2a", "2b2b", "5a5a"], "the scaling stop is left out");
    assert_eq!(d.stopped[0].reason, "Essential container in task exited");
    assert_eq!(
        d.stopped[0].containers,
        vec![ContainerExit { name: SERVICE.to_owned(), exit_code: Some(1), reason: None }]
    );
    assert_eq!(d.stopped[0].deployment.as_deref(), Some(NEW));
    assert_eq!(
        d.lines()[0],
        "3 stopped tasks (2c2c, 2a2a, 2b2b): Essential container in task exited (container hello: exit code 1)"
    );
    assert_eq!(
        d.lines()[1],
        "stopped task 5a5a: CannotPullContainerError: pull image manifest has been retried 5 time(s) (container \
         hello: CannotPullContainerError: ref not found)"
    );
    assert!(d.unhealthy_targets.is_empty());
}

#[test]
fn the_diagnosis_lists_at_most_a_few_stopped_tasks_each_once() {
    let mut s = snap(service(vec![Dep::new(NEW, "PRIMARY", TD7, T0)], &[]), T0);
    s.stopped = (0..9).map(|i| crashed(&format!("{i:04x}"), NEW, 137)).collect();
    s.stopped.push(crashed("0000", NEW, 137));
    let d = diagnose(&s);
    assert_eq!(d.stopped.len(), MAX_STOPPED_IN_DIAGNOSIS);
    assert_eq!(d.stopped[0].containers[0].exit_code, Some(137));
}

#[test]
fn the_diagnosis_lists_unhealthy_targets_and_pending_tasks() {
    let mut s = snap(service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(1, 1)], &[]), T0);
    s.targets = vec![target("10.0.1.10", "healthy"), target("10.0.1.11", "unhealthy"), target("10.0.2.11", "initial")];
    s.tasks = vec![task("6a6a", "RUNNING", NEW), task("6b6b", "PENDING", NEW)];
    let d = diagnose(&s);
    assert_eq!(
        d.unhealthy_targets,
        vec![UnhealthyTarget {
            id: "10.0.1.11".to_owned(),
            port: Some(8080),
            state: "unhealthy".to_owned(),
            reason: Some("Target.ResponseCodeMismatch".to_owned()),
            description: Some("Health checks failed with these codes: [404]".to_owned()),
        }]
    );
    assert_eq!(d.pending_tasks, ["6b6b"]);
    assert_eq!(
        d.lines(),
        [
            "target 10.0.1.11:8080 unhealthy: Target.ResponseCodeMismatch: Health checks failed with these codes: [404]",
            "1 task(s) still PENDING: 6b6b (pulling the image? no route from the subnets to ECR?)",
        ]
    );
    assert!(!d.is_empty());
    assert!(diagnose(&success_rollout()[3]).is_empty(), "replaced old tasks are no failure");
}

// --- watch, on scripted snapshots --------------------------------------------------------------------------------

/// Answers the scripted results in order; once they run out, the last snapshot again, 5 s later each time.
struct Scripted {
    steps: Mutex<VecDeque<Result<Snapshot, AwsError>>>,
    last: Mutex<Option<Snapshot>>,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(steps: Vec<Result<Snapshot, AwsError>>) -> Self {
        Self { steps: Mutex::new(steps.into()), last: Mutex::new(None), calls: AtomicUsize::new(0) }
    }
    fn ok(snaps: Vec<Snapshot>) -> Self {
        Self::new(snaps.into_iter().map(Ok).collect())
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl SnapshotSource for Scripted {
    fn snapshot(&self) -> SnapshotFuture<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = self.steps.lock().ok().and_then(|mut steps| steps.pop_front());
        let result = match next {
            Some(Ok(snapshot)) => {
                if let Ok(mut last) = self.last.lock() {
                    *last = Some(snapshot.clone());
                }
                Ok(snapshot)
            }
            Some(Err(error)) => Err(error),
            None => {
                let mut last = self.last.lock().expect("lock");
                let snapshot = last.as_mut().expect("a snapshot was scripted");
                snapshot.now += 5;
                Ok(snapshot.clone())
            }
        };
        Box::pin(async move { result })
    }
}

fn fast(timeout_secs: u64) -> WatchOptions {
    WatchOptions { timeout: Duration::from_secs(timeout_secs), interval: Duration::from_millis(1) }
}

fn unreachable() -> AwsError {
    AwsError {
        call: "ecs:DescribeServices",
        resource: "service hello".to_owned(),
        code: None,
        message: "dispatch failure: connection refused".to_owned(),
        unreachable: true,
    }
}

fn outputs(recorder: &Recorder) -> Vec<String> {
    recorder
        .events()
        .into_iter()
        .filter_map(|e| if let Event::Output { line, .. } = e { Some(line) } else { None })
        .collect()
}

fn end_of(recorder: &Recorder) -> Option<String> {
    recorder.events().into_iter().find_map(|e| if let Event::End { result, .. } = e { Some(result) } else { None })
}

#[tokio::test]
async fn watch_follows_a_successful_rollout_to_completion() {
    let source = Scripted::ok(success_rollout());
    let recorder = Recorder::default();
    let outcome = watch(&source, NEW, fast(600), &recorder).await.expect("watch");
    assert_eq!(outcome.verdict, Verdict::Completed);
    assert_eq!(outcome.diagnosis, None);
    assert_eq!(source.calls(), 4);
    let events = recorder.events();
    assert_eq!(events.first(), Some(&Event::Begin { step: "rollout hello".to_owned() }));
    assert_eq!(
        events.last(),
        Some(&Event::End { step: "rollout hello".to_owned(), result: "completed: hello:7 running 2/2".to_owned() })
    );
    assert_eq!(events.iter().filter(|e| matches!(e, Event::Begin { .. } | Event::End { .. })).count(), 2);
    let lines = outputs(&recorder);
    assert!(lines.contains(&"0/2 running, 2 pending, targets 2/2 healthy: starting tasks".to_owned()), "{lines:#?}");
    assert!(lines.contains(&msg_completed(NEW)));
    let seen: Vec<&str> = outcome.events_seen.iter().map(|e| e.message.as_str()).collect();
    assert!(!seen.contains(&msg_completed(OLD).as_str()), "events of the last deployment are history");
}

#[tokio::test]
async fn watch_prints_each_event_once_in_order() {
    let source = Scripted::ok(success_rollout());
    let recorder = Recorder::default();
    let outcome = watch(&source, NEW, fast(600), &recorder).await.expect("watch");
    let expected = [
        msg_started(&["1a1a", "1b1b"]),
        msg_registered(2),
        msg_draining(2),
        msg_deregistered(2),
        msg_stopped(&["0a0a", "0b0b"]),
        msg_steady(),
        msg_completed(NEW),
    ];
    let seen: Vec<String> = outcome.events_seen.iter().map(|e| e.message.clone()).collect();
    assert_eq!(seen, expected);
    let event_lines: Vec<String> = outputs(&recorder).into_iter().filter(|l| l.starts_with("(service")).collect();
    assert_eq!(event_lines, expected);
}

#[tokio::test]
async fn watch_reports_a_circuit_breaker_rollback_with_the_stopped_tasks() {
    let source = Scripted::ok(rollback_rollout());
    let recorder = Recorder::default();
    let outcome = watch(&source, NEW, fast(600), &recorder).await.expect("watch");
    assert_eq!(
        outcome.verdict,
        Verdict::RolledBack {
            reason: "ECS deployment circuit breaker: tasks failed to start.".to_owned(),
            to_task_definition: TD6.to_owned()
        }
    );
    assert_eq!(source.calls(), 3, "fails fast: does not wait for the rollback to complete");
    let diagnosis = outcome.diagnosis.expect("a diagnosis");
    assert_eq!(diagnosis.stopped.len(), 3);
    assert!(diagnosis.pending_tasks.is_empty(), "the rollback's new tasks are no clue");
    assert!(diagnosis.stopped.iter().all(|t| t.reason == "Essential container in task exited"));
    assert!(diagnosis.stopped.iter().all(|t| t.containers[0].exit_code == Some(1)));
    assert_eq!(
        end_of(&recorder).as_deref(),
        Some("failed and rolled back to hello:6: ECS deployment circuit breaker: tasks failed to start.")
    );
    let lines = outputs(&recorder);
    assert!(lines.contains(&msg_failed(NEW)) && lines.contains(&msg_rolling_back(OLD)), "{lines:#?}");
    assert!(
        lines.contains(
            &"3 stopped tasks (2c2c, 2a2a, 2b2b): Essential container in task exited (container hello: exit code 1)"
                .to_owned()
        )
    );
}

#[tokio::test]
async fn watch_sees_a_rollback_it_only_caught_the_end_of() {
    let mut snaps = rollback_rollout();
    snaps.remove(2);
    snaps.remove(1);
    let source = Scripted::ok(snaps);
    let outcome = watch(&source, NEW, fast(600), &Recorder::default()).await.expect("watch");
    assert!(matches!(outcome.verdict, Verdict::RolledBack { ref to_task_definition, .. } if to_task_definition == TD6));
    assert!(!outcome.verdict.is_success());
}

#[tokio::test]
async fn watch_reports_a_failure_without_rollback() {
    let events = with_history(&[(T0, msg_started(&["3a3a", "3b3b"])), (T0 + 10, msg_failed(NEW))]);
    let mut s = snap(
        service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).failed(3).breaker_failed(), old_completed()], &refs(&events)),
        T0 + 11,
    );
    s.stopped = vec![crashed("3a3a", NEW, 2)];
    let recorder = Recorder::default();
    let outcome = watch(&Scripted::ok(vec![s]), NEW, fast(600), &recorder).await.expect("watch");
    assert_eq!(
        outcome.verdict,
        Verdict::Failed { reason: "ECS deployment circuit breaker: tasks failed to start.".to_owned() }
    );
    assert_eq!(outcome.diagnosis.expect("diagnosis").stopped[0].containers[0].exit_code, Some(2));
    assert_eq!(end_of(&recorder).as_deref(), Some("failed: ECS deployment circuit breaker: tasks failed to start."));
}

#[tokio::test]
async fn watch_times_out_on_a_rollout_that_never_gets_steady_and_says_what_is_stuck() {
    let mut s = snap(
        service(
            vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(0, 2), old_completed()],
            &refs(&with_history(&[(T0, msg_started(&["4a4a", "4b4b"]))])),
        ),
        T0 + 1,
    );
    s.tasks = vec![
        task("0a0a", "RUNNING", OLD),
        task("0b0b", "RUNNING", OLD),
        task("4a4a", "PENDING", NEW),
        task("4b4b", "PENDING", NEW),
    ];
    let source = Scripted::ok(vec![s]);
    let recorder = Recorder::default();
    let outcome = watch(&source, NEW, fast(30), &recorder).await.expect("watch");
    let Verdict::TimedOut { waited_secs, progress } = &outcome.verdict else { panic!("{:?}", outcome.verdict) };
    assert_eq!(*waited_secs, 30);
    assert_eq!((progress.running, progress.pending), (0, 2));
    assert_eq!(source.calls(), 7, "1 + 6 more snapshots 5 s apart");
    let diagnosis = outcome.diagnosis.expect("diagnosis");
    assert_eq!(diagnosis.pending_tasks, ["4a4a", "4b4b"]);
    assert_eq!(end_of(&recorder).as_deref(), Some("timed out after 30 s: 0/2 running, 2 pending: starting tasks"));
    let progress_lines = outputs(&recorder).into_iter().filter(|l| l.contains("running,")).count();
    assert_eq!(progress_lines, 1, "an unchanged progress line is reported once");
}

#[tokio::test]
async fn watch_lists_unhealthy_targets_when_health_checks_fail() {
    let unhealthy_events = with_history(&[
        (T0, msg_started(&["7a7a", "7b7b"])),
        (T0 + 5, msg_registered(2)),
        (T0 + 10, msg_unhealthy("7a7a")),
        (T0 + 10, msg_unhealthy("7b7b")),
    ]);
    let mut s1 = snap(
        service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(2, 0), old_completed()], &refs(&unhealthy_events)),
        T0 + 11,
    );
    s1.targets = vec![
        target("10.0.1.10", "healthy"),
        target("10.0.2.10", "healthy"),
        target("10.0.1.12", "unhealthy"),
        target("10.0.2.12", "unhealthy"),
    ];
    let mut s2 = s1.clone();
    let mut failed_events = unhealthy_events.clone();
    failed_events.push((T0 + 15, msg_stopped(&["7a7a", "7b7b"])));
    failed_events.push((T0 + 30, msg_failed(NEW)));
    failed_events.push((T0 + 30, msg_rolling_back(OLD)));
    s2.service = service(
        vec![
            Dep::new(ROLLBACK, "PRIMARY", TD6, T0 + 30).rolling_back_to(OLD),
            Dep::new(NEW, "ACTIVE", TD7, T0).counts(1, 0).failed(3).breaker_failed(),
            old_completed(),
        ],
        &refs(&failed_events),
    );
    s2.now = T0 + 31;
    let elb = format!("Task failed ELB health checks in (target-group {TG})");
    s2.stopped = vec![TaskView { stopped_reason: Some(elb.clone()), ..task("7a7a", "STOPPED", NEW) }];
    let recorder = Recorder::default();
    let outcome = watch(&Scripted::ok(vec![s1, s2]), NEW, fast(600), &recorder).await.expect("watch");
    assert!(matches!(outcome.verdict, Verdict::RolledBack { .. }), "{:?}", outcome.verdict);
    let diagnosis = outcome.diagnosis.expect("diagnosis");
    let ids: Vec<&str> = diagnosis.unhealthy_targets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["10.0.1.12", "10.0.2.12"]);
    assert!(diagnosis.unhealthy_targets.iter().all(|t| t.reason.as_deref() == Some("Target.ResponseCodeMismatch")));
    assert_eq!(diagnosis.stopped[0].reason, elb);
    let lines = outputs(&recorder);
    let progress = "2/2 running, 0 pending, targets 2/4 healthy: waiting for load balancer health checks";
    assert!(lines.contains(&progress.to_owned()), "{lines:#?}");
    assert!(lines.contains(&msg_unhealthy("7a7a")));
    assert!(lines.contains(
        &"target 10.0.1.12:8080 unhealthy: Target.ResponseCodeMismatch: Health checks failed with these codes: [404]"
            .to_owned()
    ));
}

#[tokio::test]
async fn watch_recovers_from_transient_errors() {
    let snaps = success_rollout();
    let mut steps: Vec<Result<Snapshot, AwsError>> = vec![Err(unreachable())];
    let mut rest = snaps.into_iter();
    steps.push(Ok(rest.next().expect("s1")));
    steps.extend([Err(unreachable()), Err(unreachable()), Err(unreachable())]);
    steps.extend(rest.map(Ok));
    let source = Scripted::new(steps);
    let recorder = Recorder::default();
    let outcome = watch(&source, NEW, fast(600), &recorder).await.expect("watch");
    assert_eq!(outcome.verdict, Verdict::Completed);
    let warnings = recorder.events().into_iter().filter(|e| matches!(e, Event::Warning { .. })).count();
    assert_eq!(warnings, 4);
    assert_eq!(outcome.events_seen.len(), 7, "no event lost or repeated across the errors");
}

#[tokio::test]
async fn watch_gives_up_after_too_many_errors_in_a_row() {
    let mut steps: Vec<Result<Snapshot, AwsError>> = vec![Ok(success_rollout().remove(0))];
    steps.extend((0..=MAX_CONSECUTIVE_ERRORS).map(|_| Err(unreachable())));
    steps.push(Ok(success_rollout().remove(3)));
    let source = Scripted::new(steps);
    let error = watch(&source, NEW, fast(600), &Recorder::default()).await.expect_err("gives up");
    assert!(error.unreachable);
    assert_eq!(source.calls(), 2 + MAX_CONSECUTIVE_ERRORS as usize);
}

#[tokio::test]
async fn watch_stops_at_once_on_an_error_that_will_not_go_away() {
    let denied = AwsError {
        call: "ecs:DescribeServices",
        resource: "service hello".to_owned(),
        code: Some("AccessDeniedException".to_owned()),
        message: "User is not authorized to perform: ecs:DescribeServices".to_owned(),
        unreachable: false,
    };
    let source = Scripted::new(vec![Err(denied), Ok(success_rollout().remove(3))]);
    let recorder = Recorder::default();
    let error = watch(&source, NEW, fast(600), &recorder).await.expect_err("fails");
    assert_eq!(error.code.as_deref(), Some("AccessDeniedException"));
    assert_eq!(source.calls(), 1);
    assert!(recorder.events().is_empty(), "no step was begun");
}

#[tokio::test]
async fn watch_without_a_deployment_completes_at_once_on_a_steady_service() {
    let steady =
        snap(service(vec![Dep::new(OLD, "PRIMARY", TD6, T0 - 7200).counts(2, 0).completed()], &refs(&history())), T0);
    let source = Scripted::ok(vec![steady]);
    let recorder = Recorder::default();
    let outcome = watch(&source, "", fast(600), &recorder).await.expect("watch");
    assert_eq!(outcome.verdict, Verdict::Completed);
    assert_eq!(source.calls(), 1);
    assert!(outcome.events_seen.is_empty(), "old events are not news");
    assert_eq!(end_of(&recorder).as_deref(), Some("completed: hello:6 running 2/2"));
}

#[tokio::test]
async fn watch_does_not_report_the_end_of_the_last_deployment_made_in_the_same_second() {
    // Back-to-back deploys: the last rollout's completion events carry the second the new deployment was made in.
    let events = with_history(&[
        (T0, msg_stopped(&["0a0a", "0b0b"])),
        (T0, msg_steady()),
        (T0, msg_completed(OLD)),
        (T0, msg_started(&["8a8a", "8b8b"])),
        (T0 + 20, msg_steady()),
        (T0 + 20, msg_completed(NEW)),
    ]);
    let s = snap(service(vec![Dep::new(NEW, "PRIMARY", TD7, T0).counts(2, 0).completed()], &refs(&events)), T0 + 21);
    let outcome = watch(&Scripted::ok(vec![s]), NEW, fast(600), &Recorder::default()).await.expect("watch");
    let seen: Vec<String> = outcome.events_seen.iter().map(|e| e.message.clone()).collect();
    assert_eq!(seen, [msg_started(&["8a8a", "8b8b"]), msg_steady(), msg_completed(NEW)]);
}
