//! `cargo ecs init` through the real binary: the section is appended with every other byte kept, a second run
//! refuses and changes nothing, and a virtual workspace root asks which package.

use cargo_ecs_tests::{cargo_ecs, fixture};

#[test]
fn init_adds_the_section_and_config_then_reads_it() {
    let ws = fixture("layered");
    let manifest = ws.path().join("plain/Cargo.toml");
    let before = std::fs::read_to_string(&manifest).expect("read");

    let out = cargo_ecs(&ws.path().join("plain"), &["init"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("plain: added [package.metadata.ecs] to"), "{}", out.stdout);
    assert!(out.stdout.contains("cargo ecs config --explain") && out.stdout.contains("cargo ecs deploy"));

    let after = std::fs::read_to_string(&manifest).expect("read");
    assert!(after.starts_with(&before), "the file's own bytes changed:\n{after}");
    let added = &after[before.len()..];
    assert!(added.trim_start().starts_with("[package.metadata.ecs]\n"), "{added}");
    assert!(added.contains("`cargo ecs config --explain`"), "{added}");

    // Every value still resolves, the workspace's defaults included.
    let out = cargo_ecs(&ws.path().join("plain"), &["config", "--explain", "--output", "json"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    assert_eq!(json[0]["package"], "plain");
    let settings = json[0]["settings"].as_array().expect("settings");
    let cluster = settings.iter().find(|e| e["key"] == "cluster").expect("cluster");
    assert_eq!((&cluster["value"], &cluster["source"]["layer"]), (&"platform".into(), &"workspace-metadata".into()));
    let out = cargo_ecs(&ws.path().join("plain"), &["config"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    // A second run refuses as an input error and leaves the file alone.
    let out = cargo_ecs(&ws.path().join("plain"), &["init"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("already has [package.metadata.ecs]"), "{}", out.stderr);
    assert!(out.stderr.contains("cargo ecs config --explain"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&manifest).expect("read"), after);
}

#[test]
fn init_with_a_port_sets_it_and_reports_json() {
    let ws = fixture("layered");
    let out = cargo_ecs(ws.path(), &["init", "-p", "plain", "--set", "port=3000", "--output", "json"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    assert_eq!((json["package"].as_str(), json["port"].as_u64()), (Some("plain"), Some(3000)));
    assert!(json["manifest_path"].as_str().is_some_and(|p| p.ends_with("plain/Cargo.toml")), "{json}");
    assert_eq!(json["next"][0], "cargo ecs config --explain");

    let out = cargo_ecs(ws.path(), &["config", "--output", "json", "-p", "plain"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()[0]["port"], 3000);

    let out = cargo_ecs(ws.path(), &["init", "-p", "plain", "--set", "memory=1024"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("sets only `port`"), "{}", out.stderr);
}

#[test]
fn init_refuses_a_package_that_has_settings() {
    let ws = fixture("layered");
    let manifest = ws.path().join("api/Cargo.toml");
    let before = std::fs::read_to_string(&manifest).expect("read");
    let out = cargo_ecs(ws.path(), &["init", "-p", "api"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("api/Cargo.toml already has [package.metadata.ecs]"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&manifest).expect("read"), before);
}

#[test]
fn init_at_a_virtual_workspace_root_asks_which_package() {
    let ws = fixture("layered");
    let root = ws.path().join("Cargo.toml");
    let before = std::fs::read_to_string(&root).expect("read");
    let out = cargo_ecs(ws.path(), &["init"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("is a virtual workspace manifest"), "{}", out.stderr);
    assert!(out.stderr.contains("-p NAME") && out.stderr.contains("members without settings: plain"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&root).expect("read"), before);

    let out = cargo_ecs(ws.path(), &["init", "--workspace"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("one package at a time"), "{}", out.stderr);
}
