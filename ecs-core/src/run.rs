//! `cargo ecs run`: build the service's image as `deploy` would and run it with the local Docker Engine, with the
//! task's environment, its secrets taken from the local environment, the port on 127.0.0.1, a health probe, and
//! the container's logs streamed to the reporter, until the caller's `stop` future resolves or Ctrl-C.
//!
//! The image is loaded into the engine from the [`OciImage`]'s blobs (a docker-archive assembled here), unless the
//! engine already has it (an image built by the `docker` builder): both builders run the same way.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::Read as _;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptions, ImportImageOptions, ListContainersOptions, ListNetworksOptions, LogsOptions,
    RemoveContainerOptions, StopContainerOptions,
};
use futures_util::StreamExt as _;
use serde::Serialize;

use crate::config::Settings;
use crate::error::Result;
use crate::image::layer::{TarEntry, write_tar};
use crate::image::{ImageError, OciImage, docker::DEFAULT_HOST, docker::local_tag};
use crate::publish::{build_image, task_platform};
use crate::report::Reporter;

/// Label every container `run` creates carries, with the service as its value.
pub const RUN_LABEL: &str = "cargo-ecs.run";

/// How long the engine has to answer the first request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a load or another engine call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(600);
/// Seconds the container has to stop on SIGTERM before it is killed.
const STOP_GRACE_SECS: i32 = 5;

/// How the container's port is reached from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "mode", content = "host-port")]
pub enum Network {
    /// The container shares the host's network: it listens on the host's interfaces at `port` itself.
    Host,
    /// The container port is published on 127.0.0.1 at this host port.
    Published(u16),
}

/// What the caller asks of `run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The host port to publish the container port on (default: the same as `port`). Ignored with host networking.
    pub host_port: Option<u16>,
    /// Use host networking even when the engine has a bridge network.
    pub host_network: bool,
    /// How long the health probe waits for a 2xx or 3xx answer (default 60 s).
    pub health_timeout: Option<Duration>,
    /// The local environment, where secrets are taken from (usually `std::env::vars()`).
    pub local_env: BTreeMap<String, String>,
}

/// How the health probe ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Health {
    /// The URL probed.
    pub url: String,
    /// Whether it answered 200-399 in time.
    pub passed: bool,
    /// The last status or error seen.
    pub last: String,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunReport {
    /// The service.
    pub service: String,
    /// The image digest.
    pub digest: String,
    /// The image's platform, `os/architecture`.
    pub platform: String,
    /// Whether the image ran through qemu emulation.
    pub emulated: bool,
    /// How the port was reached.
    pub network: Network,
    /// The URL of the service on this host.
    pub url: String,
    /// The health probe's result, when it finished before the run ended.
    pub health: Option<Health>,
    /// Why the run ended: `stopped` (by the caller or Ctrl-C) or `exited with code N`.
    pub ended: String,
}

/// Why `run` could not run the service.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Secrets of the task are missing from the local environment; nothing was started.
    #[error("{} secret{} missing from your environment:{}", .0.len(), if .0.len() == 1 { " is" } else { "s are" }, missing_lines(.0))]
    MissingSecrets(Vec<(String, String)>),
    /// The image is for another architecture and this host cannot emulate it.
    #[error("the image is for linux/{image} but this host is {host} and {binfmt} is not enabled")]
    NoEmulation {
        /// The image's architecture.
        image: String,
        /// The host's architecture.
        host: String,
        /// The binfmt_misc entry looked for.
        binfmt: String,
    },
    /// No Docker Engine answered.
    #[error("no Docker Engine answers at {host}: {source}")]
    NoEngine {
        /// The address tried.
        host: String,
        /// Why.
        source: DockerError,
    },
    /// The container stopped by itself.
    #[error("the container of {service} exited with code {code}")]
    Exited {
        /// The service.
        service: String,
        /// Its exit code.
        code: i64,
    },
}

fn missing_lines(missing: &[(String, String)]) -> String {
    missing
        .iter()
        .map(|(name, from)| {
            format!("\n  secret {name}: set it in your environment to run locally (the task reads it from {from})")
        })
        .collect()
}

