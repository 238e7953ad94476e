//! The Docker Engine builder: sends a build context that cargo-ecs assembles itself (see [`super::context`]) to
//! the engine's `/build` for the requested platform, streams Docker's output to the reporter, exports the built
//! image (`docker save`) and converts the docker-archive into an [`OciImage`] for the registry client.
//!
//! The engine is found as the Docker CLI finds it: `DOCKER_HOST`, else the default socket. The API version is
//! negotiated, so older engines (API 1.41) work.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::{BuildImageOptionsBuilder, RemoveImageOptions};
use futures_util::StreamExt as _;
use serde_json::Value;

use super::context::{self, BuildContext};
use super::error::ImageError;
use super::{Blob, CONFIG_MEDIA_TYPE, ImageInput, LAYER_MEDIA_TYPE, OciImage, Platform, layer, oci, sha256_digest};
use crate::report::Reporter;

/// Where the engine is when `DOCKER_HOST` is not set.
#[cfg(unix)]
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// Where the engine is when `DOCKER_HOST` is not set.
#[cfg(not(unix))]
pub const DEFAULT_HOST: &str = "npipe:////./pipe/docker_engine";

/// How long the engine has to answer the first request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a build or an export may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(3600);

/// Builds the image of `input` with the Docker Engine that `DOCKER_HOST` names.
///
/// # Errors
/// When the binary or a context file cannot be read, the engine does not answer, the build fails, the export
/// cannot be read, or the image is for another platform than asked.
pub async fn build(input: &ImageInput, reporter: &dyn Reporter) -> Result<OciImage, ImageError> {
    let binary =
        std::fs::read(&input.binary).map_err(|source| ImageError::Binary { path: input.binary.clone(), source })?;
    let context = match &input.dockerfile {
        None => context::builtin(input, &binary)?,
        Some(dockerfile) => context::user(input, dockerfile, &binary)?,
    };
    let engine = Engine::connect(std::env::var("DOCKER_HOST").ok(), input.dockerfile.is_some()).await?;
    engine.build(input, context, reporter).await
}

/// A Docker Engine that answered.
#[derive(Debug)]
pub struct Engine {
    docker: Docker,
    host: String,
}

impl Engine {
    /// Connects to `docker_host` (the value of `DOCKER_HOST`; the default socket when `None`) and negotiates the
    /// API version. `dockerfile` says whether a user Dockerfile is configured, for the error's advice.
    ///
    /// # Errors
    /// [`ImageError::DockerUnavailable`] when the engine does not answer.
    pub async fn connect(docker_host: Option<String>, dockerfile: bool) -> Result<Self, ImageError> {
        let docker_host = docker_host.filter(|h| !h.is_empty());
        let host = docker_host.clone().unwrap_or_else(|| DEFAULT_HOST.to_owned());
        let unavailable = |source| ImageError::DockerUnavailable {
            host: host.clone(),
            docker_host: docker_host.clone(),
            dockerfile,
            source,
        };
        let docker = match &docker_host {
            Some(value) => Docker::connect_with_host(value),
            None => Docker::connect_with_defaults(),
        }
        .map_err(unavailable)?
        .with_timeout(CONNECT_TIMEOUT);
        let docker = docker.negotiate_version().await.map_err(unavailable)?.with_timeout(BUILD_TIMEOUT);
        Ok(Self { docker, host })
    }

