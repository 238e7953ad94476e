//! `cargo ecs deploy` through `tests/stack/fault_proxy.py`, a proxy that throttles, fails (5xx), slows, drops or
//! loses a seeded share of the AWS calls: the deploy still converges (a second deploy through the proxy and a plan
//! straight to the emulator have nothing to do, and no resource exists twice), and a call throttled on every
//! attempt fails naming the call, the resource and the attempts.
//!
//! Each test has its own proxy and its own service names, and reads no global state (no call log), so the tests
//! of this file run concurrently. Run with `--nocapture` to see the figures (faults injected per kind).

#![allow(clippy::print_stdout, reason = "the figures (faults, kill points, duplicates) are printed for --nocapture")]

use cargo_ecs_tests::{FaultProxy, Output, Stack, cargo_ecs, fixture, https_service, plan_changes, unique_name};
use serde_json::Value;

/// The settings of a service with everything a deploy can create: HTTPS with a certificate, a DNS record, a secret.
fn settings(stack: &Stack, name: &str) -> Vec<String> {
    let (mut settings, _) = https_service(stack, name);
    settings.push("secrets.DB_URL=arn:aws:secretsmanager:us-east-1:123456789012:secret:db-url-AbCdEf".to_owned());
    settings
}

/// `cargo ecs COMMAND --output json --set ...` (deploys with `--no-wait`), against `endpoint`.
fn run(dir: &std::path::Path, command: &str, settings: &[String], endpoint: &str) -> Output {
    let mut args = vec![command, "--output", "json"];
    if command == "deploy" {
        args.push("--no-wait");
    }
    for s in settings {
        args.extend(["--set", s.as_str()]);
    }
    cargo_ecs(dir, &args, &[("AWS_ENDPOINT_URL", endpoint)])
}

fn report(out: &Output) -> Value {
    assert_eq!(out.code, 0, "failed:\n{}\n{}", out.stderr, out.stdout);
    out.json()[0].clone()
}

/// Asserts the service converged: a plan straight to the emulator has nothing to do, nothing exists twice.
fn assert_converged(stack: &Stack, dir: &std::path::Path, name: &str, settings: &[String]) {
    let direct = cargo_ecs_tests::stack_var("AWS_ENDPOINT_URL");
    let plan = report(&run(dir, "plan", settings, &direct));
    assert_eq!(plan_changes(&plan), Vec::<(String, String)>::new(), "not converged: {}", plan["plan"]);
    let counted = stack.duplicates(name, &plan);
    assert_eq!(counted["duplicates"], serde_json::json!([]), "{counted}");
    assert_eq!(counted["missing"], serde_json::json!([]), "{counted}");
}

fn injected(faults: &Value, kind: &str) -> u64 {
    faults["injected"][kind].as_u64().unwrap_or(0)
}

#[test]
fn a_deploy_converges_through_10_percent_throttling() {
    let stack = Stack::get();
    let ws = fixture("web");
    let name = unique_name("thr");
    let settings = settings(&stack, &name);
    let proxy = FaultProxy::start(&["--seed", "7", "--throttle", "0.1"]);
    let started = std::time::Instant::now();

    let first = report(&run(ws.path(), "deploy", &settings, proxy.url()));
    assert!(!plan_changes(&first).is_empty(), "a first deploy creates: {}", first["plan"]);
    let after_first = proxy.faults();

    // Deployed again through the same proxy: nothing to do, and nothing done.
    let again = report(&run(ws.path(), "deploy", &settings, proxy.url()));
    assert_eq!(plan_changes(&again), Vec::<(String, String)>::new(), "{}", again["plan"]);
    assert!(again["applied"].is_null() && again["pushed"].is_null(), "nothing applied or pushed: {again}");
    let faults = proxy.faults();
    assert_converged(&stack, ws.path(), &name, &settings);

    let throttled = injected(&faults, "throttle");
    let calls = faults["requests"].as_u64().unwrap_or(0);
    println!(
        "10 % throttling (seed 7): {throttled} of {calls} AWS calls throttled over two deploys \
         ({} in the first) in {:.0?}; converged, no duplicates; by call: {}",
        injected(&after_first, "throttle"),
        started.elapsed(),
        faults["by_call"]
    );
    assert!(throttled >= 3, "the seed throttles several calls: {faults}");
    assert_eq!(faults["total_injected"], throttled, "only throttling: {faults}");
}

