//! The git state of a directory, for image tags: the commit checked out and whether the tree differs from it.

use std::path::Path;

use serde::Serialize;
use tokio::process::Command;

/// The commit of a work tree and whether it has changes (staged, unstaged or untracked files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct GitState {
    /// Full hex id of `HEAD`.
    pub commit: String,
    /// Whether `git status --porcelain` lists anything.
    pub dirty: bool,
}

impl GitState {
    /// The first 12 hex digits of the commit.
    #[must_use]
    pub fn short_commit(&self) -> &str {
        self.commit.get(..12).unwrap_or(&self.commit)
    }
}

/// The git state of `dir`, or `None` when git is not installed or `dir` is not in a repository with a commit.
pub async fn git_state(dir: &Path) -> Option<GitState> {
    let commit = git(dir, &["rev-parse", "--verify", "HEAD"]).await?.trim().to_owned();
    if commit.is_empty() || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // When status itself fails, the tree cannot be shown clean: call it dirty.
    let dirty = git(dir, &["status", "--porcelain"]).await.is_none_or(|out| !out.trim().is_empty());
    Some(GitState { commit, dirty })
}

/// Standard output of `git ARGS` run in `dir`, `None` when git is missing or fails.
async fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // `status` must not take the index lock: someone else may be using the repository.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    #[tokio::test]
    async fn reads_commit_and_dirtiness() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(git_state(dir.path()).await, None, "not a repository");
        run(dir.path(), &["init", "-q"]);
        assert_eq!(git_state(dir.path()).await, None, "no commit yet");
        std::fs::write(dir.path().join("a.txt"), "a").expect("write");
        run(dir.path(), &["add", "a.txt"]);
        run(dir.path(), &["commit", "-q", "-m", "one"]);
        let clean = git_state(dir.path()).await.expect("state");
        assert_eq!(clean.commit.len(), 40);
        assert!(!clean.dirty);
        assert_eq!(clean.short_commit(), &clean.commit[..12]);
        std::fs::write(dir.path().join("b.txt"), "untracked").expect("write");
        let dirty = git_state(dir.path()).await.expect("state");
        assert_eq!((dirty.commit, dirty.dirty), (clean.commit, true));
    }
}
