//! Merges layers (later wins), fills defaults, validates every value and every combination, and records where
//! each value came from. Pure but for one look at the file system: a configured Dockerfile must exist.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::error::SettingError;
use super::layers::Layer;
use super::names;
use super::schema::{self, Kind};
use super::settings::{Architecture, Build, Dns, DnsType, Image, ImageBuilder, Libc, LoadBalancer, Settings};
use super::source::Source;
use super::units;
use super::validate::{self, Check};

/// What the resolver needs to know about the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInfo {
    /// Package name.
    pub name: String,
    /// Its Cargo.toml.
    pub manifest_path: PathBuf,
    /// Its binary targets.
    pub bins: Vec<String>,
}

#[cfg(test)]
impl PackageInfo {
    /// A package with one binary of its own name.
    pub fn with_one_bin(name: &str, manifest_path: impl Into<PathBuf>) -> Self {
        Self { name: name.to_owned(), manifest_path: manifest_path.into(), bins: vec![name.to_owned()] }
    }
}

/// A setting's final value and the layer it came from, as `config --explain` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explained {
    /// Dotted path.
    pub key: String,
    /// The value as written (or the default); `null` when unset.
    pub value: Value,
    /// Where it came from.
    pub source: Source,
}

/// Settings of one package with the origin of every value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    /// The settings.
    pub settings: Settings,
    /// One entry per setting (and per `env`/`secrets`/`tags` entry), in schema order.
    pub explain: Vec<Explained>,
}

/// Resolves `layers` (lowest precedence first) for `package`.
/// `cwd` anchors relative paths given in environment variables and flags.
///
/// # Errors
/// Every invalid value or combination, each naming the setting and where it was set.
pub fn resolve(
    package: &PackageInfo,
    environment: Option<&str>,
    layers: &[Layer],
    cwd: &Path,
) -> Result<Resolved, Vec<SettingError>> {
    let mut merged = BTreeMap::new();
    for layer in layers {
        for (path, value) in &layer.values {
            merged.insert(path.clone(), (value.clone(), layer.source.clone()));
        }
    }
    let mut r = Resolver { merged, explain: Vec::new(), errors: Vec::new() };
    let settings = r.settings(package, environment, cwd);
    if r.errors.is_empty() {
        r.explain.sort_by_key(|e| schema_position(&e.key));
        Ok(Resolved { settings, explain: r.explain })
    } else {
        Err(r.errors)
    }
}

fn schema_position(path: &str) -> (usize, String) {
    let owner = schema::map_key_of(path).map_or(path, |k| k.path);
    (schema::KEYS.iter().position(|k| k.path == owner).unwrap_or(usize::MAX), path.to_owned())
}

/// A value with its origin.
struct Sourced<T> {
    value: T,
    source: Source,
}

struct Resolver {
    merged: BTreeMap<String, (Value, Source)>,
    explain: Vec<Explained>,
    errors: Vec<SettingError>,
}

