//! Remembers which crates of a build's dependency graph compile C, so that a build whose graph has not changed
//! starts cargo at once instead of first waiting for `cargo metadata` (about 0.1 s on a fresh target directory,
//! longer on large graphs: it resolves the whole graph and asks rustc about the target).
//!
//! The graph is a function of the lock file and of the manifests of the path packages (the workspace members and
//! path dependencies): registry and git packages are pinned by the lock file and never change under a version.
//! So an entry records the SHA-256 of each of those files, and is used only while every one of them is unchanged.
//! Entries live in the user's cache directory (`$XDG_CACHE_HOME/cargo-ecs`, else `~/.cache/cargo-ecs`), not in
//! the target directory, so they survive `cargo clean`; one entry per workspace, target, packages and features.
//! A cache that cannot be read or written only costs the next build its `cargo metadata`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// One remembered reading of a graph.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// The files the graph was read from, and the SHA-256 of each then.
    inputs: BTreeMap<PathBuf, String>,
    /// The crates of the graph that compile C (empty: a pure-Rust graph).
    c_crates: Vec<String>,
}

/// The cache entry of one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CCodeCache {
    path: Option<PathBuf>,
}

impl CCodeCache {
    /// The entry of a build identified by `key` (the first manifest, the target, the packages and the feature
    /// flags, in any stable form), under `cache_dir` (`None`: no cache, every read misses).
    #[must_use]
    pub fn new(cache_dir: Option<&Path>, key: &[&str]) -> Self {
        let digest = Sha256::digest(key.join("\n").as_bytes());
        let name = format!("c-code-{}.json", hex::encode(&digest[..8]));
        Self { path: cache_dir.map(|dir| dir.join(name)) }
    }

    /// The entry of a build under the user's cache directory.
    #[must_use]
    pub fn for_user(key: &[&str]) -> Self {
        Self::new(user_cache_dir().as_deref(), key)
    }

    /// The crates that compile C, as found last time, if none of the files the graph was read from has changed.
    #[must_use]
    pub fn read(&self) -> Option<Vec<String>> {
        let entry: Entry = serde_json::from_slice(&std::fs::read(self.path.as_ref()?).ok()?).ok()?;
        entry.inputs.iter().all(|(file, sha)| file_sha256(file).as_ref() == Some(sha)).then_some(entry.c_crates)
    }

    /// Remembers `c_crates`, found in a graph read from `inputs` (the lock file and the path packages'
    /// manifests). Written to a temporary file and renamed, so a concurrent reader sees the old entry or the new.
    pub fn write(&self, inputs: &[PathBuf], c_crates: &[String]) {
        let Some(path) = &self.path else { return };
        let Some(inputs) = inputs.iter().map(|f| Some((f.clone(), file_sha256(f)?))).collect::<Option<_>>() else {
            return; // an input vanished meanwhile: nothing trustworthy to remember
        };
        let entry = Entry { inputs, c_crates: c_crates.to_vec() };
        let (Some(dir), Ok(json)) = (path.parent(), serde_json::to_vec_pretty(&entry)) else { return };
        let temporary = path.with_extension(format!("json.{}", std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&temporary, json))
            .and_then(|()| std::fs::rename(&temporary, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
    }
}

/// `$XDG_CACHE_HOME/cargo-ecs`, else `$HOME/.cache/cargo-ecs`; `None` without either.
fn user_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|home| Path::new(&home).join(".cache")))?;
    Some(base.join("cargo-ecs"))
}

fn file_sha256(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|bytes| hex::encode(Sha256::digest(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<PathBuf> {
        let lock = dir.join("Cargo.lock");
        let manifest = dir.join("Cargo.toml");
        std::fs::write(&lock, "# lock v1\n").expect("lock");
        std::fs::write(&manifest, "[package]\nname = \"app\"\n").expect("manifest");
        vec![lock, manifest]
    }

    #[test]
    fn an_entry_is_used_while_its_inputs_are_unchanged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inputs = files(dir.path());
        let cache = CCodeCache::new(Some(&dir.path().join("cache")), &["/w/Cargo.toml", "aarch64-unknown-linux-musl"]);
        assert_eq!(cache.read(), None, "nothing remembered yet");
        cache.write(&inputs, &["ring".to_owned()]);
        assert_eq!(cache.read(), Some(vec!["ring".to_owned()]));
        cache.write(&inputs, &[]);
        assert_eq!(cache.read(), Some(vec![]), "a pure-Rust graph is remembered too");
    }

    #[test]
    fn a_changed_lock_file_or_manifest_or_a_vanished_input_misses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inputs = files(dir.path());
        let cache = CCodeCache::new(Some(&dir.path().join("cache")), &["k"]);
        cache.write(&inputs, &[]);
        std::fs::write(&inputs[0], "# lock v2: a dependency added\n").expect("lock");
        assert_eq!(cache.read(), None, "lock file changed");
        cache.write(&inputs, &[]);
        std::fs::write(&inputs[1], "[package]\nname = \"app\"\nlinks = \"z\"\n").expect("manifest");
        assert_eq!(cache.read(), None, "manifest changed");
        cache.write(&inputs, &[]);
        std::fs::remove_file(&inputs[1]).expect("remove");
        assert_eq!(cache.read(), None, "manifest gone");
    }

    #[test]
    fn builds_with_other_keys_have_entries_of_their_own() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inputs = files(dir.path());
        let cache_dir = dir.path().join("cache");
        let arm = CCodeCache::new(Some(&cache_dir), &["/w/Cargo.toml", "aarch64-unknown-linux-musl"]);
        let x86 = CCodeCache::new(Some(&cache_dir), &["/w/Cargo.toml", "x86_64-unknown-linux-musl"]);
        arm.write(&inputs, &["ring".to_owned()]);
        assert_eq!(x86.read(), None);
        assert_ne!(arm, x86);
    }

    #[test]
    fn no_cache_directory_means_every_read_misses_and_writes_are_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inputs = files(dir.path());
        let cache = CCodeCache::new(None, &["k"]);
        cache.write(&inputs, &[]);
        assert_eq!(cache.read(), None);
    }
}
