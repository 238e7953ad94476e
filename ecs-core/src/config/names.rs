//! Default resource names derived from the package and service names, always valid for the AWS API they go to.
//!
//! A derived name that would be too long is cut and given a short stable hash of the full name, so two long
//! service names that share a prefix still get distinct resources, and the same service always gets the same name.

/// A load balancer or target group name (at most 32 letters, digits and hyphens) derived from `base`.
#[must_use]
pub fn elb_name(base: &str) -> String {
    let mut name = String::new();
    for c in base.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (name.is_empty() || name.ends_with('-'))) {
            name.push(c);
        }
    }
    let mut name = name.trim_end_matches('-').to_owned();
    if let Some(rest) = name.strip_prefix("internal-") {
        name = format!("svc-{rest}");
    }
    if name.is_empty() {
        name = "service".to_owned();
    }
    fit(&name, base, 32)
}

/// An IAM role name (at most 64 characters) made of `base` and `suffix`, e.g. `api-execution`.
#[must_use]
pub fn role_name(base: &str, suffix: &str) -> String {
    let full = format!("{base}{suffix}");
    if full.len() <= 64 {
        return full;
    }
    let hash = short_hash(&full);
    let keep = 64 - suffix.len() - hash.len() - 1;
    format!("{}-{hash}{suffix}", &base[..keep])
}

/// An ECR repository name derived from a package name: lower case, `_` kept.
#[must_use]
pub fn repository(package: &str) -> String {
    package.to_ascii_lowercase()
}

/// `name` itself when it fits in `max` characters, else its start, a hyphen and a hash of `full`.
fn fit(name: &str, full: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let hash = short_hash(full);
    let head = name[..max - hash.len() - 1].trim_end_matches('-');
    format!("{head}-{hash}")
}

/// Six hex digits of the 32-bit FNV-1a hash: stable across versions and machines (unlike `DefaultHasher`).
fn short_hash(text: &str) -> String {
    let hash = text.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    format!("{:06x}", hash & 0x00ff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::validate;

    #[test]
    fn elb_names_are_always_valid() {
        assert_eq!(elb_name("my_service"), "my-service");
        assert_eq!(elb_name("api"), "api");
        assert_eq!(elb_name("__x__"), "x");
        assert_eq!(elb_name("internal-api"), "svc-api");
        for base in ["a_very_long_service_name_that_goes_past_32", "x".repeat(100).as_str(), "-_-", "internal-"] {
            let name = elb_name(base);
            assert!(validate::elb_name(&name, true).is_ok(), "{base} -> {name}");
        }
    }

    #[test]
    fn long_names_get_distinct_stable_hashes() {
        let a = elb_name("payments-service-for-the-european-region");
        let b = elb_name("payments-service-for-the-european-union");
        assert_ne!(a, b);
        assert_eq!(a, elb_name("payments-service-for-the-european-region"));
        assert!(a.len() <= 32, "{a}");
    }

    #[test]
    fn role_names_fit_iam() {
        assert_eq!(role_name("api", "-execution"), "api-execution");
        let long = role_name(&"s".repeat(80), "-execution");
        assert_eq!(long.len(), 64);
        assert!(long.ends_with("-execution"));
        assert!(validate::role(&long).is_ok());
    }
}
