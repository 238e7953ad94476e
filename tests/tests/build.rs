//! `cargo ecs build`: cross-compiling for ARM64 without emulation, with rust-lld for pure Rust and zig for C code.

use std::process::Command;

use cargo_ecs_tests::{Stack, cargo_ecs, fixture};

/// Runs an ARM64 binary under qemu (binfmt_misc, set up by the stack) and asks it for `/health`.
fn answers_health(binary: &str, port: u16) -> String {
    let mut child =
        Command::new(binary).env("PORT", port.to_string()).spawn().expect("start the ARM64 binary under qemu");
    let mut body = String::new();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read as _, Write as _};
            let _ = stream.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n");
            let _ = stream.read_to_string(&mut body);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    body
}

fn built_binary(json: &serde_json::Value) -> String {
    json[0]["artifact"]["binary"].as_str().expect("binary path").to_owned()
}

#[test]
fn a_pure_rust_service_cross_compiles_with_rust_lld_and_runs_on_arm64() {
    let _stack = Stack::get();
    let ws = fixture("layered");
    let out = cargo_ecs(&ws.path().join("api"), &["build", "--output", "json"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    assert_eq!(json[0]["artifact"]["target"], "aarch64-unknown-linux-musl");
    assert_eq!(json[0]["artifact"]["linker"], "rust-lld");
    let binary = built_binary(&json);
    let file = Command::new("file").arg(&binary).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if let Ok(file) = file {
        assert!(file.contains("aarch64") && file.contains("statically linked"), "{file}");
    }
    // cargo's own output reached the progress stream (JSON lines on stderr with --output json).
    assert!(out.stderr.contains("\"event\":\"output\"") && out.stderr.contains("Compiling api"), "{}", out.stderr);
}

#[test]
fn a_service_with_ring_builds_with_zig_and_runs_on_arm64() {
    let _stack = Stack::get();
    let ws = fixture("ring-service");
    let out = cargo_ecs(ws.path(), &["build", "--output", "json"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    assert!(json[0]["artifact"]["linker"]["zig"].is_object(), "{json}");
    assert_eq!(json[0]["artifact"]["c-crates"], serde_json::json!(["ring"]));
    let body = answers_health(&built_binary(&json), 18_431);
    // SHA-256("ok"), computed by ring on (emulated) ARM64.
    assert!(body.contains("2689367b205c16ce32ed4200942b8b8b1e262dfc70d9bc9fbc77c49699a4f1df"), "{body}");
}

#[test]
fn zig_missing_says_how_to_get_it() {
    let ws = fixture("ring-service");
    // A PATH without the stack's venv (zig, cargo-zigbuild) and without a Python that has ziglang.
    let cargo_bin = std::env::var("CARGO").map(std::path::PathBuf::from).ok();
    let cargo_dir = cargo_bin.as_deref().and_then(std::path::Path::parent).map(|d| d.display().to_string());
    let path = format!("{}:/usr/bin:/bin", cargo_dir.unwrap_or_default());
    let out = cargo_ecs(ws.path(), &["build"], &[("PATH", path.as_str())]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("ring compile C code for aarch64-unknown-linux-musl, which needs zig and cargo-zigbuild"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("pip install ziglang cargo-zigbuild"), "{}", out.stderr);
}

#[test]
fn several_binaries_and_no_bin_is_refused_before_compiling() {
    let ws = fixture("layered");
    let out = cargo_ecs(&ws.path().join("tools"), &["build"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("has several binaries: "), "{}", out.stderr);
    assert!(!out.stderr.contains("Compiling"), "nothing may be compiled: {}", out.stderr);
}
