//! `cargo ecs config`: layering end to end through the real binary, and every kind of bad input rejected
//! with an actionable error before anything reaches AWS.

use cargo_ecs_tests::{Stack, cargo_ecs, fixture};
use serde_json::Value;

fn explained<'a>(json: &'a Value, package: &str, key: &str) -> &'a Value {
    let packages = json.as_array().expect("array of packages");
    let settings =
        packages.iter().find(|p| p["package"] == package).expect("package")["settings"].as_array().expect("settings");
    settings.iter().find(|e| e["key"] == key).unwrap_or_else(|| panic!("no {key}"))
}

#[test]
fn explain_shows_values_from_every_layer() {
    let ws = fixture("layered");
    let out = cargo_ecs(
        ws.path(),
        &["config", "--explain", "--output", "json", "-p", "api", "--env", "prod", "--set", "health-check-path=/ready"],
        &[("CARGO_ECS_REGION", "eu-west-3")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    let layer = |key: &str| explained(&json, "api", key)["source"]["layer"].as_str().expect("layer").to_owned();
    let value = |key: &str| explained(&json, "api", key)["value"].clone();
    assert_eq!((layer("cluster"), value("cluster")), ("workspace-metadata".to_owned(), "platform".into()));
    assert_eq!((layer("port"), value("port")), ("package-metadata".to_owned(), 8080.into()));
    assert_eq!((layer("cpu"), value("cpu")), ("workspace-environment".to_owned(), "1 vCPU".into()));
    assert_eq!((layer("memory"), value("memory")), ("package-environment".to_owned(), "4 GB".into()));
    assert_eq!((layer("region"), value("region")), ("env-var".to_owned(), "eu-west-3".into()));
    assert_eq!((layer("health-check-path"), value("health-check-path")), ("flag".to_owned(), "/ready".into()));
    assert_eq!(layer("family"), "default");
    let file = explained(&json, "api", "memory")["source"]["file"].as_str().expect("file").to_owned();
    assert!(file.ends_with("api/Cargo.toml"), "{file}");
    let distinct: std::collections::BTreeSet<String> = json[0]["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .map(|e| e["source"]["layer"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(distinct.len() >= 6, "{distinct:?}");

    // The resolved view agrees: sizes normalised, names derived with the environment.
    let out = cargo_ecs(ws.path(), &["config", "--output", "json", "-p", "api", "--env", "prod"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let settings = &out.json()[0];
    assert_eq!((settings["cpu"].as_u64(), settings["memory"].as_u64()), (Some(1024), Some(4096)));
    assert_eq!(settings["service"], "api-prod");
    assert_eq!(settings["desired-count"], 2);
    assert_eq!(settings["env"]["RUST_LOG"], "info");
}

#[test]
fn explain_text_names_layers_and_files() {
    let ws = fixture("layered");
    let out = cargo_ecs(&ws.path().join("api"), &["config", "--explain", "--env", "prod"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = |key: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("{key}:\n{}", out.stdout))
            .to_owned()
    };
    assert!(line("cluster").contains("workspace metadata in ") && line("cluster").contains("[workspace.metadata.ecs]"));
    assert!(
        line("memory").contains("package environment `prod` in ")
            && line("memory").contains("[package.metadata.ecs.environments.prod]")
    );
    assert!(line("family").contains("default (from service)"));
}

#[test]
fn workspace_selects_configured_members_and_reports_each_problem() {
    let ws = fixture("layered");
    // `tools` has two binaries and no `bin`: the whole selection is refused, naming the package and the fix.
    let out = cargo_ecs(ws.path(), &["config", "--workspace"], &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("package `tools`") && out.stderr.contains("has several binaries: "), "{}", out.stderr);
    assert!(out.stderr.contains("choose one with `bin = "), "{}", out.stderr);
    let out = cargo_ecs(ws.path(), &["config", "--workspace", "--output", "json", "--set", "bin=server"], &[]);
    assert_eq!(out.code, 2, "`server` is not a binary of api: {}", out.stdout);
    let out = cargo_ecs(ws.path(), &["config", "-p", "tools", "--set", "bin=server", "--output", "json"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()[0]["bin"], "server");
    // A virtual manifest with several configured members needs a choice.
    let out = cargo_ecs(ws.path(), &["config"], &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("virtual workspace manifest") && out.stderr.contains("-p (api, tools)"),
        "{}",
        out.stderr
    );
    // A member without settings still resolves to defaults (from the workspace's table).
    let out = cargo_ecs(&ws.path().join("plain"), &["config", "--output", "json"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()[0]["cluster"], "platform");
}

/// A bad input: where to run, the arguments, the environment variables, and what the error must say.
type BadInput<'a> = (&'a std::path::Path, Vec<&'a str>, Vec<(&'a str, &'a str)>, Vec<&'a str>);

/// Every bad input: a clear error naming the setting and where it was set, exit code 2, and AWS untouched.
#[test]
fn bad_input_is_rejected_before_anything_reaches_aws() {
    let stack = Stack::get();
    let _aws = stack.lock();
    // First show that the snapshot sees a change at all; otherwise "unchanged" below would prove nothing.
    let probe = format!("probe-{}", std::process::id());
    let empty = stack.snapshot();
    let _ = stack.script("probe.py", &["create-cluster", &probe]);
    let with_probe = stack.snapshot();
    let _ = stack.script("probe.py", &["delete-cluster", &probe]);
    assert_ne!(empty, with_probe);
    assert!(with_probe["ecs.clusters"].to_string().contains(&probe), "{with_probe}");

    let ws = fixture("layered");
    let invalid = fixture("invalid");
    std::fs::write(
        ws.path().join("plain/Cargo.toml"),
        "[package]\nname = \"plain\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[package.metadata.ecs]\nmemroy = 1024\n",
    )
    .expect("write");
    let before = stack.snapshot();
    let api = ws.path().join("api");
    let plain = ws.path().join("plain");
    let cases: Vec<BadInput<'_>> = vec![
        (
            invalid.path(),
            vec!["deploy"],
            vec![],
            vec![
                "5 invalid settings",
                "memory: 4096 MiB with 256 CPU units is not a Fargate size",
                "help: with cpu 256 (0.25 vCPU), memory must be 512, 1024, 2048 MiB",
                "port: 70000 is out of range",
                "log-retention-days: 13 days is not a retention period CloudWatch Logs accepts",
                "health-check-path: \"health\" does not start with \"/\"",
                "load-balancer.name: \"a-load-balancer-name-that-is-far-too-long\" is 41 characters long; at most 32 are allowed",
                "[package.metadata.ecs]",
                "nothing was changed in AWS",
            ],
        ),
        (
            &plain,
            vec!["deploy"],
            vec![],
            vec!["memroy: unknown setting", "did you mean `memory`?", "plain/Cargo.toml [package.metadata.ecs]"],
        ),
        (
            &api,
            vec!["plan", "--set", "cpu=3 vCPU"],
            vec![],
            vec!["cpu: 3072 CPU units is not a Fargate size", "set by flag --set cpu=3 vCPU"],
        ),
        (
            &api,
            vec!["deploy", "--set", "dns.zone=example.com"],
            vec![],
            vec!["dns.name: `dns.zone` is set (flag --set dns.zone=example.com) but `dns.name` is not"],
        ),
        (
            &api,
            vec!["deploy"],
            vec![("CARGO_ECS_SPOT", "maybe")],
            vec!["spot: expected true or false, found \"maybe\"", "set by environment variable CARGO_ECS_SPOT"],
        ),
        (
            &api,
            vec!["deploy"],
            vec![("CARGO_ECS_MEMROY", "1")],
            vec!["unknown CARGO_ECS_ variable", "did you mean CARGO_ECS_MEMORY?"],
        ),
        (
            &api,
            vec!["deploy", "--env", "staging"],
            vec![],
            vec!["environment `staging` is not defined for package `api`", "defined environments: prod"],
        ),
        (
            &api,
            vec!["deploy", "--region", "moon-1"],
            vec![],
            vec!["region: \"moon-1\" is not an AWS region name", "set by flag --region"],
        ),
        (
            &api,
            vec!["deploy", "--set", "load-balancer.certificate=arn:aws:acm:us-east-1:1:certificate/x"],
            vec![],
            vec!["has no 12-digit account id"],
        ),
        (
            &api,
            vec!["deploy", "--set", "load-balancer.path=api/*"],
            vec![],
            vec!["load-balancer.path:", "\"api/*\" is not a path prefix below \"/\""],
        ),
        (
            &api,
            vec!["deploy", "--set", "execution-role=arn:aws:iam::123456789012:user/bob"],
            vec![],
            vec!["is not an IAM role ARN"],
        ),
        (
            &api,
            vec!["deploy", "--set", "image.dockerfile=nope/Dockerfile"],
            vec![],
            vec!["image.dockerfile:", "nope/Dockerfile does not exist"],
        ),
        (
            ws.path(),
            vec!["deploy", "-p", "apj"],
            vec![],
            vec!["package `apj` is not a member of this workspace", "did you mean `api`?"],
        ),
        (
            ws.path(),
            vec!["deploy", "--manifest-path", "missing/Cargo.toml"],
            vec![],
            vec!["--manifest-path", "does not exist"],
        ),
    ];
    for (dir, args, vars, expected) in &cases {
        let out = cargo_ecs(dir, args, vars);
        assert_eq!(out.code, 2, "{args:?} {vars:?} should be refused as bad input:\n{}", out.stderr);
        for text in expected {
            assert!(out.stderr.contains(text), "{args:?} {vars:?}: missing {text:?} in:\n{}", out.stderr);
        }
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    assert_eq!(stack.snapshot(), before, "bad input changed AWS");
}

#[test]
fn json_errors_are_machine_readable() {
    let invalid = fixture("invalid");
    let out = cargo_ecs(invalid.path(), &["config", "--output", "json"], &[]);
    assert_eq!(out.code, 2);
    let json = out.json();
    let settings = json["error"]["settings"].as_array().expect("settings");
    assert_eq!(settings.len(), 5);
    let memory = settings.iter().find(|s| s["key"] == "memory").expect("memory error");
    assert_eq!(memory["source"]["layer"], "package-metadata");
    assert!(memory["source"]["file"].as_str().is_some_and(|f| f.ends_with("Cargo.toml")));
    assert!(memory["help"].as_str().is_some_and(|h| h.contains("512, 1024, 2048")));
}
