//! `cargo ecs status` and `cargo ecs logs` end to end against the shimmed emulator: a fixture is deployed under a
//! unique name, then what the commands print is checked against an independent boto3 read (tests/stack).

use cargo_ecs_tests::{Output, Stack, cargo_ecs, fixture, unique_name};
use serde_json::Value;

/// A deployed copy of the `web` fixture: its directory and the `--set` flags that name its service.
struct Deployed {
    ws: tempfile::TempDir,
    name: String,
    sets: Vec<String>,
}

impl Deployed {
    fn new(prefix: &str) -> Self {
        let name = unique_name(prefix);
        let sets = vec![format!("service={name}"), format!("repository={name}"), "assign-public-ip=true".to_owned()];
        let deployed = Self { ws: fixture("web"), name, sets };
        let out = deployed.run(&["deploy", "-q"]);
        assert_eq!(out.code, 0, "deploy failed:\n{}\n{}", out.stderr, out.stdout);
        deployed
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = Vec::new();
        for s in &self.sets {
            all.extend(["--set", s.as_str()]);
        }
        all.extend_from_slice(args);
        cargo_ecs(self.ws.path(), &all, &[])
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert_eq!(out.code, 0, "{args:?} failed:\n{}\n{}", out.stderr, out.stdout);
        out.json()[0].clone()
    }
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().expect("array").iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

#[test]
fn status_shows_what_runs_as_aws_has_it_and_whether_the_tree_is_deployed() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let web = Deployed::new("stat");
    let status = web.json(&["status"]);
    let aws: Value =
        serde_json::from_str(&stack.script("service_status.py", &[&web.name, &web.name])).expect("service JSON");

