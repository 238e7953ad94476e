//! The README is the front door: its settings reference must match the schema the tool actually reads.
//! Run with `CARGO_ECS_TEST_BLESS=1` to rewrite the README's table from the schema.

use cargo_ecs_tests::repo_root;
use ecs_core::config::schema;

const START: &str = "<!-- settings:start -->\n";
const END: &str = "<!-- settings:end -->";

#[test]
fn readme_settings_reference_matches_the_schema() {
    let path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme.find(START).expect("README has a settings:start marker") + START.len();
    let end = readme.find(END).expect("README has a settings:end marker");
    let expected = schema::reference_table();
    if readme[start..end] != expected && std::env::var_os("CARGO_ECS_TEST_BLESS").is_some() {
        std::fs::write(&path, format!("{}{expected}{}", &readme[..start], &readme[end..])).expect("write README");
        return;
    }
    assert_eq!(readme[start..end], expected, "README settings table is stale: run with CARGO_ECS_TEST_BLESS=1");
}

#[test]
fn readme_documents_every_command_and_tool_variable() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    for command in ["deploy", "plan", "status", "build", "push", "config", "logs", "rollback", "destroy", "init", "run"]
    {
        assert!(readme.contains(&format!("`cargo ecs {command}")), "README lacks `cargo ecs {command}`");
    }
    for (name, _) in schema::TOOL_ENV_VARS {
        assert!(readme.contains(name), "README lacks {name}");
    }
}
