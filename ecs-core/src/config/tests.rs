//! Layering and validation of whole settings, from plain data (no cargo, no AWS).

use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;
use crate::workspace::{Member, Selection, Workspace};

const ROOT: &str = "/w/Cargo.toml";
const APP: &str = "/w/app/Cargo.toml";

fn workspace(workspace_ecs: Value, package_ecs: Value) -> Workspace {
    Workspace {
        root_manifest: PathBuf::from(ROOT),
        ecs_metadata: workspace_ecs,
        members: vec![Member { info: PackageInfo::with_one_bin("app", APP), ecs_metadata: package_ecs }],
        manifest: PathBuf::from(APP),
    }
}

fn request(environment: Option<&str>, vars: &[(&str, &str)], sets: &[&str]) -> LoadRequest {
    LoadRequest {
        environment: environment.map(str::to_owned),
        env_vars: vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        flags: sets.iter().map(|s| FlagSetting::parse_set(s).expect("KEY=VALUE")).collect(),
        cwd: PathBuf::from("/w/app"),
        selection: Selection::default(),
        manifest_path: None,
    }
}

fn resolve_one(ws: &Value, pkg: &Value, req: &LoadRequest) -> Resolved {
    let mut all = resolve_workspace(&workspace(ws.clone(), pkg.clone()), req).expect("valid settings");
    all.remove(0)
}

fn errors(ws: &Value, pkg: &Value, req: &LoadRequest) -> Vec<String> {
    match resolve_workspace(&workspace(ws.clone(), pkg.clone()), req) {
        Err(Error::Settings(errors)) => errors.iter().map(ToString::to_string).collect(),
        other => panic!("expected settings errors, got {other:?}"),
    }
}

fn source_of(resolved: &Resolved, key: &str) -> Source {
    resolved.explain.iter().find(|e| e.key == key).map(|e| e.source.clone()).expect(key)
}

#[test]
fn defaults_with_no_settings_at_all() {
    let r = resolve_one(&Value::Null, &json!({}), &request(None, &[], &[]));
    let s = &r.settings;
    assert_eq!((s.service.as_str(), s.cluster.as_str(), s.repository.as_str()), ("app", "app", "app"));
    assert_eq!((s.family.as_str(), s.container.as_str(), s.bin.as_str()), ("app", "app", "app"));
    assert_eq!((s.cpu, s.memory, s.port), (256, 512, 80));
    assert_eq!(s.architecture, Architecture::Arm64);
    assert_eq!(s.execution_role, "app-execution");
    assert_eq!(s.log_retention_days, 30);
    assert_eq!(s.desired_count, None);
    assert_eq!(s.initial_desired_count(), 1);
    assert!(!s.assign_public_ip);
    let lb = s.load_balancer.as_ref().expect("enabled by default");
    assert_eq!((lb.name.as_str(), lb.target_group.as_str(), lb.certificate.as_deref()), ("app", "app", None));
    assert_eq!(s.image.builder, ImageBuilder::Oci);
    assert_eq!(s.image.base, "scratch");
    assert_eq!(s.image.libc, Libc::Musl);
    assert_eq!(s.build.profile, "release");
    assert_eq!(source_of(&r, "family"), Source::Default { from: Some("service".to_owned()) });
    assert_eq!(source_of(&r, "bin"), Source::Default { from: Some("the only binary".to_owned()) });
}

