//! The ECR repository and the registry push against the local stack: moto for the ECR API, Debian's
//! docker-registry (htpasswd auth with the token moto hands out) for the OCI distribution API.
//!
//! Run with the stack's environment loaded (`set -a; . .stack/env; set +a`, as `scripts/test` does).

use std::collections::BTreeMap;
use std::time::Instant;

use cargo_ecs_tests::{stack_var, unique_name};
use ecs_core::aws::{AwsOptions, sdk_config};
use ecs_core::image::{Blob, CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, OciImage, Platform};
use ecs_core::registry::aws_sdk_ecr::Client;
use ecs_core::registry::aws_sdk_ecr::operation::get_lifecycle_policy::GetLifecyclePolicyError;
use ecs_core::registry::aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Tag};
use ecs_core::registry::ecr::{LIFECYCLE_KEEP_IMAGES, MANAGED_TAG_KEY};
use ecs_core::registry::{
    GitState, RegistryAuth, RegistryClient, RegistryError, Secret, authorization, ensure_repository, image_tag, push,
    resolve_tag,
};
use ecs_core::report::{Event, Recorder, Silent};

async fn ecr() -> Client {
    let config = sdk_config(&AwsOptions {
        endpoint_url: Some(stack_var("AWS_ENDPOINT_URL")),
        region: Some("us-east-1".to_owned()),
        ..AwsOptions::default()
    })
    .await;
    Client::new(&config)
}

/// `size` bytes that start with `marker` and continue with a sequence seeded by it.
fn layer_bytes(marker: &str, size: usize) -> Vec<u8> {
    let mut state =
        marker.bytes().fold(0x9e37_79b9_7f4a_7c15_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let mut data = marker.as_bytes().to_vec();
    while data.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data.truncate(size);
    data
}

/// An image of the given layers, with config and manifest JSON written by hand.
fn image(layers: Vec<Vec<u8>>) -> OciImage {
    let layers: Vec<Blob> = layers.into_iter().map(|data| Blob::new(LAYER_MEDIA_TYPE, data)).collect();
    let config = serde_json::json!({
        "architecture": "arm64",
        "os": "linux",
        "config": { "Entrypoint": ["/usr/local/bin/hello"] },
        "rootfs": { "type": "layers", "diff_ids": layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>() },
    });
    let config = Blob::new(CONFIG_MEDIA_TYPE, serde_json::to_vec(&config).expect("config JSON"));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": config.descriptor(),
        "layers": layers.iter().map(Blob::descriptor).collect::<Vec<_>>(),
    });
    let manifest = Blob::new(MANIFEST_MEDIA_TYPE, serde_json::to_vec(&manifest).expect("manifest JSON"));
    OciImage { layers, config, manifest, platform: Platform { os: "linux".into(), architecture: "arm64".into() } }
}

/// A registry client with the credentials ECR (moto) hands out, sent to the stack's registry.
async fn registry_client(ecr: &Client) -> (RegistryAuth, RegistryClient) {
    let endpoint = stack_var("CARGO_ECS_REGISTRY_ENDPOINT");
    let auth = authorization(ecr, Some(&endpoint)).await.expect("GetAuthorizationToken");
    let client = RegistryClient::new(&auth).expect("registry client");
    (auth, client)
}

fn steps(events: &[Event], kind: fn(&Event) -> Option<&String>) -> Vec<String> {
    let mut steps: Vec<String> = events.iter().filter_map(kind).cloned().collect();
    steps.sort();
    steps
}