    /// The engine's address.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    fn failed(&self, action: &str) -> impl Fn(DockerError) -> ImageError {
        let host = self.host.clone();
        let action = action.to_owned();
        move |source| ImageError::Docker { host: host.clone(), action: action.clone(), source }
    }

    /// Builds `context` for `input`'s platform, exports the image and converts it.
    ///
    /// # Errors
    /// When the build fails, the export cannot be read, or the image is for another platform than asked.
    pub async fn build(
        &self,
        input: &ImageInput,
        context: BuildContext,
        reporter: &dyn Reporter,
    ) -> Result<OciImage, ImageError> {
        let tag = local_tag(&input.bin_name);
        let previous = self.docker.inspect_image(&tag).await.ok().and_then(|image| image.id);
        let id = self.run_build(input, context, reporter).await?;
        let image = self.check_and_export(input, &id, reporter).await;
        if let Some(previous) = previous.filter(|previous| *previous != id) {
            self.remove_if_dangling(&previous).await;
        }
        image
    }

    /// Checks the platform of the built image `id`, exports it and converts it.
    async fn check_and_export(
        &self,
        input: &ImageInput,
        id: &str,
        reporter: &dyn Reporter,
    ) -> Result<OciImage, ImageError> {
        // Checked before the export too: an image with no layer (say, only `FROM scratch` and a LABEL, which the
        // engine builds for its own platform) cannot be exported at all.
        let inspect = self.docker.inspect_image(id).await.map_err(self.failed(&format!("inspect image {id}")))?;
        let found =
            Platform { os: inspect.os.unwrap_or_default(), architecture: inspect.architecture.unwrap_or_default() };
        if found != input.platform {
            return Err(ImageError::PlatformMismatch { expected: input.platform.clone(), found });
        }
        let step = format!("export image {}", input.bin_name);
        reporter.begin(&step);
        let archive = self.export(id, &step, reporter).await?;
        let image = from_docker_archive(&archive)?;
        if image.platform != input.platform {
            return Err(ImageError::PlatformMismatch { expected: input.platform.clone(), found: image.platform });
        }
        reporter.end(&step, &oci::summary(&image));
        Ok(image)
    }

    /// Removes `previous` (what the tag named before this build) when no tag names it any more, with the steps
    /// only it used, so repeated builds do not fill the engine's disk. Best effort: an image still tagged or used
    /// by a container stays.
    async fn remove_if_dangling(&self, previous: &str) {
        let dangling =
            self.docker.inspect_image(previous).await.is_ok_and(|i| i.repo_tags.unwrap_or_default().is_empty());
        if dangling {
            let _ = self.docker.remove_image(previous, None::<RemoveImageOptions>, None).await;
        }
    }

    /// Runs the build and returns the image id.
    async fn run_build(
        &self,
        input: &ImageInput,
        context: BuildContext,
        reporter: &dyn Reporter,
    ) -> Result<String, ImageError> {
        let step = format!("docker build {}", input.bin_name);
        reporter.begin(&step);
        let tag = local_tag(&input.bin_name);
        let platform = format!("{}/{}", input.platform.os, input.platform.architecture);
        let build_args: std::collections::HashMap<String, String> = context.build_args.into_iter().collect();
        let options = BuildImageOptionsBuilder::new()
            .dockerfile(&context.dockerfile)
            .t(&tag)
            .platform(&platform)
            .buildargs(&build_args)
            .rm(true)
            .forcerm(true)
            .nocache(context.from_scratch)
            .build();
        let mut stream = self.docker.build_image(options, None, Some(bollard::body_full(context.tar.into())));
        let mut last_step = None;
        let mut id = None;
        let build_failed = |message: String, step: Option<String>| ImageError::BuildFailed {
            message: message.trim().to_owned(),
            step,
            dockerfile: input.dockerfile.clone(),
        };
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    for line in info.stream.iter().chain(info.status.iter()).flat_map(|text| text.lines()) {
                        let line = line.trim_end();
                        if line.starts_with("Step ") {
                            last_step = Some(line.to_owned());
                        }
                        if !line.is_empty() {
                            reporter.output(&step, line);
                        }
                    }
                    if let Some(found) = info.aux.and_then(|aux| aux.id) {
                        id = Some(found);
                    }
                }
                Err(DockerError::DockerStreamError { error }) => return Err(build_failed(error, last_step)),
                Err(DockerError::DockerResponseServerError { message, .. }) => {
                    return Err(build_failed(message, last_step));
                }
                Err(source) => return Err(self.failed("build the image")(source)),
            }
        }
        let id = match id {
            Some(id) => id,
            None => {
                self.docker.inspect_image(&tag).await.map_err(self.failed(&format!("inspect {tag}")))?.id.ok_or_else(
                    || ImageError::Archive { message: format!("the engine reported no id for the built image {tag}") },
                )?
            }
        };
        reporter.end(&step, &format!("{tag} ({id})"));
        Ok(id)
    }

    /// `docker save` of `id`: a docker-archive tar.
    async fn export(&self, id: &str, step: &str, reporter: &dyn Reporter) -> Result<Vec<u8>, ImageError> {
        let mut archive = Vec::new();
        let mut stream = self.docker.export_image(id);
        while let Some(chunk) = stream.next().await {
            archive.extend_from_slice(&chunk.map_err(self.failed(&format!("export image {id}")))?);
            reporter.bytes(step, archive.len() as u64, None);
        }
        Ok(archive)
    }
}