#[test]
fn each_layer_overrides_the_one_before() {
    let ws = json!({ "cpu": 512, "memory": 1024, "port": 8080, "region": "eu-west-1", "log-retention-days": 7,
        "environments": { "prod": { "memory": 2048, "desired-count": 2, "port": 9000 } } });
    let pkg = json!({ "memory": 4096, "port": 8081, "region": "eu-west-2",
        "environments": { "prod": { "port": 9001, "region": "eu-west-3" } } });
    let req = request(
        Some("prod"),
        &[("CARGO_ECS_REGION", "us-west-2"), ("CARGO_ECS_DESIRED_COUNT", "3")],
        &["desired-count=4"],
    );
    let r = resolve_one(&ws, &pkg, &req);
    let s = &r.settings;
    // workspace < package < workspace env < package env < variables < flags
    assert_eq!(s.log_retention_days, 7);
    assert_eq!(source_of(&r, "log-retention-days"), Source::WorkspaceMetadata { file: ROOT.into() });
    assert_eq!(s.cpu, 512);
    assert_eq!(s.memory, 2048);
    assert_eq!(source_of(&r, "memory"), Source::WorkspaceEnvironment { name: "prod".to_owned(), file: ROOT.into() });
    assert_eq!(s.port, 9001);
    assert_eq!(source_of(&r, "port"), Source::PackageEnvironment { name: "prod".to_owned(), file: APP.into() });
    assert_eq!(s.region.as_deref(), Some("us-west-2"));
    assert_eq!(source_of(&r, "region"), Source::EnvVar { name: "CARGO_ECS_REGION".to_owned() });
    assert_eq!(s.desired_count, Some(4));
    assert_eq!(source_of(&r, "desired-count"), Source::Flag { flag: "--set desired-count=4".to_owned() });
    // the environment's name reaches the derived names
    assert_eq!(s.service, "app-prod");
    assert_eq!(s.repository, "app");
    assert_eq!(s.environment.as_deref(), Some("prod"));
}

#[test]
fn package_settings_override_workspace_defaults_key_by_key() {
    let ws = json!({ "cluster": "shared", "spot": true, "load-balancer": { "certificate": "*.example.com", "name": "shared-alb" } });
    let pkg = json!({ "load-balancer": { "name": "own-alb" } });
    let r = resolve_one(&ws, &pkg, &request(None, &[], &[]));
    let lb = r.settings.load_balancer.expect("enabled");
    assert_eq!(r.settings.cluster, "shared");
    assert!(r.settings.spot);
    assert_eq!(lb.name, "own-alb");
    assert_eq!(lb.certificate.as_deref(), Some("*.example.com"));
}

#[test]
fn maps_merge_name_by_name() {
    let ws = json!({ "env": { "RUST_LOG": "info", "REGION_NAME": "eu" }, "tags": { "team": "core" } });
    let pkg = json!({ "env": { "RUST_LOG": "debug", "PORT": 8080 }, "environments": { "prod": { "env": { "RUST_LOG": "warn" } } } });
    let r = resolve_one(&ws, &pkg, &request(Some("prod"), &[], &["env.EXTRA=1"]));
    let env: Vec<(&str, &str)> = r.settings.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(env, vec![("EXTRA", "1"), ("PORT", "8080"), ("REGION_NAME", "eu"), ("RUST_LOG", "warn")]);
    assert_eq!(r.settings.tags["team"], "core");
    assert_eq!(source_of(&r, "env.REGION_NAME"), Source::WorkspaceMetadata { file: ROOT.into() });
}

#[test]
fn explain_lists_every_setting_once_in_schema_order() {
    let r = resolve_one(&Value::Null, &json!({ "env": { "A": "1" } }), &request(None, &[], &[]));
    let keys: Vec<&str> = r.explain.iter().map(|e| e.key.as_str()).collect();
    let expected: Vec<&str> = schema::KEYS
        .iter()
        .map(|k| if k.path == "env" { "env.A" } else { k.path })
        .filter(|k| *k != "secrets" && *k != "tags")
        .collect();
    assert_eq!(keys, expected);
}

#[test]
fn sizes_in_words_are_normalised() {
    let r = resolve_one(&Value::Null, &json!({ "cpu": ".5 vCPU", "memory": "1 GB" }), &request(None, &[], &[]));
    assert_eq!((r.settings.cpu, r.settings.memory), (512, 1024));
    let r = resolve_one(&Value::Null, &json!({ "cpu": "16 vCPU", "memory": "120 GB" }), &request(None, &[], &[]));
    assert_eq!((r.settings.cpu, r.settings.memory), (16384, 122_880));
}

