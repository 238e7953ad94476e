//! The constraints AWS documents for each kind of value, as pure checks.
//!
//! Each check returns what is wrong and what is allowed; the resolver adds which setting and which file.
//! Sources: the API references of ECS (CreateCluster, CreateService, RegisterTaskDefinition), ECR
//! (CreateRepository), ELBv2 (CreateLoadBalancer, CreateTargetGroup), IAM (CreateRole), CloudWatch Logs
//! (PutRetentionPolicy), Route 53 (ChangeResourceRecordSets), ACM, and the ARN format of the AWS General Reference.

/// What is wrong with a value, and what would be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// What is wrong.
    pub message: String,
    /// What is allowed.
    pub help: String,
}

/// Shorthand for a failed check.
pub type Check = Result<(), Invalid>;

fn invalid(message: impl Into<String>, help: impl Into<String>) -> Invalid {
    Invalid { message: message.into(), help: help.into() }
}

/// The retention values CloudWatch Logs accepts (PutRetentionPolicy `retentionInDays`).
pub const LOG_RETENTION_DAYS: &[u64] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// Names of clusters, services, task definition families and containers: 1-255 letters, digits, `-`, `_`.
pub fn ecs_name(value: &str) -> Check {
    let ok_chars = value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if value.is_empty() || value.len() > 255 || !ok_chars {
        return Err(invalid(
            format!("\"{value}\" is not a valid ECS name"),
            "use 1 to 255 letters, digits, hyphens and underscores",
        ));
    }
    Ok(())
}

/// ECR repository names: 2-256 characters, lower case, path segments of `[a-z0-9]` joined by `.`, `_`, `-`.
pub fn ecr_repository(value: &str) -> Check {
    let help =
        "use 2 to 256 lower-case letters and digits, separated by single '.', '_', '-' or '/' (e.g. \"team/api\")";
    if value.len() < 2 || value.len() > 256 {
        return Err(invalid(format!("\"{value}\" must be 2 to 256 characters long"), help));
    }
    let segment_ok = |segment: &str| {
        !segment.is_empty()
            && segment
                .split(['.', '_', '-'])
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    };
    if !value.split('/').all(segment_ok) {
        return Err(invalid(format!("\"{value}\" is not a valid ECR repository name"), help));
    }
    Ok(())
}

/// Load balancer and target group names: at most 32 letters, digits and hyphens, no hyphen first or last.
/// `internal-` is reserved at the start of load balancer names.
pub fn elb_name(value: &str, load_balancer: bool) -> Check {
    let help = "use 1 to 32 letters, digits and hyphens, not starting or ending with a hyphen";
    let ok_chars = value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if value.is_empty() || value.len() > 32 {
        return Err(invalid(format!("\"{value}\" is {} characters long; at most 32 are allowed", value.len()), help));
    }
    if !ok_chars || value.starts_with('-') || value.ends_with('-') {
        return Err(invalid(format!("\"{value}\" is not a valid name"), help));
    }
    if load_balancer && value.starts_with("internal-") {
        return Err(invalid(format!("\"{value}\" starts with \"internal-\", which AWS reserves"), help));
    }
    Ok(())
}

/// A whole number within `min..=max`.
pub fn in_range(value: u64, min: u64, max: u64) -> Check {
    if value < min || value > max {
        return Err(invalid(format!("{value} is out of range"), format!("use a whole number from {min} to {max}")));
    }
    Ok(())
}

/// A TCP port.
pub fn port(value: u64) -> Check {
    in_range(value, 1, 65535)
}

/// A health check path: starts with `/`, at most 1024 printable ASCII characters.
pub fn health_check_path(value: &str) -> Check {
    let help = "use a path that starts with \"/\", such as \"/health\" (at most 1024 characters)";
    if !value.starts_with('/') {
        return Err(invalid(format!("\"{value}\" does not start with \"/\""), help));
    }
    if value.len() > 1024 || !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(format!("\"{value}\" is not a valid path"), help));
    }
    Ok(())
}

