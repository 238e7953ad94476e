//! What the services of one command have in common, done once for all of them.
//!
//! Services of a workspace deployed together (`deploy --workspace`) share an account, a network, often a
//! certificate and a hosted zone, and, within a cluster, the cluster, its load balancer, the load balancer's
//! security group and listeners, and the ECR token. Each service's deploy observes, plans and applies on its own,
//! concurrently; [`Shared`] makes the reads of what they share happen once, and the creation of a shared resource
//! happen once: the first service to get there does it, the others wait for it and go on from what it made.
//! Without it ten services make ten of each call, and nine of the ten creates fail as duplicates, to be read back.
//!
//! It holds no state beyond one command: a [`Shared`] lives as long as the deploys of one `cargo ecs` run, and
//! only reads made while observing (all at the same moment) and creates go through it, never the polling of a
//! rollout. Across processes the creates stay safe on their own: each adopts what a concurrent deploy made.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

type Value = Arc<dyn Any + Send + Sync>;

/// Work done once per key for every service of one command. See the module documentation.
#[derive(Debug, Default)]
pub struct Shared {
    flights: Mutex<HashMap<String, Arc<OnceCell<Value>>>>,
}

impl Shared {
    /// A new, empty one: nothing done yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The result of `work` for `key`: run by the first caller, awaited by any caller that comes while it runs,
    /// and given at once to those that come after. Results (errors included) are kept for the life of `self`; if
    /// the caller running `work` is cancelled, the next waiter runs it. Also returns whether this call ran it.
    pub async fn once<T, F, Fut>(&self, key: impl std::fmt::Display, work: F) -> (T, bool)
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        // The type is part of the key: two kinds of result never meet under one key.
        let key = format!("{}\u{0}{key}", std::any::type_name::<T>());
        let cell = {
            let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(flights.entry(key).or_default())
        };
        let mut ran = false;
        let value = cell
            .get_or_init(|| {
                ran = true;
                async move { Arc::new(work().await) as Value }
            })
            .await;
        let Some(value) = value.downcast_ref::<T>().cloned() else {
            unreachable!("the key carries the type, so the value under it has that type")
        };
        (value, ran)
    }

    /// [`Self::once`] without whether this call ran the work: for reads.
    pub async fn read<T, F, Fut>(&self, key: impl std::fmt::Display, work: F) -> T
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        self.once(key, work).await.0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn concurrent_callers_of_one_key_run_the_work_once_and_all_get_its_result() {
        let shared = Shared::new();
        let runs = AtomicUsize::new(0);
        let work = || async {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, String>("lb-arn".to_owned())
        };
        let results = futures_util::future::join_all((0..10).map(|_| shared.once("load balancer web", work))).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(results.iter().all(|(r, _)| r.as_deref() == Ok("lb-arn")), "{results:?}");
        assert_eq!(results.iter().filter(|(_, ran)| *ran).count(), 1, "exactly one caller ran it");
        // A caller after the fact gets the kept result without running anything.
        let later = shared.read("load balancer web", || async { Ok::<_, String>("other".to_owned()) }).await;
        assert_eq!(later.as_deref(), Ok("lb-arn"));
    }

    #[tokio::test]
    async fn keys_and_result_types_are_kept_apart() {
        let shared = Shared::new();
        let a = shared.read("a", || async { 1_u32 }).await;
        let b = shared.read("b", || async { 2_u32 }).await;
        let a_text = shared.read("a", || async { "text".to_owned() }).await;
        assert_eq!((a, b, a_text.as_str()), (1, 2, "text"));
    }

    #[tokio::test]
    async fn an_error_is_shared_too() {
        let shared = Shared::new();
        let first: Result<u32, String> = shared.read("k", || async { Err("throttled".to_owned()) }).await;
        let second: Result<u32, String> = shared.read("k", || async { Ok(1) }).await;
        assert_eq!(first, second);
    }

    #[tokio::test]
    async fn when_the_caller_running_the_work_is_cancelled_the_next_one_runs_it() {
        let shared = Shared::new();
        let slow = shared.read("k", || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            0_u32
        });
        assert!(tokio::time::timeout(Duration::from_millis(10), slow).await.is_err(), "cancelled");
        assert_eq!(shared.read("k", || async { 7_u32 }).await, 7);
    }
}