impl Resolver {
    #[allow(clippy::too_many_lines)]
    fn settings(&mut self, package: &PackageInfo, environment: Option<&str>, cwd: &Path) -> Settings {
        let bin = self.bin(package);
        let default_service = match environment {
            Some(env) => format!("{}-{env}", package.name),
            None => package.name.clone(),
        };
        let from_package = if environment.is_some() { "package name and --env" } else { "package name" };
        let service = self.string("service", &default_service, Some(from_package), validate::ecs_name);
        let cluster = self.string("cluster", &service, Some("service"), validate::ecs_name);
        let repository = self.string(
            "repository",
            &names::repository(&package.name),
            Some("package name"),
            validate::ecr_repository,
        );
        let family = self.string("family", &service, Some("service"), validate::ecs_name);
        let container = self.string("container", &service, Some("service"), validate::ecs_name);
        let architecture = match self.string("architecture", "arm64", None, |_| Ok(())).as_str() {
            "x86_64" => Architecture::X86_64,
            _ => Architecture::Arm64,
        };
        let (cpu, memory) = self.cpu_and_memory();
        let port = self.number("port", 80, None, validate::port);
        let health_check_path = self.string("health-check-path", "/", None, validate::health_check_path);
        let interval = self.sourced_number("health-check-interval", 10, |v| validate::in_range(v, 5, 300));
        let timeout = self.sourced_number("health-check-timeout", 5, |v| validate::in_range(v, 2, 120));
        if timeout.value >= interval.value && self.errors.iter().all(|e| !e.key.starts_with("health-check-")) {
            // Blame whichever of the two was set last: that is the one being edited.
            let (key, source) = if timeout.source >= interval.source {
                ("health-check-timeout", &timeout.source)
            } else {
                ("health-check-interval", &interval.source)
            };
            self.errors.push(
                SettingError::new(
                    key,
                    Some(source),
                    format!("a timeout of {} s is not less than the interval of {} s", timeout.value, interval.value),
                )
                .help("AWS requires `health-check-timeout` to be shorter than `health-check-interval`"),
            );
        }
        let healthy_threshold = self.number("healthy-threshold", 2, None, |v| validate::in_range(v, 2, 10));
        let unhealthy_threshold = self.number("unhealthy-threshold", 3, None, |v| validate::in_range(v, 2, 10));
        let deregistration_delay = self.number("deregistration-delay", 15, None, |v| validate::in_range(v, 0, 3600));
        let grace = self.number("health-check-grace-period", 10, None, |v| validate::in_range(v, 0, 2_147_483_647));
        let desired_count = self.optional("desired-count").and_then(|s| {
            let count = s.value.as_u64().unwrap_or_default();
            self.check("desired-count", &s.source, validate::in_range(count, 0, 5000)).then_some(count)
        });
        let spot = self.boolean("spot", false, None);
        let env = self.map("env", |name, _| validate::env_name(name));
        let secrets = self.map("secrets", |name, value| validate::env_name(name).and(validate::secret(value)));
        let tags = self.map("tags", validate::tag);
        for (name, secret) in &secrets {
            if env.contains_key(name) {
                self.errors.push(
                    SettingError::new(
                        format!("secrets.{name}"),
                        Some(&secret.source),
                        format!("`{name}` is set both in `env` and in `secrets`"),
                    )
                    .help("ECS rejects a variable defined twice: keep it in one of the two tables"),
                );
            }
        }
        let execution_role =
            self.string("execution-role", &names::role_name(&service, "-execution"), Some("service"), validate::role);
        let task_role = self.optional_string("task-role", validate::role);
        let log_retention_days = self.number("log-retention-days", 30, None, validate::log_retention_days);
        let region = self.optional_string("region", validate::region_name);
        let vpc = self.optional_string("vpc", |v| validate::resource_id(v, "vpc"));
        let subnets = self.list("subnets", |v| validate::resource_id(v, "subnet"));
        let lb_enabled = self.boolean("load-balancer.enabled", true, None);
        // Services of one cluster share its load balancer: each gets a listener rule (see `load-balancer.path`).
        let lb_name = self
            .string("load-balancer.name", &names::elb_name(&cluster), Some("cluster"), |v| validate::elb_name(v, true));
        let target_group =
            self.string("load-balancer.target-group", &names::elb_name(&service), Some("service"), |v| {
                validate::elb_name(v, false)
            });
        let certificate = self.optional_string("load-balancer.certificate", validate::certificate);
        let path = self.optional_string("load-balancer.path", validate::route_path);
        let assign_public_ip = self.boolean("assign-public-ip", !lb_enabled, Some("load-balancer.enabled"));
        if !lb_enabled {
            self.refuse_without_load_balancer("load-balancer.certificate", "a certificate", certificate.as_ref());
            self.refuse_without_load_balancer("load-balancer.path", "a path prefix", path.as_ref());
        }
        let load_balancer = lb_enabled.then(|| LoadBalancer {
            name: lb_name,
            target_group,
            certificate: certificate.map(|c| c.value),
            path: path.map(|p| p.value.trim_end_matches('/').to_owned()),
        });
        let dns = self.dns(lb_enabled);
        let image = self.image(cwd);
        let build = Build {
            profile: self.string("build.profile", "release", None, validate::cargo_profile),
            features: self.list("build.features", |_| Ok(())),
            no_default_features: self.boolean("build.no-default-features", false, None),
            strip: self.boolean("build.strip", true, None),
        };
        debug_assert!(self.merged.is_empty(), "settings not resolved: {:?}", self.merged.keys());
        Settings {
            package: package.name.clone(),
            manifest_path: package.manifest_path.clone(),
            environment: environment.map(str::to_owned),
            bin,
            service,
            cluster,
            repository,
            family,
            container,
            architecture,
            cpu,
            memory,
            port: u16::try_from(port).unwrap_or_default(),
            health_check_path,
            health_check_interval: to_u32(interval.value),
            health_check_timeout: to_u32(timeout.value),
            healthy_threshold: to_u32(healthy_threshold),
            unhealthy_threshold: to_u32(unhealthy_threshold),
            deregistration_delay: to_u32(deregistration_delay),
            health_check_grace_period: to_u32(grace),
            desired_count: desired_count.map(to_u32),
            spot,
            env: env.into_iter().map(|(k, v)| (k, v.value)).collect(),
            secrets: secrets.into_iter().map(|(k, v)| (k, v.value)).collect(),
            tags: tags.into_iter().map(|(k, v)| (k, v.value)).collect(),
            execution_role,
            task_role: task_role.map(|r| r.value),
            log_retention_days: to_u32(log_retention_days),
            region: region.map(|r| r.value),
            vpc: vpc.map(|v| v.value),
            subnets,
            assign_public_ip,
            load_balancer,
            dns,
            image,
            build,
        }
    }

