//! The build context the Docker builder sends: a tar that cargo-ecs assembles itself.
//!
//! Both kinds hold the same staged files under [`STAGING_DIR`]: `rootfs/` (the base files of
//! [`files::base_files`]), `bin/<bin>` (the compiled binary) and the `Dockerfile`.
//!
//! - Built-in: the Dockerfile is `templates/Dockerfile` rendered with `{{base}}`, `{{port}}` and `{{bin}}`.
//! - The user's: the package directory, filtered by its `.dockerignore` (always without `target/`, `.git/` and
//!   Cargo target directories), plus the staged files; the user's Dockerfile is sent as `.cargo-ecs/Dockerfile`,
//!   so it may live outside the package directory.

use std::path::{Path, PathBuf};

use super::ImageInput;
use super::error::ImageError;
use super::files;
use super::layer::{self, TarEntry};

/// The directory of the context that holds what cargo-ecs adds; a package's own `.cargo-ecs/` is not sent.
pub const STAGING_DIR: &str = ".cargo-ecs";

/// The Dockerfile template, `templates/Dockerfile` of the repository.
pub const DOCKERFILE_TEMPLATE: &str = include_str!("../../templates/Dockerfile");

/// A build context ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct BuildContext {
    /// The tar.
    pub tar: Vec<u8>,
    /// Path of the Dockerfile inside the tar.
    pub dockerfile: String,
    /// Build arguments offered to the Dockerfile: `CARGO_ECS_BIN`, `CARGO_ECS_BINARY`, `CARGO_ECS_PORT`.
    pub build_args: Vec<(String, String)>,
    /// Number of files taken from the package directory (0 for the built-in Dockerfile).
    pub package_files: usize,
    /// Whether a stage of the Dockerfile starts `FROM scratch` (see [`from_scratch`]).
    pub from_scratch: bool,
}

impl std::fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildContext")
            .field("size", &self.tar.len())
            .field("dockerfile", &self.dockerfile)
            .field("build_args", &self.build_args)
            .field("package_files", &self.package_files)
            .field("from_scratch", &self.from_scratch)
            .finish()
    }
}

/// Replaces every `{{name}}` of `template` by its value in `vars`.
///
/// # Errors
/// When a placeholder has no value, a `{{` is not closed, or a value holds a line break (it would add an
/// instruction to the Dockerfile).
pub fn render(name: &str, template: &str, vars: &[(&str, &str)]) -> Result<String, ImageError> {
    let fail = |message: String| ImageError::Template { name: name.to_owned(), message };
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| fail("a `{{` is not closed by `}}`".to_owned()))?;
        let key = after[..end].trim();
        let value = vars
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| fail(format!("unknown placeholder `{{{{{key}}}}}`")))?;
        if value.contains(['\n', '\r']) {
            return Err(fail(format!("the value of `{key}` holds a line break")));
        }
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The context of the built-in Dockerfile: the rendered template and the staged files.
///
/// # Errors
/// When the template cannot be rendered or the tar cannot be written.
pub fn builtin(input: &ImageInput, binary: &[u8]) -> Result<BuildContext, ImageError> {
    let port = input.port.to_string();
    let vars = [("base", input.base.as_str()), ("port", port.as_str()), ("bin", input.bin_name.as_str())];
    let dockerfile = render("templates/Dockerfile", DOCKERFILE_TEMPLATE, &vars)?;
    let scratch = from_scratch(&dockerfile);
    let mut entries = staged(input, binary);
    entries.push(TarEntry::file(&format!("{STAGING_DIR}/Dockerfile"), dockerfile.into_bytes(), 0o644));
    finish(input, &entries, 0, scratch)
}

/// The context of the user's `dockerfile`: the package directory filtered by its `.dockerignore`, the staged
/// files and the Dockerfile.
///
/// # Errors
/// When a file cannot be read or the tar cannot be written.
pub fn user(input: &ImageInput, dockerfile: &Path, binary: &[u8]) -> Result<BuildContext, ImageError> {
    let root = &input.context_dir;
    let ignore_path = root.join(".dockerignore");
    let ignore = match std::fs::read_to_string(&ignore_path) {
        Ok(text) => Dockerignore::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Dockerignore::default(),
        Err(source) => return Err(ImageError::Context { path: ignore_path, source }),
    };
    let mut entries = Vec::new();
    walk(root, root, &ignore, &mut entries)?;
    let package_files = entries.iter().filter(|e| matches!(e.kind, layer::EntryKind::File(_))).count();
    let text =
        std::fs::read(dockerfile).map_err(|source| ImageError::Context { path: dockerfile.to_owned(), source })?;
    let scratch = from_scratch(&String::from_utf8_lossy(&text));
    entries.extend(staged(input, binary));
    entries.push(TarEntry::file(&format!("{STAGING_DIR}/Dockerfile"), text, 0o644));
    finish(input, &entries, package_files, scratch)
}