/// A path prefix for a listener rule: `/` followed by URL path characters, no wildcards, at most 120 characters
/// (the rule's pattern adds `/*`, and AWS allows 128).
pub fn route_path(value: &str) -> Check {
    let help = "use a prefix that starts with \"/\", such as \"/api\" (letters, digits and -._~/ only, at most 120 characters)";
    if !value.starts_with('/') || value.trim_end_matches('/').is_empty() {
        return Err(invalid(format!("\"{value}\" is not a path prefix below \"/\""), help));
    }
    let ok = value.chars().all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c));
    if value.len() > 120 || !ok || value.contains("//") {
        return Err(invalid(format!("\"{value}\" is not a valid path prefix"), help));
    }
    Ok(())
}

/// A CloudWatch Logs retention period.
pub fn log_retention_days(value: u64) -> Check {
    if !LOG_RETENTION_DAYS.contains(&value) {
        let allowed: Vec<String> = LOG_RETENTION_DAYS.iter().map(u64::to_string).collect();
        return Err(invalid(
            format!("{value} days is not a retention period CloudWatch Logs accepts"),
            format!("use one of {}", allowed.join(", ")),
        ));
    }
    Ok(())
}

/// The parts of an ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: &'a str,
    /// The service, e.g. `iam`.
    pub service: &'a str,
    /// The region (empty for global services).
    pub region: &'a str,
    /// The 12-digit account id.
    pub account: &'a str,
    /// Everything after the account.
    pub resource: &'a str,
}

/// Splits a well-formed ARN, or says why it is not one.
pub fn arn(value: &str) -> Result<Arn<'_>, Invalid> {
    let help = "an ARN looks like arn:aws:SERVICE:REGION:ACCOUNT-ID:RESOURCE";
    let mut parts = value.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!("\"{value}\" is not a well-formed ARN"), help));
    };
    if !["aws", "aws-cn", "aws-us-gov"].contains(&partition) {
        return Err(invalid(format!("\"{value}\" names an unknown partition \"{partition}\""), help));
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid(format!("\"{value}\" has no 12-digit account id"), help));
    }
    if !region.is_empty() && region_name(region).is_err() {
        return Err(invalid(format!("\"{value}\" names an invalid region \"{region}\""), help));
    }
    if service.is_empty() || resource.is_empty() {
        return Err(invalid(format!("\"{value}\" is not a well-formed ARN"), help));
    }
    Ok(Arn { partition, service, region, account, resource })
}

/// An IAM role given by name (1-64 of letters, digits and `+=,.@_-`) or by ARN (`arn:aws:iam::ACCOUNT:role/...`).
pub fn role(value: &str) -> Check {
    if value.starts_with("arn:") {
        let parsed = arn(value)?;
        if parsed.service != "iam" || !parsed.region.is_empty() || !parsed.resource.starts_with("role/") {
            return Err(invalid(
                format!("\"{value}\" is not an IAM role ARN"),
                "a role ARN looks like arn:aws:iam::123456789012:role/NAME",
            ));
        }
        let name = parsed.resource.rsplit('/').next().unwrap_or_default();
        return role_name(name);
    }
    role_name(value)
}

fn role_name(value: &str) -> Check {
    let ok_chars = value.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if value.is_empty() || value.len() > 64 || !ok_chars {
        return Err(invalid(
            format!("\"{value}\" is not a valid IAM role name"),
            "use 1 to 64 letters, digits and + = , . @ _ - (or give a full role ARN)",
        ));
    }
    Ok(())
}

/// An ACM certificate ARN (`arn:aws:acm:REGION:ACCOUNT:certificate/ID`) or a domain name to look one up by.
pub fn certificate(value: &str) -> Check {
    if value.starts_with("arn:") {
        let parsed = arn(value)?;
        if parsed.service != "acm" || parsed.region.is_empty() || !parsed.resource.starts_with("certificate/") {
            return Err(invalid(
                format!("\"{value}\" is not an ACM certificate ARN"),
                "a certificate ARN looks like arn:aws:acm:us-east-1:123456789012:certificate/ID",
            ));
        }
        return Ok(());
    }
    domain_name(value, true)
}