    fn bin(&mut self, package: &PackageInfo) -> String {
        let manifest = package.manifest_path.display();
        if self.merged.contains_key("bin") {
            let set = self.entry("bin", Value::Null, None);
            let name = set.value.as_str().unwrap_or_default().to_owned();
            if !package.bins.contains(&name) {
                let help = match schema::did_you_mean(&name, package.bins.iter().map(String::as_str)) {
                    Some(s) => {
                        format!("did you mean `{s}`? binaries of `{}`: {}", package.name, package.bins.join(", "))
                    }
                    None if package.bins.is_empty() => {
                        format!("`{}` has no binary target", package.name)
                    }
                    None => format!("binaries of `{}`: {}", package.name, package.bins.join(", ")),
                };
                self.errors.push(
                    SettingError::new("bin", Some(&set.source), format!("`{name}` is not a binary of this package"))
                        .help(help),
                );
            }
            return name;
        }
        match package.bins.as_slice() {
            [only] => {
                self.explain.push(Explained {
                    key: "bin".to_owned(),
                    value: Value::String(only.clone()),
                    source: Source::Default { from: Some("the only binary".to_owned()) },
                });
                only.clone()
            }
            [] => {
                self.errors.push(
                    SettingError::new(
                        "bin",
                        None,
                        format!("package `{}` ({manifest}) has no binary target", package.name),
                    )
                    .help("a service needs a binary: add src/main.rs or a [[bin]] target"),
                );
                String::new()
            }
            many => {
                self.errors.push(
                    SettingError::new(
                        "bin",
                        None,
                        format!("package `{}` ({manifest}) has several binaries: {}", package.name, many.join(", ")),
                    )
                    .help(format!("choose one with `bin = \"{}\"` in [package.metadata.ecs] of {manifest}", many[0])),
                );
                String::new()
            }
        }
    }