impl RunError {
    /// What the user can do about it.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        Some(match self {
            Self::MissingSecrets(missing) => format!(
                "export them, e.g. `{}=... cargo ecs run`; nothing was started",
                missing.first().map(|(n, _)| n.as_str()).unwrap_or("NAME")
            ),
            Self::NoEmulation { .. } => "install qemu-user-static and binfmt-support (Debian/Ubuntu: \
                 `apt-get install qemu-user-static binfmt-support`), or set `architecture` to this host's"
                .to_owned(),
            Self::NoEngine { .. } => {
                "start Docker, or set DOCKER_HOST to the engine's address; `cargo ecs run` needs a Docker Engine"
                    .to_owned()
            }
            Self::Exited { .. } => "the container's last log lines are above".to_owned(),
        })
    }

    /// Whether the error is the user's input (a missing secret) rather than a failure while working.
    #[must_use]
    pub fn is_input_error(&self) -> bool {
        matches!(self, Self::MissingSecrets(_))
    }
}

/// The container's environment: the task's `env`, `PORT` set to `port` unless `env` sets it, and each secret
/// NAME from the local variable NAME.
///
/// # Errors
/// [`RunError::MissingSecrets`] listing every secret missing from `local`.
pub fn container_env(settings: &Settings, local: &BTreeMap<String, String>) -> Result<Vec<String>, RunError> {
    let mut env = settings.env.clone();
    env.entry("PORT".to_owned()).or_insert_with(|| settings.port.to_string());
    let mut missing = Vec::new();
    for (name, from) in &settings.secrets {
        match local.get(name) {
            Some(value) => {
                env.insert(name.clone(), value.clone());
            }
            None => missing.push((name.clone(), from.clone())),
        }
    }
    if !missing.is_empty() {
        return Err(RunError::MissingSecrets(missing));
    }
    Ok(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect())
}

/// The network to use: host networking when asked or when the engine has no `bridge` network (an engine started
/// with `--bridge=none` cannot publish ports), else `port` published at `host_port` (default `port`).
#[must_use]
pub fn choose_network(options: &RunOptions, port: u16, bridge_available: bool) -> Network {
    if options.host_network || !bridge_available {
        Network::Host
    } else {
        Network::Published(options.host_port.unwrap_or(port))
    }
}

/// Whether the image needs emulation on this host: `Ok(None)` when it runs natively, `Ok(Some(note))` when it
/// runs through qemu, given the first line of `/proc/sys/fs/binfmt_misc/qemu-<arch>` (`None` when missing).
///
/// # Errors
/// [`RunError::NoEmulation`] when the image is foreign and binfmt is not enabled for it.
pub fn emulation(host_arch: &str, image_arch: &str, binfmt_status: Option<&str>) -> Result<Option<String>, RunError> {
    let (native, qemu, name) = match image_arch {
        "arm64" => ("aarch64", "qemu-aarch64", "ARM64"),
        "amd64" => ("x86_64", "qemu-x86_64", "x86_64"),
        _ => return Ok(None),
    };
    if host_arch == native {
        return Ok(None);
    }
    if binfmt_status.is_some_and(|s| s.trim() == "enabled") {
        Ok(Some(format!("running the {name} image through qemu emulation (binfmt_misc {qemu})")))
    } else {
        Err(RunError::NoEmulation {
            image: image_arch.to_owned(),
            host: host_arch.to_owned(),
            binfmt: format!("/proc/sys/fs/binfmt_misc/{qemu}"),
        })
    }
}

fn binfmt_status(image_arch: &str) -> Option<String> {
    let qemu = if image_arch == "arm64" { "qemu-aarch64" } else { "qemu-x86_64" };
    let text = std::fs::read_to_string(format!("/proc/sys/fs/binfmt_misc/{qemu}")).ok()?;
    text.lines().next().map(str::to_owned)
}