/// The base files under `.cargo-ecs/rootfs/` and the binary as `.cargo-ecs/bin/<bin>`.
fn staged(input: &ImageInput, binary: &[u8]) -> Vec<TarEntry> {
    let mut entries: Vec<TarEntry> = files::base_files()
        .into_iter()
        .map(|f| {
            let path = format!("{STAGING_DIR}/rootfs{}", f.path);
            if f.is_dir() { TarEntry::dir(&path, f.mode) } else { TarEntry::file(&path, f.data, f.mode) }
        })
        .collect();
    entries.push(TarEntry::file(&binary_path(input), binary.to_vec(), 0o755));
    entries
}

fn binary_path(input: &ImageInput) -> String {
    format!("{STAGING_DIR}/bin/{}", input.bin_name)
}

/// Whether a stage of `dockerfile` starts `FROM scratch` (`FROM --platform=… scratch AS x` too).
///
/// The Docker Engine's classic builder ignores the platform when it looks up its cache for the first instruction
/// after `FROM scratch` (the parent is no image), so an arm64 build can reuse an amd64 step; the builder turns the
/// cache off for such Dockerfiles. Scratch steps only copy files, so this costs little.
#[must_use]
pub fn from_scratch(dockerfile: &str) -> bool {
    dockerfile.lines().any(|line| {
        let mut words = line.split_whitespace();
        words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
            && words.find(|w| !w.starts_with("--")).is_some_and(|image| image.eq_ignore_ascii_case("scratch"))
    })
}

fn finish(
    input: &ImageInput,
    entries: &[TarEntry],
    package_files: usize,
    from_scratch: bool,
) -> Result<BuildContext, ImageError> {
    let tar = layer::write_tar(entries)
        .map_err(|source| ImageError::Write { what: "Docker build context".to_owned(), source })?;
    Ok(BuildContext {
        tar,
        dockerfile: format!("{STAGING_DIR}/Dockerfile"),
        build_args: vec![
            ("CARGO_ECS_BIN".to_owned(), input.bin_name.clone()),
            ("CARGO_ECS_BINARY".to_owned(), binary_path(input)),
            ("CARGO_ECS_PORT".to_owned(), input.port.to_string()),
        ],
        package_files,
        from_scratch,
    })
}

/// Adds what `dir` (under `root`) holds to `entries`, except what is always left out and what `ignore` excludes.
fn walk(root: &Path, dir: &Path, ignore: &Dockerignore, entries: &mut Vec<TarEntry>) -> Result<(), ImageError> {
    let context = |path: &Path| {
        let path = path.to_owned();
        move |source| ImageError::Context { path, source }
    };
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(context(dir))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(context(dir))?;
    children.sort();
    for path in children {
        let relative = relative_path(root, &path)?;
        let meta = std::fs::symlink_metadata(&path).map_err(context(&path))?;
        let kind = meta.file_type();
        if kind.is_dir() && always_excluded(&relative, &path) {
            continue;
        }
        let excluded = ignore.is_excluded(&relative);
        if kind.is_dir() {
            if !excluded {
                entries.push(TarEntry::dir(&relative, mode(&meta)));
            }
            if !excluded || ignore.has_exceptions() {
                walk(root, &path, ignore, entries)?;
            }
        } else if excluded {
            continue;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&path).map_err(context(&path))?;
            entries.push(TarEntry::symlink(&relative, &target.to_string_lossy(), 0o777));
        } else if kind.is_file() {
            let data = std::fs::read(&path).map_err(context(&path))?;
            entries.push(TarEntry::file(&relative, data, mode(&meta)));
        }
    }
    Ok(())
}

/// `root/a/b` → `a/b`, or an error for a name that is not UTF-8.
fn relative_path(root: &Path, path: &Path) -> Result<String, ImageError> {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Option<Vec<&str>> = relative.components().map(|c| c.as_os_str().to_str()).collect();
    parts.map(|p| p.join("/")).ok_or_else(|| ImageError::Context {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "the file name is not UTF-8"),
    })
}

/// Directories never sent: `target/` at the root, any `.git/`, any Cargo target directory (it holds
/// `CACHEDIR.TAG`), and the package's own `.cargo-ecs/` (the staged files take its place).
fn always_excluded(relative: &str, path: &Path) -> bool {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    relative == "target" || relative == STAGING_DIR || name == ".git" || path.join("CACHEDIR.TAG").is_file()
}