    fn cpu_and_memory(&mut self) -> (u32, u32) {
        let cpu_entry = self.entry("cpu", Value::from(256), None);
        let cpu = self.parse_size(&cpu_entry, "cpu", units::parse_cpu);
        let memory_entry = self.entry("memory", Value::from(512), None);
        let memory = self.parse_size(&memory_entry, "memory", units::parse_memory);
        let (Some(cpu), Some(memory)) = (cpu, memory) else {
            return (0, 0);
        };
        if !units::fargate_cpus().contains(&cpu) {
            let sizes: Vec<String> =
                units::fargate_cpus().iter().map(|c| format!("{c} ({})", units::vcpu_label(*c))).collect();
            self.errors.push(
                SettingError::new("cpu", Some(&cpu_entry.source), format!("{cpu} CPU units is not a Fargate size"))
                    .help(format!("use one of {}", sizes.join(", "))),
            );
        } else if !units::fargate_memories(cpu).contains(&memory) {
            let mut help = format!(
                "with cpu {cpu} ({}), memory must be {}",
                units::vcpu_label(cpu),
                units::describe_memories(cpu)
            );
            let cpus = units::fargate_cpus_for(memory);
            if !cpus.is_empty() {
                let list: Vec<String> = cpus.iter().map(u32::to_string).collect();
                help.push_str(&format!("; {memory} MiB pairs with cpu {}", list.join(" or ")));
            }
            // Blame whichever of the two the user set last: that is the one they are most likely editing.
            let (key, source) = if memory_entry.source >= cpu_entry.source {
                ("memory", &memory_entry.source)
            } else {
                ("cpu", &cpu_entry.source)
            };
            self.errors.push(
                SettingError::new(
                    key,
                    Some(source),
                    format!("{memory} MiB with {cpu} CPU units is not a Fargate size"),
                )
                .help(help),
            );
        }
        (cpu, memory)
    }

    fn parse_size(&mut self, entry: &Sourced<Value>, key: &str, parse: fn(&str) -> Result<u32, String>) -> Option<u32> {
        let text = match &entry.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parse(&text)
            .map_err(|message| {
                let help = if key == "cpu" {
                    "write units (512) or vCPUs (\"0.5 vCPU\")"
                } else {
                    "write MiB (1024) or \"1 GB\" / \"512 MiB\""
                };
                self.errors.push(SettingError::new(key, Some(&entry.source), message).help(help));
            })
            .ok()
    }

    fn refuse_without_load_balancer(&mut self, key: &str, what: &str, set: Option<&Sourced<String>>) {
        if let Some(set) = set {
            self.errors.push(
                SettingError::new(key, Some(&set.source), format!("{what} needs the load balancer, which is disabled"))
                    .help(format!("remove `{key}`, or set `load-balancer.enabled = true`")),
            );
        }
    }

    fn dns(&mut self, lb_enabled: bool) -> Option<Dns> {
        let zone = self.optional_string("dns.zone", |z| validate::domain_name(z, false));
        let name = self.optional_string("dns.name", |_| Ok(()));
        let record_type = match self.string("dns.type", "alias", None, |_| Ok(())).as_str() {
            "cname" => DnsType::Cname,
            _ => DnsType::Alias,
        };
        if self.errors.iter().any(|e| e.key.starts_with("dns.")) {
            return None;
        }
        let (zone, name) = match (zone, name) {
            (None, None) => return None,
            (Some(zone), None) => {
                self.errors.push(
                    SettingError::new(
                        "dns.name",
                        None,
                        format!("`dns.zone` is set ({}) but `dns.name` is not", zone.source),
                    )
                    .help(format!("set the record's name, e.g. dns.name = \"api\" for api.{}", zone.value)),
                );
                return None;
            }
            (None, Some(name)) => {
                self.errors.push(
                    SettingError::new(
                        "dns.zone",
                        None,
                        format!("`dns.name` is set ({}) but `dns.zone` is not", name.source),
                    )
                    .help("set the hosted zone, e.g. dns.zone = \"example.com\""),
                );
                return None;
            }
            (Some(zone), Some(name)) => (zone, name),
        };
        let full = match validate::record_in_zone(&name.value, &zone.value) {
            Ok(full) => full,
            Err(invalid) => {
                self.errors.push(SettingError::new("dns.name", Some(&name.source), invalid.message).help(invalid.help));
                return None;
            }
        };
        let zone_name = zone.value.trim_end_matches('.').to_ascii_lowercase();
        if !lb_enabled {
            self.errors.push(
                SettingError::new(
                    "dns.zone",
                    Some(&zone.source),
                    "a DNS record needs the load balancer, which is disabled",
                )
                .help(
                    "tasks without a load balancer change IP on every deploy: enable the load balancer or remove [dns]",
                ),
            );
        }
        if record_type == DnsType::Cname && full == zone_name {
            self.errors.push(
                SettingError::new(
                    "dns.type",
                    Some(&name.source),
                    format!("a CNAME cannot stand at the zone apex ({full})"),
                )
                .help("use dns.type = \"alias\" for the apex, or a name below it"),
            );
        }
        Some(Dns { zone: zone_name, name: full, record_type })
    }