#[test]
fn invalid_fargate_sizes_name_the_setting_the_file_and_what_is_allowed() {
    let errs = errors(&Value::Null, &json!({ "cpu": 256, "memory": 4096 }), &request(None, &[], &[]));
    assert_eq!(
        errs,
        vec![
            "`memory` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): 4096 MiB with 256 CPU units is not a Fargate size\n  help: with cpu 256 (0.25 vCPU), memory must be 512, 1024, 2048 MiB; 4096 MiB pairs with cpu 512 or 1024 or 2048"
        ]
    );
    let errs = errors(&Value::Null, &json!({ "cpu": 300 }), &request(None, &[], &[]));
    assert!(
        errs[0].contains("300 CPU units is not a Fargate size\n  help: use one of 256 (0.25 vCPU), 512 (0.5 vCPU)"),
        "{errs:?}"
    );
    let errs = errors(&Value::Null, &json!({ "memory": "lots" }), &request(None, &[], &[]));
    assert!(errs[0].contains("\"lots\" is not an amount of memory"), "{errs:?}");
}

#[test]
fn a_timeout_error_blames_the_value_set_last() {
    let errs = errors(&Value::Null, &json!({ "health-check-interval": 5 }), &request(None, &[], &[]));
    assert!(errs[0].starts_with("`health-check-interval` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): a timeout of 5 s is not less than the interval of 5 s"), "{errs:?}");
}

#[test]
fn a_size_error_blames_the_value_set_last() {
    let errs = errors(&json!({ "memory": 2048 }), &json!({}), &request(None, &[], &["cpu=4096"]));
    assert!(errs[0].starts_with("`cpu` (flag --set cpu=4096): 2048 MiB with 4096 CPU units"), "{errs:?}");
}

