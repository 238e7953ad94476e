//! `cargo ecs destroy` end to end against the shimmed emulator: two services deployed into one cluster, checked
//! with an independent client (tests/stack/destroy_state.py, boto3) and the emulator's call log.
//!
//! These tests read the emulator's global call log, so they run one at a time (`Stack::lock`).

use cargo_ecs_tests::{Output, Stack, cargo_ecs, fixture, unique_name};
use serde_json::Value;

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    cargo_ecs(dir, args, &[])
}

#[test]
fn destroy_deletes_only_what_cargo_ecs_created_and_keeps_what_others_share() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let ws = fixture("web");
    let cluster = unique_name("shared");
    let first = unique_name("gone");
    let second = unique_name("stay");
    let zone = format!("{first}.example.com");
    let _certificate = stack.script("domain.py", &[&zone]);
    let sets = |name: &str, domain: bool| -> Vec<String> {
        let mut sets = vec![
            format!("service={name}"),
            format!("repository={name}"),
            format!("cluster={cluster}"),
            "assign-public-ip=true".to_owned(),
        ];
        if domain {
            sets.extend([
                format!("load-balancer.certificate=*.{zone}"),
                format!("dns.zone={zone}"),
                "dns.name=app".to_owned(),
            ]);
        }
        sets.into_iter().flat_map(|s| ["--set".to_owned(), s]).collect()
    };
    let first_sets = sets(&first, true);
    let second_sets = sets(&second, false);
    let with = |sets: &[String], args: &[&str]| -> Output {
        let all: Vec<&str> = args.iter().copied().chain(sets.iter().map(String::as_str)).collect();
        run(ws.path(), &all)
    };
    for (sets, name) in [(&first_sets, &first), (&second_sets, &second)] {
        let out = with(sets, &["deploy", "--no-wait"]);
        assert_eq!(out.code, 0, "deploy {name}:\n{}\n{}", out.stderr, out.stdout);
    }
    let unmanaged = unique_name("theirs");
    let _ = stack.script("destroy_state.py", &["create-unmanaged", &unmanaged]);
    let state = |name: &str| -> Value {
        let record = format!("app.{zone}");
        let mut args = vec!["state", cluster.as_str(), name, name, unmanaged.as_str()];
        if name == first {
            args.extend([zone.as_str(), record.as_str()]);
        }
        serde_json::from_str(&stack.script("destroy_state.py", &args)).expect("state JSON")
    };
    let before = state(&first);
    assert_eq!(before["service"], "ACTIVE", "{before}");
    assert_eq!(before["record"], true, "{before}");
    assert_eq!(before["security-groups"].as_array().map(Vec::len), Some(2), "{before}");
    // Both services share the cluster's load balancer: the first by a host rule, the second as its catch-all.
    assert_eq!((&before["load-balancer"], &before["rules"]), (&Value::Bool(true), &Value::from(1)), "{before}");

    // Without --yes and without a terminal: the list, a refusal, exit 2, and nothing changed.
    stack.reset_calls();
    let refused = with(&first_sets, &["destroy"]);
    assert_eq!(refused.code, 2, "{}\n{}", refused.stderr, refused.stdout);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(refused.stderr.contains(&format!("service {first} (cluster {cluster}) (delete)")), "{}", refused.stderr);
    assert_eq!(stack.mutating_calls(), Vec::<String>::new(), "a refused destroy changed AWS");
    assert_eq!(state(&first), before);

    // --yes: the first service's stack goes; the shared cluster, the images and the unmanaged resources stay.
    let destroyed = with(&first_sets, &["destroy", "--yes", "--output", "json"]);
    assert_eq!(destroyed.code, 0, "{}\n{}", destroyed.stderr, destroyed.stdout);
    let report = destroyed.json()[0].clone();
    let deleted: Vec<&str> =
        report["destroyed"]["deleted"].as_array().expect("deleted").iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(deleted.first(), Some(&"record"), "{report}");
    assert!(!deleted.contains(&"cluster") && !deleted.contains(&"repository"), "{report}");
    assert!(report["teardown"]["kept"].to_string().contains(&second), "the cluster is kept for {second}: {report}");
    let after = state(&first);
    assert_eq!(after["cluster"], "ACTIVE", "{after}");
    assert!(after["service"] != "ACTIVE", "{after}");
    assert_eq!(after["active-revisions"], 0, "{after}");
    for gone in ["target-group", "role", "log-group", "record"] {
        assert_eq!(after[gone], false, "{gone}: {after}");
    }
    assert_eq!(after["rules"], 0, "the first service's rule is gone: {after}");
    assert_eq!(after["load-balancer"], true, "the shared load balancer stays for {second}: {after}");
    assert_eq!(after["security-groups"], serde_json::json!([format!("{cluster}-lb")]), "{after}");
    assert!(report["teardown"]["kept"].to_string().contains(&format!("load balancer {cluster}")), "{report}");
    assert_eq!(after["repository"], true, "images stay without --purge-images: {after}");
    assert_eq!(after["unmanaged"], serde_json::json!({ "log-group": true, "security-group": true }));
    assert_eq!(state(&second)["service"], "ACTIVE", "the other service runs on");

    // Again: nothing to delete, no mutating call.
    stack.reset_calls();
    let again = with(&first_sets, &["destroy", "--yes"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stderr, again.stdout);
    assert!(again.stdout.contains("nothing to delete"), "{}", again.stdout);
    assert_eq!(stack.mutating_calls(), Vec::<String>::new(), "a second destroy changed AWS");

    // The last service of the cluster: the cluster goes too, and its images with --purge-images.
    let last = with(&second_sets, &["destroy", "--yes", "--purge-images"]);
    assert_eq!(last.code, 0, "{}\n{}", last.stderr, last.stdout);
    assert!(last.stdout.contains(&format!("cluster {cluster}")), "{}", last.stdout);
    let end = state(&second);
    assert!(end["cluster"] != "ACTIVE", "{end}");
    assert_eq!(end["load-balancer"], false, "the last user of the load balancer took it: {end}");
    assert_eq!(end["repository"], false, "{end}");
    assert_eq!(end["security-groups"], serde_json::json!([]), "{end}");
    assert_eq!(state(&first)["repository"], true, "the first service's images are still there");
    assert_eq!(end["unmanaged"], serde_json::json!({ "log-group": true, "security-group": true }));
}