    fn image(&mut self, cwd: &Path) -> Image {
        let dockerfile = self.optional("image.dockerfile").and_then(|set| {
            let relative = PathBuf::from(set.value.as_str().unwrap_or_default());
            let base = set.source.file().and_then(|f| f.parent()).unwrap_or(cwd);
            let path = base.join(&relative);
            if path.is_file() {
                Some(path)
            } else {
                self.errors.push(
                    SettingError::new("image.dockerfile", Some(&set.source), format!("{} does not exist", path.display()))
                        .help("the path is relative to the Cargo.toml that sets it; remove the setting to use the built-in Dockerfile"),
                );
                None
            }
        });
        let builder_default = if dockerfile.is_some() { "docker" } else { "oci" };
        let from = dockerfile.is_some().then_some("image.dockerfile");
        let builder_entry = self.entry("image.builder", Value::from(builder_default), from);
        let builder = match builder_entry.value.as_str() {
            Some("docker") => ImageBuilder::Docker,
            _ => ImageBuilder::Oci,
        };
        if builder == ImageBuilder::Oci && dockerfile.is_some() {
            self.errors.push(
                SettingError::new(
                    "image.builder",
                    Some(&builder_entry.source),
                    "the oci builder does not read Dockerfiles",
                )
                .help("set image.builder = \"docker\" to build your Dockerfile, or remove image.dockerfile"),
            );
        }
        let base = self.sourced_string("image.base", "scratch", validate::image_reference);
        let base_valid = !self.errors.iter().any(|e| e.key == "image.base");
        if base_valid && builder == ImageBuilder::Oci && base.value != "scratch" {
            self.errors.push(
                SettingError::new(
                    "image.base",
                    Some(&base.source),
                    format!("the oci builder builds FROM scratch only, not \"{}\"", base.value),
                )
                .help("set image.builder = \"docker\" to build on another base image"),
            );
        }
        let libc_entry = self.entry("image.libc", Value::from("musl"), None);
        let libc = if libc_entry.value.as_str() == Some("gnu") { Libc::Gnu } else { Libc::Musl };
        if libc == Libc::Gnu && base.value == "scratch" {
            self.errors.push(
                SettingError::new("image.libc", Some(&libc_entry.source), "a glibc binary cannot run on the empty `scratch` base")
                    .help("keep libc = \"musl\" (static), or set image.builder = \"docker\" and image.base to an image with glibc, such as \"gcr.io/distroless/cc-debian12\""),
            );
        }
        Image { builder, dockerfile, base: base.value, libc }
    }

    /// Takes a value out of the merged layers, or the default; records it for `--explain`.
    fn entry(&mut self, path: &str, default: Value, from: Option<&str>) -> Sourced<Value> {
        let (value, source) =
            self.merged.remove(path).unwrap_or_else(|| (default, Source::Default { from: from.map(str::to_owned) }));
        self.explain.push(Explained { key: path.to_owned(), value: value.clone(), source: source.clone() });
        Sourced { value, source }
    }