#[tokio::test]
async fn ensure_repository_creates_a_managed_repository_once() {
    let ecr = ecr().await;
    let name = unique_name("created");
    let tags = BTreeMap::from([("team".to_owned(), "web".to_owned())]);

    let first = ensure_repository(&ecr, &name, &tags).await.expect("create");
    assert!(first.created && first.managed && first.lifecycle_policy_added, "{first:?}");
    assert_eq!(first.uri, format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"));
    assert_eq!(first.digest_reference("sha256:ab"), format!("{}@sha256:ab", first.uri));

    let described = ecr.describe_repositories().repository_names(&name).send().await.expect("describe");
    let repository = &described.repositories()[0];
    assert_eq!(repository.image_tag_mutability(), Some(&ImageTagMutability::Immutable));
    assert_eq!(repository.image_scanning_configuration().map(ImageScanningConfiguration::scan_on_push), Some(true));
    let listed = ecr.list_tags_for_resource().resource_arn(&first.arn).send().await.expect("tags");
    let found: BTreeMap<&str, &str> = listed.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(found, BTreeMap::from([(MANAGED_TAG_KEY, "true"), ("team", "web")]));
    let policy = ecr.get_lifecycle_policy().repository_name(&name).send().await.expect("lifecycle policy");
    let policy: serde_json::Value =
        serde_json::from_str(policy.lifecycle_policy_text().expect("policy text")).expect("policy JSON");
    assert_eq!(policy["rules"][0]["selection"]["countNumber"], LIFECYCLE_KEEP_IMAGES);
    assert_eq!(policy["rules"][0]["action"]["type"], "expire");

    // Idempotent: the second call finds it and changes nothing.
    let second = ensure_repository(&ecr, &name, &tags).await.expect("second call");
    assert!(!second.created && second.managed && !second.lifecycle_policy_added, "{second:?}");
    assert_eq!((second.uri.as_str(), second.arn.as_str()), (first.uri.as_str(), first.arn.as_str()));

    // A managed repository that lost its lifecycle policy gets it back.
    ecr.delete_lifecycle_policy().repository_name(&name).send().await.expect("delete policy");
    let third = ensure_repository(&ecr, &name, &tags).await.expect("third call");
    assert!(!third.created && third.lifecycle_policy_added, "{third:?}");
    ecr.get_lifecycle_policy().repository_name(&name).send().await.expect("policy is back");
}

#[tokio::test]
async fn ensure_repository_leaves_an_unmanaged_repository_untouched() {
    let ecr = ecr().await;
    let name = unique_name("theirs");
    ecr.create_repository()
        .repository_name(&name)
        .image_tag_mutability(ImageTagMutability::Mutable)
        .tags(Tag::builder().key("owner").value("someone").build().expect("tag"))
        .send()
        .await
        .expect("create their repository");

    let info =
        ensure_repository(&ecr, &name, &BTreeMap::from([("team".to_owned(), "web".to_owned())])).await.expect("use it");
    assert!(!info.created && !info.managed && !info.lifecycle_policy_added, "{info:?}");

    let described = ecr.describe_repositories().repository_names(&name).send().await.expect("describe");
    let repository = &described.repositories()[0];
    assert_eq!(repository.image_tag_mutability(), Some(&ImageTagMutability::Mutable));
    assert_ne!(repository.image_scanning_configuration().map(ImageScanningConfiguration::scan_on_push), Some(true));
    let listed = ecr.list_tags_for_resource().resource_arn(&info.arn).send().await.expect("tags");
    let found: Vec<(&str, &str)> = listed.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(found, [("owner", "someone")]);
    let policy = ecr.get_lifecycle_policy().repository_name(&name).send().await;
    let error = policy.expect_err("no lifecycle policy was added");
    assert!(
        error.as_service_error().is_some_and(GetLifecyclePolicyError::is_lifecycle_policy_not_found_exception),
        "{error:?}"
    );
}

#[tokio::test]
async fn push_uploads_only_the_blobs_the_registry_lacks() {
    let ecr = ecr().await;
    let name = unique_name("push");
    let repository = ensure_repository(&ecr, &name, &BTreeMap::new()).await.expect("repository");
    let (auth, client) = registry_client(&ecr).await;
    assert_eq!(auth.endpoint, stack_var("CARGO_ECS_REGISTRY_ENDPOINT").trim_end_matches('/'));
    assert_eq!(auth.username, "AWS");
    assert!(!format!("{auth:?}").contains(auth.password.expose()), "Debug shows the password");
    client.ping().await.expect("the registry accepts ECR's token");
    // Without the override, the token's own endpoint (moto names a real-looking ECR host).
    let ecr_endpoint = authorization(&ecr, None).await.expect("token").endpoint;
    assert_eq!(ecr_endpoint, "https://123456789012.dkr.ecr.us-east-1.amazonaws.com");

    let base = layer_bytes(&format!("{name}-base"), 1_500_000);
    let app = layer_bytes(&format!("{name}-app"), 300_000);
    let assets = layer_bytes(&format!("{name}-assets"), 40_000);
    let first = image(vec![base.clone(), app, assets.clone()]);
    let total: u64 = first.blobs().map(Blob::size).sum();

    let recorder = Recorder::default();
    let started = Instant::now();
    let report = push(&client, &repository.name, &first, &["v1".to_owned()], &recorder).await.expect("first push");
    let first_time = started.elapsed();
    assert_eq!(report.digest, first.digest());
    assert_eq!((report.blobs_uploaded, report.bytes_uploaded, report.blobs_skipped), (4, total, 0), "{report:?}");
    assert_eq!(report.tags, ["v1"]);
    let events = recorder.events();
    let begun = steps(&events, |e| if let Event::Begin { step } = e { Some(step) } else { None });
    let ended = steps(&events, |e| if let Event::End { step, .. } = e { Some(step) } else { None });
    assert_eq!(begun.len(), 5, "4 blobs and the manifest: {begun:?}");
    assert_eq!(begun, ended, "every step ends");
    for blob in first.blobs() {
        let done = events.iter().any(|e| {
            matches!(e, Event::Bytes { step, done, total: Some(t) }
                if step.contains(&blob.digest[..19]) && *done == blob.size() && *t == blob.size())
        });
        assert!(done, "no bytes reported for {}: {events:?}", blob.digest);
    }

    // The same image again: nothing to upload.
    let started = Instant::now();
    let again = push(&client, &repository.name, &first, &["v1".to_owned()], &Silent).await.expect("second push");
    let unchanged_time = started.elapsed();
    assert_eq!((again.blobs_uploaded, again.bytes_uploaded, again.blobs_skipped), (0, 0, 4), "{again:?}");

    // One layer changed: that layer and the config (which lists the layers) go up, nothing else.
    let changed_app = layer_bytes(&format!("{name}-app-2"), 300_000);
    let second = image(vec![base, changed_app, assets]);
    let expected = second.layers[1].size() + second.config.size();
    let started = Instant::now();
    let report = push(&client, &repository.name, &second, &["v2".to_owned()], &Silent).await.expect("third push");
    let changed_time = started.elapsed();
    assert_eq!((report.blobs_uploaded, report.bytes_uploaded, report.blobs_skipped), (2, expected, 2), "{report:?}");

    // The manifests come back byte for byte, by digest and by tag.
    for (pushed, tag) in [(&first, "v1"), (&second, "v2")] {
        let fetched = client.manifest(&repository.name, pushed.digest()).await.expect("get").expect("manifest exists");
        assert_eq!((fetched.digest.as_str(), &fetched.data), (pushed.digest(), &pushed.manifest.data));
        assert_eq!(fetched.media_type, MANIFEST_MEDIA_TYPE);
        let by_tag = client.manifest_digest(&repository.name, tag).await.expect("head");
        assert_eq!(by_tag.as_deref(), Some(pushed.digest()));
    }
    assert_eq!(client.manifest_digest(&repository.name, "never-pushed").await.expect("head"), None);
    assert!(client.blob_exists(&repository.name, &first.layers[1].digest).await.expect("head blob"));
    let absent = ecs_core::image::sha256_digest(name.as_bytes());
    assert!(!client.blob_exists(&repository.name, &absent).await.expect("head blob"));

    // Measured figures, shown with --nocapture.
    let sizes = |i: &OciImage| i.blobs().map(|b| b.size().to_string()).collect::<Vec<_>>().join("+");
    let line = format!(
        "push figures: first {first_time:?} ({total} bytes: {}), unchanged {unchanged_time:?} (0 blobs), \
         one layer changed {changed_time:?} ({expected} bytes)",
        sizes(&first)
    );
    std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes()).expect("stderr");
}