/// The tag the engine keeps the last build of `bin_name` under: `cargo-ecs/<bin>:latest`, lower-cased, other
/// characters than letters, digits, `.`, `_` and `-` made `-`.
#[must_use]
pub fn local_tag(bin_name: &str) -> String {
    let name: String = bin_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c.to_ascii_lowercase() } else { '-' })
        .collect();
    format!("cargo-ecs/{}:latest", name.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
}

/// Converts a docker-archive (what `docker save` writes: `manifest.json`, a config JSON, uncompressed layer tars)
/// into an [`OciImage`]: each layer gzipped deterministically, the config's bytes kept as they are (its diff ids
/// stay valid: they are of the uncompressed layers), and an OCI manifest written.
///
/// # Errors
/// [`ImageError::Archive`] when the archive does not hold exactly one image, a file it names is missing, or a
/// layer does not match its diff id.
pub fn from_docker_archive(archive: &[u8]) -> Result<OciImage, ImageError> {
    let bad = |message: String| ImageError::Archive { message };
    let files = read_archive(archive)?;
    let manifest: Value = serde_json::from_slice(resolve(&files, "manifest.json")?)
        .map_err(|e| bad(format!("manifest.json is not JSON: {e}")))?;
    let images = manifest.as_array().ok_or_else(|| bad("manifest.json is not a list".into()))?;
    let [image] = images.as_slice() else {
        return Err(bad(format!("manifest.json lists {} images, not one", images.len())));
    };
    let config_path = image["Config"].as_str().ok_or_else(|| bad("manifest.json names no Config".into()))?;
    let config_bytes = resolve(&files, config_path)?.to_vec();
    let config: Value =
        serde_json::from_slice(&config_bytes).map_err(|e| bad(format!("{config_path} is not JSON: {e}")))?;
    let field =
        |name: &str| config[name].as_str().map(str::to_owned).ok_or_else(|| bad(format!("the config has no {name}")));
    let platform = Platform { os: field("os")?, architecture: field("architecture")? };
    let diff_ids: Vec<&str> = config["rootfs"]["diff_ids"]
        .as_array()
        .ok_or_else(|| bad("the config has no rootfs.diff_ids".into()))?
        .iter()
        .map(|v| v.as_str().unwrap_or_default())
        .collect();
    let layer_paths: Vec<&str> = image["Layers"]
        .as_array()
        .ok_or_else(|| bad("manifest.json names no Layers".into()))?
        .iter()
        .map(|v| v.as_str().unwrap_or_default())
        .collect();
    if layer_paths.len() != diff_ids.len() {
        return Err(bad(format!("{} layers but {} diff ids in the config", layer_paths.len(), diff_ids.len())));
    }
    let mut layers = Vec::with_capacity(layer_paths.len());
    for (path, diff_id) in layer_paths.into_iter().zip(diff_ids) {
        let tar = resolve(&files, path)?;
        if sha256_digest(tar) != diff_id {
            return Err(bad(format!("layer {path} does not match its diff id {diff_id}")));
        }
        let gz = layer::gzip(tar).map_err(|source| ImageError::Write { what: format!("layer {path}"), source })?;
        layers.push(Blob::new(LAYER_MEDIA_TYPE, gz));
    }
    let config = Blob::new(CONFIG_MEDIA_TYPE, config_bytes);
    let manifest = oci::manifest(&config, &layers);
    Ok(OciImage { layers, config, manifest, platform })
}

/// A file of a docker-archive: its bytes, or the target of a symlink (Docker links repeated layers).
enum ArchiveFile {
    Data(Vec<u8>),
    Link(String),
}

