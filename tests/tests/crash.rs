//! Crash consistency: a first `cargo ecs deploy` is killed (SIGKILL) at each point of its apply in turn, then
//! deployed again. Every time, the second deploy must succeed, a plan must then have nothing to do, and no
//! resource may exist twice (counted by name and by tag with boto3, `tests/stack/duplicates.py`).
//!
//! Kill points, read from the JSON progress events on stderr (`--output json`): right after the k-th apply step
//! ended (a state between two steps), and right after the k-th apply step began (its AWS calls in flight: the
//! request may have been carried out without the tool seeing the answer), for k = 1..N, N the steps of a first
//! deploy. Each kill point uses a service of its own, so they run a few at a time.
//!
//! Run with `--nocapture` to see each kill point, what the recovering deploy did, and the duplicates found.

#![allow(clippy::print_stdout, reason = "the figures (faults, kill points, duplicates) are printed for --nocapture")]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;

use cargo_ecs_tests::{Stack, cargo_ecs, cargo_ecs_command, fixture, plan_changes, unique_name};
use serde_json::Value;

/// Kill points run at the same time.
const WORKERS: usize = 4;

/// Where to kill the first deploy.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// Right after the k-th apply step's `end` event.
    AfterEnd(usize),
    /// Right after the k-th apply step's `begin` event.
    AfterBegin(usize),
}

/// What happened at one kill point.
#[derive(Debug)]
struct Outcome {
    point: KillPoint,
    service: String,
    /// The step the kill followed (None: the deploy ended before the kill point).
    killed_after: Option<String>,
    /// Steps the recovering deploy carried out.
    recovered: usize,
    /// The plan after the recovery (its steps name the resources to count).
    plan: Value,
    duplicates: Vec<String>,
    problems: Vec<String>,
}

fn settings(name: &str, zone: &str) -> Vec<String> {
    vec![
        format!("service={name}"),
        format!("repository={name}"),
        format!("load-balancer.certificate=*.{zone}"),
        format!("dns.zone={zone}"),
        format!("dns.name={name}"),
        "assign-public-ip=true".to_owned(),
        format!("task-role={name}-task"),
        "secrets.DB_URL=arn:aws:secretsmanager:us-east-1:123456789012:secret:db-url-AbCdEf".to_owned(),
    ]
}

fn args<'a>(command: &'a str, settings: &'a [String]) -> Vec<&'a str> {
    let mut args = vec![command, "--output", "json"];
    if command == "deploy" {
        args.push("--no-wait");
    }
    for s in settings {
        args.extend(["--set", s.as_str()]);
    }
    args
}

/// Whether a progress step is one of the apply's (`create listener HTTP :80`, `register task definition web:3`,
/// ...), not observing, building or pushing.
fn is_apply_step(step: &str) -> bool {
    ["create ", "update ", "register ", "delete "].iter().any(|verb| step.starts_with(verb))
}

/// Runs a first deploy and SIGKILLs it at `point`; returns the step it was killed after (None: it ended first).
fn deploy_and_kill(dir: &Path, settings: &[String], point: KillPoint) -> Option<String> {
    let mut child = cargo_ecs_command(dir, &args("deploy", settings), &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cargo-ecs");
    let (wanted, k) = match point {
        KillPoint::AfterEnd(k) => ("end", k),
        KillPoint::AfterBegin(k) => ("begin", k),
    };
    let mut seen = 0;
    let mut killed_after = None;
    let stderr = child.stderr.take().expect("stderr");
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let Ok(event) = serde_json::from_str::<Value>(&line) else { continue };
        let step = event["step"].as_str().unwrap_or_default();
        if event["event"] == wanted && is_apply_step(step) {
            seen += 1;
            if seen == k {
                child.kill().expect("SIGKILL cargo-ecs");
                killed_after = Some(format!("{wanted} {step}"));
                break;
            }
        }
    }
    let _ = child.wait();
    killed_after
}

