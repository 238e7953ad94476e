//! The user-facing settings schema: every key of `[package.metadata.ecs]`, its kind, default and meaning.
//!
//! This one table drives parsing (unknown keys and "did you mean"), the `CARGO_ECS_*` environment variable
//! names, `cargo ecs config --explain`, and the settings reference in the README (a test keeps them in step).

/// What kind of value a setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Str,
    /// A non-negative integer.
    Int,
    /// `true` or `false`.
    Bool,
    /// One of a fixed set of strings.
    Choice(&'static [&'static str]),
    /// CPU units: an integer (512) or a string such as "0.5 vCPU".
    Cpu,
    /// Memory: MiB as an integer (1024) or a string such as "1 GB" / "512 MiB".
    Memory,
    /// A list of strings (comma-separated in environment variables and `--set`).
    List,
    /// A table of NAME = "value" whose names are the user's own (merged name by name across layers).
    Map,
}

/// One setting of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// Dotted path as written in Cargo.toml, e.g. `load-balancer.certificate`.
    pub path: &'static str,
    /// The kind of value it takes.
    pub kind: Kind,
    /// The default, as shown to users.
    pub default: &'static str,
    /// One line on what it does.
    pub doc: &'static str,
}

impl Key {
    /// The environment variable that sets this key: `CARGO_ECS_` + the path upper-cased, `-` and `.` as `_`.
    /// Tables of user names (`env`, `secrets`, `tags`) have none: names would lose their case.
    #[must_use]
    pub fn env_var(&self) -> Option<String> {
        (self.kind != Kind::Map).then(|| env_var_name(self.path))
    }

    /// The table this key lives in (`load-balancer` for `load-balancer.name`), or `None` at the top level.
    #[must_use]
    pub fn table(&self) -> Option<&'static str> {
        self.path.split_once('.').map(|(table, _)| table)
    }
}

/// `CARGO_ECS_` + the path upper-cased with `-` and `.` turned into `_`.
#[must_use]
pub fn env_var_name(path: &str) -> String {
    format!("{ENV_PREFIX}{}", path.to_ascii_uppercase().replace(['-', '.'], "_"))
}

/// Prefix of every environment variable that sets a key.
pub const ENV_PREFIX: &str = "CARGO_ECS_";

/// `CARGO_ECS_*` variables that are not settings: the tool's own knobs. They are never reported as unknown.
pub const TOOL_ENV_VARS: &[(&str, &str)] = &[
    ("CARGO_ECS_ENVIRONMENT", "the environment overlay to apply, as --env"),
    (
        "CARGO_ECS_REGISTRY_ENDPOINT",
        "registry base URL to push to instead of the host ECR's token names (for emulators)",
    ),
];

/// Prefixes of `CARGO_ECS_*` variables reserved for the test stack and tooling; never settings.
pub const TOOL_ENV_PREFIXES: &[&str] = &["CARGO_ECS_STACK_", "CARGO_ECS_TEST_"];

/// Tables that group keys (`[package.metadata.ecs.load-balancer]` and so on).
pub const TABLES: &[&str] = &["load-balancer", "dns", "image", "build"];

/// The table of environment overlays: `[package.metadata.ecs.environments.NAME]`.
pub const ENVIRONMENTS: &str = "environments";