#[tokio::test]
async fn wrong_credentials_are_refused_without_showing_the_password() {
    let ecr = ecr().await;
    let name = unique_name("auth");
    ensure_repository(&ecr, &name, &BTreeMap::new()).await.expect("repository");
    let endpoint = stack_var("CARGO_ECS_REGISTRY_ENDPOINT");
    let password = format!("wrong-password-{}", std::process::id());
    let auth = RegistryAuth { endpoint: endpoint.clone(), username: "AWS".into(), password: Secret::new(&password) };
    let client = RegistryClient::new(&auth).expect("client");

    let error = client.ping().await.expect_err("wrong password");
    assert!(matches!(error, RegistryError::AuthRefused { status: 401, .. }), "{error:?}");
    let host = endpoint.split("://").nth(1).unwrap_or(&endpoint).trim_end_matches('/');
    let shown = format!("{error} | {error:?} | {}", error.help().unwrap_or_default());
    assert!(shown.contains("refused the credentials") && shown.contains(host), "{shown}");
    assert!(shown.contains("CARGO_ECS_REGISTRY_ENDPOINT"), "{shown}");
    assert!(!shown.contains(&password), "the password leaked: {shown}");

    // A push fails the same way, at its first request.
    let pushed = push(&client, &name, &image(vec![layer_bytes(&name, 1000)]), &[], &Silent).await;
    let error = pushed.expect_err("push with a wrong password");
    assert!(matches!(error, RegistryError::AuthRefused { .. }), "{error:?}");
    assert!(!format!("{error} {error:?}").contains(&password));
}

