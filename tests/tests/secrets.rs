//! Secrets never reach the output: the AWS secret access key and session token, the ECR authorization token and
//! the registry password it holds, and the values of the service's secrets. Every byte of stdout and stderr of a
//! full deploy (plain `-vv`, and `--output json -vv`), of deploys that fail (registry unreachable, a registry that
//! is not one, AWS throttling to the end) and of `cargo ecs run -vv` (where secret values exist locally) is
//! searched for them.

#![allow(clippy::print_stdout, reason = "the figures (faults, kill points, duplicates) are printed for --nocapture")]

use std::io::Read as _;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cargo_ecs_tests::{FaultProxy, Output, Stack, cargo_ecs, cargo_ecs_command, fixture, stack_var, unique_name};

/// Credentials moto accepts (it checks no signature), distinctive enough to find in any output.
const SECRET_ACCESS_KEY: &str = "cargo-ecs-TEST-secret-key-9f3Kq2Zr7Xw";
const SESSION_TOKEN: &str = "cargo-ecs-TEST-session-token-Lm4Vb8Np2Qs";
/// The value of the service's secret, known only locally (`cargo ecs run` passes it to the container).
const SECRET_VALUE: &str = "cargo-ecs-TEST-db-password-Hy6Tr1Wq";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf";

fn credentials() -> Vec<(&'static str, &'static str)> {
    vec![("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY), ("AWS_SESSION_TOKEN", SESSION_TOKEN)]
}

/// What must never be printed: the credentials, the ECR token (base64) and the password it holds, the secret's
/// value, and (as they would be shown) their first 12 characters, so a shortened or wrapped leak is caught too.
fn forbidden(stack: &Stack) -> Vec<(String, String)> {
    let password = stack.script("ecr_password.py", &[]).trim().to_owned();
    let token = base64_encode(&format!("AWS:{password}"));
    let mut list = vec![
        ("AWS secret access key".to_owned(), SECRET_ACCESS_KEY.to_owned()),
        ("AWS session token".to_owned(), SESSION_TOKEN.to_owned()),
        ("ECR authorization token".to_owned(), token.clone()),
        ("registry password".to_owned(), password.clone()),
        ("secret value".to_owned(), SECRET_VALUE.to_owned()),
    ];
    // The registry password starts with the account id, which ARNs show: only the values of its own are cut.
    for (what, value) in list.clone().into_iter().filter(|(what, _)| what != "registry password") {
        list.push((format!("start of the {what}"), value.chars().take(12).collect()));
    }
    list.push(("Authorization header".to_owned(), "Authorization:".to_owned()));
    list.push(("Basic credentials".to_owned(), "Basic ".to_owned()));
    list.push(("SigV4 signature".to_owned(), "Signature=".to_owned()));
    list
}

fn base64_encode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0_u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Asserts no forbidden text is in `out` of the run `what`; returns how many bytes were searched.
fn assert_clean(what: &str, out: &Output, forbidden: &[(String, String)]) -> usize {
    let all = format!("{}\n{}", out.stdout, out.stderr);
    for (name, value) in forbidden {
        assert!(!all.contains(value.as_str()), "{what}: the {name} ({value}) is in the output:\n{all}");
    }
    all.len()
}

fn deploy_args<'a>(settings: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["deploy", "--no-wait"];
    args.extend_from_slice(extra);
    for s in settings {
        args.extend(["--set", s.as_str()]);
    }
    args
}

#[test]
fn no_credential_token_or_secret_value_appears_in_any_output() {
    let stack = Stack::get();
    let forbidden = forbidden(&stack);
    let ws = fixture("envecho");
    let name = unique_name("sec");
    let settings = vec![
        format!("service={name}"),
        format!("repository={name}"),
        "assign-public-ip=true".to_owned(),
        "env.GREETING=hello".to_owned(),
        format!("secrets.DB_PASSWORD={SECRET_ARN}"),
    ];
    let mut vars = credentials();
    // The secret's value is in the environment too: a deploy must not pick it up and show it.
    vars.push(("DB_PASSWORD", SECRET_VALUE));
    let mut searched = Vec::new();

    let first = cargo_ecs(ws.path(), &deploy_args(&settings, &["-vv"]), &vars);
    assert_eq!(first.code, 0, "{}\n{}", first.stderr, first.stdout);
    assert!(first.stdout.contains("applied:"), "a full deploy ran: {}", first.stdout);
    searched.push(("deploy -vv", assert_clean("deploy -vv", &first, &forbidden)));

    let json = cargo_ecs(ws.path(), &deploy_args(&settings, &["-vv", "--output", "json", "--force"]), &vars);
    assert_eq!(json.code, 0, "{}", json.stderr);
    searched.push(("deploy --output json -vv --force", assert_clean("deploy json", &json, &forbidden)));

    // A fresh repository, so the push must log in to the registry, which is not reachable / not a registry.
    let other = [&settings[..], &[format!("repository={name}x")]].concat();
    for (what, registry) in
        [("registry unreachable", "http://127.0.0.1:1".to_owned()), ("not a registry", stack_var("AWS_ENDPOINT_URL"))]
    {
        let mut with = vars.clone();
        with.push(("CARGO_ECS_REGISTRY_ENDPOINT", registry.as_str()));
        let failed = cargo_ecs(ws.path(), &deploy_args(&other, &["-vv"]), &with);
        assert_ne!(failed.code, 0, "{what}: {}", failed.stdout);
        assert!(failed.stderr.contains("error"), "{what}: {}", failed.stderr);
        searched.push((what, assert_clean(what, &failed, &forbidden)));
    }

    // AWS throttles the call that hands out the ECR token, to the end: the error names it, and nothing else.
    let proxy = FaultProxy::start(&["--throttle", "1", "--only", "ecr:GetAuthorizationToken"]);
    let mut with = vars.clone();
    with.push(("AWS_ENDPOINT_URL", proxy.url()));
    let throttled = cargo_ecs(ws.path(), &deploy_args(&other, &["-vv", "--output", "json"]), &with);
    assert_eq!(throttled.code, 1, "{}", throttled.stderr);
    assert!(throttled.stdout.contains("ecr:GetAuthorizationToken"), "{}", throttled.stdout);
    searched.push(("AWS error after retries", assert_clean("throttled", &throttled, &forbidden)));

    // `run` is where the secret's value exists: it goes to the container and nowhere else.
    let run = run_locally(ws.path(), &settings, &vars);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    assert!(run.stdout.contains("stopped, container removed"), "{}", run.stdout);
    searched.push(("run -vv", assert_clean("run -vv", &run, &forbidden)));

    println!("searched for {} forbidden strings: {searched:?} (bytes of output per run)", forbidden.len());
}

/// `cargo ecs run -vv` for a few seconds, checking the container got the secret's value.
fn run_locally(dir: &Path, settings: &[String], vars: &[(&str, &str)]) -> Output {
    let port = "18631";
    let mut args = vec!["run", "-vv", "--stop-after", "6s", "--set", "port=18631"];
    for s in settings.iter().filter(|s| s.starts_with("env.") || s.starts_with("secrets.")) {
        args.extend(["--set", s.as_str()]);
    }
    let stdout_path = dir.join("run-stdout");
    let stderr_path = dir.join("run-stderr");
    let mut child = cargo_ecs_command(dir, &args, vars)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("file"))
        .stderr(std::fs::File::create(&stderr_path).expect("file"))
        .spawn()
        .expect("start cargo-ecs run");
    let start = Instant::now();
    let mut seen = None;
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code().unwrap_or(-1);
        }
        if start.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            break -1;
        }
        if seen.is_none() {
            seen = get(port, "/env/DB_PASSWORD");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(seen.as_deref(), Some(SECRET_VALUE), "the container gets the secret's value");
    Output {
        code,
        stdout: std::fs::read_to_string(stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(stderr_path).unwrap_or_default(),
    }
}

/// The body of a 200 answer to GET `path` on 127.0.0.1:`port`.
fn get(port: &str, path: &str) -> Option<String> {
    use std::io::Write as _;
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200").then(|| answer.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
}