    /// A value the user set, or `None` (recorded as an unset default).
    fn optional(&mut self, path: &str) -> Option<Sourced<Value>> {
        let entry = self.entry(path, Value::Null, None);
        (!entry.value.is_null()).then_some(entry)
    }

    /// Records a failed check. A default derived from a setting that is itself in error is not reported again.
    fn check(&mut self, path: &str, source: &Source, check: Check) -> bool {
        match check {
            Ok(()) => true,
            Err(_) if matches!(source, Source::Default { from: Some(f) } if self.errors.iter().any(|e| &e.key == f)) => {
                false
            }
            Err(invalid) => {
                let help = match source {
                    Source::Default { .. } => {
                        format!("{}; the default did not fit, so set `{path}` yourself", invalid.help)
                    }
                    _ => invalid.help,
                };
                self.errors.push(SettingError::new(path, Some(source), invalid.message).help(help));
                false
            }
        }
    }

    fn sourced_string(&mut self, path: &str, default: &str, check: impl Fn(&str) -> Check) -> Sourced<String> {
        let entry = self.entry(path, Value::from(default), None);
        let value = entry.value.as_str().unwrap_or_default().to_owned();
        self.check(path, &entry.source, check(&value));
        Sourced { value, source: entry.source }
    }

    fn string(&mut self, path: &str, default: &str, from: Option<&str>, check: impl Fn(&str) -> Check) -> String {
        let entry = self.entry(path, Value::from(default), from);
        let value = entry.value.as_str().unwrap_or_default().to_owned();
        self.check(path, &entry.source, check(&value));
        value
    }

    fn optional_string(&mut self, path: &str, check: impl Fn(&str) -> Check) -> Option<Sourced<String>> {
        let entry = self.optional(path)?;
        let value = entry.value.as_str().unwrap_or_default().to_owned();
        self.check(path, &entry.source, check(&value)).then_some(Sourced { value, source: entry.source })
    }

    fn sourced_number(&mut self, path: &str, default: u64, check: impl Fn(u64) -> Check) -> Sourced<u64> {
        let entry = self.entry(path, Value::from(default), None);
        let value = entry.value.as_u64().unwrap_or_default();
        self.check(path, &entry.source, check(value));
        Sourced { value, source: entry.source }
    }

    fn number(&mut self, path: &str, default: u64, from: Option<&str>, check: impl Fn(u64) -> Check) -> u64 {
        let entry = self.entry(path, Value::from(default), from);
        let value = entry.value.as_u64().unwrap_or_default();
        self.check(path, &entry.source, check(value));
        value
    }

    fn boolean(&mut self, path: &str, default: bool, from: Option<&str>) -> bool {
        self.entry(path, Value::from(default), from).value.as_bool().unwrap_or(default)
    }

    fn list(&mut self, path: &str, check: impl Fn(&str) -> Check) -> Vec<String> {
        let entry = self.entry(path, Value::Array(Vec::new()), None);
        let items: Vec<String> =
            entry.value.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect();
        for item in &items {
            self.check(path, &entry.source, check(item));
        }
        items
    }

    /// The entries of a map setting (`env`, `secrets`, `tags`), each checked as (name, value).
    fn map(&mut self, name: &str, check: impl Fn(&str, &str) -> Check) -> BTreeMap<String, Sourced<String>> {
        debug_assert_eq!(schema::key(name).map(|k| k.kind), Some(Kind::Map));
        let prefix = format!("{name}.");
        let paths: Vec<String> = self.merged.keys().filter(|p| p.starts_with(&prefix)).cloned().collect();
        let mut entries = BTreeMap::new();
        for path in paths {
            let entry = self.entry(&path, Value::Null, None);
            let value = entry.value.as_str().unwrap_or_default().to_owned();
            let entry_name = path[prefix.len()..].to_owned();
            if self.check(&path, &entry.source, check(&entry_name, &value)) {
                entries.insert(entry_name, Sourced { value, source: entry.source });
            }
        }
        entries
    }
}

fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}
