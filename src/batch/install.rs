//! `modelgate runtime install`: the pinned ONNX Runtime library, without a Python environment.
//!
//! The library comes from the onnxruntime 1.31.1 wheel on the Python package index (its
//! official distribution), one wheel pinned per platform with its sha256 and size
//! (`onnxruntime-wheels.tsv`, compiled in). Installing:
//!
//! 1. downloads the wheel (or reads it from a mirror or a file: `--from`, or
//!    `MODELGATE_ONNXRUNTIME_URL`) into a temporary file in the install folder, at most the
//!    pinned number of bytes, hashing as it goes;
//! 2. refuses it unless its sha256 is the pinned one, naming both digests;
//! 3. unpacks exactly one member, found by its exact name (no other member is ever looked at,
//!    so hostile names such as `../../evil` or symlinks are never written), refusing a member
//!    that is not a regular file or is larger than the pinned library, into a second temporary
//!    file, and checks the library's pinned sha256 too;
//! 4. renames it into `<data_dir>/onnxruntime/1.31.1/` and writes its absolute path to
//!    `<data_dir>/ort-dylib-path` (atomically), where [`super::runtime::locate`] finds it.
//!
//! A failure at any step leaves nothing behind: the temporary files are removed, and so are
//! the folders this run created. Installing again when the library is there with its pinned
//! sha256 downloads nothing.

use super::runtime::{DYLIB_FILE, data_dir};
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The ONNX Runtime version modelgate installs (and `ort` is built for).
pub const ORT_VERSION: &str = "1.31.1";

/// The environment variable that names a mirror URL or a wheel file to install from (what
/// `--from` does, for the demo and CI).
pub const URL_ENV: &str = "MODELGATE_ONNXRUNTIME_URL";

/// The pinned wheels, one line per platform (see the file's header).
const PINS: &str = include_str!("onnxruntime-wheels.tsv");

/// The pinned wheel of one platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    /// `linux-x86_64`, `linux-aarch64`, `macos-aarch64` (Rust's `OS-ARCH`).
    pub platform: String,
    /// The wheel's URL on files.pythonhosted.org.
    pub url: String,
    /// The wheel's sha256 (lowercase hex).
    pub wheel_sha256: String,
    /// The wheel's size in bytes.
    pub wheel_size: u64,
    /// The library's exact member name in the wheel.
    pub member: String,
    /// The library's sha256 (lowercase hex).
    pub library_sha256: String,
    /// The library's size in bytes.
    pub library_size: u64,
}

impl Pin {
    /// The wheel's file name (the last segment of its URL).
    pub fn wheel_file(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or(&self.url)
    }

    /// The library's file name (the last segment of its member name).
    pub fn library_file(&self) -> &str {
        self.member.rsplit('/').next().unwrap_or(&self.member)
    }
}

/// Every pinned wheel.
pub fn pins() -> Result<Vec<Pin>> {
    let mut out = Vec::new();
    for (i, line) in PINS.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let bad = || {
            format!(
                "onnxruntime-wheels.tsv line {}: expected 7 tab-separated fields (platform, URL, sha256, size, member, library sha256, library size)",
                i + 1
            )
        };
        let [
            platform,
            url,
            wheel_sha256,
            wheel_size,
            member,
            library_sha256,
            library_size,
        ] = f[..]
        else {
            bail!("{}", bad());
        };
        out.push(Pin {
            platform: platform.to_string(),
            url: url.to_string(),
            wheel_sha256: wheel_sha256.to_string(),
            wheel_size: wheel_size.parse().with_context(bad)?,
            member: member.to_string(),
            library_sha256: library_sha256.to_string(),
            library_size: library_size.parse().with_context(bad)?,
        });
    }
    Ok(out)
}

/// This machine's platform, as the pins name it: `OS-ARCH`.
pub fn platform() -> String {
    format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
}