/// The reference of a secret: an SSM parameter name or ARN, or a Secrets Manager secret ARN.
pub fn secret(value: &str) -> Check {
    if value.starts_with("arn:") {
        let parsed = arn(value)?;
        let ok = match parsed.service {
            "ssm" => parsed.resource.starts_with("parameter/") && parsed.resource.len() > "parameter/".len(),
            "secretsmanager" => parsed.resource.starts_with("secret:") && parsed.resource.len() > "secret:".len(),
            _ => false,
        };
        if !ok || parsed.region.is_empty() {
            return Err(invalid(
                format!("\"{value}\" is neither an SSM parameter ARN nor a Secrets Manager secret ARN"),
                "use arn:aws:ssm:REGION:ACCOUNT:parameter/NAME, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME, or an SSM parameter name",
            ));
        }
        return Ok(());
    }
    let ok_chars = value.chars().all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c));
    if value.is_empty() || value.len() > 2048 || !ok_chars || value.contains("//") {
        return Err(invalid(
            format!("\"{value}\" is not a valid SSM parameter name"),
            "use a parameter name such as \"/prod/db-password\" (letters, digits, _ . - /), or an ARN",
        ));
    }
    Ok(())
}

/// An environment variable name: a letter or `_`, then letters, digits and `_`.
pub fn env_name(value: &str) -> Check {
    let mut chars = value.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') || value.len() > 255 {
        return Err(invalid(
            format!("\"{value}\" is not a valid environment variable name"),
            "use letters, digits and underscores, not starting with a digit (e.g. DATABASE_URL)",
        ));
    }
    Ok(())
}

/// A region name such as `us-east-1` or `ap-southeast-3` or `us-gov-west-1`.
pub fn region_name(value: &str) -> Check {
    let parts: Vec<&str> = value.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts.last().is_some_and(|n| !n.is_empty() && n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit()));
    if !ok {
        return Err(invalid(
            format!("\"{value}\" is not an AWS region name"),
            "use a region such as us-east-1 or eu-west-3",
        ));
    }
    Ok(())
}

/// A resource id such as `vpc-0abc12345def67890` (`prefix` is `vpc` or `subnet`).
pub fn resource_id(value: &str, prefix: &str) -> Check {
    let hex = value.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('-'));
    let ok = hex.is_some_and(|h| (h.len() == 8 || h.len() == 17) && h.chars().all(|c| c.is_ascii_hexdigit()));
    if !ok {
        return Err(invalid(
            format!("\"{value}\" is not a {prefix} id"),
            format!("use an id such as {prefix}-0123456789abcdef0 ({prefix}- and 8 or 17 hex digits)"),
        ));
    }
    Ok(())
}

/// A DNS name: labels of 1-63 letters, digits and hyphens (no hyphen first or last), 253 characters at most.
/// `wildcard` allows a leading `*.`.
pub fn domain_name(value: &str, wildcard: bool) -> Check {
    let name = value.strip_suffix('.').unwrap_or(value);
    let body = if wildcard { name.strip_prefix("*.").unwrap_or(name) } else { name };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if name.len() > 253 || !body.contains('.') || !body.split('.').all(label_ok) {
        return Err(invalid(
            format!("\"{value}\" is not a valid domain name"),
            if wildcard {
                "use a domain such as \"api.example.com\" or \"*.example.com\""
            } else {
                "use a domain such as \"example.com\""
            },
        ));
    }
    Ok(())
}

/// A record name within `zone`: relative ("api", "a.b"), ending in the zone ("api.example.com"), absolute with a
/// trailing dot ("api.example.com."), or "@" for the apex. Returns the fully qualified name without the trailing dot.
pub fn record_in_zone(name: &str, zone: &str) -> Result<String, Invalid> {
    let zone = zone.strip_suffix('.').unwrap_or(zone).to_ascii_lowercase();
    let lower = name.to_ascii_lowercase();
    let in_zone = |n: &str| n == zone || n.ends_with(&format!(".{zone}"));
    let full = match lower.strip_suffix('.') {
        Some(absolute) if in_zone(absolute) => absolute.to_owned(),
        Some(absolute) => {
            return Err(invalid(
                format!("\"{absolute}.\" is not inside the zone \"{zone}\""),
                format!("use a name within {zone}, e.g. \"api\" or \"api.{zone}\""),
            ));
        }
        None if lower == "@" => zone.clone(),
        None if in_zone(&lower) => lower,
        None => format!("{lower}.{zone}"),
    };
    domain_name(&full, false)?;
    Ok(full)
}

