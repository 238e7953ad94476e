//! Several services of one workspace deployed together against the shimmed emulator: one cargo invocation, one
//! shared load balancer with a listener rule per service, and a second run that changes nothing. Checked with an
//! independent boto3 reader (tests/stack/shared_lb.py) and the emulator's call log.

use cargo_ecs_tests::{Output, Stack, cargo_ecs, fixture, unique_name};

use serde_json::Value;

/// Runs the binary in `dir` with `args` and the settings every run of this test shares.
fn run(dir: &std::path::Path, args: &[&str], sets: &[String]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    for set in sets {
        all.extend(["--set", set.as_str()]);
    }
    cargo_ecs(dir, &all, &[])
}

/// The fixture `shop` with the environment `env` defined (empty): names then end in `-ENV`, unique to the test.
fn shop(env: &str) -> tempfile::TempDir {
    let ws = fixture("shop");
    let manifest = ws.path().join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest).expect("manifest");
    text.push_str(&format!("\n[workspace.metadata.ecs.environments.{env}]\n"));
    std::fs::write(&manifest, text).expect("write manifest");
    ws
}

fn shared(stack: &Stack, lb: &str, zone: &str) -> Value {
    serde_json::from_str(&stack.script("shared_lb.py", &[lb, zone])).expect("shared_lb JSON")
}

#[test]
fn a_workspace_deploys_its_services_behind_one_load_balancer_and_keeps_it_while_one_is_destroyed() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let env = unique_name("e");
    let ws = shop(&env);
    let cluster = unique_name("shop");
    let zone = format!("{cluster}.example.com");
    let _certificate = stack.script("domain.py", &[&zone]);
    let sets =
        [format!("cluster={cluster}"), format!("dns.zone={zone}"), format!("load-balancer.certificate=*.{zone}")];
    let services = ["catalog", "cart", "search"].map(|s| format!("{s}-{env}"));

    // One command deploys the three: one build, then each concurrently, each reported.
    stack.reset_calls();
    let first = run(ws.path(), &["--env", &env, "--workspace", "deploy", "--no-wait", "--output", "json"], &sets);
    assert_eq!(first.code, 0, "{}\n{}", first.stderr, first.stdout);
    let results = first.json();
    let results = results.as_array().expect("one result per service");
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(results.iter().all(|r| r["ok"] == true), "{results:?}");
    let compiles = first.stderr.lines().filter(|l| l.contains("\"begin\"") && l.contains("compile ")).count();
    assert_eq!(compiles, 1, "one cargo invocation for the three services:\n{}", first.stderr);
    // What the three share is read once and created once; what each has of its own, once per service.
    let calls = stack.calls();
    let count = |call: &str| calls.iter().filter(|c| *c == call).count();
    for (call, times) in [
        ("sts:GetCallerIdentity", 1),
        ("ec2:DescribeVpcs", 1),
        ("ec2:DescribeSubnets", 1),
        ("acm:ListCertificates", 1),
        ("ecs:DescribeClusters", 1),
        ("ecs:CreateCluster", 1),
        ("elasticloadbalancing:DescribeLoadBalancers", 1),
        ("elasticloadbalancing:CreateLoadBalancer", 1),
        ("elasticloadbalancing:AddTags", 3),
        ("elasticloadbalancing:CreateListener", 2),
        ("ec2:CreateSecurityGroup", 4),
        ("ecr:GetAuthorizationToken", 1),
        ("elasticloadbalancing:CreateTargetGroup", 3),
        ("ecs:CreateService", 3),
    ] {
        assert_eq!(count(call), times, "{call}: {calls:?}");
    }

    // One load balancer, three target groups, three rules, three records; every service counted as a user.
    let state = shared(&stack, &cluster, &zone);
    assert_eq!(state["load-balancers"], 1, "{state}");
    let mut expected_groups: Vec<String> = services.to_vec();
    expected_groups.sort();
    assert_eq!(state["target-groups"], serde_json::json!(expected_groups), "{state}");
    assert_eq!(state["users"], serde_json::json!(expected_groups), "{state}");
    let rules = state["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 3, "{state}");
    assert!(rules.iter().all(|r| r[0] == 443), "every rule on HTTPS: {state}");
    let priorities: std::collections::BTreeSet<u64> = rules.iter().filter_map(|r| r[1].as_u64()).collect();
    assert_eq!(priorities.len(), 3, "no two rules share a priority: {state}");
    let search = rules.iter().find(|r| r[4] == services[2].as_str()).expect("search's rule");
    assert_eq!(search[2], format!("api.{zone}"), "{state}");
    assert_eq!(search[3], serde_json::json!(["/search", "/search/*"]), "{state}");
    let host_only = rules.iter().filter(|r| r[3].as_array().is_some_and(Vec::is_empty));
    assert!(
        host_only.filter_map(|r| r[1].as_u64()).all(|p| p > search[1].as_u64().unwrap_or(0)),
        "host and path is evaluated before a host alone: {state}"
    );
    assert_eq!(
        state["records"],
        serde_json::json!([format!("api.{zone}"), format!("cart.{zone}"), format!("catalog.{zone}")]),
        "{state}"
    );
    assert_eq!(state["listeners"], serde_json::json!([[80, "HTTP", "redirect"], [443, "HTTPS", "fixed-response"]]));

    // A second run changes nothing.
    stack.reset_calls();
    let again = run(ws.path(), &["--env", &env, "--workspace", "deploy", "--no-wait"], &sets);
    assert_eq!(again.code, 0, "{}\n{}", again.stderr, again.stdout);
    assert_eq!(stack.mutating_calls(), Vec::<String>::new(), "{}", again.stdout);
    for service in &services {
        assert!(
            again.stdout.lines().any(|l| l.starts_with(service.as_str()) && l.contains("no changes")),
            "{}",
            again.stdout
        );
    }

    // cart is destroyed and leaves the workspace: the load balancer stays for the others, without cart's rule.
    let destroyed = run(ws.path(), &["--env", &env, "-p", "cart", "destroy", "--yes"], &sets);
    assert_eq!(destroyed.code, 0, "{}\n{}", destroyed.stderr, destroyed.stdout);
    let manifest = ws.path().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(&manifest, text.replace("\"cart\", ", "")).expect("edit manifest");
    let state = shared(&stack, &cluster, &zone);
    assert_eq!(state["load-balancers"], 1, "{state}");
    assert_eq!(state["rules"].as_array().map(Vec::len), Some(2), "{state}");
    assert!(!state["target-groups"].to_string().contains(&services[1]), "{state}");
    assert!(!state["users"].to_string().contains(&services[1]), "{state}");
    assert_eq!(state["records"].as_array().map(Vec::len), Some(2), "{state}");
    stack.reset_calls();
    let after = run(ws.path(), &["--env", &env, "--workspace", "deploy", "--no-wait"], &sets);
    assert_eq!(after.code, 0, "{}\n{}", after.stderr, after.stdout);
    assert_eq!(stack.mutating_calls(), Vec::<String>::new(), "the others are untouched: {}", after.stdout);

    // The last two go, and the load balancer with them.
    let gone = run(ws.path(), &["--env", &env, "--workspace", "destroy", "--yes"], &sets);
    assert_eq!(gone.code, 0, "{}\n{}", gone.stderr, gone.stdout);
    assert_eq!(shared(&stack, &cluster, &zone)["load-balancers"], 0);
}