/// The pinned wheel for `platform`, or an error naming the platforms there are pins for.
pub fn pin_for(platform: &str) -> Result<Pin> {
    let pins = pins()?;
    if let Some(p) = pins.iter().find(|p| p.platform == platform) {
        return Ok(p.clone());
    }
    let known: Vec<&str> = pins.iter().map(|p| p.platform.as_str()).collect();
    bail!(
        "modelgate pins no ONNX Runtime wheel for this platform ({platform}); it installs onnxruntime {ORT_VERSION} on {} only. Install ONNX Runtime {ORT_VERSION} yourself and point {} at its shared library",
        known.join(", "),
        super::runtime::DYLIB_ENV
    )
}

/// Where a wheel is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// An `http://` or `https://` URL.
    Url(String),
    /// A wheel file already downloaded.
    File(PathBuf),
}

impl Source {
    /// `http(s)://…` is a URL, anything else without `://` is a file.
    pub fn parse(s: &str) -> Result<Source> {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Ok(Source::Url(s.to_string()))
        } else if s.contains("://") {
            bail!("`{s}`: expected an http:// or https:// URL, or the path of a wheel file")
        } else if s.is_empty() {
            bail!(
                "an empty source: expected an http:// or https:// URL, or the path of a wheel file"
            )
        } else {
            Ok(Source::File(PathBuf::from(s)))
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Url(u) => write!(f, "{u}"),
            Source::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Where to install from: `from` (`--from`), else `env` (`MODELGATE_ONNXRUNTIME_URL`), else
/// the pinned URL.
pub fn choose_source(
    pin: &Pin,
    from: Option<&str>,
    env: Option<std::ffi::OsString>,
) -> Result<Source> {
    if let Some(f) = from {
        return Source::parse(f).context("--from");
    }
    if let Some(e) = env.filter(|e| !e.is_empty()) {
        let e = e
            .into_string()
            .map_err(|e| anyhow::anyhow!("{URL_ENV} is not UTF-8: {e:?}"))?;
        return Source::parse(&e).context(URL_ENV);
    }
    Ok(Source::Url(pin.url.clone()))
}

/// The folder the library of this version goes to: `<data_dir>/onnxruntime/1.31.1`.
pub fn install_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("onnxruntime").join(ORT_VERSION)
}

/// What an install did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Installed {
    /// The library's absolute path.
    pub library: PathBuf,
    /// The file that now names it (`<data_dir>/ort-dylib-path`).
    pub path_file: PathBuf,
    /// Where the wheel came from; `None` when it was already installed.
    pub from: Option<String>,
    /// True when the library was already there with its pinned sha256 (nothing downloaded).
    pub already_installed: bool,
    /// The ONNX Runtime version.
    pub version: &'static str,
    /// The library's sha256.
    pub sha256: String,
    /// The platform of the pin.
    pub platform: String,
}

/// The sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let digest = crate::registry::source::hash_reader(f)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(digest.hex())
}

/// Installs the pinned library of `pin` into `data_dir` (see the module docs). `source` is
/// where the wheel comes from (see [`choose_source`]); it is not read when the library is
/// already installed.
pub fn install(pin: &Pin, data_dir: &Path, source: &Source) -> Result<Installed> {
    let dir = install_dir(data_dir);
    let library = dir.join(pin.library_file());
    let path_file = data_dir.join(DYLIB_FILE);
    let installed = |from: Option<String>, already: bool| Installed {
        library: library.clone(),
        path_file: path_file.clone(),
        from,
        already_installed: already,
        version: ORT_VERSION,
        sha256: pin.library_sha256.clone(),
        platform: pin.platform.clone(),
    };
    if is_installed(pin, data_dir) {
        write_path_file(&path_file, &library)?;
        return Ok(installed(None, true));
    }
    let created = create_dirs(&dir)?;
    let result = download_and_extract(pin, &dir, &library, source)
        .and_then(|()| write_path_file(&path_file, &library));
    if let Err(e) = result {
        for d in created.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
        return Err(e);
    }
    Ok(installed(Some(source.to_string()), false))
}

/// True when the library of `pin` is in `data_dir` with its pinned sha256.
pub fn is_installed(pin: &Pin, data_dir: &Path) -> bool {
    let library = install_dir(data_dir).join(pin.library_file());
    library.is_file() && sha256_file(&library).is_ok_and(|d| d == pin.library_sha256)
}

