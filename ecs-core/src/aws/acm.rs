//! ACM: the certificate of the HTTPS listener, by ARN or by domain name.

use aws_sdk_acm::Client;
use aws_sdk_acm::operation::describe_certificate::DescribeCertificateError;
use aws_sdk_acm::primitives::DateTime;
use aws_sdk_acm::types::{CertificateStatus, Filters, KeyAlgorithm};

use super::{AwsError, AwsResult};

/// Key algorithms an Application Load Balancer serves. ListCertificates lists only RSA-2048 certificates unless
/// asked for others.
const ALB_KEY_ALGORITHMS: [KeyAlgorithm; 7] = [
    KeyAlgorithm::Rsa1024,
    KeyAlgorithm::Rsa2048,
    KeyAlgorithm::Rsa3072,
    KeyAlgorithm::Rsa4096,
    KeyAlgorithm::EcPrime256v1,
    KeyAlgorithm::EcSecp384r1,
    KeyAlgorithm::EcSecp521r1,
];

/// The ARN of the ISSUED certificate `wanted` names, or `None`.
///
/// `wanted` is either a certificate ARN (`arn:…`, checked with DescribeCertificate: it must exist and be ISSUED),
/// or a domain name looked up among the ISSUED certificates by their domain name and subject alternative names:
/// `*.example.com` matches a `*.example.com` certificate, `api.example.com` matches an `api.example.com` or a
/// `*.example.com` one. An exact match is preferred over a wildcard one, then the newest certificate.
///
/// # Errors
/// When a call fails.
pub async fn find_certificate(client: &Client, wanted: &str) -> AwsResult<Option<String>> {
    if wanted.starts_with("arn:") {
        let Some(detail) = describe(client, wanted).await? else { return Ok(None) };
        return Ok((detail.status == Some(CertificateStatus::Issued)).then(|| wanted.to_owned()));
    }
    let summaries = client
        .list_certificates()
        .certificate_statuses(CertificateStatus::Issued)
        .includes(Filters::builder().set_key_types(Some(ALB_KEY_ALGORITHMS.to_vec())).build())
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("acm:ListCertificates", format!("certificates for {wanted}"), &e))?;
    let mut candidates = Vec::with_capacity(summaries.len());
    for summary in &summaries {
        let Some(arn) = summary.certificate_arn() else { continue };
        if summary.status().is_some_and(|s| *s != CertificateStatus::Issued) {
            continue;
        }
        let mut names: Vec<String> = summary.domain_name().into_iter().map(str::to_owned).collect();
        names.extend(summary.subject_alternative_name_summaries().iter().cloned());
        let newest = [summary.issued_at(), summary.imported_at(), summary.created_at()];
        let mut candidate =
            Candidate { arn: arn.to_owned(), names, issued: newest.into_iter().flatten().map(DateTime::secs).max() };
        // The summary lists only the first 100 alternative names: read the rest when they might matter.
        if summary.has_additional_subject_alternative_names() == Some(true)
            && rank(wanted, &candidate).is_none()
            && let Some(detail) = describe(client, arn).await?
        {
            candidate.names.extend(detail.names);
        }
        candidates.push(candidate);
    }
    Ok(pick(wanted, &candidates).map(str::to_owned))
}

/// What DescribeCertificate says about one certificate.
struct Detail {
    status: Option<CertificateStatus>,
    names: Vec<String>,
}

/// Certificate `arn`, or `None` when it does not exist.
async fn describe(client: &Client, arn: &str) -> AwsResult<Option<Detail>> {
    let out = match client.describe_certificate().certificate_arn(arn).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(DescribeCertificateError::is_resource_not_found_exception) => {
            return Ok(None);
        }
        Err(e) => return Err(AwsError::from_sdk("acm:DescribeCertificate", format!("certificate {arn}"), &e)),
    };
    Ok(out.certificate().map(|c| Detail {
        status: c.status().cloned(),
        names: c
            .domain_name()
            .into_iter()
            .map(str::to_owned)
            .chain(c.subject_alternative_names().iter().cloned())
            .collect(),
    }))
}