#[test]
fn one_service_that_fails_does_not_stop_the_others_and_the_exit_code_says_so() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let env = unique_name("f");
    let ws = shop(&env);
    let cluster = unique_name("fail");
    // cart's code does not compile: the others still deploy.
    let cart = ws.path().join("cart/Cargo.toml");
    let text = std::fs::read_to_string(&cart).expect("cart manifest");
    std::fs::write(&cart, text.replace("../server/main.rs", "src/broken.rs")).expect("edit");
    std::fs::create_dir_all(ws.path().join("cart/src")).expect("mkdir");
    std::fs::write(ws.path().join("cart/src/broken.rs"), "fn main() { let x: u32 = \"no\"; }\n").expect("write");
    let zone = format!("{cluster}.example.com");
    let _certificate = stack.script("domain.py", &[&zone]);
    let sets =
        [format!("cluster={cluster}"), format!("dns.zone={zone}"), format!("load-balancer.certificate=*.{zone}")];
    let out = run(ws.path(), &["--env", &env, "--workspace", "deploy", "--no-wait"], &sets);
    assert_eq!(out.code, 1, "{}\n{}", out.stderr, out.stdout);
    assert!(out.stderr.contains("1 of 3 services failed"), "{}", out.stderr);
    let table: Vec<&str> = out.stdout.lines().collect();
    assert!(table[0].starts_with("SERVICE"), "{}", out.stdout);
    for (service, result) in [("catalog", "ok"), ("cart", "FAILED"), ("search", "ok")] {
        let line = table.iter().find(|l| l.starts_with(&format!("{service}-{env}"))).expect("a line per service");
        assert!(line.contains(result), "{line}");
    }
    assert!(out.stdout.contains("mismatched types"), "the failure in full: {}", out.stdout);
    let gone = run(ws.path(), &["--env", &env, "-p", "catalog", "-p", "search", "destroy", "--yes"], &sets);
    assert_eq!(gone.code, 0, "{}\n{}", gone.stderr, gone.stdout);
}