/// A docker-archive (what `docker load` reads) of `image`: `manifest.json` naming the config and the layers,
/// tagged `tag`, the config as it is, and each layer uncompressed (their digests are the config's diff ids).
///
/// # Errors
/// [`ImageError::Archive`] when a layer is not gzip, [`ImageError::Write`] when the tar cannot be written.
pub fn docker_archive(image: &OciImage, tag: &str) -> Result<Vec<u8>, ImageError> {
    let hex = |digest: &str| digest.trim_start_matches("sha256:").to_owned();
    let config_name = format!("{}.json", hex(&image.config.digest));
    let mut entries = vec![TarEntry::file(&config_name, image.config.data.clone(), 0o644)];
    let mut names: Vec<String> = Vec::new();
    for blob in &image.layers {
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(blob.data.as_slice())
            .read_to_end(&mut tar)
            .map_err(|e| ImageError::Archive { message: format!("layer {} is not gzip: {e}", blob.digest) })?;
        let name = format!("{}/layer.tar", hex(&crate::image::sha256_digest(&tar)));
        if !names.contains(&name) {
            entries.push(TarEntry::file(&name, tar, 0o644));
        }
        names.push(name);
    }
    let manifest = serde_json::json!([{ "Config": config_name, "RepoTags": [tag], "Layers": names }]);
    let manifest = serde_json::to_vec(&manifest)
        .map_err(|e| ImageError::Write { what: "manifest.json".to_owned(), source: e.into() })?;
    entries.push(TarEntry::file("manifest.json", manifest, 0o644));
    write_tar(&entries).map_err(|source| ImageError::Write { what: "docker-archive".to_owned(), source })
}

/// The tag a loaded image gets: `cargo-ecs/<bin>:run`.
#[must_use]
pub fn run_tag(bin: &str) -> String {
    local_tag(bin).replace(":latest", ":run")
}

/// Builds the image of `settings`, runs it with the Docker Engine at `DOCKER_HOST` and reports its logs, until
/// `stop` resolves (it is polled only once the container runs, so a `sleep` counts from then), Ctrl-C, or the
/// container exits. The container is always stopped and removed.
///
/// # Errors
/// Missing secrets (before anything is built or started), a foreign image without emulation, build and engine
/// errors, and a container that exits by itself with a non-zero code.
pub async fn run(
    settings: &Settings,
    options: &RunOptions,
    stop: impl Future<Output = ()>,
    reporter: &dyn Reporter,
) -> Result<RunReport> {
    let env = container_env(settings, &options.local_env)?;
    let platform = task_platform(settings);
    let emulated =
        emulation(std::env::consts::ARCH, &platform.architecture, binfmt_status(&platform.architecture).as_deref())?;
    let engine = Engine::connect().await?;
    let bridge = engine.has_bridge().await?;
    let network = choose_network(options, settings.port, bridge);

    let built = build_image(settings, reporter).await?;
    let image_id = engine.load(&built.image, &run_tag(&settings.bin), reporter).await?;

    let platform_name = format!("{}/{}", built.image.platform.os, built.image.platform.architecture);
    let step = format!("platform {platform_name}");
    reporter.begin(&step);
    reporter.end(&step, emulated.as_deref().unwrap_or("native"));
    let host_port = match network {
        Network::Host => settings.port,
        Network::Published(port) => port,
    };
    let step = "network".to_owned();
    reporter.begin(&step);
    reporter.end(
        &step,
        &match network {
            Network::Host if !bridge => format!(
                "host networking: the engine has no bridge network, so the container listens on port {} of this host itself",
                settings.port
            ),
            Network::Host => format!("host networking: the container listens on port {} of this host", settings.port),
            Network::Published(port) => format!("container port {} published on 127.0.0.1:{port}", settings.port),
        },
    );

    let container = engine.create(settings, &image_id, &platform_name, env, network).await?;
    let outcome = engine.supervise(settings, &container, host_port, options, stop, reporter).await;
    engine.remove(settings, &container, reporter).await;
    let (health, ended) = outcome?;
    if let Some(code) = ended.strip_prefix("exited with code ").and_then(|c| c.parse::<i64>().ok())
        && code != 0
    {
        return Err(RunError::Exited { service: settings.service.clone(), code }.into());
    }
    Ok(RunReport {
        service: settings.service.clone(),
        digest: built.image.digest().to_owned(),
        platform: platform_name,
        emulated: emulated.is_some(),
        network,
        url: format!("http://127.0.0.1:{host_port}"),
        health,
        ended,
    })
}

struct Engine {
    docker: Docker,
    host: String,
}

impl Engine {
    async fn connect() -> Result<Self, RunError> {
        let docker_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
        let host = docker_host.clone().unwrap_or_else(|| DEFAULT_HOST.to_owned());
        let unavailable = |source| RunError::NoEngine { host: host.clone(), source };
        let docker = match &docker_host {
            Some(value) => Docker::connect_with_host(value),
            None => Docker::connect_with_defaults(),
        }
        .map_err(unavailable)?
        .with_timeout(CONNECT_TIMEOUT);
        let docker = docker.negotiate_version().await.map_err(unavailable)?.with_timeout(CALL_TIMEOUT);
        Ok(Self { docker, host })
    }