    assert_eq!(status["service"], web.name.as_str());
    assert_eq!(status["cluster"], web.name.as_str(), "the cluster defaults to the service's name");
    assert_eq!(status["status"], "ACTIVE");
    assert_eq!(
        (status["desired"].clone(), status["running"].clone()),
        (aws["desired"].clone(), aws["running"].clone())
    );
    assert_eq!(status["running"], 1);
    let primary = &status["deployments"][0];
    assert_eq!(primary["status"], "PRIMARY");
    assert_eq!(primary["task-definition"], aws["task-definition"]);
    assert_eq!(primary["revision"], format!("{}:{}", web.name, aws["revision"]));
    assert_eq!(primary["image"], aws["image"]);
    let digest = aws["image"].as_str().and_then(|i| i.rsplit_once('@')).map(|(_, d)| d).expect("by digest");
    assert_eq!(primary["digest"], digest);
    assert_eq!(primary["rollout-state"], "COMPLETED");
    let tasks: Vec<Value> = status["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| serde_json::json!([t["id"], t["private-ip"]]))
        .collect();
    assert_eq!(Value::Array(tasks), aws["tasks"]);
    assert_eq!(status["tasks"][0]["target"], "healthy", "{status}");
    let targets = status["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), aws["targets"].as_array().map_or(0, Vec::len));
    assert!(targets.iter().all(|t| t["state"] == "healthy"), "{status}");
    let events = status["events"].as_array().expect("events");
    assert!(!events.is_empty() && events.len() <= 5, "{status}");
    assert!(events.iter().any(|e| e["message"].as_str().is_some_and(|m| m.contains("has reached a steady state"))));
    assert!(status["url"].as_str().is_some_and(|u| u.starts_with("http://") && u.contains(".elb.")), "{status}");
    assert_eq!(status["working-tree"]["up-to-date"], true, "{status}");
    assert_eq!(status["working-tree"]["digest"], digest);

    let text = web.run(&["status"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("1 desired, 1 running, 0 pending"), "{}", text.stdout);
    assert!(text.stdout.contains("image: up to date"), "{}", text.stdout);
    assert!(text.stdout.contains(&format!("{}:{}", web.name, aws["revision"])), "{}", text.stdout);

    // A code change the service does not run yet.
    let main = web.ws.path().join("src/main.rs");
    std::fs::write(&main, std::fs::read_to_string(&main).expect("main").replace("\"ok\\n\"", "\"changed\\n\""))
        .expect("edit");
    let changed = web.json(&["status"]);
    assert_eq!(changed["working-tree"]["up-to-date"], false, "{changed}");
    assert_eq!(changed["working-tree"]["deployed"], digest);
    assert_ne!(changed["working-tree"]["digest"], digest);
    let text = web.run(&["status", "-q"]);
    assert!(text.stdout.contains("image: differs from the working tree"), "{}", text.stdout);
}

#[test]
fn status_of_a_service_that_does_not_exist_says_to_deploy_and_fails() {
    let name = unique_name("nosvc");
    let ws = fixture("web");
    let set = format!("service={name}");
    let out = cargo_ecs(ws.path(), &["status", "--set", &set], &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stderr, out.stdout);
    assert!(out.stderr.contains(&format!("service {name} does not exist")), "{}", out.stderr);
    assert!(out.stderr.contains("cargo ecs deploy"), "{}", out.stderr);
    let json = cargo_ecs(ws.path(), &["status", "--set", &set, "--output", "json"], &[]);
    assert_eq!(json.code, 1);
    assert!(
        json.json()["error"]["message"].as_str().is_some_and(|m| m.contains("cargo ecs deploy")),
        "{}",
        json.stdout
    );
}

#[test]
fn logs_print_each_tasks_lines_with_its_short_id() {
    let stack = Stack::get();
    let _aws = stack.lock();
    let web = Deployed::new("logs");

    // Before any task wrote a line: a clear message, and success.
    let empty = web.run(&["logs"]);
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(empty.stdout.contains(&format!("no log streams in /ecs/{} yet", web.name)), "{}", empty.stdout);
    let empty = web.json(&["logs"]);
    assert_eq!(empty["streams"], false);
    assert_eq!(empty["lines"], serde_json::json!([]));

    let task = web.json(&["status", "-q"])["tasks"][0]["id"].as_str().expect("task id").to_owned();
    let put = |task: &str, lines: &[&str]| -> Value {
        let mut args = vec![web.name.as_str(), web.name.as_str(), task];
        args.extend_from_slice(lines);
        serde_json::from_str(&stack.script("put_logs.py", &args)).expect("put_logs JSON")
    };
    let written = put(&task, &["listening on 0.0.0.0:8080", "GET /health 200"]);
    let other = "0123456789abcdef0123456789abcdef";
    put(other, &["another task's line"]);

    let all = web.json(&["logs", "--since", "1h"]);
    assert_eq!(all["group"], written["group"]);
    assert_eq!(all["streams"], true);
    let lines = all["lines"].as_array().expect("lines");
    let messages = strings(&Value::Array(lines.iter().map(|l| l["message"].clone()).collect()));
    assert_eq!(messages, ["listening on 0.0.0.0:8080", "GET /health 200", "another task's line"]);
    assert_eq!(lines[0]["task"], task.as_str());
    assert_eq!(lines[0]["stream"], written["stream"]);
    assert_eq!(lines[2]["task"], other);
    assert!(lines.windows(2).all(|w| w[0]["timestamp"].as_i64() <= w[1]["timestamp"].as_i64()), "oldest first");

    let text = web.run(&["logs", "--since", "1h"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    let text_lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(text_lines.len(), 3, "{}", text.stdout);
    assert!(text_lines[0].starts_with(&format!("{} ", &task[..8])), "{}", text.stdout);
    assert!(text_lines[0].ends_with(" listening on 0.0.0.0:8080"), "{}", text.stdout);
    assert!(text_lines[2].starts_with("01234567 ") && text_lines[2].ends_with(" another task's line"));

    // --task: only that task's stream, by id or by the start of it.
    for id in [task.as_str(), &task[..8]] {
        let only = web.json(&["logs", "--since", "1h", "--task", id]);
        let tasks: Vec<String> = strings(&Value::Array(
            only["lines"].as_array().expect("lines").iter().map(|l| l["task"].clone()).collect(),
        ));
        assert_eq!(tasks, [task.clone(), task.clone()], "--task {id}: {only}");
    }
    let none = web.run(&["logs", "--task", "feedfacefeedface"]);
    assert_eq!(none.code, 0, "{}", none.stderr);
    assert!(none.stdout.contains("no log stream for task feedfacefeedface"), "{}", none.stdout);

    // --since: lines older than the window are left out.
    let recent = web.json(&["logs", "--since", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let later = web.json(&["logs", "--since", "1s"]);
    assert!(later["lines"].as_array().is_some_and(Vec::is_empty), "{later} (before: {recent})");
}
