//! The daemonless builder (like ko and Jib): writes the layers, the config and the manifest directly, with no
//! Docker. Layer 1 holds the base files (CA bundle, passwd, group, `/tmp`), layer 2 the binary; the base layer is
//! the same for every service, so a registry stores it once.
//!
//! Reproducible: no wall-clock time anywhere (`created` is the Unix epoch, or `SOURCE_DATE_EPOCH` when set), so
//! the same binary gives the same image digest on every machine and every run.

use serde_json::{Value, json};

use super::error::ImageError;
use super::files::{self, ImageFile};
use super::layer::{self, TarEntry};
use super::{Blob, CONFIG_MEDIA_TYPE, ImageInput, MANIFEST_MEDIA_TYPE, OciImage};
use crate::report::Reporter;

/// `created` of the config and its history when `SOURCE_DATE_EPOCH` is not set.
pub const EPOCH: &str = "1970-01-01T00:00:00Z";

/// The directory the binary goes to.
pub const BIN_DIR: &str = "/usr/local/bin";

/// Builds the image of `input` without Docker. The reading, hashing and compressing run on a blocking thread, so
/// other tasks (pushes of other services) keep going.
///
/// # Errors
/// When the base is not `scratch`, a Dockerfile is configured, the binary cannot be read, or `SOURCE_DATE_EPOCH` is
/// not a number.
pub async fn build(input: &ImageInput, reporter: &dyn Reporter) -> Result<OciImage, ImageError> {
    check_input(input)?;
    let created = created_timestamp(std::env::var("SOURCE_DATE_EPOCH").ok().as_deref())?;
    let step = format!("image {} (oci)", input.bin_name);
    reporter.begin(&step);
    let owned = input.clone();
    let image = tokio::task::spawn_blocking(move || {
        let binary =
            std::fs::read(&owned.binary).map_err(|source| ImageError::Binary { path: owned.binary.clone(), source })?;
        build_from(&binary, &owned, &created)
    })
    .await
    .unwrap_or_else(|join| match join.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(_) => Err(ImageError::Write {
            what: "image".to_owned(),
            source: std::io::Error::other("the build was cancelled"),
        }),
    })?;
    reporter.end(&step, &summary(&image));
    Ok(image)
}

/// One line about an image: `412.3 KB in 2 layers, linux/arm64, sha256:…`.
#[must_use]
pub fn summary(image: &OciImage) -> String {
    format!(
        "{:.1} KB in {} layers, {}/{}, {}",
        image.layers_size() as f64 / 1000.0,
        image.layers.len(),
        image.platform.os,
        image.platform.architecture,
        image.digest()
    )
}

/// Refuses what this builder cannot honour rather than ignoring it.
fn check_input(input: &ImageInput) -> Result<(), ImageError> {
    if input.base != "scratch" {
        return Err(ImageError::UnsupportedBase { base: input.base.clone() });
    }
    if let Some(path) = &input.dockerfile {
        return Err(ImageError::DockerfileNeedsDocker { path: path.clone() });
    }
    Ok(())
}

