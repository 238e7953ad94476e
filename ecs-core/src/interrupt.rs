//! A request to stop (Ctrl-C), set by the binary's signal handler and read by long work at its safe points: an
//! apply finishes the wave it is in and starts no other; a deploy stops following its rollout.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static NOTIFY: Notify = Notify::const_new();

/// Asks the work in progress to stop at its next safe point.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
    NOTIFY.notify_waiters();
}

/// Whether a stop was asked for.
#[must_use]
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Resolves once a stop is asked for (at once if it was already).
pub async fn wait() {
    loop {
        let notified = NOTIFY.notified();
        if requested() {
            return;
        }
        notified.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_wakes_the_waiters_and_stays_set() {
        let waiter = tokio::spawn(wait());
        tokio::task::yield_now().await;
        request();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await.expect("woken").expect("joined");
        assert!(requested());
        wait().await;
    }
}