#[test]
fn a_call_throttled_on_every_attempt_fails_naming_the_call_and_the_resource() {
    let stack = Stack::get();
    let ws = fixture("web");
    let name = unique_name("thx");
    let settings = settings(&stack, &name);
    let proxy = FaultProxy::start(&["--throttle", "1", "--only", "elasticloadbalancing:CreateTargetGroup"]);

    let failed = run(ws.path(), "deploy", &settings, proxy.url());
    assert_eq!(failed.code, 1, "{}\n{}", failed.stderr, failed.stdout);
    let attempts = proxy.faults()["by_call"]["elasticloadbalancing:CreateTargetGroup"]["throttle"].as_u64();
    assert_eq!(attempts, Some(5), "every attempt of the call was throttled, and there were 5");
    let error: Value = serde_json::from_str(failed.stdout.trim()).unwrap_or(Value::Null);
    let text = format!("{}\n{}", failed.stderr, error);
    assert!(
        text.contains(&format!("elbv2:CreateTargetGroup of target group {name} failed after 5 attempts")),
        "names the call, the resource and the attempts:\n{text}"
    );
    assert!(text.contains("Rate exceeded (Throttling)"), "{text}");
    assert!(text.contains("AWS kept throttling elbv2:CreateTargetGroup"), "says what to do:\n{text}");
    assert!(text.contains("run the command again"), "{text}");
    println!(
        "100 % throttling of elbv2:CreateTargetGroup: {} (help: {})",
        error["error"]["message"], error["error"]["help"]
    );

    // The throttling is over: the next deploy carries on from what exists.
    let _ = proxy.configure(&serde_json::json!({}));
    let _ = report(&run(ws.path(), "deploy", &settings, proxy.url()));
    assert_converged(&stack, ws.path(), &name, &settings);
}

#[test]
fn a_deploy_converges_through_5xx_dropped_connections_and_slow_answers() {
    let stack = Stack::get();
    let ws = fixture("web");
    let name = unique_name("mix");
    let settings = settings(&stack, &name);
    let flags = ["--seed", "3", "--error-5xx", "0.1", "--drop", "0.05", "--slow", "0.1", "--delay", "0.3"];
    let proxy = FaultProxy::start(&flags);

    let first = report(&run(ws.path(), "deploy", &settings, proxy.url()));
    assert!(!plan_changes(&first).is_empty(), "{}", first["plan"]);
    let again = report(&run(ws.path(), "deploy", &settings, proxy.url()));
    assert_eq!(plan_changes(&again), Vec::<(String, String)>::new(), "{}", again["plan"]);
    let faults = proxy.faults();
    assert_converged(&stack, ws.path(), &name, &settings);
    println!(
        "10 % 5xx + 5 % dropped + 10 % slow (seed 3): {} of {} AWS calls faulted ({}); converged, no duplicates",
        faults["total_injected"], faults["requests"], faults["injected"]
    );
    for kind in ["5xx", "drop", "slow"] {
        assert!(injected(&faults, kind) >= 1, "the seed injects {kind}: {faults}");
    }
}

#[test]
fn answers_lost_after_aws_acted_leave_no_duplicate_and_the_next_deploy_converges() {
    let stack = Stack::get();
    let ws = fixture("web");
    let name = unique_name("lose");
    let settings = settings(&stack, &name);
    // The call reaches AWS and is carried out; its answer never comes back, and the SDK sends it again.
    let proxy = FaultProxy::start(&["--seed", "11", "--lose", "0.1"]);

    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let out = run(ws.path(), "deploy", &settings, proxy.url());
        let nothing_to_do = out.code == 0 && plan_changes(&out.json()[0]).is_empty();
        outcomes.push(if out.code == 0 {
            "ok".to_owned()
        } else {
            let line = out.stderr.lines().find(|l| l.contains("error")).unwrap_or("").to_owned();
            format!("failed: {line}")
        });
        if nothing_to_do {
            break;
        }
    }
    let faults = proxy.faults();
    println!(
        "10 % lost answers (seed 11): {} of {} AWS calls lost their answer; deploys: {outcomes:?}",
        injected(&faults, "lose"),
        faults["requests"]
    );
    // Creates whose answer was lost are found and adopted: the first deploy already succeeds.
    assert_eq!(outcomes.first().map(String::as_str), Some("ok"), "{outcomes:?}");
    assert_converged(&stack, ws.path(), &name, &settings);
}
