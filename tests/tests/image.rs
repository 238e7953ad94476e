//! Both image builders on a real static ARM64 binary, compiled from `tests/fixtures/hello-bin`: the daemonless
//! builder (reproducible, small) and the Docker builder against the local stack's Docker Engine (the built-in
//! Dockerfile, a user's Dockerfile with a `.dockerignore`, a failing Dockerfile, another platform).
//!
//! The layers are read back with the system's `tar`, an implementation independent of the one that wrote them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use cargo_ecs_tests::{Stack, fixture};
use ecs_core::config::ImageBuilder;
use ecs_core::image::{self, Blob, ImageError, ImageInput, OciImage, Platform};
use ecs_core::report::{Event, Recorder};
use serde_json::Value;

/// The fixture's binary, built once per test run for aarch64-unknown-linux-musl with rust-lld.
fn hello_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let source = fixture("hello-bin");
        let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hello-bin");
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .args(["build", "--release", "--offline", "--target", "aarch64-unknown-linux-musl", "--target-dir"])
            .arg(&target_dir)
            .current_dir(source.path())
            .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER", "rust-lld")
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .expect("run cargo");
        assert!(
            output.status.success(),
            "building tests/fixtures/hello-bin for aarch64-unknown-linux-musl failed \
             (`rustup target add aarch64-unknown-linux-musl`?):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let binary = target_dir.join("aarch64-unknown-linux-musl/release/hello");
        let head = std::fs::read(&binary).expect("read the binary");
        assert_eq!(&head[..4], b"\x7fELF");
        assert_eq!(u16::from_le_bytes([head[18], head[19]]), 183, "e_machine is EM_AARCH64");
        binary
    })
}

/// The stack's Docker Engine must be in the environment: these tests never pass by skipping.
fn docker_stack() {
    let _stack = Stack::get();
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    assert!(
        host.starts_with("unix://") || host.starts_with("tcp://127.0.0.1:"),
        "DOCKER_HOST is {host:?}: load the stack's environment (`set -a; . .stack/env; set +a`, or scripts/test)"
    );
}

fn arm64() -> Platform {
    Platform { os: "linux".to_owned(), architecture: "arm64".to_owned() }
}

fn input(bin_name: &str, platform: Platform, context_dir: &Path, dockerfile: Option<PathBuf>) -> ImageInput {
    ImageInput {
        binary: hello_binary().to_owned(),
        bin_name: bin_name.to_owned(),
        port: 8080,
        platform,
        base: "scratch".to_owned(),
        dockerfile,
        context_dir: context_dir.to_owned(),
    }
}

/// `tar -tvzf` of a layer: one `(mode string, owner, path)` per entry.
fn tar_list(layer: &Blob) -> Vec<(String, String, String)> {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &layer.data).expect("write layer");
    let out = Command::new("tar").arg("-tvzf").arg(file.path()).output().expect("run tar");
    assert!(out.status.success(), "tar cannot read the layer: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let path = fields.get(5).map(|p| (*p).to_owned()).unwrap_or_default();
            (fields[0].to_owned(), fields[1].to_owned(), path)
        })
        .collect()
}

/// The bytes of `path` in a layer, extracted by `tar`.
fn tar_file(layer: &Blob, path: &str) -> Vec<u8> {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &layer.data).expect("write layer");
    let out = Command::new("tar").arg("-xzOf").arg(file.path()).arg(path).output().expect("run tar");
    assert!(out.status.success(), "no {path} in the layer: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The layer that holds `path`, and its listing line.
fn find<'a>(image: &'a OciImage, path: &str) -> (&'a Blob, (String, String, String)) {
    image
        .layers
        .iter()
        .find_map(|layer| tar_list(layer).into_iter().find(|(_, _, p)| p == path).map(|entry| (layer, entry)))
        .unwrap_or_else(|| panic!("no layer holds {path}"))
}

fn config(image: &OciImage) -> Value {
    serde_json::from_slice(&image.config.data).expect("config JSON")
}

