//! `cargo ecs run`: the service's image runs with the local Docker Engine (ARM64 through qemu on x86_64 hosts),
//! answers on 127.0.0.1, gets the task's environment and its secrets from ours, and is removed when it stops.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cargo_ecs_tests::{binary, fixture, fixture_target_dir, stack_var};

const SSM_ARN: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/web/db-password";

/// Starts `cargo-ecs ecs ARGS` in `dir` in the background, its output going to files in `dir`, with only the
/// stack's `CARGO_ECS_*` variables, no `DB_PASSWORD` unless `vars` sets it, and `vars`.
fn spawn(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Child {
    let mut command = Command::new(binary());
    command.arg("ecs").args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("DB_PASSWORD");
    for (name, _) in std::env::vars() {
        let keep = name.starts_with("CARGO_ECS_STACK_") || name == "CARGO_ECS_REGISTRY_ENDPOINT";
        if name.starts_with("CARGO_ECS_") && !keep {
            command.env_remove(name);
        }
    }
    command.env("CARGO_TARGET_DIR", fixture_target_dir()).envs(vars.iter().copied());
    let file = |name: &str| std::fs::File::create(dir.join(name)).expect("output file");
    command.stdout(Stdio::from(file("stdout"))).stderr(Stdio::from(file("stderr"))).stdin(Stdio::null());
    command.spawn().expect("start cargo-ecs")
}

/// Waits for `child` (at most `limit`) and returns its exit code, stdout and stderr.
fn finish(mut child: Child, dir: &Path, limit: Duration) -> (i32, String, String) {
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break -1;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    (code, read("stdout"), read("stderr"))
}

/// GET `path` on 127.0.0.1:`port`, polled while `child` runs (the build comes first) until it answers 200:
/// returns the body, or the last thing seen.
fn get_while_running(child: &mut Child, port: u16, path: &str, limit: Duration) -> Result<String, String> {
    let start = Instant::now();
    let mut last = "no answer".to_owned();
    while start.elapsed() < limit {
        if child.try_wait().expect("wait").is_some() {
            return Err(format!("cargo-ecs ended first; last: {last}"));
        }
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.write_all(format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").as_bytes());
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            if response.starts_with("HTTP/1.1 200") {
                return Ok(response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned());
            }
            last = response;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("no 200 within {limit:?}; last: {last}"))
}

/// The containers (running or not) labelled as `run`'s for `service`.
fn run_containers(service: &str) -> String {
    let _ = stack_var("DOCKER_HOST");
    let out = Command::new("docker")
        .args(["ps", "-a", "-q", "--filter", &format!("label=cargo-ecs.run={service}")])
        .output()
        .expect("docker ps");
    assert!(out.status.success(), "docker ps: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_service_runs_locally_answers_its_health_check_and_is_removed_when_it_stops() {
    let ws = fixture("web");
    let mut child = spawn(ws.path(), &["run", "--stop-after", "8s", "--set", "port=18611"], &[]);
    let body = get_while_running(&mut child, 18_611, "/health", Duration::from_secs(300));
    let (code, stdout, stderr) = finish(child, ws.path(), Duration::from_secs(60));
    assert_eq!(body.as_deref(), Ok("ok\n"), "stderr:\n{stderr}");
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("health http://127.0.0.1:18611/health: passed: 200 OK"), "{stderr}");
    assert!(stderr.contains("hello: listening on port 18611"), "the container's log reached us:\n{stderr}");
    if cfg!(target_arch = "x86_64") {
        assert!(stderr.contains("running the ARM64 image through qemu emulation"), "{stderr}");
    }
    assert!(stdout.contains("web: ran sha256:") && stdout.contains("stopped, container removed"), "{stdout}");
    assert_eq!(run_containers("web"), "", "no container is left");
}

#[test]
fn a_secret_missing_from_the_environment_is_an_input_error_and_nothing_starts() {
    let ws = fixture("envecho");
    let secret = format!("secrets.DB_PASSWORD={SSM_ARN}");
    let child = spawn(ws.path(), &["run", "--stop-after", "1s", "--set", &secret, "--set", "port=18613"], &[]);
    let (code, stdout, stderr) = finish(child, ws.path(), Duration::from_secs(60));
    assert_eq!(code, 2, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "secret DB_PASSWORD: set it in your environment to run locally (the task reads it from {SSM_ARN})"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("compile"), "nothing was built:\n{stderr}");
    assert_eq!(run_containers("envecho"), "");
}

#[test]
fn the_container_gets_the_task_environment_and_secrets_from_ours() {
    let ws = fixture("envecho");
    let secret = format!("secrets.DB_PASSWORD={SSM_ARN}");
    let args = ["run", "--stop-after", "8s", "--set", "port=18612", "--set", &secret, "--set", "env.GREETING=hi"];
    let mut child = spawn(ws.path(), &args, &[("DB_PASSWORD", "s3cret-local")]);
    let password = get_while_running(&mut child, 18_612, "/env/DB_PASSWORD", Duration::from_secs(300));
    let greeting = get_while_running(&mut child, 18_612, "/env/GREETING", Duration::from_secs(5));
    let (code, stdout, stderr) = finish(child, ws.path(), Duration::from_secs(60));
    assert_eq!(password.as_deref(), Ok("s3cret-local"), "stderr:\n{stderr}");
    assert_eq!(greeting.as_deref(), Ok("hi"));
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(!stderr.contains("s3cret-local") && !stdout.contains("s3cret-local"), "the secret is never printed");
    assert_eq!(run_containers("envecho"), "");
}
