//! The in-progress marker that keeps two deploys of one service from applying at the same time.
//!
//! The marker is a CloudWatch Logs group, `/cargo-ecs/deploying/CLUSTER/SERVICE`, created before the first change
//! and deleted after the apply. CreateLogGroup is atomic (a second create fails with
//! `ResourceAlreadyExistsException`), so of two deploys starting together exactly one gets it; its tags say who holds
//! it (user, host, process) and until when. AWS stays the only state: no local lock file, and a log group with no
//! streams costs nothing.
//!
//! A second deploy that finds the marker refuses, naming the holder, unless the marker is stale: expired, or held by
//! a process of this machine that no longer runs (a deploy that was killed). `--force` takes over any marker.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::aws::{AwsError, AwsResult};
use crate::stack::model::{MANAGED_TAG, Tags};

/// Tag: who holds the marker, `user@host pid N`.
pub const OWNER_TAG: &str = "cargo-ecs:deploy-owner";
/// Tag: the holder's host name.
pub const HOST_TAG: &str = "cargo-ecs:deploy-host";
/// Tag: the holder's process id.
pub const PID_TAG: &str = "cargo-ecs:deploy-pid";
/// Tag: when the marker expires, seconds since the epoch.
pub const EXPIRES_TAG: &str = "cargo-ecs:deploy-expires";

/// The marker's name for `service` of `cluster`.
#[must_use]
pub fn marker_name(cluster: &str, service: &str) -> String {
    format!("/cargo-ecs/deploying/{cluster}/{service}")
}

/// Who is deploying: this process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Holder {
    /// `user@host pid N`.
    pub owner: String,
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Expiry, seconds since the epoch.
    pub expires: u64,
}

impl Holder {
    /// This process, holding the marker for `ttl_seconds` from now.
    #[must_use]
    pub fn this_process(ttl_seconds: u64) -> Self {
        let host = host_name();
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "?".to_owned());
        let pid = std::process::id();
        Self { owner: format!("{user}@{host} pid {pid}"), host, pid, expires: now() + ttl_seconds }
    }

    fn tags(&self) -> Tags {
        Tags::from([
            (MANAGED_TAG.to_owned(), "true".to_owned()),
            (OWNER_TAG.to_owned(), self.owner.clone()),
            (HOST_TAG.to_owned(), self.host.clone()),
            (PID_TAG.to_owned(), self.pid.to_string()),
            (EXPIRES_TAG.to_owned(), self.expires.to_string()),
        ])
    }

    fn from_tags(tags: &Tags) -> Option<Self> {
        Some(Self {
            owner: tags.get(OWNER_TAG)?.clone(),
            host: tags.get(HOST_TAG).cloned().unwrap_or_default(),
            pid: tags.get(PID_TAG).and_then(|p| p.parse().ok()).unwrap_or_default(),
            expires: tags.get(EXPIRES_TAG).and_then(|e| e.parse().ok()).unwrap_or_default(),
        })
    }
}

/// What to do about a marker someone else holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Take it over, for this reason.
    TakeOver(String),
    /// Leave it: another deploy is running.
    Refuse,
}

/// Decides about the marker `held` (`None`: unreadable tags), as seen by `me` at `now`; `alive` says whether a
/// process of this host runs. Pure.
#[must_use]
pub fn verdict(held: Option<&Holder>, me: &Holder, now: u64, alive: impl Fn(u32) -> bool, force: bool) -> Verdict {
    let Some(held) = held else { return Verdict::TakeOver("the marker names no holder".to_owned()) };
    if held.expires <= now {
        return Verdict::TakeOver(format!("the marker of {} expired", held.owner));
    }
    if held.host == me.host && held.pid != me.pid && !alive(held.pid) {
        return Verdict::TakeOver(format!("{} no longer runs (killed?)", held.owner));
    }
    if force {
        return Verdict::TakeOver(format!("--force: taking over from {}, which may still be deploying", held.owner));
    }
    Verdict::Refuse
}

/// A marker this process holds; [`release`] deletes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Lock {
    /// The marker's log group.
    pub name: String,
    /// What was taken over to get it, if anything.
    pub took_over: Option<String>,
}

/// Why the marker could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another deploy holds it.
    #[error("service {service} is being deployed by {} (marker {marker}, expires {expires})", .holder.owner)]
    Held {
        /// The service.
        service: String,
        /// The marker.
        marker: String,
        /// Its holder.
        holder: Holder,
        /// Its expiry, RFC 3339.
        expires: String,
    },
    /// AWS failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl LockError {
    /// What to do.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Held { .. } => Some(
                "wait for that deploy to finish and run yours again; if it was stopped without cleaning up (its \
                 machine went away), pass --force to take the marker over. Nothing was changed"
                    .to_owned(),
            ),
            Self::Aws(error) => error.help(),
        }
    }
}