/// A tag: key 1-128 characters not starting with `aws:` (reserved by AWS) or `cargo-ecs:` (ours), value at most 256.
pub fn tag(key: &str, value: &str) -> Check {
    let help =
        "tag keys have 1 to 128 characters and may not start with \"aws:\" or \"cargo-ecs:\"; values at most 256";
    if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
        return Err(invalid(format!("tag \"{key}\" is too long or empty"), help));
    }
    let lower = key.to_ascii_lowercase();
    if lower.starts_with("aws:") || lower.starts_with("cargo-ecs:") {
        return Err(invalid(format!("tag key \"{key}\" uses a reserved prefix"), help));
    }
    Ok(())
}

/// A cargo profile name.
pub fn cargo_profile(value: &str) -> Check {
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(invalid(format!("\"{value}\" is not a cargo profile name"), "use a profile such as \"release\""));
    }
    Ok(())
}

/// An environment overlay name: it becomes part of resource names, so 1-20 lower-case letters, digits and hyphens.
pub fn environment_name(value: &str) -> Check {
    let ok_chars = value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if value.is_empty() || value.len() > 20 || !ok_chars || value.starts_with('-') || value.ends_with('-') {
        return Err(invalid(
            format!("\"{value}\" is not a valid environment name"),
            "use 1 to 20 lower-case letters, digits and hyphens, such as \"prod\" or \"staging\"",
        ));
    }
    Ok(())
}