#[tokio::test]
async fn a_registry_that_does_not_answer_is_named() {
    let auth = RegistryAuth {
        endpoint: "http://127.0.0.1:9".into(),
        username: "AWS".into(),
        password: Secret::new("unused-password"),
    };
    let error = RegistryClient::new(&auth).expect("client").ping().await.expect_err("nothing listens on port 9");
    assert!(matches!(error, RegistryError::Unreachable { .. }), "{error:?}");
    assert!(error.to_string().contains("127.0.0.1:9"), "{error}");
    assert!(error.help().is_some_and(|h| h.contains("registry up")));
}

#[tokio::test]
async fn registry_errors_carry_the_oci_error_body() {
    let ecr = ecr().await;
    let name = unique_name("errors");
    ensure_repository(&ecr, &name, &BTreeMap::new()).await.expect("repository");
    let (_, client) = registry_client(&ecr).await;
    // A manifest naming blobs the registry does not have.
    let orphan = image(vec![layer_bytes(&name, 2000)]);
    let error = client.put_manifest(&name, "orphan", &orphan.manifest).await.expect_err("blobs are missing");
    let RegistryError::Http { status, errors, .. } = &error else { panic!("not an HTTP error: {error:?}") };
    assert_eq!(*status, 400);
    assert!(errors.iter().any(|e| e.code == "MANIFEST_BLOB_UNKNOWN"), "{errors:?}");
    let text = error.to_string();
    assert!(text.contains("put manifest orphan") && text.contains(&name) && text.contains("HTTP 400"), "{text}");
    assert!(text.contains("MANIFEST_BLOB_UNKNOWN"), "{text}");
}

#[tokio::test]
async fn tags_follow_git_and_a_taken_tag_gets_the_digest() {
    let ecr = ecr().await;
    let name = unique_name("tags");
    ensure_repository(&ecr, &name, &BTreeMap::new()).await.expect("repository");
    let (_, client) = registry_client(&ecr).await;
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let git = |dirty| Some(GitState { commit: commit.to_owned(), dirty });

    let first = image(vec![layer_bytes(&format!("{name}-1"), 5000)]);
    let tag = resolve_tag(&client, &name, git(false), first.digest()).await.expect("tag");
    assert_eq!(tag, "0123456789ab");
    push(&client, &name, &first, std::slice::from_ref(&tag), &Silent).await.expect("push");
    // The same image again keeps its tag.
    assert_eq!(resolve_tag(&client, &name, git(false), first.digest()).await.expect("tag"), tag);

    // Another image built from the same commit: the commit tag is taken, so it gets the digest too.
    let second = image(vec![layer_bytes(&format!("{name}-2"), 5000)]);
    let second_tag = resolve_tag(&client, &name, git(false), second.digest()).await.expect("tag");
    assert_eq!(second_tag, format!("0123456789ab-{}", &second.digest()[7..15]));
    push(&client, &name, &second, std::slice::from_ref(&second_tag), &Silent).await.expect("push");
    assert_eq!(client.manifest_digest(&name, &tag).await.expect("head").as_deref(), Some(first.digest()));
    assert_eq!(client.manifest_digest(&name, &second_tag).await.expect("head").as_deref(), Some(second.digest()));

    let dirty = resolve_tag(&client, &name, git(true), second.digest()).await.expect("tag");
    assert_eq!(dirty, "0123456789ab-dirty");
    let outside_git = resolve_tag(&client, &name, None, second.digest()).await.expect("tag");
    assert_eq!(outside_git, format!("sha-{}", &second.digest()[7..19]));
    assert_eq!(outside_git, image_tag(None, second.digest()));
}