#[cfg(unix)]
fn mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode(meta: &std::fs::Metadata) -> u32 {
    if meta.is_dir() { 0o755 } else { 0o644 }
}

/// The rules of a `.dockerignore`, with Docker's meaning: paths relative to the context root, `*` and `?` within
/// one path segment, `**` across segments, `[a-z]` classes, `\` escapes, `!` re-includes, the last matching rule
/// wins, and a rule that matches a directory matches everything in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dockerignore {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    exception: bool,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`: one character other than `/`.
    One,
    /// `*`: any characters other than `/`.
    Star,
    /// `**` before more of the pattern: nothing, or anything that ends with `/`.
    Dirs,
    /// `**` at the end: anything.
    All,
    /// `[...]`: one character other than `/` in (or, negated, not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Dockerignore {
    /// Parses the text of a `.dockerignore`: one rule a line, `#` comments and blank lines skipped.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let rules = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let line = line.trim();
                let (exception, pattern) = match line.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, line),
                };
                let pattern = clean(pattern);
                (!pattern.is_empty()).then(|| Rule { exception, tokens: compile(&pattern) })
            })
            .collect();
        Self { rules }
    }

    /// Whether some rule starts with `!` (so an excluded directory must still be looked into).
    #[must_use]
    pub fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|r| r.exception)
    }

    /// Whether `path` (relative to the context root, `/`-separated) is left out of the context.
    #[must_use]
    pub fn is_excluded(&self, path: &str) -> bool {
        let path: Vec<char> = path.trim_matches('/').chars().collect();
        let parents: Vec<usize> = path.iter().enumerate().filter(|(_, c)| **c == '/').map(|(i, _)| i).collect();
        let mut excluded = false;
        for rule in &self.rules {
            // An exclusion cannot change an excluded path, nor an exception an included one.
            if rule.exception != excluded {
                continue;
            }
            let hit = matches(&rule.tokens, &path) || parents.iter().any(|&end| matches(&rule.tokens, &path[..end]));
            if hit {
                excluded = !rule.exception;
            }
        }
        excluded
    }
}

/// Docker's clean-up of a pattern: `./`, empty segments and a trailing `/` dropped, `a/../b` resolved, the leading
/// `/` removed (patterns are relative to the context root).
fn clean(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

fn compile(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(if i >= chars.len() { Token::All } else { Token::Dirs });
                continue;
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::One),
            '\\' if i + 1 < chars.len() => {
                i += 1;
                tokens.push(Token::Char(chars[i]));
            }
            '[' => {
                if let Some((token, next)) = class(&chars, i) {
                    tokens.push(token);
                    i = next;
                    continue;
                }
                tokens.push(Token::Char('['));
            }
            c => tokens.push(Token::Char(c)),
        }
        i += 1;
    }
    tokens
}