#[test]
fn every_single_value_rule_reports_its_setting() {
    let cases: &[(Value, &str)] = &[
        (
            json!({ "port": 0 }),
            "`port` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): 0 is out of range\n  help: use a whole number from 1 to 65535",
        ),
        (
            json!({ "health-check-path": "health" }),
            "`health-check-path` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"health\" does not start with \"/\"",
        ),
        (
            json!({ "log-retention-days": 13 }),
            "`log-retention-days` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): 13 days is not a retention period CloudWatch Logs accepts\n  help: use one of 1, 3, 5, 7, 14, 30",
        ),
        (
            json!({ "load-balancer": { "name": "a-load-balancer-name-that-is-too-long" } }),
            "`load-balancer.name` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"a-load-balancer-name-that-is-too-long\" is 37 characters long; at most 32 are allowed",
        ),
        (
            json!({ "load-balancer": { "target-group": "-tg" } }),
            "`load-balancer.target-group` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"-tg\" is not a valid name",
        ),
        (
            json!({ "load-balancer": { "certificate": "arn:aws:acm:us-east-1:42:certificate/x" } }),
            "`load-balancer.certificate` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"arn:aws:acm:us-east-1:42:certificate/x\" has no 12-digit account id",
        ),
        (
            json!({ "execution-role": "arn:aws:iam::123456789012:policy/x" }),
            "`execution-role` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"arn:aws:iam::123456789012:policy/x\" is not an IAM role ARN",
        ),
        (
            json!({ "task-role": "bad role" }),
            "`task-role` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"bad role\" is not a valid IAM role name",
        ),
        (
            json!({ "region": "mars-1" }),
            "`region` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"mars-1\" is not an AWS region name",
        ),
        (
            json!({ "vpc": "vpc-123" }),
            "`vpc` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"vpc-123\" is not a vpc id",
        ),
        (
            json!({ "subnets": ["subnet-0123abcd", "sub-1"] }),
            "`subnets` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"sub-1\" is not a subnet id",
        ),
        (
            json!({ "service": "my.service" }),
            "`service` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"my.service\" is not a valid ECS name",
        ),
        (
            json!({ "cluster": "" }),
            "`cluster` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"\" is not a valid ECS name",
        ),
        (
            json!({ "repository": "Upper" }),
            "`repository` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"Upper\" is not a valid ECR repository name",
        ),
        (
            json!({ "family": "a/b" }),
            "`family` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"a/b\" is not a valid ECS name",
        ),
        (
            json!({ "container": "a b" }),
            "`container` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"a b\" is not a valid ECS name",
        ),
        (
            json!({ "desired-count": 5001 }),
            "`desired-count` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): 5001 is out of range",
        ),
        (
            json!({ "health-check-interval": 4 }),
            "`health-check-interval` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): 4 is out of range\n  help: use a whole number from 5 to 300",
        ),
        (
            json!({ "healthy-threshold": 11 }),
            "`healthy-threshold` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): 11 is out of range",
        ),
        (
            json!({ "unhealthy-threshold": 1 }),
            "`unhealthy-threshold` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): 1 is out of range",
        ),
        (
            json!({ "deregistration-delay": 3601 }),
            "`deregistration-delay` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): 3601 is out of range",
        ),
        (
            json!({ "health-check-timeout": 10 }),
            "`health-check-timeout` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): a timeout of 10 s is not less than the interval of 10 s",
        ),
        (
            json!({ "env": { "1BAD": "x" } }),
            "`env.1BAD` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"1BAD\" is not a valid environment variable name",
        ),
        (
            json!({ "secrets": { "DB": "arn:aws:s3:us-east-1:123456789012:x" } }),
            "`secrets.DB` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"arn:aws:s3:us-east-1:123456789012:x\" is neither an SSM parameter ARN nor a Secrets Manager secret ARN",
        ),
        (
            json!({ "tags": { "aws:x": "y" } }),
            "`tags.aws:x` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): tag key \"aws:x\" uses a reserved prefix",
        ),
        (
            json!({ "dns": { "zone": "example.com", "name": "api.other.org." } }),
            "`dns.name` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"api.other.org.\" is not inside the zone \"example.com\"",
        ),
        (
            json!({ "dns": { "zone": "localhost", "name": "api" } }),
            "`dns.zone` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"localhost\" is not a valid domain name",
        ),
        (
            json!({ "image": { "base": "bad image" } }),
            "`image.base` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"bad image\" is not an image reference",
        ),
        (
            json!({ "build": { "profile": "bad profile" } }),
            "`build.profile` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): \"bad profile\" is not a cargo profile name",
        ),
        (
            json!({ "bin": "ap" }),
            "`bin` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): `ap` is not a binary of this package\n  help: did you mean `app`? binaries of `app`: app",
        ),
    ];
    for (pkg, expected) in cases {
        let errs = errors(&Value::Null, pkg, &request(None, &[], &[]));
        assert_eq!(errs.len(), 1, "{pkg}: {errs:?}");
        assert!(errs[0].starts_with(expected), "{pkg}:\n got: {}\nwant: {expected}", errs[0]);
    }
}

#[test]
fn an_invalid_default_says_to_set_the_value() {
    let mut ws = workspace(Value::Null, json!({}));
    ws.members[0].info.name = "a".to_owned();
    ws.members[0].info.bins = vec!["a".to_owned()];
    let Err(Error::Settings(errs)) = resolve_workspace(&ws, &request(None, &[], &[])) else {
        panic!("expected errors")
    };
    assert_eq!(
        errs[0].to_string(),
        "`repository` (default (from package name)): \"a\" must be 2 to 256 characters long\n  help: use 2 to 256 lower-case letters and digits, separated by single '.', '_', '-' or '/' (e.g. \"team/api\"); the default did not fit, so set `repository` yourself"
    );
}