/// A container image reference (`scratch`, `NAME[:TAG][@DIGEST]`).
pub fn image_reference(value: &str) -> Check {
    let ok = !value.is_empty()
        && value.len() <= 255 * 2
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
        && !value.starts_with(['/', ':', '@', '-', '.']);
    if !ok {
        return Err(invalid(
            format!("\"{value}\" is not an image reference"),
            "use \"scratch\" or an image such as \"gcr.io/distroless/static-debian12\"",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn help_of(check: Check) -> String {
        let err = check.expect_err("expected the check to fail");
        format!("{} | {}", err.message, err.help)
    }

    #[test]
    fn ecs_names() {
        assert!(ecs_name("my_service-1").is_ok());
        assert!(help_of(ecs_name("")).contains("1 to 255 letters"));
        assert!(help_of(ecs_name("my.service")).contains("not a valid ECS name"));
        assert!(ecs_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn ecr_repositories() {
        assert!(ecr_repository("team/api-v2").is_ok());
        assert!(ecr_repository("a").is_err());
        assert!(help_of(ecr_repository("MyRepo")).contains("lower-case"));
        assert!(ecr_repository("a--b").is_err());
        assert!(ecr_repository("a//b").is_err());
    }

    #[test]
    fn load_balancer_and_target_group_names() {
        assert!(elb_name("my-service", true).is_ok());
        assert!(help_of(elb_name(&"a".repeat(33), true)).contains("33 characters long; at most 32"));
        assert!(help_of(elb_name("-abc", true)).contains("not starting or ending with a hyphen"));
        assert!(elb_name("abc-", false).is_err());
        assert!(elb_name("my_service", false).is_err());
        assert!(help_of(elb_name("internal-api", true)).contains("reserves"));
        assert!(elb_name("internal-api", false).is_ok());
    }

    #[test]
    fn ports_and_ranges() {
        assert!(port(1).is_ok() && port(65535).is_ok());
        assert!(help_of(port(0)).contains("from 1 to 65535"));
        assert!(port(65536).is_err());
        assert!(help_of(in_range(1, 5, 300)).contains("from 5 to 300"));
    }

    #[test]
    fn health_check_paths() {
        assert!(health_check_path("/health?full=1").is_ok());
        assert!(help_of(health_check_path("health")).contains("does not start with \"/\""));
        assert!(health_check_path("/a b").is_err());
    }

    #[test]
    fn retention_days() {
        assert!(log_retention_days(30).is_ok() && log_retention_days(3653).is_ok());
        assert!(help_of(log_retention_days(13)).contains("one of 1, 3, 5, 7, 14, 30"));
        assert!(log_retention_days(0).is_err());
    }

    #[test]
    fn arns() {
        let parsed = arn("arn:aws:iam::123456789012:role/app").expect("valid");
        assert_eq!((parsed.service, parsed.account, parsed.resource), ("iam", "123456789012", "role/app"));
        assert!(help_of(arn("arn:aws:iam::1234:role/app").map(|_| ())).contains("12-digit account"));
        assert!(help_of(arn("arn:azure:iam::123456789012:role/x").map(|_| ())).contains("unknown partition"));
        assert!(arn("not-an-arn").is_err());
    }

    #[test]
    fn roles() {
        assert!(role("my-service-execution").is_ok());
        assert!(role("arn:aws:iam::123456789012:role/path/app-role").is_ok());
        assert!(help_of(role("arn:aws:iam::123456789012:user/bob")).contains("not an IAM role ARN"));
        assert!(help_of(role("has space")).contains("1 to 64 letters"));
        assert!(role(&"r".repeat(65)).is_err());
    }

    #[test]
    fn certificates() {
        assert!(
            certificate("arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666").is_ok()
        );
        assert!(certificate("*.example.com").is_ok());
        assert!(certificate("api.example.com").is_ok());
        assert!(help_of(certificate("arn:aws:iam::123456789012:role/x")).contains("not an ACM certificate ARN"));
        assert!(help_of(certificate("localhost")).contains("not a valid domain name"));
    }

    #[test]
    fn secrets() {
        assert!(secret("/prod/db-password").is_ok());
        assert!(secret("arn:aws:ssm:us-east-1:123456789012:parameter/prod/db").is_ok());
        assert!(secret("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf").is_ok());
        assert!(help_of(secret("arn:aws:s3:us-east-1:123456789012:bucket/x")).contains("neither an SSM parameter ARN"));
        assert!(help_of(secret("bad name")).contains("not a valid SSM parameter name"));
    }

    #[test]
    fn env_names_regions_and_ids() {
        assert!(env_name("RUST_LOG").is_ok() && env_name("_x1").is_ok());
        assert!(help_of(env_name("1ABC")).contains("not starting with a digit"));
        assert!(env_name("A-B").is_err());
        assert!(region_name("us-east-1").is_ok() && region_name("us-gov-west-1").is_ok());
        assert!(help_of(region_name("useast1")).contains("us-east-1"));
        assert!(region_name("US-EAST-1").is_err());
        assert!(resource_id("vpc-0123abcd", "vpc").is_ok());
        assert!(resource_id("subnet-0123456789abcdef0", "subnet").is_ok());
        assert!(help_of(resource_id("subnet-xyz", "subnet")).contains("subnet- and 8 or 17 hex digits"));
    }

    #[test]
    fn domains_and_records() {
        assert!(domain_name("example.com", false).is_ok());
        assert!(domain_name("*.example.com", false).is_err());
        assert!(domain_name("-bad.example.com", true).is_err());
        assert_eq!(record_in_zone("api", "example.com"), Ok("api.example.com".to_owned()));
        assert_eq!(record_in_zone("api.example.com.", "example.com."), Ok("api.example.com".to_owned()));
        assert_eq!(record_in_zone("@", "example.com"), Ok("example.com".to_owned()));
        assert_eq!(record_in_zone("a.b", "example.com"), Ok("a.b.example.com".to_owned()));
        let outside = record_in_zone("api.other.com.", "example.com").expect_err("outside the zone");
        assert!(outside.message.contains("not inside the zone"));
        assert!(record_in_zone("bad_label", "example.com").is_err());
    }

    #[test]
    fn tags_profiles_environments_images() {
        assert!(tag("team", "payments").is_ok());
        assert!(help_of(tag("aws:owner", "x")).contains("reserved prefix"));
        assert!(tag("cargo-ecs:service", "x").is_err());
        assert!(tag("", "x").is_err());
        assert!(cargo_profile("release").is_ok() && cargo_profile("bad profile").is_err());
        assert!(environment_name("prod").is_ok());
        assert!(help_of(environment_name("Prod")).contains("lower-case"));
        assert!(image_reference("scratch").is_ok());
        assert!(image_reference("gcr.io/distroless/cc-debian12:nonroot").is_ok());
        assert!(image_reference("bad image").is_err());
    }
}