/// A `[...]` class starting at `chars[start]`, and the index after it; `None` when it is not closed.
fn class(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut i = start + 1;
    let negated = matches!(chars.get(i), Some('^' | '!'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    while i < chars.len() {
        let mut c = chars[i];
        if c == ']' && !first {
            return Some((Token::Class { negated, ranges }, i + 1));
        }
        if c == '\\' && i + 1 < chars.len() {
            i += 1;
            c = chars[i];
        }
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&e| e != ']') {
            ranges.push((c, chars[i + 2]));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
        first = false;
    }
    None
}

/// Whether `tokens` match all of `s`.
fn matches(tokens: &[Token], s: &[char]) -> bool {
    let Some((token, rest)) = tokens.split_first() else {
        return s.is_empty();
    };
    match token {
        Token::Char(c) => s.first() == Some(c) && matches(rest, &s[1..]),
        Token::One => s.first().is_some_and(|&c| c != '/') && matches(rest, &s[1..]),
        Token::Class { negated, ranges } => {
            s.first().is_some_and(|&c| c != '/' && ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated)
                && matches(rest, &s[1..])
        }
        Token::Star => {
            let run = s.iter().position(|&c| c == '/').unwrap_or(s.len());
            (0..=run).any(|i| matches(rest, &s[i..]))
        }
        Token::All => true,
        Token::Dirs => matches(rest, s) || s.iter().enumerate().any(|(i, &c)| c == '/' && matches(rest, &s[i + 1..])),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;
    use crate::image::Platform;

    fn ignore(text: &str) -> Dockerignore {
        Dockerignore::parse(text)
    }

    #[test]
    fn stars_match_within_a_segment_and_double_stars_across() {
        let rules = ignore("*.md\n**/*.log\ndocs/**\nsrc/**/gen.rs\n");
        assert!(rules.is_excluded("README.md"));
        assert!(!rules.is_excluded("src/notes.md"), "`*` stays in the root segment");
        assert!(rules.is_excluded("debug.log"), "`**/` matches no directory too");
        assert!(rules.is_excluded("a/b/c/debug.log"));
        assert!(rules.is_excluded("docs/guide/index.html"));
        assert!(!rules.is_excluded("docs"), "`docs/**` is what is in docs, not docs itself");
        assert!(rules.is_excluded("src/gen.rs") && rules.is_excluded("src/a/b/gen.rs"));
        assert!(!rules.is_excluded("src/main.rs"));
    }

    #[test]
    fn question_marks_classes_and_escapes() {
        let rules = ignore("file?.txt\nlog[0-9]\n\\*literal\n[!a]x\n");
        assert!(rules.is_excluded("file1.txt") && !rules.is_excluded("file10.txt") && !rules.is_excluded("file/.txt"));
        assert!(rules.is_excluded("log7") && !rules.is_excluded("logx"));
        assert!(rules.is_excluded("*literal") && !rules.is_excluded("aliteral"));
        assert!(rules.is_excluded("bx") && !rules.is_excluded("ax"));
    }

    #[test]
    fn a_directory_rule_covers_its_contents_and_a_leading_slash_means_the_root() {
        let rules = ignore("# comment\n\n  /build/  \nnode_modules\n");
        assert!(rules.is_excluded("build") && rules.is_excluded("build/out/app.js"));
        assert!(rules.is_excluded("node_modules/x/index.js"));
        assert!(!rules.is_excluded("web/node_modules/x.js"), "rules are anchored at the root, as Docker's");
        assert!(!rules.is_excluded("# comment"));
    }

    #[test]
    fn the_last_matching_rule_wins_and_bang_re_includes() {
        let rules = ignore("*.md\n!README.md\nREADME*\n!docs\ndocs/secret.md\n");
        assert!(rules.is_excluded("CHANGELOG.md"));
        assert!(rules.is_excluded("README.md"), "README* comes after !README.md");
        let rules = ignore("*.md\n!README.md\n");
        assert!(!rules.is_excluded("README.md") && rules.is_excluded("NOTES.md"));
        assert!(rules.has_exceptions());
        let rules = ignore("assets\n!assets/keep.txt\n");
        assert!(rules.is_excluded("assets/drop.txt") && !rules.is_excluded("assets/keep.txt"));
    }

    #[test]
    fn render_substitutes_placeholders_and_refuses_unknown_ones() {
        let out = render(
            "t",
            "FROM {{base}}\nEXPOSE {{ port }}\nCMD {{bin}}{{bin}}",
            &[("base", "scratch"), ("port", "8080"), ("bin", "app")],
        )
        .expect("render");
        assert_eq!(out, "FROM scratch\nEXPOSE 8080\nCMD appapp");
        let unknown = render("t", "FROM {{image}}", &[("base", "scratch")]).expect_err("unknown");
        assert!(unknown.to_string().contains("`{{image}}`"), "{unknown}");
        assert!(render("t", "FROM {{base", &[("base", "x")]).is_err());
        assert!(render("t", "FROM {{base}}", &[("base", "x\nRUN evil")]).is_err());
    }

    #[test]
    fn scratch_stages_are_found() {
        assert!(from_scratch("FROM scratch\nCOPY a /a\n"));
        assert!(from_scratch("from rust:1 AS build\nRUN cargo build\nFROM --platform=linux/arm64 scratch AS run\n"));
        assert!(!from_scratch("FROM debian:bookworm-slim\n# FROM scratch\nCOPY scratch /scratch\n"));
    }

    #[test]
    fn the_template_renders_to_the_built_in_dockerfile() {
        let input = input(Path::new("/nonexistent"));
        let context = builtin(&input, b"ELF").expect("context");
        let files = list(&context.tar);
        let dockerfile = String::from_utf8(files[".cargo-ecs/Dockerfile"].clone()).expect("utf-8");
        assert!(dockerfile.contains("\nFROM scratch\n"), "{dockerfile}");
        assert!(dockerfile.contains("COPY .cargo-ecs/bin/hello /usr/local/bin/hello\n"));
        assert!(dockerfile.contains("USER 65532:65532\nEXPOSE 8080\n"));
        assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/hello\"]"));
        assert!(!dockerfile.contains("{{"));
        assert_eq!(files[".cargo-ecs/bin/hello"], b"ELF");
        assert!(files.contains_key(".cargo-ecs/rootfs/etc/ssl/certs/ca-certificates.crt"));
        assert!(files.contains_key(".cargo-ecs/rootfs/etc/passwd"));
        assert_eq!(context.dockerfile, ".cargo-ecs/Dockerfile");
        assert_eq!(context.package_files, 0);
        assert!(context.from_scratch);
    }

    fn input(dir: &Path) -> ImageInput {
        ImageInput {
            binary: dir.join("hello"),
            bin_name: "hello".to_owned(),
            port: 8080,
            platform: Platform { os: "linux".to_owned(), architecture: "arm64".to_owned() },
            base: "scratch".to_owned(),
            dockerfile: Some(dir.join("Dockerfile")),
            context_dir: dir.to_owned(),
        }
    }

    /// Path → bytes of every file of a tar (directories map to nothing).
    fn list(tar_bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
        let mut archive = tar::Archive::new(tar_bytes);
        let mut out = std::collections::BTreeMap::new();
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read");
            out.insert(String::from_utf8(entry.path_bytes().into_owned()).expect("utf-8"), data);
        }
        out
    }

    #[test]
    fn a_user_context_honours_dockerignore_and_never_sends_target_or_git() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path();
        for (path, text) in [
            ("Cargo.toml", "[package]"),
            ("src/main.rs", "fn main() {}"),
            ("src/target/mod.rs", "// a module named target is source"),
            ("target/release/hello", "ELF"),
            (".git/HEAD", "ref: refs/heads/main"),
            ("nested/.git/config", "x"),
            ("fuzz/out/CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55"),
            ("fuzz/out/debug/bin", "ELF"),
            ("secrets/key.pem", "KEY"),
            ("secrets/README", "keep me"),
            ("notes.md", "x"),
            ("README.md", "x"),
            (".cargo-ecs/bin/hello", "stale"),
            ("Dockerfile", "FROM scratch\n"),
        ] {
            std::fs::create_dir_all(root.join(path).parent().expect("parent")).expect("mkdir");
            std::fs::write(root.join(path), text).expect("write");
        }
        std::fs::write(root.join(".dockerignore"), "# docs\n*.md\n!README.md\n/secrets\n!secrets/README\n")
            .expect("write");
        let input = input(root);
        let context = user(&input, &root.join("Dockerfile"), b"fresh ELF").expect("context");
        let files = list(&context.tar);
        let paths: Vec<&str> = files.keys().map(String::as_str).filter(|p| !p.ends_with('/')).collect();
        for kept in ["Cargo.toml", "src/main.rs", "src/target/mod.rs", "README.md", "secrets/README", "Dockerfile"] {
            assert!(paths.contains(&kept), "{kept} missing from {paths:?}");
        }
        for dropped in [
            "target/release/hello",
            ".git/HEAD",
            "nested/.git/config",
            "fuzz/out/debug/bin",
            "secrets/key.pem",
            "notes.md",
        ] {
            assert!(!paths.contains(&dropped), "{dropped} sent: {paths:?}");
        }
        assert_eq!(files[".cargo-ecs/bin/hello"], b"fresh ELF", "the package's own .cargo-ecs/ is replaced");
        assert_eq!(files[".cargo-ecs/Dockerfile"], b"FROM scratch\n");
        assert!(files.contains_key(".cargo-ecs/rootfs/etc/passwd"));
        assert_eq!(context.package_files, 7, "{paths:?}");
        assert!(context.build_args.contains(&("CARGO_ECS_BINARY".to_owned(), ".cargo-ecs/bin/hello".to_owned())));
    }

    #[cfg(unix)]
    #[test]
    fn a_user_context_keeps_modes_and_symlinks() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path();
        std::fs::write(root.join("run.sh"), "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(root.join("run.sh"), std::fs::Permissions::from_mode(0o750)).expect("chmod");
        std::os::unix::fs::symlink("run.sh", root.join("start")).expect("symlink");
        let context = user(&input(root), &root.join("run.sh"), b"x").expect("context");
        let mut archive = tar::Archive::new(context.tar.as_slice());
        let mut seen = 0;
        for entry in archive.entries().expect("entries") {
            let entry = entry.expect("entry");
            let path = String::from_utf8(entry.path_bytes().into_owned()).expect("utf-8");
            if path == "run.sh" {
                assert_eq!(entry.header().mode().expect("mode"), 0o750);
                seen += 1;
            }
            if path == "start" {
                assert_eq!(entry.header().entry_type(), tar::EntryType::Symlink);
                assert_eq!(entry.link_name().expect("link").as_deref(), Some(Path::new("run.sh")));
                seen += 1;
            }
        }
        assert_eq!(seen, 2);
    }
}