/// Every setting, in the order they are documented and explained.
pub const KEYS: &[Key] = &[
    Key {
        path: "bin",
        kind: Kind::Str,
        default: "the package's only binary",
        doc: "Which binary target to ship; required when the package has several.",
    },
    Key { path: "service", kind: Kind::Str, default: "package name (+ \"-ENV\" with --env)", doc: "ECS service name." },
    Key {
        path: "cluster",
        kind: Kind::Str,
        default: "service",
        doc: "ECS cluster name; services that name the same cluster share it.",
    },
    Key {
        path: "repository",
        kind: Kind::Str,
        default: "package name, lower-cased",
        doc: "ECR repository for the image (shared by all environments).",
    },
    Key { path: "family", kind: Kind::Str, default: "service", doc: "Task definition family." },
    Key { path: "container", kind: Kind::Str, default: "service", doc: "Container name inside the task." },
    Key {
        path: "architecture",
        kind: Kind::Choice(&["arm64", "x86_64"]),
        default: "arm64",
        doc: "CPU architecture of the image and the task (ARM64 Fargate costs about 20 % less).",
    },
    Key {
        path: "cpu",
        kind: Kind::Cpu,
        default: "256",
        doc: "Task CPU units (1024 = 1 vCPU), as 512 or \"0.5 vCPU\"; must pair with memory as Fargate allows.",
    },
    Key {
        path: "memory",
        kind: Kind::Memory,
        default: "512",
        doc: "Task memory in MiB, as 1024 or \"1 GB\" / \"512 MiB\".",
    },
    Key { path: "port", kind: Kind::Int, default: "80", doc: "Port the container listens on." },
    Key {
        path: "health-check-path",
        kind: Kind::Str,
        default: "/",
        doc: "HTTP path the load balancer probes; must answer 200-399.",
    },
    Key {
        path: "health-check-interval",
        kind: Kind::Int,
        default: "10",
        doc: "Seconds between health checks (5-300).",
    },
    Key {
        path: "health-check-timeout",
        kind: Kind::Int,
        default: "5",
        doc: "Seconds before a health check fails (2-120, less than the interval).",
    },
    Key {
        path: "healthy-threshold",
        kind: Kind::Int,
        default: "2",
        doc: "Consecutive successes before a target is healthy (2-10).",
    },
    Key {
        path: "unhealthy-threshold",
        kind: Kind::Int,
        default: "3",
        doc: "Consecutive failures before a target is unhealthy (2-10).",
    },
    Key {
        path: "deregistration-delay",
        kind: Kind::Int,
        default: "15",
        doc: "Seconds the load balancer drains an old task (0-3600; AWS's own default is 300).",
    },
    Key {
        path: "health-check-grace-period",
        kind: Kind::Int,
        default: "10",
        doc: "Seconds ECS ignores failing load balancer health checks of a new task.",
    },
    Key {
        path: "desired-count",
        kind: Kind::Int,
        default: "1 (on create; an update keeps the running count unless set)",
        doc: "Number of tasks to run (0-5000).",
    },
    Key {
        path: "spot",
        kind: Kind::Bool,
        default: "false",
        doc: "Run on FARGATE_SPOT (with one FARGATE task as base).",
    },
    Key {
        path: "env",
        kind: Kind::Map,
        default: "{}",
        doc: "Environment variables of the container: NAME = \"value\".",
    },
    Key {
        path: "secrets",
        kind: Kind::Map,
        default: "{}",
        doc: "Secrets as environment variables: NAME = SSM parameter name or ARN, or Secrets Manager ARN.",
    },
    Key { path: "tags", kind: Kind::Map, default: "{}", doc: "Extra tags on every resource created: KEY = \"value\"." },
    Key {
        path: "execution-role",
        kind: Kind::Str,
        default: "SERVICE-execution",
        doc: "Task execution role: a role name (created when missing) or a role ARN (used as is).",
    },
    Key {
        path: "task-role",
        kind: Kind::Str,
        default: "none",
        doc: "Role the application's code runs as: a role name (created when missing) or a role ARN.",
    },
    Key {
        path: "log-retention-days",
        kind: Kind::Int,
        default: "30",
        doc: "CloudWatch Logs retention, one of the values CloudWatch accepts.",
    },
    Key { path: "region", kind: Kind::Str, default: "from the AWS profile / AWS_REGION", doc: "AWS region." },
    Key { path: "vpc", kind: Kind::Str, default: "the default VPC", doc: "VPC id (vpc-...)." },
    Key {
        path: "subnets",
        kind: Kind::List,
        default: "the VPC's subnets",
        doc: "Subnet ids (subnet-...) for the tasks and the load balancer.",
    },
    Key {
        path: "assign-public-ip",
        kind: Kind::Bool,
        default: "false behind a load balancer, true without",
        doc: "Give tasks a public IP (needed to pull images in subnets without a NAT gateway).",
    },
    Key {
        path: "load-balancer.enabled",
        kind: Kind::Bool,
        default: "true",
        doc: "Put the service behind an internet-facing Application Load Balancer.",
    },
    Key {
        path: "load-balancer.name",
        kind: Kind::Str,
        default: "cluster (made a valid ALB name)",
        doc: "Load balancer name: at most 32 letters, digits and hyphens. Services of a cluster share its load balancer, each with a listener rule for its `dns.name` and/or `load-balancer.path`; a service with neither is the load balancer's default (only one may be).",
    },
    Key {
        path: "load-balancer.target-group",
        kind: Kind::Str,
        default: "service (made a valid target group name)",
        doc: "Target group name: at most 32 letters, digits and hyphens.",
    },
    Key {
        path: "load-balancer.certificate",
        kind: Kind::Str,
        default: "none (HTTP only)",
        doc: "ACM certificate ARN, or a domain such as \"*.example.com\" looked up among issued certificates; enables HTTPS on 443 and redirects HTTP to it.",
    },
    Key {
        path: "load-balancer.path",
        kind: Kind::Str,
        default: "none (route by dns.name, or serve everything)",
        doc: "Path prefix routed to this service on a shared load balancer, e.g. \"/api\": requests for /api and /api/* reach it (the prefix is not stripped). Longer prefixes take precedence.",
    },
    Key { path: "dns.zone", kind: Kind::Str, default: "none", doc: "Route 53 hosted zone name, e.g. \"example.com\"." },
    Key {
        path: "dns.name",
        kind: Kind::Str,
        default: "none",
        doc: "Record name within the zone, e.g. \"api\" (or \"api.example.com\").",
    },
    Key {
        path: "dns.type",
        kind: Kind::Choice(&["alias", "cname"]),
        default: "alias",
        doc: "An alias A record to the load balancer, or a CNAME.",
    },
    Key {
        path: "image.builder",
        kind: Kind::Choice(&["oci", "docker"]),
        default: "oci (docker when image.dockerfile is set)",
        doc: "Build the image without Docker (oci) or with the Docker Engine (docker).",
    },
    Key {
        path: "image.dockerfile",
        kind: Kind::Str,
        default: "none (rendered from templates/)",
        doc: "Your own Dockerfile, relative to the Cargo.toml that sets it (needs builder = \"docker\").",
    },
    Key { path: "image.base", kind: Kind::Str, default: "scratch", doc: "Base image of the rendered image." },
    Key {
        path: "image.libc",
        kind: Kind::Choice(&["musl", "gnu"]),
        default: "musl",
        doc: "Link against musl (static) or glibc (needs a base image with glibc).",
    },
    Key { path: "build.profile", kind: Kind::Str, default: "release", doc: "Cargo profile to build with." },
    Key { path: "build.features", kind: Kind::List, default: "[]", doc: "Cargo features to enable." },
    Key {
        path: "build.no-default-features",
        kind: Kind::Bool,
        default: "false",
        doc: "Build without the package's default features.",
    },
    Key {
        path: "build.strip",
        kind: Kind::Bool,
        default: "true",
        doc: "Strip symbols from the shipped binary (smaller image; panics still print messages).",
    },
];

