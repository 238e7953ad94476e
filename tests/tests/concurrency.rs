//! Two deploys of one service, and a deploy stopped with Ctrl-C, end to end against the shimmed emulator: the
//! in-progress marker refuses a second deploy while the first runs, a stale marker is taken over, and an
//! interrupted apply stops at a safe point and is finished by the next deploy.

#![allow(clippy::print_stdout, reason = "what the two racing deploys did is printed for --nocapture")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use cargo_ecs_tests::{
    Output, Stack, binary, cargo_ecs, cargo_ecs_command, fixture, fixture_target_dir, plan_changes, unique_name,
};

fn deploy(dir: &std::path::Path, name: &str, extra: &[&str]) -> Output {
    let service = format!("service={name}");
    let repository = format!("repository={name}");
    let mut args =
        vec!["deploy", "--no-wait", "--set", &service, "--set", &repository, "--set", "assign-public-ip=true"];
    args.extend_from_slice(extra);
    cargo_ecs(dir, &args, &[])
}

fn now() -> u64 {
    std::time::UNIX_EPOCH.elapsed().map(|d| d.as_secs()).unwrap_or_default()
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default()
}

#[test]
fn a_second_deploy_refuses_while_the_first_holds_the_marker_and_force_takes_it_over() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let ws = fixture("web");
    let name = unique_name("lock");
    // Another machine is deploying this service (its marker has not expired).
    let expires = (now() + 600).to_string();
    let _ = stack.script("marker.py", &["hold", &name, &name, "build-agent-7", "4242", &expires]);
    stack.reset_calls();
    let refused = deploy(ws.path(), &name, &[]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stderr, refused.stdout);
    assert!(
        refused.stderr.contains(&format!("service {name} is being deployed by ci@build-agent-7 pid 4242")),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--force"), "says how to take over: {}", refused.stderr);
    assert_eq!(
        stack.mutating_calls(),
        vec!["logs:CreateLogGroup".to_owned()],
        "only the attempt to take the marker: nothing of the service was created"
    );
    // --force takes it over, deploys, and leaves no marker behind.
    let forced = deploy(ws.path(), &name, &["--force"]);
    assert_eq!(forced.code, 0, "{}\n{}", forced.stderr, forced.stdout);
    assert!(forced.stderr.contains("took over the deploy marker"), "{}", forced.stderr);
    assert_eq!(stack.script("marker.py", &["show", &name, &name]).trim(), "null");
}

#[test]
fn a_marker_of_a_killed_or_expired_deploy_is_taken_over_without_force() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let ws = fixture("web");
    for (case, host, pid, expires) in
        [("killed", host(), "999999", now() + 600), ("expired", "build-agent-7".to_owned(), "4242", now() - 1)]
    {
        let name = unique_name(&case[..4]);
        let _ = stack.script("marker.py", &["hold", &name, &name, &host, pid, &expires.to_string()]);
        let out = deploy(ws.path(), &name, &[]);
        assert_eq!(out.code, 0, "{case}: {}\n{}", out.stderr, out.stdout);
        let reason = if case == "killed" { "no longer runs" } else { "expired" };
        assert!(out.stderr.contains(reason), "{case}: {}", out.stderr);
        assert_eq!(stack.script("marker.py", &["show", &name, &name]).trim(), "null", "{case}");
    }
}

#[test]
fn ctrl_c_during_the_apply_stops_at_a_safe_point_and_the_next_deploy_finishes() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let ws = fixture("web");
    let name = unique_name("intr");
    let (service, repository) = (format!("service={name}"), format!("repository={name}"));
    let mut child = Command::new(binary())
        .args(["ecs", "deploy", "--no-wait", "--output", "json", "--set", &service, "--set", &repository])
        .args(["--set", "assign-public-ip=true"])
        .current_dir(ws.path())
        .env("CARGO_TARGET_DIR", fixture_target_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start deploy");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    let mut signalled = false;
    for line in stderr.lines().map_while(Result::ok) {
        // The first step of the apply has begun: Ctrl-C.
        if !signalled && line.contains("\"begin\"") && line.contains("create execution role") {
            let pid = child.id().to_string();
            assert!(Command::new("kill").args(["-INT", &pid]).status().expect("kill").success());
            signalled = true;
        }
        seen.push(line);
    }
    let status = child.wait().expect("wait");
    let text = seen.join("\n");
    assert!(signalled, "the apply never began:\n{text}");
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(text.contains("stopped at a safe point"), "{text}");
    assert!(text.contains("not started: "), "says what remains: {text}");
    assert!(!text.contains("\"step\":\"create service"), "the service was not started: {text}");
    assert_eq!(stack.script("marker.py", &["show", &name, &name]).trim(), "null", "the marker is released");
    // The next deploy finishes the stack from what exists.
    let next = deploy(ws.path(), &name, &[]);
    assert_eq!(next.code, 0, "{}\n{}", next.stderr, next.stdout);
    assert!(next.stdout.contains("create service") || next.stderr.contains("create service"), "{}", next.stderr);
    let again = deploy(ws.path(), &name, &[]);
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
}

#[test]
fn two_deploys_of_one_service_started_together_apply_once_and_leave_no_duplicate() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let ws = fixture("web");
    let name = unique_name("race");
    let (service, repository) = (format!("service={name}"), format!("repository={name}"));
    let args = ["deploy", "--no-wait", "--output", "json", "--set", &service, "--set", &repository];
    let start = || {
        cargo_ecs_command(ws.path(), &args, &[])
            .args(["--set", "assign-public-ip=true"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start deploy")
    };
    // Compiled first (the fixture's target directory is shared), so both reach AWS at about the same time.
    let built = cargo_ecs(ws.path(), &["build"], &[]);
    assert_eq!(built.code, 0, "{}", built.stderr);
    let (a, b) = (start(), start());
    let outputs = [a.wait_with_output().expect("first"), b.wait_with_output().expect("second")];
    let mut applied = 0;
    for out in &outputs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => applied += 1,
            // The other one held the marker: a clear refusal that names it and says how to take over.
            Some(1) => {
                assert!(stderr.contains(&format!("service {name} is being deployed by")), "{stderr}");
                assert!(stderr.contains("--force"), "{stderr}");
            }
            other => panic!("exit {other:?}: {stderr}"),
        }
    }
    assert!(applied >= 1, "one of the two deploys applied");
    let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
    println!(
        "two deploys of {name} started together: exit codes {codes:?}: {applied} applied, {} refused",
        2 - applied
    );
    // However the two met, the service is whole, once.
    let plan_args =
        ["plan", "--output", "json", "--set", &service, "--set", &repository, "--set", "assign-public-ip=true"];
    let plan = cargo_ecs(ws.path(), &plan_args, &[]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let plan = plan.json()[0].clone();
    assert_eq!(plan_changes(&plan), Vec::<(String, String)>::new(), "{}", plan["plan"]);
    let counted = stack.duplicates(&name, &plan);
    assert_eq!(counted["duplicates"], serde_json::json!([]), "{counted}");
    assert_eq!(stack.script("marker.py", &["show", &name, &name]).trim(), "null", "no marker left behind");
}