#[test]
fn combinations_are_checked() {
    let none = request(None, &[], &[]);
    let errs = errors(&Value::Null, &json!({ "dns": { "zone": "example.com" } }), &none);
    assert!(errs[0].starts_with("`dns.name`: `dns.zone` is set (package metadata in /w/app/Cargo.toml [package.metadata.ecs]) but `dns.name` is not"), "{errs:?}");
    let errs = errors(&Value::Null, &json!({ "dns": { "zone": "example.com", "name": "@", "type": "cname" } }), &none);
    assert!(errs[0].contains("a CNAME cannot stand at the zone apex (example.com)"), "{errs:?}");
    let errs = errors(
        &Value::Null,
        &json!({ "load-balancer": { "enabled": false }, "dns": { "zone": "example.com", "name": "api" } }),
        &none,
    );
    assert!(errs[0].contains("a DNS record needs the load balancer, which is disabled"), "{errs:?}");
    let errs =
        errors(&Value::Null, &json!({ "load-balancer": { "enabled": false, "certificate": "*.example.com" } }), &none);
    assert!(errs[0].contains("a certificate needs the load balancer"), "{errs:?}");
    let errs = errors(&Value::Null, &json!({ "env": { "DB": "x" }, "secrets": { "DB": "/prod/db" } }), &none);
    assert!(errs[0].contains("`DB` is set both in `env` and in `secrets`"), "{errs:?}");
    let errs = errors(&Value::Null, &json!({ "image": { "libc": "gnu" } }), &none);
    assert!(errs[0].contains("a glibc binary cannot run on the empty `scratch` base"), "{errs:?}");
    let errs = errors(&Value::Null, &json!({ "image": { "base": "gcr.io/distroless/cc" } }), &none);
    assert!(errs[0].contains("the oci builder builds FROM scratch only"), "{errs:?}");
    let errs = errors(&Value::Null, &json!({ "image": { "dockerfile": "missing/Dockerfile" } }), &none);
    assert!(errs[0].starts_with("`image.dockerfile` (package metadata in /w/app/Cargo.toml [package.metadata.ecs]): /w/app/missing/Dockerfile does not exist"), "{errs:?}");
}

#[test]
fn without_a_load_balancer_tasks_get_a_public_ip() {
    let r = resolve_one(&Value::Null, &json!({ "load-balancer": { "enabled": false } }), &request(None, &[], &[]));
    assert!(r.settings.load_balancer.is_none());
    assert!(r.settings.assign_public_ip);
    assert_eq!(source_of(&r, "assign-public-ip"), Source::Default { from: Some("load-balancer.enabled".to_owned()) });
}

#[test]
fn a_dockerfile_is_relative_to_the_manifest_that_names_it_and_picks_the_docker_builder() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("app/docker")).expect("mkdir");
    std::fs::write(dir.path().join("app/docker/Dockerfile"), "FROM scratch\n").expect("write");
    let app = dir.path().join("app/Cargo.toml");
    let mut ws = workspace(Value::Null, json!({ "image": { "dockerfile": "docker/Dockerfile" } }));
    ws.members[0].info.manifest_path.clone_from(&app);
    let r = resolve_workspace(&ws, &request(None, &[], &[])).expect("valid").remove(0);
    assert_eq!(r.settings.image.dockerfile.as_deref(), Some(dir.path().join("app/docker/Dockerfile").as_path()));
    assert_eq!(r.settings.image.builder, ImageBuilder::Docker);
    assert_eq!(source_of(&r, "image.builder"), Source::Default { from: Some("image.dockerfile".to_owned()) });
    let errs = match resolve_workspace(&ws, &request(None, &[("CARGO_ECS_IMAGE_BUILDER", "oci")], &[])) {
        Err(Error::Settings(e)) => e,
        other => panic!("{other:?}"),
    };
    assert!(errs[0].to_string().contains("the oci builder does not read Dockerfiles"), "{errs:?}");
}

