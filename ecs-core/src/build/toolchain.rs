//! The tools a cross build needs: the target's standard library, and for C code zig with cargo-zigbuild.

use std::path::{Path, PathBuf};
use std::process::Command;

/// How the binary is linked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Linker {
    /// `rust-lld`, shipped with Rust: enough for pure-Rust crates on musl.
    RustLld,
    /// `cargo zigbuild`: zig as the C cross compiler and linker, for crates with C code.
    Zig {
        /// The cargo-zigbuild executable.
        cargo_zigbuild: PathBuf,
    },
}

/// The `rustc` to ask (`RUSTC`, as cargo sets it, else `rustc`).
fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned())
}

/// Whether the standard library for `target` is installed.
#[must_use]
pub fn target_installed(target: &str) -> bool {
    let Ok(output) = Command::new(rustc()).args(["--print", "target-libdir", "--target", target]).output() else {
        return false;
    };
    let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    output.status.success()
        && std::fs::read_dir(dir)
            .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
            .unwrap_or(false)
}

/// The first `name` on PATH.
#[must_use]
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether zig can be found the way cargo-zigbuild looks for it: `CARGO_ZIGBUILD_ZIG_PATH`, `zig` on PATH, or
/// the `ziglang` Python package (`python3 -m ziglang`).
#[must_use]
pub fn zig_available() -> bool {
    if std::env::var_os("CARGO_ZIGBUILD_ZIG_PATH").is_some() || find_on_path("zig").is_some() {
        return true;
    }
    Command::new("python3").args(["-m", "ziglang", "version"]).output().is_ok_and(|o| o.status.success())
}

/// What is missing for a zig build, as words for an error message; `None` when nothing is.
#[must_use]
pub fn zig_missing(zig: bool, cargo_zigbuild: bool) -> Option<String> {
    match (zig, cargo_zigbuild) {
        (true, true) => None,
        (false, true) => Some("zig".to_owned()),
        (true, false) => Some("cargo-zigbuild".to_owned()),
        (false, false) => Some("zig and cargo-zigbuild".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_target_is_installed_and_a_made_up_one_is_not() {
        let host =
            String::from_utf8(Command::new(rustc()).args(["-vV"]).output().expect("rustc").stdout).expect("utf8");
        let host = host.lines().find_map(|l| l.strip_prefix("host: ")).expect("host line").to_owned();
        assert!(target_installed(&host));
        assert!(!target_installed("riscv64gc-unknown-none-elf-not-a-target"));
    }

    #[test]
    fn missing_tools_are_named() {
        assert_eq!(zig_missing(true, true), None);
        assert_eq!(zig_missing(false, false).as_deref(), Some("zig and cargo-zigbuild"));
        assert_eq!(zig_missing(true, false).as_deref(), Some("cargo-zigbuild"));
    }

    #[test]
    fn path_lookup_finds_executables_only() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("surely-not-a-program-name").is_none());
    }
}
