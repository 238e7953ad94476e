//! Deterministic layers: the same files always give the same tar bytes, the same gzip bytes and so the same digests,
//! on every machine and every run.
//!
//! Tar: entries sorted by path, parent directories added, GNU headers with mtime 0, uid/gid 0, empty user and group
//! names, the modes asked for, no PAX headers, no extended attributes. Gzip: a fixed level, mtime 0, no file name,
//! OS byte 255 ("unknown").

use std::collections::BTreeMap;
use std::io::{self, Write as _};

use flate2::{Compression, GzBuilder};

use super::{Blob, LAYER_MEDIA_TYPE, sha256_digest};

/// The gzip level of every layer: flate2's default, a good trade of size and speed. Changing it changes every
/// digest, so it is fixed here and nowhere else.
pub const GZIP_LEVEL: u32 = 6;

/// Mode of the directories added for a file's parents.
pub const DIR_MODE: u32 = 0o755;

/// What an entry of a tar is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file and its bytes.
    File(Vec<u8>),
    /// A directory.
    Dir,
    /// A symbolic link to the target.
    Symlink(String),
}

/// One entry of a tar: a path relative to the root (`etc/passwd`, no leading `/`), what it is and its permission
/// bits (e.g. `0o644`, `0o1777` for a sticky directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry {
    /// Path relative to the root, `/`-separated, without a leading or trailing `/`.
    pub path: String,
    /// File, directory or symlink.
    pub kind: EntryKind,
    /// Permission bits (including setuid/setgid/sticky).
    pub mode: u32,
}

impl TarEntry {
    /// A regular file.
    #[must_use]
    pub fn file(path: &str, data: Vec<u8>, mode: u32) -> Self {
        Self { path: normalize(path), kind: EntryKind::File(data), mode }
    }

    /// A directory.
    #[must_use]
    pub fn dir(path: &str, mode: u32) -> Self {
        Self { path: normalize(path), kind: EntryKind::Dir, mode }
    }

    /// A symbolic link.
    #[must_use]
    pub fn symlink(path: &str, target: &str, mode: u32) -> Self {
        Self { path: normalize(path), kind: EntryKind::Symlink(target.to_owned()), mode }
    }
}

/// `/etc/passwd/` → `etc/passwd`.
fn normalize(path: &str) -> String {
    path.split('/').filter(|part| !part.is_empty() && *part != ".").collect::<Vec<_>>().join("/")
}

/// Writes `entries` as a deterministic tar: sorted by path, every missing parent directory added (mode
/// [`DIR_MODE`]), one entry per path (the last given wins).
///
/// # Errors
/// When a path is empty, contains `..` or a NUL byte, or a symlink target does not fit a tar header.
pub fn write_tar(entries: &[TarEntry]) -> io::Result<Vec<u8>> {
    let mut by_path: BTreeMap<String, &TarEntry> = BTreeMap::new();
    for entry in entries {
        if entry.path.is_empty() || entry.path.split('/').any(|part| part == "..") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid path in layer: {:?}", entry.path),
            ));
        }
        by_path.insert(entry.path.clone(), entry);
    }
    let mut parents: BTreeMap<String, TarEntry> = BTreeMap::new();
    for path in by_path.keys() {
        let mut parent = path.as_str();
        while let Some((dir, _)) = parent.rsplit_once('/') {
            if !by_path.contains_key(dir) {
                parents.entry(dir.to_owned()).or_insert_with(|| TarEntry::dir(dir, DIR_MODE));
            }
            parent = dir;
        }
    }
    for (path, entry) in &parents {
        by_path.insert(path.clone(), entry);
    }

    let mut builder = tar::Builder::new(Vec::new());
    for entry in by_path.values() {
        append(&mut builder, entry)?;
    }
    builder.into_inner()
}

fn append(builder: &mut tar::Builder<Vec<u8>>, entry: &TarEntry) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_username("")?;
    header.set_groupname("")?;
    header.set_mode(entry.mode);
    match &entry.kind {
        EntryKind::File(data) => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(data.len() as u64);
            builder.append_data(&mut header, &entry.path, data.as_slice())
        }
        EntryKind::Dir => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            builder.append_data(&mut header, format!("{}/", entry.path), io::empty())
        }
        EntryKind::Symlink(target) => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            builder.append_link(&mut header, &entry.path, target)
        }
    }
}