fn read_archive(archive: &[u8]) -> Result<BTreeMap<String, ArchiveFile>, ImageError> {
    let bad = |e: std::io::Error| ImageError::Archive { message: format!("cannot read the tar: {e}") };
    let mut files = BTreeMap::new();
    let mut tar = tar::Archive::new(archive);
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).trim_start_matches("./").to_owned();
        let kind = entry.header().entry_type();
        if kind.is_symlink() {
            let target = entry.link_name().map_err(bad)?.map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
            files.insert(path, ArchiveFile::Link(target));
        } else if kind.is_file() {
            let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry.read_to_end(&mut data).map_err(bad)?;
            files.insert(path, ArchiveFile::Data(data));
        }
    }
    Ok(files)
}

/// The bytes of `path`, following symlinks (relative to the link's directory).
fn resolve<'a>(files: &'a BTreeMap<String, ArchiveFile>, path: &str) -> Result<&'a [u8], ImageError> {
    let mut current = path.trim_start_matches("./").to_owned();
    for _ in 0..8 {
        match files.get(&current) {
            Some(ArchiveFile::Data(data)) => return Ok(data),
            Some(ArchiveFile::Link(target)) => {
                let dir = current.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                let mut parts: Vec<&str> = if target.starts_with('/') { Vec::new() } else { dir.split('/').collect() };
                for part in target.split('/') {
                    match part {
                        "" | "." => {}
                        ".." => {
                            parts.pop();
                        }
                        part => parts.push(part),
                    }
                }
                current = parts.into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join("/");
            }
            None => return Err(ImageError::Archive { message: format!("{path} is missing from the archive") }),
        }
    }
    Err(ImageError::Archive { message: format!("{path} is a loop of symlinks") })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::image::MANIFEST_MEDIA_TYPE;
    use crate::image::layer::{TarEntry, write_tar};

    /// A docker-archive as Docker 20.10 writes it, with `layers` as its layer tars; the second copy of a repeated
    /// layer is a symlink, as Docker writes it.
    fn docker_archive(layers: &[Vec<u8>], architecture: &str) -> (Vec<u8>, Vec<u8>) {
        let diff_ids: Vec<String> = layers.iter().map(|l| sha256_digest(l)).collect();
        let config = serde_json::to_vec(&json!({
            "architecture": architecture,
            "os": "linux",
            "config": { "User": "65532:65532", "Entrypoint": ["/usr/local/bin/hello"] },
            "created": "2026-01-01T10:00:00.123456789Z",
            "docker_version": "20.10.24+dfsg1",
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        }))
        .expect("json");
        let config_name = format!("{}.json", &sha256_digest(&config)[7..]);
        let mut entries = vec![TarEntry::file(&config_name, config.clone(), 0o644)];
        let mut names = Vec::new();
        for (i, tar) in layers.iter().enumerate() {
            let dir = format!("{:064x}", i + 1);
            if let Some(first) = layers[..i].iter().position(|l| l == tar) {
                entries.push(TarEntry::symlink(&format!("{dir}/layer.tar"), &format!("../{}", names[first]), 0o777));
            } else {
                entries.push(TarEntry::file(&format!("{dir}/layer.tar"), tar.clone(), 0o644));
            }
            entries.push(TarEntry::file(&format!("{dir}/VERSION"), b"1.0".to_vec(), 0o644));
            names.push(format!("{dir}/layer.tar"));
        }
        let manifest = json!([{ "Config": config_name, "RepoTags": ["cargo-ecs/hello:latest"], "Layers": names }]);
        entries.push(TarEntry::file("manifest.json", serde_json::to_vec(&manifest).expect("json"), 0o644));
        entries.push(TarEntry::file("repositories", b"{}".to_vec(), 0o644));
        (write_tar(&entries).expect("tar"), config)
    }

    fn layer_tar(path: &str, data: &[u8]) -> Vec<u8> {
        write_tar(&[TarEntry::file(path, data.to_vec(), 0o755)]).expect("tar")
    }

    #[test]
    fn a_docker_archive_becomes_an_oci_image() {
        let layers = vec![layer_tar("etc/passwd", b"root"), layer_tar("usr/local/bin/hello", b"ELF")];
        let (archive, config) = docker_archive(&layers, "arm64");
        let image = from_docker_archive(&archive).expect("image");
        assert_eq!(image.platform, Platform { os: "linux".to_owned(), architecture: "arm64".to_owned() });
        assert_eq!(image.config.data, config, "config bytes kept as they are");
        assert_eq!(image.config.media_type, CONFIG_MEDIA_TYPE);
        assert_eq!(image.layers.len(), 2);
        for (blob, tar) in image.layers.iter().zip(&layers) {
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(blob.data.as_slice()).read_to_end(&mut back).expect("gunzip");
            assert_eq!(&back, tar);
            assert_eq!(blob.data, layer::gzip(tar).expect("gzip"), "the deterministic gzip of layer.rs");
        }
        let manifest: Value = serde_json::from_slice(&image.manifest.data).expect("json");
        assert_eq!(manifest["mediaType"], MANIFEST_MEDIA_TYPE);
        assert_eq!(manifest["config"]["digest"], json!(sha256_digest(&config)));
        assert_eq!(manifest["layers"][1]["digest"], json!(image.layers[1].digest));
        assert_eq!(from_docker_archive(&archive).expect("again").digest(), image.digest(), "conversion is stable");
    }

    #[test]
    fn a_repeated_layer_stored_as_a_symlink_is_followed() {
        let same = layer_tar("data", b"same");
        let (archive, _) = docker_archive(&[same.clone(), layer_tar("x", b"x"), same], "amd64");
        let image = from_docker_archive(&archive).expect("image");
        assert_eq!(image.layers.len(), 3);
        assert_eq!(image.layers[0].digest, image.layers[2].digest);
        assert_eq!(image.platform.architecture, "amd64");
    }

    #[test]
    fn a_layer_that_does_not_match_its_diff_id_is_refused() {
        let (archive, _) = docker_archive(&[layer_tar("a", b"a")], "arm64");
        let mut files = read_archive(&archive).expect("read");
        let mut entries: Vec<TarEntry> = Vec::new();
        for (path, file) in files.iter_mut() {
            if let ArchiveFile::Data(data) = file {
                let data = if path.ends_with("layer.tar") { layer_tar("a", b"tampered") } else { data.clone() };
                entries.push(TarEntry::file(path, data, 0o644));
            }
        }
        let error = from_docker_archive(&write_tar(&entries).expect("tar")).expect_err("tampered");
        assert!(error.to_string().contains("does not match its diff id"), "{error}");
    }

    #[test]
    fn archives_that_are_not_one_image_are_refused() {
        let none = write_tar(&[TarEntry::file("repositories", b"{}".to_vec(), 0o644)]).expect("tar");
        assert!(from_docker_archive(&none).expect_err("none").to_string().contains("manifest.json is missing"));
        let two = write_tar(&[TarEntry::file("manifest.json", b"[{},{}]".to_vec(), 0o644)]).expect("tar");
        assert!(from_docker_archive(&two).expect_err("two").to_string().contains("2 images"));
        assert!(from_docker_archive(b"not a tar at all").is_err());
    }

    #[test]
    fn local_tags_are_valid_docker_references() {
        assert_eq!(local_tag("hello"), "cargo-ecs/hello:latest");
        assert_eq!(local_tag("My_Api+v2"), "cargo-ecs/my_api-v2:latest");
    }

    #[tokio::test]
    async fn an_engine_that_does_not_answer_names_docker_host_and_the_oci_builder() {
        let dir = tempfile::tempdir().expect("tmp");
        let host = format!("unix://{}", dir.path().join("docker.sock").display());
        let error = Engine::connect(Some(host.clone()), false).await.expect_err("no engine there");
        let message = error.to_string();
        assert!(matches!(error, ImageError::DockerUnavailable { .. }), "{error:?}");
        assert!(message.contains(&format!("DOCKER_HOST={host}")), "{message}");
        let help = error.help().expect("help");
        assert!(help.contains("image.builder = \"oci\"") && help.contains("--set image.builder=oci"), "{help}");

        let error = Engine::connect(Some("tcp://127.0.0.1:9".to_owned()), true).await.expect_err("closed port");
        assert!(error.to_string().contains("DOCKER_HOST=tcp://127.0.0.1:9"), "{error}");
        assert!(error.help().expect("help").contains("remove image.dockerfile"));
    }
}