fn try_kill_point(dir: &Path, zone: &str, point: KillPoint) -> Outcome {
    let service = unique_name("ck");
    let settings = settings(&service, zone);
    let killed_after = deploy_and_kill(dir, &settings, point);
    let mut outcome = Outcome {
        point,
        service,
        killed_after,
        recovered: 0,
        plan: Value::Null,
        duplicates: Vec::new(),
        problems: Vec::new(),
    };

    let again = cargo_ecs(dir, &args("deploy", &settings), &[]);
    if again.code != 0 {
        outcome.problems.push(format!("the next deploy failed: {}", again.stderr.lines().last().unwrap_or("")));
        return outcome;
    }
    outcome.recovered = plan_changes(&again.json()[0]).len();
    let planned = cargo_ecs(dir, &args("plan", &settings), &[]);
    if planned.code != 0 {
        outcome.problems.push(format!("plan failed: {}", planned.stderr));
        return outcome;
    }
    outcome.plan = planned.json()[0].clone();
    let left = plan_changes(&outcome.plan);
    if !left.is_empty() {
        outcome.problems.push(format!("not converged, a plan still has {left:?}"));
    }
    outcome
}

/// Counts the resources of every outcome's service at once (`duplicates.py --many`), into its duplicates and
/// problems.
fn count_duplicates(stack: &Stack, outcomes: &mut [Outcome]) {
    let services: serde_json::Map<String, Value> = outcomes
        .iter()
        .filter(|o| !o.plan.is_null())
        .map(|o| (o.service.clone(), cargo_ecs_tests::plan_steps(&o.plan)))
        .collect();
    let counted: Value =
        serde_json::from_str(&stack.script("duplicates.py", &["--many", &Value::Object(services).to_string()]))
            .expect("duplicates JSON");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap_or_default().to_owned()).collect()).unwrap_or_default()
    };
    for outcome in outcomes.iter_mut().filter(|o| !o.plan.is_null()) {
        let counts = &counted[&outcome.service];
        outcome.duplicates = strings(&counts["duplicates"]);
        let missing = strings(&counts["missing"]);
        if !missing.is_empty() {
            outcome.problems.push(format!("missing: {missing:?}"));
        }
    }
}

#[test]
fn a_deploy_killed_at_any_apply_step_converges_on_the_next_deploy_without_duplicates() {
    let stack = Stack::get();
    let ws = fixture("web");
    let zone = format!("{}.example.com", unique_name("crash"));
    let _ = stack.script("domain.py", &[&zone]);
    let started = std::time::Instant::now();

    // The steps of a first deploy, from a plan of a service that does not exist yet.
    let probe = unique_name("ck");
    let planned = cargo_ecs(ws.path(), &args("plan", &settings(&probe, &zone)), &[]);
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    let steps = plan_changes(&planned.json()[0]).len();
    assert!(steps >= 12, "a first deploy has every step: {}", planned.stdout);

    let points: Vec<KillPoint> =
        (1..=steps).map(KillPoint::AfterEnd).chain((1..=steps).map(KillPoint::AfterBegin)).collect();
    let queue = Mutex::new(points.clone());
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let Some(point) = queue.lock().expect("queue").pop() else { break };
                    let outcome = try_kill_point(ws.path(), &zone, point);
                    outcomes.lock().expect("outcomes").push(outcome);
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().expect("outcomes");
    count_duplicates(&stack, &mut outcomes);
    outcomes.sort_by_key(|o| match o.point {
        KillPoint::AfterEnd(k) => k,
        KillPoint::AfterBegin(k) => 100 + k,
    });

    let killed = outcomes.iter().filter(|o| o.killed_after.is_some()).count();
    let duplicates: usize = outcomes.iter().map(|o| o.duplicates.len()).sum();
    for o in &outcomes {
        println!(
            "{:?} ({}): killed after {}; the next deploy did {} step(s); duplicates {:?}; problems {:?}",
            o.point,
            o.service,
            o.killed_after.as_deref().unwrap_or("nothing (the deploy ended first)"),
            o.recovered,
            o.duplicates,
            o.problems
        );
    }
    println!(
        "{} kill points tried ({steps} apply steps, after each begin and each end), {killed} killed mid-apply, \
         {duplicates} duplicates found, in {:.0?}",
        outcomes.len(),
        started.elapsed()
    );
    let failed: Vec<&Outcome> =
        outcomes.iter().filter(|o| !o.problems.is_empty() || !o.duplicates.is_empty()).collect();
    assert!(failed.is_empty(), "kill points that did not converge cleanly: {failed:#?}");
    assert!(killed >= 2 * steps - 1, "nearly every kill point lands mid-apply: {killed} of {}", outcomes.len());
}