/// Gzips `data` deterministically: level [`GZIP_LEVEL`], mtime 0, no file name, OS byte 255.
///
/// # Errors
/// Never in practice (the output is memory); the signature keeps I/O errors visible.
pub fn gzip(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder =
        GzBuilder::new().mtime(0).write(Vec::with_capacity(data.len() / 2 + 64), Compression::new(GZIP_LEVEL));
    encoder.write_all(data)?;
    encoder.finish()
}

/// A layer of `tar_bytes`: the gzip-compressed blob, and the diff id (`sha256:` of the uncompressed tar) that the
/// image config lists in `rootfs.diff_ids`.
///
/// # Errors
/// When compressing fails.
pub fn layer(tar_bytes: &[u8]) -> io::Result<(Blob, String)> {
    let diff_id = sha256_digest(tar_bytes);
    Ok((Blob::new(LAYER_MEDIA_TYPE, gzip(tar_bytes)?), diff_id))
}

/// [`layer`], with the compressed blob kept in `cache` (a directory) by its diff id: an unchanged binary is not
/// compressed again at the next deploy. A cached blob is used only when it decompresses to exactly `tar_bytes`'
/// digest; anything else (missing, damaged, unwritable cache) falls back to compressing.
///
/// # Errors
/// When compressing fails.
pub fn layer_cached(tar_bytes: &[u8], cache: &std::path::Path) -> io::Result<(Blob, String)> {
    let diff_id = sha256_digest(tar_bytes);
    let file = cache.join(format!("{}.tar.gz", diff_id.trim_start_matches("sha256:")));
    if let Ok(gzipped) = std::fs::read(&file)
        && gunzip(&gzipped).is_some_and(|tar| sha256_digest(&tar) == diff_id)
    {
        return Ok((Blob::new(LAYER_MEDIA_TYPE, gzipped), diff_id));
    }
    let gzipped = gzip(tar_bytes)?;
    // Best effort: a cache that cannot be written only costs the next deploy a compression.
    let partial = file.with_extension(format!("partial-{}", std::process::id()));
    if std::fs::create_dir_all(cache).is_ok() && std::fs::write(&partial, &gzipped).is_ok() {
        let _ = std::fs::rename(&partial, &file);
    }
    Ok((Blob::new(LAYER_MEDIA_TYPE, gzipped), diff_id))
}