/// The image of `binary` (its bytes) for `input`, with `created` as every timestamp. A pure function: the same
/// arguments give the same bytes.
///
/// # Errors
/// When the base is not `scratch`, a Dockerfile is configured, or a layer cannot be written.
pub fn build_from(binary: &[u8], input: &ImageInput, created: &str) -> Result<OciImage, ImageError> {
    check_input(input)?;
    let (base, base_diff_id) = base_layer()?;
    let bin_path = format!("{BIN_DIR}/{}", input.bin_name);
    let tar = layer::write_tar(&[TarEntry::file(&bin_path, binary.to_vec(), 0o755)])
        .map_err(|source| ImageError::Write { what: "binary layer".to_owned(), source })?;
    // Compressed once per binary: kept beside it in cargo's target directory.
    let layer = match input.binary.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => layer::layer_cached(&tar, &dir.join(".cargo-ecs-layers")),
        _ => layer::layer(&tar),
    };
    let (app, app_diff_id) = layer.map_err(|source| ImageError::Write { what: "binary layer".to_owned(), source })?;

    let config = json!({
        "architecture": input.platform.architecture,
        "os": input.platform.os,
        "created": created,
        "config": {
            "User": format!("{0}:{0}", files::APP_UID),
            "ExposedPorts": { format!("{}/tcp", input.port): {} },
            "Entrypoint": [bin_path],
            "Env": [format!("PATH={}", files::PATH_ENV), format!("SSL_CERT_FILE={}", files::CA_BUNDLE_PATH)],
            "WorkingDir": "/",
        },
        "rootfs": { "type": "layers", "diff_ids": [base_diff_id, app_diff_id] },
        "history": [
            { "created": created, "created_by": "cargo-ecs: CA certificates, /etc/passwd, /etc/group, /tmp" },
            { "created": created, "created_by": format!("cargo-ecs: COPY {} {bin_path}", input.bin_name) },
        ],
    });
    let config = Blob::new(CONFIG_MEDIA_TYPE, canonical_json(&config));
    let layers = vec![base, app];
    let manifest = manifest(&config, &layers);
    Ok(OciImage { layers, config, manifest, platform: input.platform.clone() })
}

/// The base layer: [`files::base_files`] as a deterministic layer, and its diff id.
///
/// # Errors
/// When the layer cannot be written.
pub fn base_layer() -> Result<(Blob, String), ImageError> {
    let entries: Vec<TarEntry> = files::base_files().into_iter().map(to_entry).collect();
    let write = |source| ImageError::Write { what: "base layer".to_owned(), source };
    let tar = layer::write_tar(&entries).map_err(write)?;
    layer::layer(&tar).map_err(write)
}

fn to_entry(file: ImageFile) -> TarEntry {
    if file.is_dir() { TarEntry::dir(&file.path, file.mode) } else { TarEntry::file(&file.path, file.data, file.mode) }
}

/// The OCI manifest naming `config` and `layers`, as canonical JSON.
#[must_use]
pub fn manifest(config: &Blob, layers: &[Blob]) -> Blob {
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": config.descriptor(),
        "layers": layers.iter().map(Blob::descriptor).collect::<Vec<_>>(),
    });
    Blob::new(MANIFEST_MEDIA_TYPE, canonical_json(&manifest))
}

