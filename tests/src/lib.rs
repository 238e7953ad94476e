//! Harness for the end-to-end tests: run the real `cargo-ecs` binary on fixture workspaces, and read AWS state
//! from the local stack with an independent client (boto3, `tests/stack/snapshot.py`).
//!
//! Run them with `scripts/test`, which starts the stack, builds the binary and exports the stack's environment.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The repository root.
#[must_use]
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The `cargo-ecs` binary under test: `CARGO_ECS_TEST_BIN`, else `target/<profile>/cargo-ecs` beside this test.
///
/// # Panics
/// When it has not been built.
#[must_use]
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CARGO_ECS_TEST_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    let path = profile_dir.join("cargo-ecs");
    assert!(path.is_file(), "{} is missing: run `cargo build -p cargo-ecs` first (scripts/test does)", path.display());
    path
}

/// A copy of `tests/fixtures/NAME` in a temporary directory, so tests never write into the repository.
///
/// # Panics
/// When the fixture does not exist or cannot be copied.
#[must_use]
pub fn fixture(name: &str) -> tempfile::TempDir {
    let source = repo_root().join("tests/fixtures").join(name);
    assert!(source.is_dir(), "no fixture {}", source.display());
    let dir = tempfile::Builder::new().prefix(&format!("cargo-ecs-{name}-")).tempdir().expect("temp dir");
    copy_dir(&source, dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The target directory fixture builds share: `target/fixtures` of this repository.
#[must_use]
pub fn fixture_target_dir() -> PathBuf {
    repo_root().join("target/fixtures")
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Output {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// Standard output parsed as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

/// Runs `cargo-ecs ecs ARGS` in `dir` with `vars` set. Every other `CARGO_ECS_*` setting variable of the
/// caller's environment is removed (the stack's own variables are kept), so tests see only what they set.
///
/// # Panics
/// When the binary cannot be started.
#[must_use]
pub fn cargo_ecs(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let output = cargo_ecs_command(dir, args, vars).output().expect("run cargo-ecs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The local AWS stack (`scripts/stack up`), as exported into the environment by `scripts/test`.
#[derive(Debug)]
pub struct Stack {
    python: PathBuf,
}

impl Stack {
    /// The running stack.
    ///
    /// # Panics
    /// When the stack's environment is missing: these tests must not pass by skipping.
    #[must_use]
    pub fn get() -> Self {
        let python = std::env::var_os("CARGO_ECS_STACK_PYTHON").map(PathBuf::from);
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
        match python {
            Some(python) if endpoint.starts_with("http://127.0.0.1") => Self { python },
            _ => panic!("the local stack is not in the environment: run the tests with scripts/test"),
        }
    }

    /// Serialises the tests of one test binary that change or compare AWS state: they share one emulator.
    pub fn lock(&self) -> std::sync::MutexGuard<'static, ()> {
        static AWS: std::sync::Mutex<()> = std::sync::Mutex::new(());
        AWS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs a Python script of `tests/stack/` with the stack's interpreter and returns its standard output.
    ///
    /// # Panics
    /// When the script fails.
    #[must_use]
    pub fn script(&self, name: &str, args: &[&str]) -> String {
        let output = Command::new(&self.python)
            .arg(repo_root().join("tests/stack").join(name))
            .args(args)
            .output()
            .expect("run python");
        assert!(output.status.success(), "{name} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Forgets the emulator's call log (`GET /_shim/calls`), so later checks see only what follows.
    pub fn reset_calls(&self) {
        let _ = self.script("calls.py", &["reset"]);
    }

    /// The mutating AWS calls the emulator received since the last [`Stack::reset_calls`], as `service:Operation`.
    ///
    /// # Panics
    /// When the call log cannot be read.
    #[must_use]
    pub fn mutating_calls(&self) -> Vec<String> {
        serde_json::from_str(&self.script("calls.py", &["mutating"])).expect("calls JSON")
    }

    /// Every AWS call the emulator received since the last [`Stack::reset_calls`] (read-only ones too), as
    /// `service:Operation`.
    ///
    /// # Panics
    /// When the call log cannot be read.
    #[must_use]
    pub fn calls(&self) -> Vec<String> {
        serde_json::from_str(&self.script("calls.py", &["all"])).expect("calls JSON")
    }

    /// Every resource of the kinds cargo-ecs manages, read with boto3.
    #[must_use]
    pub fn snapshot(&self) -> Value {
        serde_json::from_str(&self.script("snapshot.py", &[])).expect("snapshot JSON")
    }
}

/// A variable of the stack's environment; panics when it is missing, so tests never pass by skipping.
///
/// # Panics
/// When the variable is unset or empty.
#[must_use]
pub fn stack_var(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{name} is not set: these tests need the local stack's environment \
             (scripts/stack up; set -a; . .stack/env; set +a; or run scripts/test)"
        ),
    }
}

/// AWS clients for the local stack (its endpoint, us-east-1), built the way the tool builds them.
///
/// # Panics
/// When the stack's environment is missing.
pub async fn aws_clients() -> ecs_core::aws::Clients {
    ecs_core::aws::Clients::from_options(&ecs_core::aws::AwsOptions {
        endpoint_url: Some(stack_var("AWS_ENDPOINT_URL")),
        region: Some("us-east-1".to_owned()),
        ..ecs_core::aws::AwsOptions::default()
    })
    .await
}

/// A short name no other test or run uses (AWS names are short: load balancers take 32 characters).
#[must_use]
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let micros = std::time::UNIX_EPOCH.elapsed().map(|d| d.subsec_micros() % 1000).unwrap_or(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}{}{micros}{n}", std::process::id() % 10_000)
}

/// The `cargo-ecs ecs ARGS` command [`cargo_ecs`] runs (same environment), to spawn and watch: the crash tests
/// kill it part-way.
#[must_use]
pub fn cargo_ecs_command(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(binary());
    command.arg("ecs").args(args).current_dir(dir).env("NO_COLOR", "1");
    for (name, _) in std::env::vars() {
        let keep = name.starts_with("CARGO_ECS_STACK_") || name == "CARGO_ECS_REGISTRY_ENDPOINT";
        if name.starts_with("CARGO_ECS_") && !keep {
            command.env_remove(name);
        }
    }
    // Fixture builds share one target directory across runs, so a rebuild is incremental.
    command.env("CARGO_TARGET_DIR", fixture_target_dir());
    command.envs(vars.iter().copied());
    command
}

/// `--set` values of a service `name` with everything a deploy can create: HTTPS with a certificate for the new
/// hosted zone `NAME.example.com` (made with tests/stack/domain.py), and the record `app.NAME.example.com`.
/// Returns the settings and the certificate's ARN.
#[must_use]
pub fn https_service(stack: &Stack, name: &str) -> (Vec<String>, String) {
    let zone = format!("{name}.example.com");
    let certificate = stack.script("domain.py", &[&zone]).trim().to_owned();
    let settings = vec![
        format!("service={name}"),
        format!("repository={name}"),
        format!("load-balancer.certificate=*.{zone}"),
        format!("dns.zone={zone}"),
        "dns.name=app".to_owned(),
        "assign-public-ip=true".to_owned(),
    ];
    (settings, certificate)
}

/// The plan's steps of a `plan` or `deploy` report (`--output json`), as `[{"kind", "name"}]`: the names the tool
/// gives each resource, for `tests/stack/duplicates.py`.
///
/// # Panics
/// When the report has no plan.
#[must_use]
pub fn plan_steps(report: &Value) -> Value {
    let steps = report["plan"]["steps"].as_array().unwrap_or_else(|| panic!("no plan in {report}"));
    steps.iter().map(|s| serde_json::json!({ "kind": s["kind"], "name": s["name"] })).collect()
}

/// The steps of a plan that change something: `(kind, action)` of each step whose action is not `keep`.
#[must_use]
pub fn plan_changes(report: &Value) -> Vec<(String, String)> {
    report["plan"]["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .filter(|s| s["action"] != "keep")
                .map(|s| (s["kind"].as_str().unwrap_or("").to_owned(), s["action"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

impl Stack {
    /// Counts the resources of `service` by name and tag (`tests/stack/duplicates.py`, names from `plan`'s steps):
    /// `{"counts", "duplicates", "missing"}`.
    #[must_use]
    pub fn duplicates(&self, service: &str, plan: &Value) -> Value {
        serde_json::from_str(&self.script("duplicates.py", &[service, &plan_steps(plan).to_string()]))
            .expect("duplicates JSON")
    }
}

/// `tests/stack/fault_proxy.py` in front of the stack's emulator, on a free port of 127.0.0.1; stopped when
/// dropped. Point the tool at it with `AWS_ENDPOINT_URL` = [`FaultProxy::url`].
#[derive(Debug)]
pub struct FaultProxy {
    child: std::process::Child,
    url: String,
}

impl FaultProxy {
    /// Starts the proxy with these flags (`--seed 7 --throttle 0.1`, ...), upstream the stack's emulator.
    ///
    /// # Panics
    /// When the stack's environment is missing or the proxy does not start.
    #[must_use]
    pub fn start(flags: &[&str]) -> Self {
        use std::io::BufRead as _;
        let python = stack_var("CARGO_ECS_STACK_PYTHON");
        let mut child = Command::new(python)
            .arg("-B")
            .arg(repo_root().join("tests/stack/fault_proxy.py"))
            .args(["--upstream", &stack_var("AWS_ENDPOINT_URL"), "--port", "0"])
            .args(flags)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start fault_proxy.py");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufReader::new(stdout).read_line(&mut line).expect("fault_proxy.py's first line");
        let url = line.trim().strip_prefix("listening on ").map(str::to_owned);
        let Some(url) = url else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fault_proxy.py did not start: {line:?}");
        };
        Self { child, url }
    }

    /// Where it listens: `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its counters (`GET /_faults`): requests, eligible, forwarded, injected per kind, by_call, config.
    #[must_use]
    pub fn faults(&self) -> Value {
        self.control("GET", "/_faults", "")
    }

    /// Replaces its configuration (`POST /_faults/config`, e.g. `{"throttle": 0.1, "seed": 3}`); zeroes the counters.
    #[must_use]
    pub fn configure(&self, config: &Value) -> Value {
        self.control("POST", "/_faults/config", &config.to_string())
    }

    fn control(&self, method: &str, path: &str, body: &str) -> Value {
        use std::io::{Read as _, Write as _};
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to fault_proxy.py");
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("timeout");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let (head, json) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"), "{method} {path}: {answer}");
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{method} {path} is not JSON ({e}): {json}"))
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