/// The decompressed bytes of a gzip stream, or `None` when it is not one.
fn gunzip(data: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn a_cached_layer_is_the_same_blob_and_a_damaged_cache_is_ignored() {
        let cache = tempfile::tempdir().expect("temp dir");
        let tar = write_tar(&sample()).expect("tar");
        let fresh = layer(&tar).expect("layer");
        let first = layer_cached(&tar, cache.path()).expect("first");
        let second = layer_cached(&tar, cache.path()).expect("second");
        assert_eq!((&first.0.digest, &first.1), (&fresh.0.digest, &fresh.1));
        assert_eq!((&second.0.digest, &second.1), (&fresh.0.digest, &fresh.1));
        let file = cache.path().join(format!("{}.tar.gz", fresh.1.trim_start_matches("sha256:")));
        std::fs::write(&file, b"not gzip").expect("damage");
        assert_eq!(layer_cached(&tar, cache.path()).expect("again").0.digest, fresh.0.digest);
    }

    fn sample() -> Vec<TarEntry> {
        vec![
            TarEntry::file("/usr/local/bin/app", b"\x7fELF binary".to_vec(), 0o755),
            TarEntry::file("etc/passwd", b"root:x:0:0::/root:/sbin/nologin\n".to_vec(), 0o644),
            TarEntry::dir("tmp", 0o1777),
            TarEntry::symlink("usr/bin/app", "../local/bin/app", 0o777),
        ]
    }

    struct Listed {
        path: String,
        kind: tar::EntryType,
        mode: u32,
        mtime: u64,
        uid: u64,
        gid: u64,
        user: Vec<u8>,
        group: Vec<u8>,
        data: Vec<u8>,
    }

    fn list(tar_bytes: &[u8]) -> Vec<Listed> {
        let mut archive = tar::Archive::new(tar_bytes);
        let mut out = Vec::new();
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let header = entry.header().clone();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read");
            out.push(Listed {
                path: String::from_utf8(entry.path_bytes().into_owned()).expect("utf-8"),
                kind: header.entry_type(),
                mode: header.mode().expect("mode"),
                mtime: header.mtime().expect("mtime"),
                uid: header.uid().expect("uid"),
                gid: header.gid().expect("gid"),
                user: header.username_bytes().unwrap_or_default().to_vec(),
                group: header.groupname_bytes().unwrap_or_default().to_vec(),
                data,
            });
        }
        out
    }

    #[test]
    fn the_same_entries_give_the_same_bytes_whatever_their_order() {
        let mut reversed = sample();
        reversed.reverse();
        let a = write_tar(&sample()).expect("tar");
        assert_eq!(a, write_tar(&sample()).expect("tar"));
        assert_eq!(a, write_tar(&reversed).expect("tar"));
    }

    #[test]
    fn entries_are_sorted_with_their_parents_and_carry_no_owner_or_time() {
        let listed = list(&write_tar(&sample()).expect("tar"));
        let paths: Vec<&str> = listed.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "etc/",
                "etc/passwd",
                "tmp/",
                "usr/",
                "usr/bin/",
                "usr/bin/app",
                "usr/local/",
                "usr/local/bin/",
                "usr/local/bin/app"
            ]
        );
        for entry in &listed {
            assert_eq!((entry.mtime, entry.uid, entry.gid), (0, 0, 0), "{}", entry.path);
            assert!(entry.user.is_empty() && entry.group.is_empty(), "{} has an owner name", entry.path);
        }
        let get = |p: &str| listed.iter().find(|e| e.path == p).expect(p);
        assert_eq!(get("tmp/").mode, 0o1777);
        assert_eq!(get("tmp/").kind, tar::EntryType::Directory);
        assert_eq!(get("usr/local/").mode, DIR_MODE);
        assert_eq!(get("usr/local/bin/app").mode, 0o755);
        assert_eq!(get("usr/local/bin/app").data, b"\x7fELF binary");
        assert_eq!(get("etc/passwd").mode, 0o644);
        assert_eq!(get("usr/bin/app").kind, tar::EntryType::Symlink);
    }

    #[test]
    fn no_pax_headers_and_long_paths_still_round_trip() {
        let long = format!("opt/{}/file", "d".repeat(120));
        let bytes = write_tar(&[TarEntry::file(&long, b"x".to_vec(), 0o644)]).expect("tar");
        let listed = list(&bytes);
        assert_eq!(listed.last().map(|e| e.path.as_str()), Some(long.as_str()));
        let mut archive = tar::Archive::new(bytes.as_slice());
        for entry in archive.entries().expect("entries").raw(true) {
            let kind = entry.expect("entry").header().entry_type();
            assert!(!kind.is_pax_local_extensions() && !kind.is_pax_global_extensions(), "PAX header written");
        }
    }

    #[test]
    fn parent_paths_and_dots_are_rejected() {
        assert!(write_tar(&[TarEntry::file("etc/../../escape", Vec::new(), 0o644)]).is_err());
        assert!(write_tar(&[TarEntry::file("/", Vec::new(), 0o644)]).is_err());
    }

    #[test]
    fn gzip_is_deterministic_and_has_no_time_or_name() {
        let data = write_tar(&sample()).expect("tar");
        let a = gzip(&data).expect("gzip");
        assert_eq!(a, gzip(&data).expect("gzip"));
        assert_eq!(&a[..4], &[0x1f, 0x8b, 8, 0], "no FNAME/FEXTRA/FCOMMENT flags");
        assert_eq!(&a[4..8], &[0, 0, 0, 0], "mtime 0");
        assert_eq!(a[9], 255, "OS unknown");
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(a.as_slice()).read_to_end(&mut back).expect("gunzip");
        assert_eq!(back, data);
    }

    /// Pins the bytes: a change of the tar or gzip writing (or of the deflate crate behind flate2) changes the
    /// digest of every image ever built, and so forces a push of every layer. Update only on purpose.
    #[test]
    fn the_layer_bytes_are_pinned() {
        let (blob, diff_id) = layer(&write_tar(&sample()).expect("tar")).expect("layer");
        assert_eq!(diff_id, "sha256:1f4dde02dda851812fc6af53eca88cb777da87f42aa9dea593fd32da3fdeca1b");
        assert_eq!(blob.digest, "sha256:9286eea454029e9b182f3e61e37f89a5132a1aaa4ca0dab1afc294bbbd4b66c4");
    }

    #[test]
    fn a_layer_digest_is_of_the_gzip_and_its_diff_id_of_the_tar() {
        let data = write_tar(&sample()).expect("tar");
        let (blob, diff_id) = layer(&data).expect("layer");
        assert_eq!(diff_id, sha256_digest(&data));
        assert_eq!(blob.digest, sha256_digest(&blob.data));
        assert_ne!(blob.digest, diff_id);
        assert_eq!(blob.media_type, LAYER_MEDIA_TYPE);
    }
}
