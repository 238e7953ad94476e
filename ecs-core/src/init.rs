//! `cargo ecs init`: appends a commented `[package.metadata.ecs]` section (from `templates/init.toml`) to a
//! package's Cargo.toml, keeping every byte already in the file, and refuses when the package already has one.

use std::path::{Path, PathBuf};

use serde::Serialize;
use toml_edit::{DocumentMut, Item};

/// The section `init` appends, before its placeholders are filled in.
pub const TEMPLATE: &str = include_str!("../../templates/init.toml");

/// The line of [`TEMPLATE`] that a given port replaces with `port = N`.
const PORT_LINE: &str = "# port = 8080";

/// The table `init` writes.
const SECTION: &str = "[package.metadata.ecs]";

/// Why `init` did not add the section.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The package already has settings; nothing was changed.
    #[error("{} already has [package.metadata.ecs] ({form})", .file.display())]
    AlreadyConfigured {
        /// The package's Cargo.toml.
        file: PathBuf,
        /// How the settings are written there, e.g. "as the table [package.metadata.ecs]".
        form: String,
    },
    /// The manifest is a virtual workspace manifest: it has `[workspace]` but no `[package]`.
    #[error("{} is a virtual workspace manifest (no [package]): which package?", .file.display())]
    VirtualManifest {
        /// The workspace's Cargo.toml.
        file: PathBuf,
    },
    /// The manifest has no `[package]` table at all.
    #[error("{} has no [package] table", .file.display())]
    NoPackage {
        /// The Cargo.toml.
        file: PathBuf,
    },
    /// The manifest is not valid TOML.
    #[error("{} is not valid TOML: {message}", .file.display())]
    Parse {
        /// The Cargo.toml.
        file: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The manifest is valid, but a `[package.metadata.ecs]` table cannot be appended to it.
    #[error("cannot add [package.metadata.ecs] to {}: {reason}", .file.display())]
    Unsupported {
        /// The Cargo.toml.
        file: PathBuf,
        /// Why, e.g. `package.metadata` is an inline table.
        reason: String,
    },
    /// Reading or writing the file failed.
    #[error("cannot {action} {}: {source}", .file.display())]
    Io {
        /// What was being done: "read", "write", ...
        action: &'static str,
        /// The file.
        file: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl InitError {
    /// What the user can do about it.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        Some(match self {
            Self::AlreadyConfigured { .. } => "edit the settings there; `cargo ecs config --explain` shows every \
                 setting with its value and where it came from (nothing was changed)"
                .to_owned(),
            Self::VirtualManifest { .. } => {
                "run `cargo ecs init` in the directory of the member you deploy, or name it with -p NAME".to_owned()
            }
            Self::NoPackage { .. } => "point --manifest-path at the Cargo.toml of the package you deploy".to_owned(),
            Self::Parse { .. } => "fix the file first; `cargo metadata --no-deps` shows cargo's own error".to_owned(),
            Self::Unsupported { .. } => {
                "write [package.metadata] as a table header rather than an inline table, or add the settings by hand"
                    .to_owned()
            }
            Self::Io { .. } => return None,
        })
    }

    /// Whether the error is the user's input (the manifest) rather than a failure while working.
    #[must_use]
    pub fn is_input_error(&self) -> bool {
        !matches!(self, Self::Io { .. })
    }

    /// The same error about `file` (errors of [`add_section`] name a plain `Cargo.toml`).
    #[must_use]
    pub fn with_file(mut self, path: &Path) -> Self {
        match &mut self {
            Self::AlreadyConfigured { file, .. }
            | Self::VirtualManifest { file }
            | Self::NoPackage { file }
            | Self::Parse { file, .. }
            | Self::Unsupported { file, .. }
            | Self::Io { file, .. } => path.clone_into(file),
        }
        self
    }
}

/// What `init` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitReport {
    /// The package.
    pub package: String,
    /// The Cargo.toml it wrote.
    pub manifest_path: PathBuf,
    /// The 1-based line of the file where `[package.metadata.ecs]` now starts.
    pub line: usize,
    /// The port written as a setting, when one was given (every other setting is commented out).
    pub port: Option<u16>,
    /// The text appended to the file.
    pub added: String,
}