fn manifest(image: &OciImage) -> Value {
    serde_json::from_slice(&image.manifest.data).expect("manifest JSON")
}

#[tokio::test]
async fn the_oci_builder_makes_a_small_reproducible_image_of_a_real_binary() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = input("hello", arm64(), dir.path(), None);
    let recorder = Recorder::default();
    let first = image::build(&input, ImageBuilder::Oci, &recorder).await.expect("oci build");
    let second = image::build(&input, ImageBuilder::Oci, &Recorder::default()).await.expect("oci build");
    assert_eq!(first.digest(), second.digest(), "same binary, same digest");
    assert_eq!(first.manifest.data, second.manifest.data);

    let binary = std::fs::read(hello_binary()).expect("binary");
    let (layer, (mode, owner, _)) = find(&first, "usr/local/bin/hello");
    assert_eq!((mode.as_str(), owner.as_str()), ("-rwxr-xr-x", "0/0"));
    assert_eq!(tar_file(layer, "usr/local/bin/hello"), binary);
    assert_eq!(layer.digest, first.layers[1].digest, "the binary is the second layer");
    let (_, (mode, _, _)) = find(&first, "tmp/");
    assert_eq!(mode, "drwxrwxrwt");
    let bundle = tar_file(&first.layers[0], "etc/ssl/certs/ca-certificates.crt");
    assert!(bundle.starts_with(b"-----BEGIN CERTIFICATE-----\n"));

    let config = config(&first);
    assert_eq!((config["os"].as_str(), config["architecture"].as_str()), (Some("linux"), Some("arm64")));
    assert_eq!(config["config"]["Entrypoint"][0], "/usr/local/bin/hello");
    assert_eq!(config["created"], "1970-01-01T00:00:00Z");
    assert!(
        first.layers_size() <= binary.len() as u64 + 500_000,
        "image {} bytes, binary {} bytes: more than 0.5 MB on top of the binary",
        first.layers_size(),
        binary.len()
    );
    assert!(matches!(recorder.events().last(), Some(Event::End { result, .. }) if result.contains(first.digest())));
}

#[tokio::test]
async fn the_docker_builder_builds_an_arm64_image_that_holds_the_binary() {
    docker_stack();
    let dir = tempfile::tempdir().expect("tmp");
    let input = input("hello", arm64(), dir.path(), None);
    let recorder = Recorder::default();
    let image = image::build(&input, ImageBuilder::Docker, &recorder).await.expect("docker build");

    assert_eq!(image.platform, arm64());
    let config = config(&image);
    assert_eq!((config["os"].as_str(), config["architecture"].as_str()), (Some("linux"), Some("arm64")));
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["/usr/local/bin/hello"]));
    assert!(config["config"]["ExposedPorts"].get("8080/tcp").is_some(), "{config}");
    assert_eq!(config["rootfs"]["diff_ids"].as_array().map(Vec::len), Some(image.layers.len()));

    let binary = std::fs::read(hello_binary()).expect("binary");
    let (layer, (mode, _, _)) = find(&image, "usr/local/bin/hello");
    assert_eq!(mode, "-rwxr-xr-x");
    assert_eq!(tar_file(layer, "usr/local/bin/hello"), binary);
    let (base, _) = find(&image, "etc/passwd");
    assert!(String::from_utf8_lossy(&tar_file(base, "etc/passwd")).contains("app:x:65532:65532:"));
    find(&image, "etc/ssl/certs/ca-certificates.crt");

    let manifest = manifest(&image);
    assert_eq!(manifest["config"]["digest"], image.config.digest.as_str());
    assert_eq!(manifest["layers"].as_array().map(Vec::len), Some(image.layers.len()));
    let lines: Vec<String> = recorder
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Output { line, .. } => Some(line),
            _ => None,
        })
        .collect();
    assert!(lines.iter().any(|l| l.starts_with("Step 1/") && l.contains("FROM scratch")), "{lines:?}");
}

