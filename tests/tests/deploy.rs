//! `cargo ecs plan` and `cargo ecs deploy` end to end against the shimmed emulator, checked with an independent
//! client (boto3 scripts in tests/stack) and the emulator's own call log, never with the tool's own output alone.
//!
//! These tests read the emulator's global call log, so they run one at a time (`Stack::lock`).

use cargo_ecs_tests::{Output, Stack, cargo_ecs, fixture, https_service, unique_name};
use serde_json::Value;

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    cargo_ecs(dir, args, &[])
}

fn ok(out: &Output) -> Value {
    assert_eq!(out.code, 0, "failed:\n{}\n{}", out.stderr, out.stdout);
    out.json()[0].clone()
}

fn actions(report: &Value) -> Vec<(String, String)> {
    report["plan"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["action"] != "keep")
        .map(|s| {
            (s["kind"].as_str().unwrap_or_default().to_owned(), s["action"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[test]
fn deploy_builds_the_whole_stack_then_changes_only_what_changed() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let name = unique_name("web");
    let zone = format!("{name}.example.com");
    let (settings, certificate) = https_service(&stack, &name);
    let ws = fixture("web");
    let mut base: Vec<&str> = vec!["--output", "json"];
    for s in &settings {
        base.extend(["--set", s.as_str()]);
    }
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut args = base.clone();
        args.extend_from_slice(extra);
        args
    };
    let inspect = || -> Value {
        serde_json::from_str(&stack.script("inspect_service.py", &[&name, &name, &zone, &format!("app.{zone}")]))
            .expect("inspect JSON")
    };

    // plan on nothing: every resource to create, and nothing changed.
    stack.reset_calls();
    let planned = ok(&run(ws.path(), &with(&["plan"])));
    assert_eq!(actions(&planned).len(), 13, "{}", planned["plan"]);
    assert!(actions(&planned).iter().all(|(_, a)| a == "create"));
    let cost = &planned["cost"];
    assert!(cost["total"].as_f64().is_some_and(|t| t > 0.0), "a cost preview: {cost}");
    assert!(cost["basis"].as_str().is_some_and(|b| b.contains("list prices of")), "{cost}");
    assert_eq!(stack.mutating_calls(), Vec::<String>::new(), "plan changed AWS");

    // First deploy: every resource, wired listener -> target group -> service -> task definition -> image.
    let first = ok(&run(ws.path(), &with(&["deploy"])));
    let digest = first["image"].as_str().expect("image").rsplit('@').next().expect("digest").to_owned();
    let wiring = inspect();
    let tg_arn = wiring["service"]["load-balancers"][0]["targetGroupArn"].as_str().expect("target group").to_owned();
    assert_eq!(wiring["target-group"]["port"], 8080);
    assert_eq!(wiring["target-group"]["target-type"], "ip");
    assert_eq!(wiring["target-group"]["health-check-path"], "/health");
    let listeners = wiring["listeners"].as_array().expect("listeners");
    assert_eq!(listeners.len(), 2, "{wiring}");
    assert_eq!(listeners[0][0], 80);
    assert_eq!(listeners[0][4][0][2], "HTTPS", "80 redirects to HTTPS: {wiring}");
    assert_eq!((listeners[1][0].clone(), listeners[1][1].clone()), (443.into(), "HTTPS".into()));
    assert_eq!(listeners[1][3][0], certificate.as_str());
    assert_eq!(listeners[1][4][0][0], "fixed-response", "no catch-all: 404 where no rule matches: {wiring}");
    let rules = wiring["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 1, "{wiring}");
    assert_eq!(rules[0][0], 443);
    assert_eq!(rules[0][2]["host-header"][0], format!("app.{zone}"), "routed by host name: {wiring}");
    assert_eq!(rules[0][3][0][1], tg_arn.as_str(), "the rule forwards to the service's target group");
    assert_eq!(wiring["load-balancer"]["scheme"], "internet-facing");
    let td = &wiring["task-definition"];
    assert!(td["image"].as_str().is_some_and(|i| i.ends_with(&format!("/{name}@{digest}"))), "{td}");
    assert_eq!(td["runtime-platform"]["cpuArchitecture"], "ARM64");
    assert_eq!(td["network-mode"], "awsvpc");
    assert_eq!(wiring["service"]["circuit-breaker"], serde_json::json!({ "enable": true, "rollback": true }));
    assert!(wiring["execution-role"].to_string().contains("AmazonECSTaskExecutionRolePolicy"));
    assert_eq!(wiring["log-group"]["retention"], 30);
    assert_eq!(wiring["record"][0]["type"], "A", "{wiring}");
    let lb_dns = wiring["load-balancer"]["dns-name"].as_str().expect("dns").to_ascii_lowercase();
    assert!(
        wiring["record"][0]["alias"].as_str().is_some_and(|a| a.to_ascii_lowercase().contains(&lb_dns)),
        "{wiring}"
    );
    let tasks_sg = &wiring["service-security-groups"][0];
    assert!(
        tasks_sg["ingress"][0][1][0].as_str().is_some_and(|g| g.starts_with("sg-")),
        "tasks only from the LB group: {tasks_sg}"
    );
    let has = std::process::Command::new(std::env::var("CARGO_ECS_STACK_PYTHON").expect("python"))
        .arg(cargo_ecs_tests::repo_root().join("tests/stack/registry_has.py"))
        .args([&name, &digest])
        .status()
        .expect("registry_has");
    assert!(has.success(), "the image the task definition names is in the registry");
    assert_eq!(first["url"], format!("https://app.{zone}"));

    // Nothing changed: no mutating call, no new revision, nothing pushed, and it says so.
    stack.reset_calls();
    let again = run(
        ws.path(),
        &base.iter().copied().filter(|a| *a != "--output" && *a != "json").chain(["deploy"]).collect::<Vec<_>>(),
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
    assert_eq!(stack.mutating_calls(), Vec::<String>::new());
    assert_eq!(inspect()["task-definition-revisions"], wiring["task-definition-revisions"]);
    let planned = ok(&run(ws.path(), &with(&["plan"])));
    assert!(actions(&planned).is_empty(), "plan on an up-to-date stack: {}", planned["plan"]);
    assert_eq!(stack.mutating_calls(), Vec::<String>::new());

    // A settings change: plan shows it and changes nothing; deploy makes one revision and one service update.
    stack.reset_calls();
    let planned = ok(&run(ws.path(), &with(&["plan", "--set", "memory=1024"])));
    assert_eq!(actions(&planned), pairs(&[("task-definition", "create"), ("service", "update")]));
    assert_eq!(stack.mutating_calls(), Vec::<String>::new(), "plan changed AWS");
    let changed = ok(&run(ws.path(), &with(&["deploy", "--set", "memory=1024"])));
    assert!(changed["pushed"]["push"]["blobs-uploaded"] == 0, "an unchanged image uploads nothing: {changed}");
    // Between taking and handing back the in-progress marker (a log group, see ecs-core/src/lock.rs): exactly the
    // new revision and the service update.
    assert_eq!(
        stack.mutating_calls(),
        ["logs:CreateLogGroup", "ecs:RegisterTaskDefinition", "ecs:UpdateService", "logs:DeleteLogGroup"]
    );
    let after = inspect();
    assert_eq!(
        after["task-definition-revisions"],
        wiring["task-definition-revisions"].as_u64().map(|n| n + 1).unwrap_or(0)
    );
    assert_eq!(after["task-definition"]["memory"], "1024");

    // A code change: one layer pushed, one revision, the service rolls.
    let main = ws.path().join("src/main.rs");
    std::fs::write(&main, std::fs::read_to_string(&main).expect("main").replace("\"ok\\n\"", "\"ok!\\n\""))
        .expect("edit");
    stack.reset_calls();
    let rolled = ok(&run(ws.path(), &with(&["deploy", "--set", "memory=1024"])));
    assert_eq!(rolled["pushed"]["push"]["blobs-uploaded"], 2, "binary layer + config: {}", rolled["pushed"]);
    // Between taking and handing back the in-progress marker (a log group, see ecs-core/src/lock.rs): exactly the
    // new revision and the service update.
    assert_eq!(
        stack.mutating_calls(),
        ["logs:CreateLogGroup", "ecs:RegisterTaskDefinition", "ecs:UpdateService", "logs:DeleteLogGroup"]
    );
    let rolled_wiring = inspect();
    assert_eq!(rolled_wiring["service"]["deployments"][0][0], "PRIMARY");
    assert_ne!(rolled_wiring["task-definition"]["image"], after["task-definition"]["image"]);
}

#[test]
fn what_the_plan_cannot_resolve_stops_the_deploy_before_any_change() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let ws = fixture("web");
    let name = unique_name("miss");
    let cases: [(Vec<String>, &str); 2] = [
        (
            vec![format!("service={name}"), "load-balancer.certificate=*.nowhere.example".to_owned()],
            "no ISSUED ACM certificate",
        ),
        (
            vec![format!("service={name}"), "dns.zone=nowhere.example".to_owned(), "dns.name=api".to_owned()],
            "no Route 53 hosted zone named nowhere.example",
        ),
    ];
    for (sets, expected) in &cases {
        stack.reset_calls();
        let mut args = vec!["deploy"];
        for s in sets {
            args.extend(["--set", s.as_str()]);
        }
        let out = run(ws.path(), &args);
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains(expected), "{}", out.stderr);
        assert_eq!(stack.mutating_calls(), Vec::<String>::new(), "{sets:?} changed AWS");
    }
}

#[test]
fn a_rollout_the_circuit_breaker_rolls_back_fails_the_deploy_with_the_reason() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let ws = fixture("web");
    let name = unique_name("roll");
    let service = format!("service={name}");
    let repository = format!("repository={name}");
    let args = ["deploy", "--set", service.as_str(), "--set", repository.as_str(), "--set", "assign-public-ip=true"];
    let first = run(ws.path(), &args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stdout.contains("rollout: completed"), "{}", first.stdout);

    // The next rollout's tasks exit at once: the circuit breaker rolls back, and the deploy must fail.
    let _ = stack.script("script_rollout.py", &[&name, &name, "fail", "Essential container in task exited"]);
    let failed = run(ws.path(), &[&args[..], &["--set", "memory=1024"]].concat());
    assert_eq!(failed.code, 1, "a rolled-back deploy must not succeed:\n{}\n{}", failed.stdout, failed.stderr);
    assert!(failed.stdout.contains("rolled back"), "{}", failed.stdout);
    assert!(failed.stdout.contains("Essential container in task exited"), "{}", failed.stdout);
    assert!(failed.stderr.contains("did not complete"), "{}", failed.stderr);

    // --no-wait returns after the apply, and says nothing about a rollout.
    let quick = run(ws.path(), &[&args[..], &["--set", "memory=2048", "--no-wait"]].concat());
    assert_eq!(quick.code, 0, "{}", quick.stderr);
    assert!(!quick.stdout.contains("rollout:"), "{}", quick.stdout);
}

#[test]
fn rollback_points_the_service_at_the_previous_revision_or_a_chosen_one() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let ws = fixture("web");
    let name = unique_name("back");
    let service = format!("service={name}");
    let repository = format!("repository={name}");
    let common = ["--set", service.as_str(), "--set", repository.as_str(), "--set", "assign-public-ip=true"];
    let deployed = |extra: &[&str]| {
        let out = run(ws.path(), &[&["deploy"][..], &common[..], extra].concat());
        assert_eq!(out.code, 0, "{}", out.stderr);
    };
    let running = || -> String {
        let wiring: Value =
            serde_json::from_str(&stack.script("inspect_service.py", &[&name, &name])).expect("inspect JSON");
        let arn = wiring["service"]["task-definition"].as_str().expect("task definition").to_owned();
        arn.rsplit('/').next().expect("family:revision").to_owned()
    };
    deployed(&[]);
    deployed(&["--set", "memory=1024"]);
    assert_eq!(running(), format!("{name}:2"));

    let back = run(ws.path(), &[&["rollback"][..], &common[..]].concat());
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(back.stdout.contains(&format!("rolled back from {name}:2 to {name}:1")), "{}", back.stdout);
    assert!(back.stdout.contains("rollout: completed"), "{}", back.stdout);
    assert_eq!(running(), format!("{name}:1"));

    let forward = run(ws.path(), &[&["rollback", "--to", "2", "--no-wait"][..], &common[..]].concat());
    assert_eq!(forward.code, 0, "{}", forward.stderr);
    assert_eq!(running(), format!("{name}:2"));

    stack.reset_calls();
    let missing = run(ws.path(), &[&["rollback", "--to", "9"][..], &common[..]].concat());
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains(&format!("{name}:9 is not an ACTIVE revision")), "{}", missing.stderr);
    assert!(missing.stderr.contains("active revisions: 1, 2"), "{}", missing.stderr);

    let nothing = run(ws.path(), &["rollback", "--set", "service=never-deployed", "--set", "cluster=never-deployed"]);
    assert_eq!(nothing.code, 2, "{}", nothing.stderr);
    assert!(
        nothing.stderr.contains("does not exist") && nothing.stderr.contains("cargo ecs deploy"),
        "{}",
        nothing.stderr
    );
}
