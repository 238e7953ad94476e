//! The files every image gets besides the binary: a CA bundle (so HTTPS clients work on `scratch`), `/etc/passwd`
//! and `/etc/group` naming root and the non-root user `app` (uid/gid 65532) the service runs as, and an empty,
//! world-writable `/tmp`.

use base64::Engine as _;

/// Where the CA bundle goes; `SSL_CERT_FILE` points there.
pub const CA_BUNDLE_PATH: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The user (and group) id the service runs as.
pub const APP_UID: u32 = 65532;

/// `PATH` of the image.
pub const PATH_ENV: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `/etc/passwd`: root, and `app` whose home is `/tmp` (the only directory it can write to).
pub const PASSWD: &str = "root:x:0:0:root:/root:/sbin/nologin\napp:x:65532:65532:app:/tmp:/sbin/nologin\n";

/// `/etc/group`.
pub const GROUP: &str = "root:x:0:\napp:x:65532:\n";

/// A file (or, when `path` ends with `/`, a directory) of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    /// Absolute path in the image, e.g. `/etc/passwd`; a directory's ends with `/`.
    pub path: String,
    /// Contents (empty for a directory).
    pub data: Vec<u8>,
    /// Permission bits, e.g. `0o644`.
    pub mode: u32,
}

impl ImageFile {
    /// A regular file.
    #[must_use]
    pub fn file(path: &str, data: Vec<u8>, mode: u32) -> Self {
        Self { path: path.to_owned(), data, mode }
    }

    /// An empty directory (`path` gets a trailing `/`).
    #[must_use]
    pub fn dir(path: &str, mode: u32) -> Self {
        Self { path: format!("{}/", path.trim_end_matches('/')), data: Vec::new(), mode }
    }

    /// Whether this is a directory.
    #[must_use]
    pub fn is_dir(&self) -> bool {
        self.path.ends_with('/')
    }
}

/// The base files, in a fixed order: the CA bundle, `/etc/group`, `/etc/passwd`, `/tmp/`.
#[must_use]
pub fn base_files() -> Vec<ImageFile> {
    vec![
        ImageFile::file(CA_BUNDLE_PATH, ca_bundle(), 0o644),
        ImageFile::file("/etc/group", GROUP.as_bytes().to_vec(), 0o644),
        ImageFile::file("/etc/passwd", PASSWD.as_bytes().to_vec(), 0o644),
        ImageFile::dir("/tmp", 0o1777),
    ]
}

/// Mozilla's root certificates (from the `webpki-root-certs` crate) as a PEM bundle, in the crate's order, lines of
/// 64 base64 characters, each certificate ended by a newline.
#[must_use]
pub fn ca_bundle() -> Vec<u8> {
    let mut pem = String::with_capacity(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() * 2048);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let encoded = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_bundle_is_pem_of_every_root_and_decodes_back() {
        let bundle = String::from_utf8(ca_bundle()).expect("ASCII");
        let blocks: Vec<&str> = bundle.split("-----END CERTIFICATE-----\n").filter(|b| !b.is_empty()).collect();
        assert_eq!(blocks.len(), webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(blocks.len() > 100, "Mozilla trusts more than 100 roots");
        for (block, cert) in blocks.iter().zip(webpki_root_certs::TLS_SERVER_ROOT_CERTS) {
            let body = block.strip_prefix("-----BEGIN CERTIFICATE-----\n").expect("BEGIN line");
            assert!(body.lines().all(|l| l.len() <= 64), "lines of at most 64 characters");
            let der = base64::engine::general_purpose::STANDARD.decode(body.replace('\n', "")).expect("base64");
            assert_eq!(der, cert.as_ref());
        }
        assert_eq!(ca_bundle(), ca_bundle(), "same bytes every time");
    }

    #[test]
    fn passwd_and_group_have_root_and_app() {
        let files = base_files();
        let get = |p: &str| files.iter().find(|f| f.path == p).expect(p);
        let passwd = String::from_utf8(get("/etc/passwd").data.clone()).expect("utf-8");
        assert!(passwd.lines().any(|l| l.starts_with("root:x:0:0:")));
        assert!(passwd.lines().any(|l| l.starts_with(&format!("app:x:{APP_UID}:{APP_UID}:"))));
        let group = String::from_utf8(get("/etc/group").data.clone()).expect("utf-8");
        assert!(group.lines().any(|l| l == format!("app:x:{APP_UID}:")));
        let tmp = get("/tmp/");
        assert!(tmp.is_dir() && tmp.data.is_empty());
        assert_eq!(tmp.mode, 0o1777);
        assert_eq!(get(CA_BUNDLE_PATH).mode, 0o644);
    }
}