/// `value` as JSON with object keys sorted (by bytes) at every level and no whitespace, whatever order the map
/// keeps its keys in.
#[must_use]
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out.into_bytes()
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The `created` timestamp: [`EPOCH`], or `source_date_epoch` (the value of `SOURCE_DATE_EPOCH`) as RFC 3339 UTC.
///
/// # Errors
/// When it is set but not a whole, non-negative number of seconds.
pub fn created_timestamp(source_date_epoch: Option<&str>) -> Result<String, ImageError> {
    match source_date_epoch.map(str::trim) {
        None | Some("") => Ok(EPOCH.to_owned()),
        Some(value) => value
            .parse::<u64>()
            .ok()
            .filter(|secs| *secs < 253_402_300_800) // before the year 10000
            .map(|secs| crate::time::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX)))
            .ok_or_else(|| ImageError::SourceDateEpoch { value: value.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;
    use std::path::PathBuf;

    use super::*;
    use crate::image::{LAYER_MEDIA_TYPE, Platform, sha256_digest};
    use crate::report::{Event, Recorder};

    fn input() -> ImageInput {
        ImageInput {
            binary: PathBuf::from("/nonexistent/hello"),
            bin_name: "hello".to_owned(),
            port: 8080,
            platform: Platform { os: "linux".to_owned(), architecture: "arm64".to_owned() },
            base: "scratch".to_owned(),
            dockerfile: None,
            context_dir: PathBuf::from("/nonexistent"),
        }
    }

    fn json(blob: &Blob) -> Value {
        serde_json::from_slice(&blob.data).expect("JSON")
    }

    fn tar_paths(blob: &Blob) -> Vec<(String, u32)> {
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(blob.data.as_slice()).read_to_end(&mut tar).expect("gunzip");
        let mut archive = tar::Archive::new(tar.as_slice());
        archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                (String::from_utf8(e.path_bytes().into_owned()).expect("utf-8"), e.header().mode().expect("mode"))
            })
            .collect()
    }

    #[test]
    fn the_config_says_how_to_run_the_service() {
        let image = build_from(b"binary", &input(), EPOCH).expect("image");
        let config = json(&image.config);
        assert_eq!(config["architecture"], "arm64");
        assert_eq!(config["os"], "linux");
        assert_eq!(config["created"], EPOCH);
        let run = &config["config"];
        assert_eq!(run["User"], "65532:65532");
        assert_eq!(run["ExposedPorts"], json!({ "8080/tcp": {} }));
        assert_eq!(run["Entrypoint"], json!(["/usr/local/bin/hello"]));
        assert_eq!(run["WorkingDir"], "/");
        let env = run["Env"].as_array().expect("Env");
        assert!(env.contains(&json!("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")));
        assert!(env.contains(&json!("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")));
        assert_eq!(config["rootfs"]["type"], "layers");
        assert_eq!(config["history"].as_array().map(Vec::len), Some(2));
        assert_eq!(image.platform, input().platform);
    }

    #[test]
    fn diff_ids_are_the_uncompressed_layers_and_the_manifest_names_every_blob() {
        let image = build_from(b"binary", &input(), EPOCH).expect("image");
        let config = json(&image.config);
        for (layer, diff_id) in image.layers.iter().zip(config["rootfs"]["diff_ids"].as_array().expect("diff_ids")) {
            let mut tar = Vec::new();
            flate2::read::GzDecoder::new(layer.data.as_slice()).read_to_end(&mut tar).expect("gunzip");
            assert_eq!(diff_id, &json!(sha256_digest(&tar)));
            assert_eq!(layer.media_type, LAYER_MEDIA_TYPE);
        }
        let manifest = json(&image.manifest);
        assert_eq!(manifest["schemaVersion"], 2);
        assert_eq!(manifest["mediaType"], MANIFEST_MEDIA_TYPE);
        assert_eq!(manifest["config"], image.config.descriptor());
        assert_eq!(manifest["config"]["mediaType"], CONFIG_MEDIA_TYPE);
        assert_eq!(manifest["layers"], json!([image.layers[0].descriptor(), image.layers[1].descriptor()]));
        assert_eq!(image.digest(), sha256_digest(&image.manifest.data));
    }

    #[test]
    fn json_is_canonical_sorted_keys_and_no_whitespace() {
        let image = build_from(b"binary", &input(), EPOCH).expect("image");
        let text = String::from_utf8(image.manifest.data.clone()).expect("utf-8");
        assert!(text.starts_with(r#"{"config":{"digest":"sha256:"#), "{text}");
        assert!(text.ends_with(r#""mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2}"#));
        assert!(!text.contains(' ') && !text.contains('\n'));
        let config = String::from_utf8(image.config.data.clone()).expect("utf-8");
        assert!(
            config.starts_with(r#"{"architecture":"arm64","config":{"Entrypoint":["/usr/local/bin/hello"],"Env":"#)
        );
        assert_eq!(
            canonical_json(&json!({"b": [1, {"d": null, "c": "x\"y"}], "a": true})),
            br#"{"a":true,"b":[1,{"c":"x\"y","d":null}]}"#
        );
    }

    #[test]
    fn two_builds_of_the_same_binary_have_the_same_digest() {
        let a = build_from(b"the same binary", &input(), EPOCH).expect("image");
        let b = build_from(b"the same binary", &input(), EPOCH).expect("image");
        assert_eq!(a, b);
        assert_eq!(a.digest(), b.digest());
    }

    #[test]
    fn a_one_byte_change_of_the_binary_changes_only_the_binary_layer() {
        let a = build_from(b"binary v1", &input(), EPOCH).expect("image");
        let b = build_from(b"binary v2", &input(), EPOCH).expect("image");
        assert_eq!(a.layers[0].digest, b.layers[0].digest, "base layer unchanged");
        assert_ne!(a.layers[1].digest, b.layers[1].digest);
        assert_ne!(a.config.digest, b.config.digest);
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn layers_hold_the_base_files_then_the_binary() {
        let image = build_from(b"binary", &input(), EPOCH).expect("image");
        let base = tar_paths(&image.layers[0]);
        for (path, mode) in [
            ("etc/", 0o755),
            ("etc/group", 0o644),
            ("etc/passwd", 0o644),
            ("etc/ssl/certs/ca-certificates.crt", 0o644),
            ("tmp/", 0o1777),
        ] {
            assert!(base.contains(&(path.to_owned(), mode)), "{path} {mode:o} missing from {base:?}");
        }
        let app = tar_paths(&image.layers[1]);
        assert_eq!(app.last(), Some(&("usr/local/bin/hello".to_owned(), 0o755)));
        assert_eq!(app.len(), 4, "usr/, usr/local/, usr/local/bin/, the binary: {app:?}");
    }

    #[test]
    fn the_base_layer_is_small() {
        let (base, _) = base_layer().expect("base layer");
        assert!(base.size() < 250_000, "base layer is {} bytes; the image budget is binary + 500 KB", base.size());
        let image = build_from(&[0u8; 1000], &input(), EPOCH).expect("image");
        assert!(image.layers_size() < 1000 + 500_000);
    }

    #[test]
    fn other_bases_and_dockerfiles_are_refused() {
        let mut debian = input();
        debian.base = "debian:bookworm-slim".to_owned();
        assert!(
            matches!(build_from(b"x", &debian, EPOCH), Err(ImageError::UnsupportedBase { base }) if base == "debian:bookworm-slim")
        );
        let mut dockerfile = input();
        dockerfile.dockerfile = Some(PathBuf::from("/src/Dockerfile"));
        assert!(matches!(build_from(b"x", &dockerfile, EPOCH), Err(ImageError::DockerfileNeedsDocker { .. })));
    }

    #[test]
    fn source_date_epoch_sets_created() {
        assert_eq!(created_timestamp(None).expect("epoch"), EPOCH);
        assert_eq!(created_timestamp(Some("0")).expect("epoch"), EPOCH);
        assert_eq!(created_timestamp(Some("1700000000")).expect("ts"), "2023-11-14T22:13:20Z");
        assert_eq!(created_timestamp(Some("951782400")).expect("ts"), "2000-02-29T00:00:00Z");
        assert_eq!(created_timestamp(Some("4102444799")).expect("ts"), "2099-12-31T23:59:59Z");
        assert!(matches!(created_timestamp(Some("yesterday")), Err(ImageError::SourceDateEpoch { .. })));
        assert!(created_timestamp(Some("-5")).is_err());
        let image = build_from(b"x", &input(), "2023-11-14T22:13:20Z").expect("image");
        assert_eq!(json(&image.config)["history"][1]["created"], "2023-11-14T22:13:20Z");
    }

    #[tokio::test]
    async fn build_reads_the_binary_and_reports_a_step() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut input = input();
        input.binary = dir.path().join("hello");
        std::fs::write(&input.binary, b"binary").expect("write");
        let recorder = Recorder::default();
        let image = build(&input, &recorder).await.expect("image");
        let events = recorder.events();
        assert_eq!(events.first(), Some(&Event::Begin { step: "image hello (oci)".to_owned() }));
        assert!(matches!(events.last(), Some(Event::End { result, .. }) if result.contains(image.digest())));

        input.binary = dir.path().join("missing");
        let error = build(&input, &recorder).await.expect_err("missing binary");
        assert!(error.to_string().contains("missing"), "{error}");
    }
}