/// The manifest with the `[package.metadata.ecs]` section of [`TEMPLATE`] appended: the output starts with
/// `manifest_text` byte for byte (only a final newline and a blank line are added before the section). The
/// section follows the file's line endings. With `port`, the section sets `port`; every other setting is
/// commented out, so the workspace's `[workspace.metadata.ecs]` defaults still apply.
///
/// # Errors
/// The manifest is not TOML, has no `[package]` (a virtual workspace manifest), already has settings in any form
/// (table, dotted keys, inline table, sub-tables), or cannot take the table (an inline `package.metadata`).
/// Errors name a plain `Cargo.toml`: see [`InitError::with_file`].
pub fn add_section(manifest_text: &str, package_name: &str, port: Option<u16>) -> Result<String, InitError> {
    let file = PathBuf::from("Cargo.toml");
    let doc: DocumentMut = manifest_text.parse().map_err(|e: toml_edit::TomlError| InitError::Parse {
        file: file.clone(),
        message: e.to_string().trim().to_owned(),
    })?;
    let Some(package) = doc.get("package") else {
        return Err(if doc.contains_key("workspace") {
            InitError::VirtualManifest { file }
        } else {
            InitError::NoPackage { file }
        });
    };
    let Some(package) = package.as_table_like() else {
        return Err(InitError::Unsupported { file, reason: "`package` is not a table".to_owned() });
    };
    if let Some(metadata) = package.get("metadata") {
        let Some(metadata_table) = metadata.as_table_like() else {
            return Err(InitError::Unsupported { file, reason: "`package.metadata` is not a table".to_owned() });
        };
        if let Some(ecs) = metadata_table.get("ecs") {
            return Err(InitError::AlreadyConfigured { file, form: form_of(ecs) });
        }
        if metadata.is_inline_table() {
            return Err(InitError::Unsupported {
                file,
                reason: "`package.metadata` is an inline table, which a [package.metadata.ecs] header cannot extend"
                    .to_owned(),
            });
        }
    }
    if package_is_inline(&doc) {
        return Err(InitError::Unsupported {
            file,
            reason: "`package` is an inline table, which a [package.metadata.ecs] header cannot extend".to_owned(),
        });
    }

    let newline = if manifest_text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut output = manifest_text.to_owned();
    if !output.is_empty() && !output.ends_with('\n') {
        output.push_str(newline);
    }
    if !output.trim().is_empty() && !output.ends_with(&format!("{newline}{newline}")) {
        output.push_str(newline);
    }
    output.push_str(&render_template(package_name, port).replace('\n', newline));

    // The appended text must have made exactly the table it meant to, and nothing else.
    let check: DocumentMut = output.parse().map_err(|e: toml_edit::TomlError| InitError::Unsupported {
        file: file.clone(),
        reason: format!("the file would not be valid TOML with the section appended: {}", e.to_string().trim()),
    })?;
    let added = check.get("package").and_then(|p| p.get("metadata")).and_then(|m| m.get("ecs"));
    if !added.is_some_and(Item::is_table) {
        return Err(InitError::Unsupported { file, reason: "the appended section does not read back".to_owned() });
    }
    Ok(output)
}

/// [`TEMPLATE`] with the package's name filled in and, with `port`, `port = N` set.
#[must_use]
pub fn render_template(package_name: &str, port: Option<u16>) -> String {
    let dns_name = package_name.to_ascii_lowercase().replace('_', "-");
    let mut text = TEMPLATE.replace("{package}", package_name).replace("{dns-name}", &dns_name);
    if let Some(port) = port {
        text = text.replacen(PORT_LINE, &format!("port = {port}"), 1);
    }
    text
}

