//! Several services at once (`deploy --workspace`, `-p a -p b`): their binaries compile in one cargo invocation,
//! then each service is observed, planned, pushed, applied and followed concurrently with the others. One
//! service's failure does not stop the others; every service ends with an [`Outcome`].
//!
//! Services of one cluster share its load balancer; when they create it together, the creates that lose the race
//! adopt what the winner made (see `stack::apply`), so the shared resources exist once.

use std::future::Future;
use std::time::Instant;

use crate::aws::Clients;
use crate::build::compile_all;
use crate::config::{Resolved, Settings};
use crate::deploy::{DeployOptions, DeployReport, deploy};
use crate::error::Error;
use crate::report::{Reporter, Scoped};

/// How one service's deploy ended.
#[derive(Debug)]
pub struct Outcome {
    /// The service.
    pub service: String,
    /// Its report, or why it failed.
    pub result: Result<DeployReport, Error>,
    /// Seconds from the start of the command to the end of this service's deploy.
    pub seconds: f64,
}

impl Outcome {
    /// Whether it succeeded, its rollout included.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.result.as_ref().is_ok_and(|r| r.rollout.as_ref().is_none_or(|o| o.verdict.is_success()))
    }

    /// One line on what happened: `3 changes, rollout completed`, `no changes`, or the error.
    #[must_use]
    pub fn summary(&self) -> String {
        match &self.result {
            Err(error) => error.to_string().lines().next().unwrap_or_default().to_owned(),
            Ok(report) => {
                let changes = report.plan.changes().count();
                let mut text = match (changes, &report.applied) {
                    (0, _) => "no changes".to_owned(),
                    (n, None) => format!("{n} change(s) planned"),
                    (n, Some(_)) => format!("{n} change(s) applied"),
                };
                if let Some(rollout) = &report.rollout {
                    text.push_str(&format!(", rollout {}", rollout.verdict));
                }
                text
            }
        }
    }
}

/// Deploys (or, with `options.dry_run`, plans) every service of `resolved` concurrently. `clients` gives the AWS
/// clients of a service (its region may differ from the others').
pub async fn deploy_all<C, F>(
    resolved: &[Resolved],
    clients: C,
    options: &DeployOptions,
    reporter: &dyn Reporter,
) -> Vec<Outcome>
where
    C: Fn(&Settings) -> F,
    F: Future<Output = Clients>,
{
    let started = Instant::now();
    let settings: Vec<&Settings> = resolved.iter().map(|r| &r.settings).collect();
    let compiled = compile_all(&settings, reporter).await;
    let deploys = resolved.iter().zip(compiled).map(|(r, artifact)| {
        let clients = clients(&r.settings);
        async move {
            let scoped = Scoped::new(&r.settings.service, reporter);
            let result = match artifact {
                Ok(artifact) => deploy(r, &clients.await, options, Some(artifact), &scoped).await,
                Err(error) => Err(Error::Build(error)),
            };
            let outcome =
                Outcome { service: r.settings.service.clone(), result, seconds: started.elapsed().as_secs_f64() };
            scoped.done(outcome.succeeded(), &outcome.summary());
            outcome
        }
    });
    futures_util::future::join_all(deploys).await
}

/// The error of a command whose services did not all succeed: which failed, out of how many.
#[must_use]
pub fn failures(outcomes: &[Outcome]) -> Option<Error> {
    let failed: Vec<String> = outcomes.iter().filter(|o| !o.succeeded()).map(|o| o.service.clone()).collect();
    (!failed.is_empty()).then(|| Error::Services { failed, total: outcomes.len() })
}