    fn failed(&self, action: &str) -> impl Fn(DockerError) -> ImageError {
        let host = self.host.clone();
        let action = action.to_owned();
        move |source| ImageError::Docker { host: host.clone(), action: action.clone(), source }
    }

    async fn has_bridge(&self) -> Result<bool, ImageError> {
        let networks =
            self.docker.list_networks(None::<ListNetworksOptions>).await.map_err(self.failed("list the networks"))?;
        Ok(networks.iter().any(|n| n.name.as_deref() == Some("bridge")))
    }

    /// Loads `image` unless the engine has it (its id is the config's digest), and returns its id.
    async fn load(&self, image: &OciImage, tag: &str, reporter: &dyn Reporter) -> Result<String, ImageError> {
        let id = image.config.digest.clone();
        let step = format!("load image {tag}");
        reporter.begin(&step);
        if self.docker.inspect_image(&id).await.is_ok() {
            reporter.end(&step, &format!("already in the engine ({id})"));
            return Ok(id);
        }
        let archive = docker_archive(image, tag)?;
        let size = archive.len() as u64;
        let mut stream =
            self.docker.import_image(ImportImageOptions::default(), bollard::body_full(archive.into()), None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    for line in info.stream.iter().flat_map(|t| t.lines()).filter(|l| !l.trim().is_empty()) {
                        reporter.output(&step, line.trim_end());
                    }
                }
                Err(source) => return Err(self.failed(&format!("load image {tag}"))(source)),
            }
        }
        self.docker.inspect_image(&id).await.map_err(self.failed(&format!("inspect the loaded image {id}")))?;
        reporter.end(&step, &format!("{} loaded ({id})", crate::report::human_size(size)));
        Ok(id)
    }

    async fn create(
        &self,
        settings: &Settings,
        image_id: &str,
        platform: &str,
        env: Vec<String>,
        network: Network,
    ) -> Result<String, ImageError> {
        let name = container_name(&settings.service);
        self.remove_leftovers(&settings.service).await;
        let port_key = format!("{}/tcp", settings.port);
        let host_config = match network {
            Network::Host => HostConfig { network_mode: Some("host".to_owned()), ..HostConfig::default() },
            Network::Published(host_port) => HostConfig {
                port_bindings: Some(HashMap::from([(
                    port_key.clone(),
                    Some(vec![PortBinding {
                        host_ip: Some("127.0.0.1".to_owned()),
                        host_port: Some(host_port.to_string()),
                    }]),
                )])),
                ..HostConfig::default()
            },
        };
        let body = ContainerCreateBody {
            image: Some(image_id.to_owned()),
            env: Some(env),
            labels: Some(HashMap::from([(RUN_LABEL.to_owned(), settings.service.clone())])),
            exposed_ports: Some(vec![port_key]),
            host_config: Some(host_config),
            ..ContainerCreateBody::default()
        };
        let options = CreateContainerOptions { name: Some(name.clone()), platform: platform.to_owned() };
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(self.failed(&format!("create the container {name}")))?;
        Ok(created.id)
    }

    /// Removes containers a previous run left (killed before it could clean up).
    async fn remove_leftovers(&self, service: &str) {
        let filters = HashMap::from([("label".to_owned(), vec![format!("{RUN_LABEL}={service}")])]);
        let options = ListContainersOptions { all: true, filters: Some(filters), ..ListContainersOptions::default() };
        for container in self.docker.list_containers(Some(options)).await.unwrap_or_default() {
            if let Some(id) = container.id {
                let force = RemoveContainerOptions { force: true, ..RemoveContainerOptions::default() };
                let _ = self.docker.remove_container(&id, Some(force)).await;
            }
        }
    }

    /// Starts the container, streams its logs, probes its health, and waits for `stop`, Ctrl-C or its exit.
    async fn supervise(
        &self,
        settings: &Settings,
        id: &str,
        host_port: u16,
        options: &RunOptions,
        stop: impl Future<Output = ()>,
        reporter: &dyn Reporter,
    ) -> Result<(Option<Health>, String), ImageError> {
        let step = format!("run {}", settings.service);
        reporter.begin(&step);
        self.docker.start_container(id, None).await.map_err(self.failed("start the container"))?;
        let logs = async {
            let options = LogsOptions { follow: true, stdout: true, stderr: true, ..LogsOptions::default() };
            let mut stream = self.docker.logs(id, Some(options));
            let mut pending = String::new();
            while let Some(Ok(chunk)) = stream.next().await {
                pending.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
                while let Some(at) = pending.find('\n') {
                    let line: String = pending.drain(..=at).collect();
                    reporter.output(&step, line.trim_end());
                }
            }
            if !pending.trim().is_empty() {
                reporter.output(&step, pending.trim_end());
            }
            std::future::pending::<()>().await;
        };
        let url = format!("http://127.0.0.1:{host_port}{}", settings.health_check_path);
        let timeout = options.health_timeout.unwrap_or(Duration::from_secs(60));
        let mut health = None;
        let probe = async {
            let result = probe(&url, timeout, reporter).await;
            health = Some(result);
            std::future::pending::<()>().await;
        };
        let exited = async {
            let mut wait = self.docker.wait_container(id, None);
            match wait.next().await {
                Some(Ok(response)) => format!("exited with code {}", response.status_code),
                Some(Err(DockerError::DockerContainerWaitError { code, .. })) => format!("exited with code {code}"),
                _ => "exited".to_owned(),
            }
        };
        let ended = tokio::select! {
            () = stop => "stopped".to_owned(),
            _ = tokio::signal::ctrl_c() => "stopped".to_owned(),
            ended = exited => ended,
            () = logs => "logs ended".to_owned(),
            () = probe => "probe ended".to_owned(),
        };
        reporter.end(&step, &ended);
        Ok((health, ended))
    }

    async fn remove(&self, settings: &Settings, id: &str, reporter: &dyn Reporter) {
        let step = format!("stop {}", settings.service);
        reporter.begin(&step);
        let stop = StopContainerOptions { t: Some(STOP_GRACE_SECS), signal: None };
        let _ = self.docker.stop_container(id, Some(stop)).await;
        let force = RemoveContainerOptions { force: true, ..RemoveContainerOptions::default() };
        match self.docker.remove_container(id, Some(force)).await {
            Ok(()) => reporter.end(&step, "container removed"),
            Err(error) => {
                reporter.warn(&format!("the container {id} could not be removed: {error}"));
                reporter.end(&step, "container left behind");
            }
        }
    }
}