/// Adds the section to the Cargo.toml at `manifest_path` (of the package `package_name`), writing the file
/// atomically: a temporary file in the same directory, renamed over the original (a symlink is followed, so the
/// file it points at is the one replaced). The file's permissions are kept.
///
/// # Errors
/// As [`add_section`], about this file; or the file cannot be read or written (it is then unchanged).
pub async fn init(manifest_path: &Path, package_name: &str, port: Option<u16>) -> Result<InitReport, InitError> {
    let io = |action: &'static str, file: &Path| {
        let file = file.to_path_buf();
        move |source| InitError::Io { action, file, source }
    };
    let target = tokio::fs::canonicalize(manifest_path).await.map_err(io("read", manifest_path))?;
    let text = tokio::fs::read_to_string(&target).await.map_err(io("read", manifest_path))?;
    let output = add_section(&text, package_name, port).map_err(|e| e.with_file(manifest_path))?;
    let added = output[text.len()..].to_owned();
    let at = text.len() + added.find(SECTION).unwrap_or(0);
    let line = output[..at].lines().count() + 1;
    write_atomically(&target, output.as_bytes()).await.map_err(io("write", manifest_path))?;
    Ok(InitReport { package: package_name.to_owned(), manifest_path: manifest_path.to_path_buf(), line, port, added })
}

