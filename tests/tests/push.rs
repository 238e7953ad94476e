//! `cargo ecs push` end to end: images from both builders go to the registry, come back with `docker pull`, and
//! run on ARM64 (qemu); pushes send only what changed; the digests are reproducible; failures say what to do.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use cargo_ecs_tests::{Output, Stack, cargo_ecs, fixture, unique_name};
use serde_json::Value;

/// The local registry's host, as `docker pull` names it.
fn registry_host() -> String {
    let endpoint = std::env::var("CARGO_ECS_REGISTRY_ENDPOINT").expect("the stack's CARGO_ECS_REGISTRY_ENDPOINT");
    endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned()
}

fn push(dir: &Path, repository: &str, extra: &[&str]) -> Value {
    let set = format!("repository={repository}");
    let mut args = vec!["push", "--output", "json", "--set", set.as_str()];
    args.extend_from_slice(extra);
    let out = cargo_ecs(dir, &args, &[]);
    assert_eq!(out.code, 0, "push failed:\n{}", out.stderr);
    out.json()[0].clone()
}

fn docker(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new("docker").arg("--config").arg(config).args(args).output().expect("run the docker CLI")
}

/// Logs in to the local registry with a throw-away docker config, pulls `repository@digest` and runs it for
/// linux/arm64 with `PORT`; returns what `/health` answered and the pulled image's uncompressed size.
fn pull_and_run(stack: &Stack, repository: &str, digest: &str, port: u16) -> (String, u64) {
    let config = tempfile::tempdir().expect("docker config dir");
    let password = stack.script("ecr_password.py", &[]);
    let mut login = Command::new("docker")
        .arg("--config")
        .arg(config.path())
        .args(["login", &registry_host(), "--username", "AWS", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("docker login");
    login.stdin.take().expect("stdin").write_all(password.trim().as_bytes()).expect("password");
    assert!(login.wait().expect("login").success(), "docker login to the local registry failed");
    let reference = format!("{}/{repository}@{digest}", registry_host());
    let pulled = docker(config.path(), &["pull", "--platform", "linux/arm64", &reference]);
    assert!(pulled.status.success(), "pull: {}", String::from_utf8_lossy(&pulled.stderr));
    let size = docker(config.path(), &["image", "inspect", "--format", "{{.Size}}", &reference]);
    let size: u64 = String::from_utf8_lossy(&size.stdout).trim().parse().expect("image size");
    let name = unique_name("run");
    let run = docker(
        config.path(),
        &[
            "run",
            "-d",
            "--rm",
            "--name",
            &name,
            "--platform",
            "linux/arm64",
            "--network",
            "host",
            "-e",
            &format!("PORT={port}"),
            &reference,
        ],
    );
    assert!(run.status.success(), "run: {}", String::from_utf8_lossy(&run.stderr));
    let body = get_health(port);
    let _ = docker(config.path(), &["rm", "-f", &name]);
    let _ = docker(config.path(), &["image", "rm", &reference]);
    (body, size)
}

fn get_health(port: u16) -> String {
    for _ in 0..150 {
        std::thread::sleep(Duration::from_millis(100));
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n");
            let mut body = String::new();
            let _ = stream.read_to_string(&mut body);
            if !body.is_empty() {
                return body;
            }
        }
    }
    String::new()
}

fn number(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("not a number: {value}"))
}

#[test]
fn each_builder_pushes_an_image_that_runs_on_arm64_and_is_barely_larger_than_the_binary() {
    let stack = Stack::get();
    for (builder, port) in [("oci", 18_501), ("docker", 18_502)] {
        let ws = fixture("web");
        let repository = unique_name(&format!("web-{builder}"));
        let builder_set = format!("image.builder={builder}");
        let pushed = push(ws.path(), &repository, &["--set", &builder_set]);
        let digest = pushed["digest"].as_str().expect("digest");
        assert!(pushed["image"].as_str().is_some_and(|i| i.ends_with(&format!("/{repository}@{digest}"))), "{pushed}");
        let (body, uncompressed) = pull_and_run(&stack, &repository, digest, port);
        assert!(body.starts_with("HTTP/1.1 200") && body.ends_with("ok\n"), "{builder}: /health answered {body:?}");
        let binary = number(&pushed["binary-size"]);
        let compressed = number(&pushed["image-size"]);
        assert!(compressed <= binary + 500_000, "{builder}: image {compressed} B for a {binary} B binary");
        assert!(uncompressed <= binary + 500_000, "{builder}: pulled image {uncompressed} B for a {binary} B binary");
    }
}