/// The container's name: `cargo-ecs-run-<service>`.
fn container_name(service: &str) -> String {
    let name: String = service
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .collect();
    format!("cargo-ecs-run-{name}")
}

/// GETs `url` every half second until it answers 200-399 or `timeout` passes, reporting the result.
async fn probe(url: &str, timeout: Duration, reporter: &dyn Reporter) -> Health {
    let step = format!("health {url}");
    reporter.begin(&step);
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build();
    let start = Instant::now();
    let mut last = "no answer yet".to_owned();
    if let Ok(client) = client {
        while start.elapsed() < timeout {
            match client.get(url).send().await {
                Ok(response) if (200..400).contains(&response.status().as_u16()) => {
                    let result = format!("passed: {} after {:.1}s", response.status(), start.elapsed().as_secs_f64());
                    reporter.end(&step, &result);
                    return Health { url: url.to_owned(), passed: true, last: response.status().to_string() };
                }
                Ok(response) => last = response.status().to_string(),
                Err(error) => {
                    last = if error.is_connect() { "connection refused".to_owned() } else { error.to_string() }
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    reporter.warn(&format!("the health check {url} did not pass within {}s: {last}", timeout.as_secs()));
    reporter.end(&step, &format!("failed: {last}"));
    Health { url: url.to_owned(), passed: false, last }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::json;

    use super::*;
    use crate::config::{PackageInfo, Source, from_metadata, resolve};
    use crate::image::{ImageInput, Platform, docker::from_docker_archive, oci};

    const ARN: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/app/db";

    fn settings(metadata: &serde_json::Value) -> Settings {
        let package = PackageInfo::with_one_bin("web", "/w/web/Cargo.toml");
        let source = Source::PackageMetadata { file: package.manifest_path.clone() };
        let layers = from_metadata(metadata, source.clone(), |_| source.clone()).expect("valid metadata");
        resolve(&package, None, &[layers.base], Path::new("/w/web")).expect("valid settings").settings
    }

    fn local(vars: &[(&str, &str)]) -> BTreeMap<String, String> {
        vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_container_gets_the_task_env_port_and_secrets_from_the_local_environment() {
        let s = settings(&json!({ "port": 8080, "env": { "RUST_LOG": "debug" }, "secrets": { "DB_PASSWORD": ARN } }));
        let env = container_env(&s, &local(&[("DB_PASSWORD", "hunter2"), ("OTHER", "x")])).expect("env");
        assert_eq!(env, vec!["DB_PASSWORD=hunter2", "PORT=8080", "RUST_LOG=debug"]);
        let s = settings(&json!({ "port": 8080, "env": { "PORT": "9000" } }));
        assert_eq!(container_env(&s, &local(&[])).expect("env"), vec!["PORT=9000"], "the task's PORT wins");
    }

    #[test]
    fn every_missing_secret_is_listed_with_where_the_task_reads_it() {
        let other = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-key";
        let s = settings(&json!({ "port": 8080, "secrets": { "DB_PASSWORD": ARN, "API_KEY": other, "SET": ARN } }));
        let error = container_env(&s, &local(&[("SET", "1")])).expect_err("missing");
        assert!(error.is_input_error());
        let message = error.to_string();
        assert!(message.starts_with("2 secrets are missing from your environment"), "{message}");
        assert!(message.contains(&format!(
            "secret DB_PASSWORD: set it in your environment to run locally (the task reads it from {ARN})"
        )));
        assert!(message.contains(&format!(
            "secret API_KEY: set it in your environment to run locally (the task reads it from {other})"
        )));
        assert!(!message.contains("secret SET"), "{message}");
        assert!(error.help().is_some_and(|h| h.contains("nothing was started")));
    }

    #[test]
    fn a_bridgeless_engine_means_host_networking() {
        let options = RunOptions::default();
        assert_eq!(choose_network(&options, 8080, true), Network::Published(8080));
        assert_eq!(choose_network(&options, 8080, false), Network::Host);
        let options = RunOptions { host_port: Some(18_000), ..RunOptions::default() };
        assert_eq!(choose_network(&options, 8080, true), Network::Published(18_000));
        assert_eq!(choose_network(&options, 8080, false), Network::Host);
        let options = RunOptions { host_network: true, ..RunOptions::default() };
        assert_eq!(choose_network(&options, 8080, true), Network::Host);
    }

    #[test]
    fn foreign_images_run_through_qemu_only_when_binfmt_is_enabled() {
        assert_eq!(emulation("aarch64", "arm64", None).expect("native"), None);
        assert_eq!(emulation("x86_64", "amd64", None).expect("native"), None);
        let note = emulation("x86_64", "arm64", Some("enabled")).expect("emulated").expect("a note");
        assert!(note.contains("running the ARM64 image through qemu emulation"), "{note}");
        let error = emulation("x86_64", "arm64", Some("disabled")).expect_err("disabled");
        assert!(error.to_string().contains("/proc/sys/fs/binfmt_misc/qemu-aarch64"), "{error}");
        assert!(error.help().is_some_and(|h| h.contains("qemu-user-static") && h.contains("binfmt-support")));
        assert!(emulation("aarch64", "amd64", None).is_err());
    }

    #[test]
    fn the_docker_archive_holds_the_same_image() {
        let input = ImageInput {
            binary: PathBuf::from("/nonexistent"),
            bin_name: "web".to_owned(),
            port: 8080,
            platform: Platform { os: "linux".to_owned(), architecture: "arm64".to_owned() },
            base: "scratch".to_owned(),
            dockerfile: None,
            context_dir: PathBuf::from("/w/web"),
        };
        let image = oci::build_from(b"\x7fELF not really", &input, oci::EPOCH).expect("image");
        let archive = docker_archive(&image, &run_tag("web")).expect("archive");
        let back = from_docker_archive(&archive).expect("a valid docker-archive");
        assert_eq!(back.digest(), image.digest(), "same layers, same config, same manifest");
        assert_eq!(back.platform, image.platform);
        assert_eq!(run_tag("web"), "cargo-ecs/web:run");
    }

    #[test]
    fn containers_are_named_after_the_service() {
        assert_eq!(container_name("web"), "cargo-ecs-run-web");
        assert_eq!(container_name("a b"), "cargo-ecs-run-a-b");
    }
}