/// Takes the marker of `service` of `cluster` for `ttl_seconds`.
///
/// # Errors
/// [`LockError::Held`] when another running deploy has it; AWS failures.
pub async fn acquire(
    client: &aws_sdk_cloudwatchlogs::Client,
    arn_prefix: &str,
    cluster: &str,
    service: &str,
    ttl_seconds: u64,
    force: bool,
) -> Result<Lock, LockError> {
    let name = marker_name(cluster, service);
    let me = Holder::this_process(ttl_seconds);
    let mut took_over = None;
    for _ in 0..2 {
        match create(client, &name, &me).await {
            Ok(()) => return Ok(Lock { name, took_over }),
            Err(error) if error.code.as_deref() == Some("ResourceAlreadyExistsException") => {}
            Err(error) => return Err(error.into()),
        }
        let held = holder(client, &format!("{arn_prefix}{name}"), &name).await?;
        match verdict(held.as_ref(), &me, now(), process_alive, force) {
            Verdict::TakeOver(reason) => {
                delete(client, &name).await?;
                took_over = Some(reason);
            }
            Verdict::Refuse => {
                let holder = held.unwrap_or_else(|| me.clone());
                let expires = crate::time::rfc3339(i64::try_from(holder.expires).unwrap_or(i64::MAX));
                return Err(LockError::Held { service: service.to_owned(), marker: name, holder, expires });
            }
        }
    }
    // Another deploy took the marker between our delete and create.
    let holder = holder(client, &format!("{arn_prefix}{name}"), &name).await?.unwrap_or(me);
    let expires = crate::time::rfc3339(i64::try_from(holder.expires).unwrap_or(i64::MAX));
    Err(LockError::Held { service: service.to_owned(), marker: name, holder, expires })
}

/// Deletes the marker (already gone is fine).
///
/// # Errors
/// When DeleteLogGroup fails otherwise.
pub async fn release(client: &aws_sdk_cloudwatchlogs::Client, lock: &Lock) -> AwsResult<()> {
    delete(client, &lock.name).await
}

async fn create(client: &aws_sdk_cloudwatchlogs::Client, name: &str, me: &Holder) -> AwsResult<()> {
    client
        .create_log_group()
        .log_group_name(name)
        .set_tags(Some(me.tags().into_iter().collect()))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:CreateLogGroup", format!("deploy marker {name}"), &e))?;
    Ok(())
}

async fn holder(client: &aws_sdk_cloudwatchlogs::Client, arn: &str, name: &str) -> AwsResult<Option<Holder>> {
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("logs:ListTagsForResource", format!("deploy marker {name}"), &e))?;
    let tags: Tags = out.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    Ok(Holder::from_tags(&tags))
}

async fn delete(client: &aws_sdk_cloudwatchlogs::Client, name: &str) -> AwsResult<()> {
    match client.delete_log_group().log_group_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let error = AwsError::from_sdk("logs:DeleteLogGroup", format!("deploy marker {name}"), &e);
            if error.is_not_found() { Ok(()) } else { Err(error) }
        }
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// Whether process `pid` of this machine runs.
fn process_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// This machine's name.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(host: &str, pid: u32, expires: u64) -> Holder {
        Holder { owner: format!("dev@{host} pid {pid}"), host: host.to_owned(), pid, expires }
    }

    #[test]
    fn a_running_deploy_is_refused_unless_forced() {
        let me = holder("a", 1, 2000);
        let other = holder("b", 7, 1500);
        assert_eq!(verdict(Some(&other), &me, 1000, |_| true, false), Verdict::Refuse);
        assert!(
            matches!(verdict(Some(&other), &me, 1000, |_| true, true), Verdict::TakeOver(r) if r.contains("--force"))
        );
    }

    #[test]
    fn expired_and_dead_holders_are_taken_over() {
        let me = holder("a", 1, 2000);
        assert!(
            matches!(verdict(Some(&holder("b", 7, 999)), &me, 1000, |_| true, false), Verdict::TakeOver(r) if r.contains("expired"))
        );
        let killed = holder("a", 7, 1500);
        assert!(
            matches!(verdict(Some(&killed), &me, 1000, |_| false, false), Verdict::TakeOver(r) if r.contains("no longer runs"))
        );
        // Another machine's process cannot be checked: only its expiry counts.
        assert_eq!(verdict(Some(&holder("b", 7, 1500)), &me, 1000, |_| false, false), Verdict::Refuse);
        assert!(matches!(verdict(None, &me, 1000, |_| true, false), Verdict::TakeOver(_)));
    }

    #[test]
    fn the_holder_round_trips_through_tags() {
        let me = Holder::this_process(60);
        assert_eq!(Holder::from_tags(&me.tags()), Some(me.clone()));
        assert!(me.owner.contains(&format!("pid {}", std::process::id())));
        assert_eq!(marker_name("shop", "api"), "/cargo-ecs/deploying/shop/api");
    }
}