/// An issued certificate and the names it covers.
#[derive(Debug, Clone)]
struct Candidate {
    arn: String,
    /// Domain name and subject alternative names.
    names: Vec<String>,
    /// When it was issued (or imported), seconds since the epoch.
    issued: Option<i64>,
}

/// How well a certificate fits (higher is better), or `None` when it does not cover `wanted`.
fn rank(wanted: &str, candidate: &Candidate) -> Option<u8> {
    let wanted = normalize(wanted);
    let covering_wildcard = match wanted.split_once('.') {
        Some((label, parent)) if label != "*" && parent.contains('.') => Some(format!("*.{parent}")),
        _ => None,
    };
    candidate
        .names
        .iter()
        .map(|name| normalize(name))
        .filter_map(|name| {
            if name == wanted {
                Some(2)
            } else if covering_wildcard.as_deref() == Some(name.as_str()) {
                Some(1)
            } else {
                None
            }
        })
        .max()
}

/// The best certificate for `wanted`: exact matches before wildcards, then the newest, then by ARN.
fn pick<'a>(wanted: &str, candidates: &'a [Candidate]) -> Option<&'a str> {
    candidates
        .iter()
        .filter_map(|c| Some(((rank(wanted, c)?, c.issued), c)))
        .max_by(|(a, x), (b, y)| a.cmp(b).then_with(|| y.arn.cmp(&x.arn)))
        .map(|(_, c)| c.arn.as_str())
}

/// Lower case, without a trailing dot.
fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(arn: &str, names: &[&str], issued: i64) -> Candidate {
        Candidate { arn: arn.to_owned(), names: names.iter().map(|n| (*n).to_owned()).collect(), issued: Some(issued) }
    }

    #[test]
    fn a_wildcard_setting_matches_a_wildcard_certificate_only() {
        let certs = [cert("arn:api", &["api.example.com"], 1), cert("arn:wild", &["*.example.com"], 1)];
        assert_eq!(pick("*.example.com", &certs), Some("arn:wild"));
        assert_eq!(pick("*.EXAMPLE.com.", &certs), Some("arn:wild"), "case and a trailing dot do not matter");
        assert_eq!(pick("*.other.com", &certs), None);
        assert_eq!(pick("*.api.example.com", &certs), None);
    }

    #[test]
    fn a_name_matches_itself_or_the_wildcard_one_level_up() {
        let wild = [cert("arn:wild", &["*.example.com"], 1)];
        assert_eq!(pick("api.example.com", &wild), Some("arn:wild"));
        assert_eq!(pick("a.b.example.com", &wild), None, "a wildcard covers one label");
        assert_eq!(pick("example.com", &wild), None, "nor the apex");
        let apex_wild = [cert("arn:com", &["*.com"], 1)];
        assert_eq!(pick("example.com", &apex_wild), None, "no match of a top-level wildcard");
    }

    #[test]
    fn alternative_names_count() {
        let certs = [cert("arn:multi", &["example.com", "www.example.com", "api.example.com"], 1)];
        assert_eq!(pick("api.example.com", &certs), Some("arn:multi"));
        assert_eq!(pick("mail.example.com", &certs), None);
    }

    #[test]
    fn exact_beats_wildcard_then_newest_wins() {
        let certs = [
            cert("arn:wild-new", &["*.example.com"], 30),
            cert("arn:exact-old", &["api.example.com"], 10),
            cert("arn:exact-new", &["api.example.com"], 20),
        ];
        assert_eq!(pick("api.example.com", &certs), Some("arn:exact-new"));
        assert_eq!(pick("web.example.com", &certs), Some("arn:wild-new"));
        let tied = [cert("arn:b", &["*.example.com"], 5), cert("arn:a", &["*.example.com"], 5)];
        assert_eq!(pick("x.example.com", &tied), Some("arn:a"), "ties broken by ARN, deterministically");
    }
}