/// One line saying what an install is about to do: what, from where, to where.
pub fn describe(pin: &Pin, data_dir: &Path, source: &Source) -> String {
    format!(
        "installing ONNX Runtime {ORT_VERSION} ({}, sha256-pinned) from {source} into {}",
        pin.wheel_file(),
        install_dir(data_dir).display()
    )
}

/// Writes `<data_dir>/ort-dylib-path` unless it already names `library`.
fn write_path_file(path_file: &Path, library: &Path) -> Result<()> {
    let want = format!("{}\n", library.display());
    if std::fs::read_to_string(path_file).ok().as_deref() == Some(want.as_str()) {
        return Ok(());
    }
    crate::registry::write::write_atomic(path_file, want.as_bytes())
}

/// Creates `dir` and its missing parents; returns the folders it created, outermost first.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && d.symlink_metadata().is_err())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(missing)
}

fn download_and_extract(pin: &Pin, dir: &Path, library: &Path, source: &Source) -> Result<()> {
    let mut wheel = tempfile::Builder::new()
        .prefix(".onnxruntime-")
        .suffix(".whl.part")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let mut sink = Capped::new(wheel.as_file_mut(), pin.wheel_size);
    let copied = match source {
        Source::Url(url) => download(url, &mut sink),
        Source::File(path) => std::fs::File::open(path)
            .with_context(|| format!("opening the wheel {}", path.display()))
            .and_then(|mut f| {
                std::io::copy(&mut f, &mut sink)
                    .with_context(|| format!("reading the wheel {}", path.display()))
            })
            .map(|_| ()),
    };
    if sink.overflowed {
        bail!(
            "the wheel from {source} is larger than the {} bytes of the pinned {} (sha256 {}): refusing it, nothing was installed",
            pin.wheel_size,
            pin.wheel_file(),
            pin.wheel_sha256
        );
    }
    copied?;
    let (digest, size) = sink.finish();
    wheel
        .as_file()
        .sync_all()
        .with_context(|| format!("writing {}", wheel.path().display()))?;
    if digest != pin.wheel_sha256 {
        bail!(
            "the wheel from {source} has sha256 {digest} ({size} bytes), but modelgate pins sha256 {} ({} bytes) for {}: refusing it, nothing was installed",
            pin.wheel_sha256,
            pin.wheel_size,
            pin.wheel_file()
        );
    }
    let mut lib = tempfile::Builder::new()
        .prefix(".onnxruntime-")
        .suffix(".part")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let (digest, _) = extract_member(
        wheel.path(),
        &pin.member,
        pin.library_size,
        lib.as_file_mut(),
    )
    .with_context(|| format!("unpacking {} from {}", pin.member, pin.wheel_file()))?;
    if digest != pin.library_sha256 {
        bail!(
            "{} in {} has sha256 {digest}, but modelgate pins {}: refusing it",
            pin.member,
            pin.wheel_file(),
            pin.library_sha256
        );
    }
    lib.as_file()
        .sync_all()
        .with_context(|| format!("writing {}", lib.path().display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(lib.path(), std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("setting the mode of {}", lib.path().display()))?;
    }
    lib.persist(library)
        .with_context(|| format!("renaming into {}", library.display()))?;
    Ok(())
}

/// Copies exactly the member named `member` (an exact match, no normalisation) of the zip
/// archive `zip` into `out`: it must be a regular file of at most `cap` bytes. No other member
/// is read. Returns the sha256 and size of what was written.
pub fn extract_member(
    zip: &Path,
    member: &str,
    cap: u64,
    out: &mut dyn Write,
) -> Result<(String, u64)> {
    let file = std::fs::File::open(zip).with_context(|| format!("opening {}", zip.display()))?;
    let mut archive = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a readable zip archive", zip.display()))?;
    let index = archive
        .index_for_name(member)
        .with_context(|| format!("{} has no member named `{member}`", zip.display()))?;
    let mut entry = archive
        .by_index(index)
        .with_context(|| format!("reading `{member}` in {}", zip.display()))?;
    if entry.is_symlink() || entry.is_dir() || !entry.is_file() {
        bail!("`{member}` in {} is not a regular file", zip.display());
    }
    if entry.size() > cap {
        bail!(
            "`{member}` in {} is {} bytes; at most {cap} are expected",
            zip.display(),
            entry.size()
        );
    }
    let mut sink = Capped::new(out, cap);
    std::io::copy(&mut (&mut entry).take(cap + 1), &mut sink)
        .with_context(|| format!("unpacking `{member}` from {}", zip.display()))?;
    Ok(sink.finish())
}

/// A writer that hashes what goes through it and refuses more than `cap` bytes.
struct Capped<'a, W: Write + ?Sized> {
    inner: &'a mut W,
    hasher: Sha256,
    written: u64,
    cap: u64,
    /// Set when a write would have gone past `cap` (and was refused).
    overflowed: bool,
}