#[test]
fn a_service_with_ring_runs_on_arm64_from_the_registry() {
    let stack = Stack::get();
    let ws = fixture("ring-service");
    let repository = unique_name("ring");
    let pushed = push(ws.path(), &repository, &[]);
    let (body, _) = pull_and_run(&stack, &repository, pushed["digest"].as_str().expect("digest"), 18_503);
    assert!(body.contains("2689367b205c16ce32ed4200942b8b8b1e262dfc70d9bc9fbc77c49699a4f1df"), "{body:?}");
}

#[test]
fn the_oci_builder_gives_the_same_digest_on_two_clean_builds() {
    let _stack = Stack::get();
    let digests: Vec<String> = (0..2)
        .map(|_| {
            let ws = fixture("web");
            let target = tempfile::tempdir().expect("clean target dir");
            let target = target.path().display().to_string();
            let out = cargo_ecs(ws.path(), &["build", "--output", "json"], &[("CARGO_TARGET_DIR", &target)]);
            assert_eq!(out.code, 0, "{}", out.stderr);
            out.json()[0]["digest"].as_str().expect("digest").to_owned()
        })
        .collect();
    assert_eq!(digests[0], digests[1]);
}

#[test]
fn a_push_sends_only_what_the_registry_lacks() {
    let _stack = Stack::get();
    let ws = fixture("web");
    let repository = unique_name("web-delta");
    let first = push(ws.path(), &repository, &[]);
    assert_eq!((number(&first["push"]["blobs-uploaded"]), number(&first["push"]["blobs-skipped"])), (3, 0), "{first}");

    let again = push(ws.path(), &repository, &[]);
    assert_eq!(again["digest"], first["digest"]);
    assert_eq!(number(&again["push"]["blobs-uploaded"]), 0, "{again}");
    assert_eq!(number(&again["push"]["bytes-uploaded"]), 0, "{again}");

    // A one-line code change: the binary layer and the config change, the base layer does not.
    let main = ws.path().join("src/main.rs");
    let source = std::fs::read_to_string(&main).expect("main.rs").replace("\"ok\\n\"", "\"ok!\\n\"");
    std::fs::write(&main, source).expect("edit main.rs");
    let changed = push(ws.path(), &repository, &[]);
    assert_ne!(changed["digest"], first["digest"]);
    assert_eq!(changed["layers"][0], first["layers"][0], "the base layer must not change");
    assert_ne!(changed["layers"][1], first["layers"][1]);
    let expected_bytes = number(&changed["layers"][1][1]) + number(&changed["config"][1]);
    assert_eq!(
        (number(&changed["push"]["blobs-uploaded"]), number(&changed["push"]["bytes-uploaded"])),
        (2, expected_bytes),
        "exactly the binary layer and the config: {changed}"
    );
    assert_eq!(number(&changed["push"]["blobs-skipped"]), 1);
}

#[test]
fn an_unreachable_docker_engine_names_docker_host_and_suggests_the_oci_builder() {
    let ws = fixture("web");
    let out = cargo_ecs(
        ws.path(),
        &["build", "--set", "image.builder=docker"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("DOCKER_HOST=unix:///nonexistent/docker.sock"), "{}", out.stderr);
    assert!(out.stderr.contains("image.builder") && out.stderr.contains("oci"), "{}", out.stderr);
}

/// A registry that refuses every request, as one with other credentials would.
fn refusing_registry() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0_u8; 4096];
            let _ = stream.read(&mut buffer);
            let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Basic realm=\"test\"\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{address}")
}

#[test]
fn a_registry_that_refuses_the_credentials_is_a_clear_error_without_the_token() {
    let stack = Stack::get();
    let ws = fixture("web");
    let registry = refusing_registry();
    let out: Output =
        cargo_ecs(ws.path(), &["push", "--set", "repository=refused"], &[("CARGO_ECS_REGISTRY_ENDPOINT", &registry)]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let host = registry.trim_start_matches("http://");
    assert!(out.stderr.contains("refused the credentials") && out.stderr.contains(host), "{}", out.stderr);
    let password = stack.script("ecr_password.py", &[]);
    assert!(!out.stderr.contains(password.trim()) && !out.stdout.contains(password.trim()), "the token leaked");
}
