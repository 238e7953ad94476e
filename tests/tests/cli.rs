//! The binary as users meet it: as a cargo subcommand, its help, and the commands not built yet.

use std::process::Command;

use cargo_ecs_tests::{binary, fixture};

#[test]
fn runs_as_a_cargo_subcommand() {
    let ws = fixture("layered");
    let bin_dir = binary().parent().expect("bin dir").to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(["ecs", "config", "-p", "api", "--output", "json"])
        .current_dir(ws.path())
        .env("PATH", path)
        .output()
        .expect("run cargo ecs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json[0]["package"], "api");
}

#[test]
fn runs_directly_with_or_without_the_ecs_word() {
    let ws = fixture("layered");
    for args in [&["ecs", "config", "-p", "api"][..], &["config", "-p", "api"][..]] {
        let out = Command::new(binary()).args(args).current_dir(ws.path()).output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("cluster = \"platform\""));
    }
}

#[test]
fn help_lists_every_command_and_global_flag() {
    let out = Command::new(binary()).args(["ecs", "--help"]).output().expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "deploy",
        "plan",
        "status",
        "build",
        "push",
        "config",
        "logs",
        "rollback",
        "destroy",
        "init",
        "run",
        "--manifest-path",
        "--package",
        "--workspace",
        "--env",
        "--profile",
        "--region",
        "--endpoint-url",
        "--verbose",
        "--quiet",
        "--color",
        "--output",
        "--set",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(binary()).args(["ecs", "deploy", "--timeout", "soon"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a duration such as 90s"));
}