impl<'a, W: Write + ?Sized> Capped<'a, W> {
    fn new(inner: &'a mut W, cap: u64) -> Self {
        Capped {
            inner,
            hasher: Sha256::new(),
            written: 0,
            cap,
            overflowed: false,
        }
    }

    fn finish(self) -> (String, u64) {
        (hex::encode(self.hasher.finalize()), self.written)
    }
}

impl<W: Write + ?Sized> Write for Capped<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written + buf.len() as u64 > self.cap {
            self.overflowed = true;
            return Err(std::io::Error::other(format!(
                "more than the expected {} bytes",
                self.cap
            )));
        }
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Downloads `url` into `out` (HTTP or HTTPS; TLS through rustls with the system's roots).
fn download(url: &str, out: &mut dyn Write) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the HTTP runtime")?;
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .user_agent(concat!("modelgate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        let mut resp = client
            .get(url)
            .send()
            .await
            .with_context(|| format!("downloading {url}"))?;
        let status = resp.status();
        if !status.is_success() {
            bail!("downloading {url}: the server answered {status}");
        }
        while let Some(chunk) = resp
            .chunk()
            .await
            .with_context(|| format!("downloading {url}"))?
        {
            out.write_all(&chunk)
                .with_context(|| format!("downloading {url}"))?;
        }
        Ok(())
    })
}

/// Installs the pinned library for this machine into modelgate's data folder, from `from`
/// (`--from`), else `MODELGATE_ONNXRUNTIME_URL`, else the pinned URL.
pub fn install_here(from: Option<&str>) -> Result<Installed> {
    let (pin, data, source) = plan_here(from)?;
    install(&pin, &data, &source)
}