/// The settings reference as a Markdown table (the README embeds it; a test keeps the two identical).
#[must_use]
pub fn reference_table() -> String {
    let mut table = String::from("| Setting | Type | Default | What it does |\n|---|---|---|---|\n");
    for key in KEYS {
        let kind = match key.kind {
            Kind::Str => "string".to_owned(),
            Kind::Int => "integer".to_owned(),
            Kind::Bool => "bool".to_owned(),
            Kind::Choice(choices) => choices.iter().map(|c| format!("`\"{c}\"`")).collect::<Vec<_>>().join(" or "),
            Kind::Cpu | Kind::Memory => "integer or string".to_owned(),
            Kind::List => "list of strings".to_owned(),
            Kind::Map => "table".to_owned(),
        };
        let env = key.env_var().map(|v| format!(" (`{v}`)")).unwrap_or_default();
        table.push_str(&format!("| `{}`{env} | {kind} | {} | {} |\n", key.path, key.default, key.doc));
    }
    table
}

/// The key with this exact dotted path.
#[must_use]
pub fn key(path: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.path == path)
}

/// The map key (`env`, `secrets`, `tags`) that owns a dotted path such as `env.RUST_LOG`.
#[must_use]
pub fn map_key_of(path: &str) -> Option<&'static Key> {
    let (head, rest) = path.split_once('.')?;
    key(head).filter(|k| k.kind == Kind::Map && !rest.is_empty())
}

/// The names that may stand at one level of a settings table: the top level (`table = None`) or a sub-table.
#[must_use]
pub fn names_in(table: Option<&str>) -> Vec<&'static str> {
    let mut names: Vec<&'static str> =
        KEYS.iter().filter(|k| k.table() == table).map(|k| k.path.rsplit('.').next().unwrap_or(k.path)).collect();
    if table.is_none() {
        names.extend(TABLES);
    }
    names
}

/// The closest of `candidates` to `wrong`, when it is close enough to be a likely typo.
#[must_use]
pub fn did_you_mean<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&wrong.to_ascii_lowercase(), &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names_follow_the_documented_rule() {
        assert_eq!(key("image.builder").and_then(Key::env_var).as_deref(), Some("CARGO_ECS_IMAGE_BUILDER"));
        assert_eq!(
            key("load-balancer.certificate").and_then(Key::env_var).as_deref(),
            Some("CARGO_ECS_LOAD_BALANCER_CERTIFICATE")
        );
        assert_eq!(key("env").and_then(Key::env_var), None);
    }

    #[test]
    fn env_var_names_are_unique_and_do_not_collide_with_tool_variables() {
        let mut names: Vec<String> = KEYS.iter().filter_map(Key::env_var).collect();
        names.extend(TOOL_ENV_VARS.iter().map(|(n, _)| (*n).to_owned()));
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn suggestions_catch_typos_and_only_typos() {
        assert_eq!(did_you_mean("memroy", names_in(None)), Some("memory"));
        assert_eq!(did_you_mean("certficate", names_in(Some("load-balancer"))), Some("certificate"));
        assert_eq!(did_you_mean("loadbalancer", names_in(None)), Some("load-balancer"));
        assert_eq!(did_you_mean("zzzz", names_in(None)), None);
    }

    #[test]
    fn every_table_has_keys() {
        for table in TABLES {
            assert!(!names_in(Some(table)).is_empty(), "{table}");
        }
    }
}