async fn write_atomically(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.cargo-ecs-init.{}.tmp", std::process::id()));
    let permissions = tokio::fs::metadata(target).await?.permissions();
    let result = async {
        let mut file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(&temp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::set_permissions(&temp, permissions).await?;
        tokio::fs::rename(&temp, target).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    result
}

/// How an existing `package.metadata.ecs` is written, for the refusal message.
fn form_of(ecs: &Item) -> String {
    match ecs {
        Item::Table(table) if table.is_dotted() => "as dotted keys such as `metadata.ecs.port = ...`".to_owned(),
        Item::Table(table) if table.is_implicit() => {
            let subs: Vec<String> =
                table.iter().map(|(key, _)| format!("[package.metadata.ecs.{key}]")).take(2).collect();
            format!("through {}", subs.join(", "))
        }
        Item::Table(_) => "as the table [package.metadata.ecs]".to_owned(),
        Item::Value(value) if value.is_inline_table() => "as an inline table `ecs = { ... }`".to_owned(),
        _ => "as a value that is not a table".to_owned(),
    }
}

fn package_is_inline(doc: &DocumentMut) -> bool {
    doc.get("package").is_some_and(Item::is_inline_table)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::config::{PackageInfo, Source, from_metadata, resolve};

    /// A workspace member as `cargo new` writes it, with a comment and odd spacing.
    const PLAIN: &str = "[package]\nname = \"api\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n";

    /// A real-looking manifest: comments, blank lines, inline tables, dotted keys, odd spacing, no final newline.
    const BUSY: &str = r#"# The API service.
[package]
name    =   "api"   # aligned by hand
version.workspace = true
edition = "2024"
authors = [ "A <a@example.com>",
            "B <b@example.com>" ]

[package.metadata.docs.rs]
all-features = true


[dependencies]
serde = { version = "1", features = [ "derive" ] }   # keep
tokio = {version="1",features=["full"]}
axum.version = "0.8"

[dev-dependencies.insta]
version = "1"

[[bin]]
name = "api"
path = "src/main.rs"

[features]
default = []
# trailing comment, no newline after it"#;

    /// Windows line endings, and `[package.metadata]` set through dotted keys.
    const CRLF: &str = "[package]\r\nname = \"win\"\r\nversion = \"0.1.0\"\r\nmetadata.release.publish = false\r\n\r\n[lib]\r\npath = \"src/lib.rs\"\r\n";

    /// Keys of the template, uncommented: `# key = ...` and `# [table]` lines lose their `# `.
    fn uncomment(text: &str) -> String {
        text.lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.starts_with('[') || is_assignment(rest) => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn is_assignment(text: &str) -> bool {
        text.split_once(" = ")
            .is_some_and(|(key, _)| !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    }

    fn ecs_table(manifest: &str) -> Value {
        let value: Value = toml::from_str(manifest).expect("valid TOML");
        value["package"]["metadata"]["ecs"].clone()
    }

    #[test]
    fn the_output_starts_with_the_input_byte_for_byte() {
        for input in [PLAIN, BUSY, CRLF, "[package]\nname = \"x\"", "[package]\nname = \"x\"\n\n\n"] {
            let output = add_section(input, "api", None).expect("adds");
            assert!(output.starts_with(input), "{output}");
            let rest = &output[input.len()..];
            let section = rest.trim_start_matches(['\r', '\n']);
            assert!(section.starts_with(SECTION), "{rest:?}");
            assert!(rest.len() - section.len() <= 4, "only a newline and a blank line before the section: {rest:?}");
            // The input's own formatting survives whatever parser reads it back.
            let doc: DocumentMut = output.parse().expect("valid TOML");
            assert_eq!(doc["package"]["metadata"]["ecs"].as_table().map(toml_edit::Table::len), Some(0));
        }
    }

    #[test]
    fn busy_manifests_keep_their_comments_spacing_and_tables() {
        let output = add_section(BUSY, "api", None).expect("adds");
        for kept in [
            "name    =   \"api\"   # aligned by hand",
            "serde = { version = \"1\", features = [ \"derive\" ] }   # keep",
            "tokio = {version=\"1\",features=[\"full\"]}",
            "all-features = true\n\n\n[dependencies]",
            "# trailing comment, no newline after it\n\n[package.metadata.ecs]",
        ] {
            assert!(output.contains(kept), "{kept:?} lost:\n{output}");
        }
        let value: Value = toml::from_str(&output).expect("valid TOML");
        assert_eq!(value["package"]["metadata"]["docs"]["rs"]["all-features"], Value::Bool(true));
        assert_eq!(value["dependencies"]["axum"]["version"], "0.8");
    }

    #[test]
    fn crlf_files_get_crlf_and_dotted_metadata_is_extended() {
        let output = add_section(CRLF, "win", None).expect("adds");
        assert!(output.starts_with(CRLF));
        assert!(!output.replace("\r\n", "").contains('\n'), "a bare LF in a CRLF file");
        let value: Value = toml::from_str(&output).expect("valid TOML");
        assert_eq!(value["package"]["metadata"]["release"]["publish"], Value::Bool(false));
        assert_eq!(ecs_table(&output), serde_json::json!({}));
    }

    #[test]
    fn a_port_is_set_everything_else_stays_commented() {
        let output = add_section(PLAIN, "api", Some(3000)).expect("adds");
        assert!(output.contains("\nport = 3000\n"));
        assert_eq!(ecs_table(&output), serde_json::json!({ "port": 3000 }));
        assert_eq!(ecs_table(&add_section(PLAIN, "api", None).expect("adds")), serde_json::json!({}));
    }

    #[test]
    fn the_template_points_to_explain_and_names_the_package() {
        let text = render_template("my_api", None);
        assert!(text.starts_with(SECTION));
        assert!(text.contains("`cargo ecs config --explain`"));
        assert!(text.contains("ships `my_api`"));
        assert!(text.contains("# name = \"my-api\""));
        assert!(TEMPLATE.contains(PORT_LINE));
        assert!(!text.contains("{package}") && !text.contains("{dns-name}"));
        TEMPLATE.parse::<DocumentMut>().expect("the template is valid TOML as it stands");
    }

    #[test]
    fn every_key_of_the_template_is_a_real_setting() {
        let manifest = add_section(PLAIN, "api", None).expect("adds");
        let uncommented = uncomment(&manifest);
        let table = ecs_table(&uncommented);
        let file = PathBuf::from("/w/api/Cargo.toml");
        let layers = from_metadata(&table, Source::PackageMetadata { file: file.clone() }, |name| {
            Source::PackageEnvironment { name: name.to_owned(), file: file.clone() }
        })
        .unwrap_or_else(|errors| panic!("template keys: {errors:?}"));
        let keys: Vec<&str> = layers.base.values.keys().map(String::as_str).collect();
        for key in [
            "port",
            "health-check-path",
            "cpu",
            "memory",
            "env.RUST_LOG",
            "secrets.DATABASE_URL",
            "load-balancer.certificate",
            "dns.zone",
            "dns.name",
        ] {
            assert!(keys.contains(&key), "{key} is not in the template: {keys:?}");
        }
        let prod = layers.environments.get("prod").expect("an environments.prod example");
        assert!(prod.values.contains_key("desired-count"));
        let package = PackageInfo::with_one_bin("api", file.clone());
        for environment in [None, Some("prod")] {
            let mut stack = vec![layers.base.clone()];
            stack.extend(environment.map(|_| prod.clone()));
            let resolved = resolve(&package, environment, &stack, Path::new("/w/api"))
                .unwrap_or_else(|errors| panic!("template values with {environment:?}: {errors:?}"));
            assert_eq!(resolved.settings.port, 8080);
        }
    }

    #[test]
    fn existing_settings_in_any_form_are_refused() {
        let cases = [
            ("[package]\nname = \"a\"\n[package.metadata.ecs]\nport = 1\n", "the table [package.metadata.ecs]"),
            ("[package]\nname = \"a\"\n[package.metadata.ecs]\n", "the table"),
            ("[package]\nname = \"a\"\nmetadata.ecs.port = 1\n", "dotted keys"),
            ("[package]\nname = \"a\"\n[package.metadata]\necs = { port = 1 }\n", "inline table"),
            ("[package]\nname = \"a\"\nmetadata = { ecs = { port = 1 } }\n", "inline table"),
            (
                "[package]\nname = \"a\"\n[package.metadata.ecs.environments.prod]\n",
                "[package.metadata.ecs.environments]",
            ),
            ("[package.metadata.ecs.dns]\nzone = \"x\"\n[package]\nname = \"a\"\n", "[package.metadata.ecs.dns]"),
        ];
        for (input, form) in cases {
            match add_section(input, "a", None) {
                Err(InitError::AlreadyConfigured { file, form: found }) => {
                    assert_eq!(file, PathBuf::from("Cargo.toml"));
                    assert!(found.contains(form), "{input}: {found}");
                }
                other => panic!("{input}: {other:?}"),
            }
        }
        let err = add_section(cases[0].0, "a", None).expect_err("refused").with_file(Path::new("/w/a/Cargo.toml"));
        assert!(err.to_string().starts_with("/w/a/Cargo.toml already has [package.metadata.ecs]"), "{err}");
        assert!(err.help().is_some_and(|h| h.contains("cargo ecs config --explain")));
        assert!(err.is_input_error());
    }

    #[test]
    fn manifests_without_a_package_are_refused() {
        let virtual_manifest = "[workspace]\nmembers = [\"api\"]\n\n[workspace.metadata.ecs]\ncluster = \"c\"\n";
        let err = add_section(virtual_manifest, "api", None).expect_err("refused");
        assert!(matches!(err, InitError::VirtualManifest { .. }), "{err:?}");
        assert!(err.to_string().contains("virtual workspace manifest"));
        assert!(err.help().is_some_and(|h| h.contains("-p")));
        assert!(matches!(add_section("", "a", None), Err(InitError::NoPackage { .. })));
        assert!(matches!(add_section("[package\nname = 1", "a", None), Err(InitError::Parse { .. })));
    }

    #[test]
    fn manifests_that_cannot_take_the_table_are_refused() {
        for input in [
            "[package]\nname = \"a\"\nmetadata = { docs = 1 }\n",
            "package = { name = \"a\" }\n",
            "[package]\nname = \"a\"\nmetadata = 3\n",
        ] {
            assert!(matches!(add_section(input, "a", None), Err(InitError::Unsupported { .. })), "{input}");
        }
    }

    #[tokio::test]
    async fn init_writes_the_file_and_a_second_run_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("Cargo.toml");
        std::fs::write(&path, BUSY).expect("write");
        let report = init(&path, "api", Some(8080)).await.expect("init");
        let written = std::fs::read_to_string(&path).expect("read");
        assert!(written.starts_with(BUSY));
        assert_eq!(&written[BUSY.len()..], report.added);
        assert_eq!(written.lines().nth(report.line - 1), Some(SECTION));
        assert_eq!((report.package.as_str(), report.port), ("api", Some(8080)));

        let err = init(&path, "api", None).await.expect_err("second run");
        assert!(matches!(&err, InitError::AlreadyConfigured { file, .. } if file == &path), "{err:?}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), written);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");

        let missing = init(&dir.path().join("nope/Cargo.toml"), "api", None).await.expect_err("missing");
        assert!(matches!(missing, InitError::Io { action: "read", .. }) && !missing.is_input_error());
    }
}