/// What [`install_here`] would use: this machine's pin, the data folder, and the source.
pub fn plan_here(from: Option<&str>) -> Result<(Pin, PathBuf, Source)> {
    let pin = pin_for(&platform())?;
    let data = data_dir().context(
        "modelgate's data folder is unknown: set XDG_DATA_HOME or HOME to an absolute path",
    )?;
    let source = choose_source(&pin, from, std::env::var_os(URL_ENV))?;
    Ok((pin, data, source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    fn zip_with(entries: &[(&str, &[u8])], symlinks: &[(&str, &str)]) -> tempfile::NamedTempFile {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let mut w = zip::ZipWriter::new(tmp.reopen().unwrap());
        let opts =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(bytes).unwrap();
        }
        for (name, target) in symlinks {
            w.add_symlink(*name, *target, opts).unwrap();
        }
        w.finish().unwrap();
        tmp
    }

    #[test]
    fn every_platform_we_release_for_has_a_pin() {
        let pins = pins().unwrap();
        for p in ["linux-x86_64", "linux-aarch64", "macos-aarch64"] {
            let pin = pin_for(p).unwrap();
            assert!(
                pin.url
                    .starts_with("https://files.pythonhosted.org/packages/")
            );
            assert!(
                pin.wheel_file().starts_with("onnxruntime-1.31.1-"),
                "{pin:?}"
            );
            assert_eq!(pin.wheel_sha256.len(), 64);
            assert_eq!(pin.library_sha256.len(), 64);
            assert!(pin.library_file().contains(ORT_VERSION), "{pin:?}");
        }
        assert_eq!(pins.len(), 3);
        let err = pin_for("windows-x86_64").unwrap_err().to_string();
        assert!(err.contains("windows-x86_64"), "{err}");
        assert!(
            err.contains("linux-x86_64, linux-aarch64, macos-aarch64"),
            "{err}"
        );
        assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
    }

    #[test]
    fn sources_are_urls_or_files_and_from_wins_over_the_environment() {
        let pin = pin_for("linux-x86_64").unwrap();
        assert_eq!(
            choose_source(&pin, None, None).unwrap(),
            Source::Url(pin.url.clone())
        );
        assert_eq!(
            choose_source(&pin, None, Some("http://127.0.0.1:1/x.whl".into())).unwrap(),
            Source::Url("http://127.0.0.1:1/x.whl".into())
        );
        assert_eq!(
            choose_source(
                &pin,
                Some("/tmp/x.whl"),
                Some("http://127.0.0.1:1/x.whl".into())
            )
            .unwrap(),
            Source::File("/tmp/x.whl".into())
        );
        let err = format!(
            "{:#}",
            choose_source(&pin, Some("ftp://host/x.whl"), None).unwrap_err()
        );
        assert!(err.contains("expected an http:// or https:// URL"), "{err}");
    }

    #[test]
    fn only_the_expected_member_is_extracted_by_exact_name() {
        let lib = b"\x7fELF the library".as_slice();
        let zip = zip_with(
            &[
                ("../../evil", b"evil".as_slice()),
                ("/abs/evil", b"evil".as_slice()),
                ("onnxruntime/capi/libonnxruntime.so.1.31.1", lib),
            ],
            &[("onnxruntime/capi/link", "/etc/passwd")],
        );
        let mut out = Vec::new();
        let (digest, size) = extract_member(
            zip.path(),
            "onnxruntime/capi/libonnxruntime.so.1.31.1",
            1000,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, lib);
        assert_eq!(size, lib.len() as u64);
        assert_eq!(digest, hex::encode(Sha256::digest(lib)));
        // Names are not normalised: a lookalike path is not the member.
        for name in [
            "./onnxruntime/capi/libonnxruntime.so.1.31.1",
            "onnxruntime/capi/../capi/libonnxruntime.so.1.31.1",
            "ONNXRUNTIME/capi/libonnxruntime.so.1.31.1",
        ] {
            let err = format!(
                "{:#}",
                extract_member(zip.path(), name, 1000, &mut Vec::new()).unwrap_err()
            );
            assert!(err.contains("has no member named"), "{err}");
        }
    }

    #[test]
    fn a_symlink_or_folder_member_is_refused() {
        let zip = zip_with(
            &[],
            &[("onnxruntime/capi/libonnxruntime.so.1.31.1", "/etc/passwd")],
        );
        let mut out = Vec::new();
        let err = format!(
            "{:#}",
            extract_member(
                zip.path(),
                "onnxruntime/capi/libonnxruntime.so.1.31.1",
                1000,
                &mut out
            )
            .unwrap_err()
        );
        assert!(err.contains("not a regular file"), "{err}");
        assert!(out.is_empty());
    }

    #[test]
    fn an_oversized_member_is_refused() {
        let big = vec![0u8; 4096];
        let zip = zip_with(&[("lib.so", &big)], &[]);
        let mut out = Vec::new();
        let err = format!(
            "{:#}",
            extract_member(zip.path(), "lib.so", 1000, &mut out).unwrap_err()
        );
        assert!(err.contains("at most 1000"), "{err}");
        assert!(out.is_empty());
        let err = format!(
            "{:#}",
            extract_member(Path::new("/nonexistent.whl"), "lib.so", 1000, &mut out).unwrap_err()
        );
        assert!(err.contains("/nonexistent.whl"), "{err}");
    }

    #[test]
    fn a_wheel_that_is_not_a_zip_is_a_clear_error() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), b"<html>not found</html>").unwrap();
        let err = format!(
            "{:#}",
            extract_member(tmp.path(), "lib.so", 1000, &mut Vec::new()).unwrap_err()
        );
        assert!(err.contains("is not a readable zip archive"), "{err}");
    }
}