#[tokio::test]
async fn the_docker_builder_honours_the_platform_asked_for_one_build_after_another() {
    docker_stack();
    let dir = tempfile::tempdir().expect("tmp");
    // The same context for two platforms in a row: the engine's cache must not hand the amd64 steps to arm64.
    let amd64 = Platform { os: "linux".to_owned(), architecture: "amd64".to_owned() };
    for platform in [amd64, arm64()] {
        let input = input("hello-platforms", platform.clone(), dir.path(), None);
        let image = image::build(&input, ImageBuilder::Docker, &Recorder::default()).await.expect("docker build");
        assert_eq!(image.platform, platform);
        assert_eq!(config(&image)["architecture"], platform.architecture.as_str());
    }
}

#[tokio::test]
async fn an_image_built_for_another_platform_is_refused() {
    docker_stack();
    let dir = tempfile::tempdir().expect("tmp");
    // The classic builder gives a metadata-only first step after `FROM scratch` the engine's own platform (amd64).
    std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\nLABEL purpose=test\n").expect("write");
    let input = input("label-only", arm64(), dir.path(), Some(dir.path().join("Dockerfile")));
    let error = image::build(&input, ImageBuilder::Docker, &Recorder::default()).await.expect_err("wrong platform");
    assert!(matches!(&error, ImageError::PlatformMismatch { expected, .. } if *expected == arm64()), "{error:?}");
    assert!(error.help().expect("help").contains("exec format error"));
}

#[tokio::test]
async fn the_docker_builder_uses_a_user_dockerfile_and_its_dockerignore() {
    docker_stack();
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path();
    for (path, text) in [
        ("Cargo.toml", "[package]\nname = \"svc\"\n"),
        ("src/main.rs", "fn main() {}\n"),
        ("secret.txt", "do not send"),
        ("notes/todo.md", "x"),
        ("target/release/svc", "stale binary"),
        (".git/HEAD", "ref: refs/heads/main\n"),
        (".dockerignore", "# never in the image\nsecret.txt\n**/*.md\n"),
        (
            "docker/Dockerfile",
            "FROM scratch\nCOPY . /src/\nARG CARGO_ECS_BINARY\nCOPY ${CARGO_ECS_BINARY} /app/server\n\
             USER 65532:65532\nENTRYPOINT [\"/app/server\"]\n",
        ),
    ] {
        std::fs::create_dir_all(root.join(path).parent().expect("parent")).expect("mkdir");
        std::fs::write(root.join(path), text).expect("write");
    }
    let input = input("svc", arm64(), root, Some(root.join("docker/Dockerfile")));
    let image = image::build(&input, ImageBuilder::Docker, &Recorder::default()).await.expect("docker build");

    let binary = std::fs::read(hello_binary()).expect("binary");
    let (layer, _) = find(&image, "app/server");
    assert_eq!(tar_file(layer, "app/server"), binary);
    let copied: Vec<String> = image.layers.iter().flat_map(tar_list).map(|(_, _, p)| p).collect();
    for kept in ["src/Cargo.toml", "src/src/main.rs", "src/docker/Dockerfile"] {
        assert!(copied.iter().any(|p| p == kept), "{kept} missing: {copied:?}");
    }
    for dropped in ["src/secret.txt", "src/notes/todo.md", "src/target/", "src/.git/"] {
        assert!(!copied.iter().any(|p| p.starts_with(dropped)), "{dropped} was sent: {copied:?}");
    }
    assert_eq!(config(&image)["config"]["Entrypoint"][0], "/app/server");
}

#[tokio::test]
async fn a_failing_dockerfile_is_an_error_that_names_the_step() {
    docker_stack();
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\nCOPY no-such-file /x\n").expect("write");
    let input = input("broken", arm64(), dir.path(), Some(dir.path().join("Dockerfile")));
    let error = image::build(&input, ImageBuilder::Docker, &Recorder::default()).await.expect_err("must fail");
    let message = error.to_string();
    assert!(matches!(error, ImageError::BuildFailed { .. }), "{error:?}");
    assert!(message.contains("Step 2/2 : COPY no-such-file /x") && message.contains("no-such-file"), "{message}");
    assert!(error.help().expect("help").contains("Dockerfile"));
}