#[test]
fn an_unknown_environment_is_an_error_with_a_suggestion() {
    let pkg = json!({ "environments": { "prod": {}, "staging": {} } });
    let errs = errors(&Value::Null, &pkg, &request(Some("prdo"), &[], &[]));
    assert_eq!(
        errs,
        vec![
            "`environments` (flag --env prdo): environment `prdo` is not defined for package `app`\n  help: did you mean `prod`?"
        ]
    );
    let errs = errors(&Value::Null, &json!({}), &request(Some("qa"), &[], &[]));
    assert!(errs[0].contains("define it, even empty, as [package.metadata.ecs.environments.qa]"), "{errs:?}");
    // An overlay defined only in the workspace is enough.
    let r = resolve_one(&json!({ "environments": { "qa": {} } }), &json!({}), &request(Some("qa"), &[], &[]));
    assert_eq!(r.settings.service, "app-qa");
}

#[test]
fn all_errors_are_reported_at_once_and_workspace_errors_once() {
    // Unknown keys and wrong kinds are all reported; values are checked once every key is known.
    let errs = errors(
        &json!({ "memroy": 1 }),
        &json!({ "port": 0, "spot": "no" }),
        &request(None, &[("CARGO_ECS_PROT", "1")], &[]),
    );
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].contains("`memroy` (workspace metadata in /w/Cargo.toml [workspace.metadata.ecs])"), "{errs:?}");
    let errs =
        errors(&Value::Null, &json!({ "port": 0, "log-retention-days": 2, "memory": 3000 }), &request(None, &[], &[]));
    assert_eq!(errs.len(), 3, "{errs:?}");
}

#[test]
fn binaries_are_chosen_or_asked_for() {
    let mut ws = workspace(Value::Null, json!({}));
    ws.members[0].info.bins = vec!["server".to_owned(), "migrate".to_owned()];
    let err = resolve_workspace(&ws, &request(None, &[], &[])).expect_err("ambiguous");
    let Error::Settings(errs) = err else { panic!("{err:?}") };
    assert_eq!(
        errs[0].to_string(),
        "`bin`: package `app` (/w/app/Cargo.toml) has several binaries: server, migrate\n  help: choose one with `bin = \"server\"` in [package.metadata.ecs] of /w/app/Cargo.toml"
    );
    ws.members[0].ecs_metadata = json!({ "bin": "migrate" });
    let r = resolve_workspace(&ws, &request(None, &[], &[])).expect("chosen").remove(0);
    assert_eq!(r.settings.bin, "migrate");
    ws.members[0].info.bins.clear();
    ws.members[0].ecs_metadata = json!({});
    let Error::Settings(errs) = resolve_workspace(&ws, &request(None, &[], &[])).expect_err("no bin") else { panic!() };
    assert!(errs[0].to_string().contains("has no binary target"));
}

#[test]
fn selection_of_packages() {
    let mut ws = workspace(Value::Null, json!({}));
    ws.members
        .push(Member { info: PackageInfo::with_one_bin("worker", "/w/worker/Cargo.toml"), ecs_metadata: Value::Null });
    ws.manifest = PathBuf::from(ROOT);
    let names =
        |sel: &Selection| -> Vec<String> { ws.select(sel).expect("ok").iter().map(|m| m.info.name.clone()).collect() };
    assert_eq!(names(&Selection { workspace: true, ..Selection::default() }), vec!["app"]);
    assert_eq!(names(&Selection::default()), vec!["app"], "the only configured member of a virtual workspace");
    assert_eq!(names(&Selection { packages: vec!["worker".to_owned()], ..Selection::default() }), vec!["worker"]);
    let err = ws.select(&Selection { packages: vec!["wroker".to_owned()], ..Selection::default() }).expect_err("typo");
    assert_eq!(err.help().as_deref(), Some("did you mean `worker`?"));
}
