//! The object store behind a split URL: the only user of `object_store` (Apache Arrow) and
//! `tokio` in the crate. Each [`Remote`] owns a small current-thread runtime and blocks on it,
//! so callers stay synchronous. `s3://bucket/prefix` goes to an S3-compatible server (endpoint
//! and credentials from [`StoreConfig`]); a local path or `file://` URL to a folder, through the
//! same calls, so tests and single machines exercise the code that runs against S3.

use super::SplitError;
use crate::digest::{Md5, Md5Hasher};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{
    ClientConfigKey, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
    WriteMultipart,
};
use std::io::{Read, Write};
use std::path::Path;

/// Files larger than this go up by multipart upload, in parts of this size (S3's minimum part
/// is 5 MiB).
const PART: usize = 8 << 20;
/// Ranged reads of a download ask for this much at a time, so memory stays flat.
const CHUNK: u64 = 8 << 20;
/// Variable that makes create-only puts plain puts (tests of the probe; see
/// [`StoreConfig::ignore_create_only`]).
pub const IGNORE_CREATE_ONLY_VAR: &str = "EDISCOVERY_SPLIT_IGNORE_CREATE_ONLY";
/// Variable giving the S3 request timeout (see [`StoreConfig::timeout`]).
pub const TIMEOUT_VAR: &str = "EDISCOVERY_STORE_TIMEOUT";
/// Variable giving how many times a failed S3 request is retried (see [`StoreConfig::retries`]).
pub const RETRIES_VAR: &str = "EDISCOVERY_STORE_RETRIES";

/// How to reach an S3-compatible store; local folders need none of it.
#[derive(Clone, Debug, Default)]
pub struct StoreConfig {
    /// Endpoint URL (`AWS_ENDPOINT_URL`); plain `http` is allowed only for a loopback host.
    pub endpoint: Option<String>,
    /// Region (`AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`).
    pub region: Option<String>,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: Option<String>,
    /// Tests only: send create-only puts as plain puts, as a store that ignores conditional
    /// writes behaves, so the probe's refusal can be exercised (`EDISCOVERY_SPLIT_IGNORE_CREATE_ONLY=1`).
    pub ignore_create_only: bool,
    /// Timeout of one S3 request, as object_store reads durations (`"30s"`, `"1500ms"`;
    /// `EDISCOVERY_STORE_TIMEOUT`). Unset: object_store's 30 s. A request that times out is
    /// retried when it is idempotent, else it is an error: tests of stalled stores set it short.
    pub timeout: Option<String>,
    /// How many times object_store retries a request that failed with a 5xx, 429, a timeout or
    /// a connection error (`EDISCOVERY_STORE_RETRIES`). Unset: object_store's 10, with
    /// exponential backoff from 100 ms up to 15 s, all within 3 minutes of the first attempt.
    pub retries: Option<String>,
}

impl StoreConfig {
    /// From the usual `AWS_*` variables (and the test switch).
    pub fn from_env() -> StoreConfig {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        StoreConfig {
            endpoint: var("AWS_ENDPOINT_URL").or_else(|| var("AWS_ENDPOINT")),
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            access_key_id: var("AWS_ACCESS_KEY_ID"),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY"),
            session_token: var("AWS_SESSION_TOKEN"),
            ignore_create_only: var(IGNORE_CREATE_ONLY_VAR).is_some_and(|v| v != "0"),
            timeout: var(TIMEOUT_VAR),
            retries: var(RETRIES_VAR),
        }
    }
}

/// What a create-only put found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Created {
    /// The object did not exist; this put wrote it.
    New,
    /// The object existed; nothing was written.
    Exists,
}

/// One store root (`s3://bucket/prefix` or a folder), with its runtime.
pub struct Remote {
    url: String,
    rt: tokio::runtime::Runtime,
    store: Box<dyn ObjectStore>,
    /// Key prefix under the store (no leading or trailing `/`; empty for none).
    root: String,
    ignore_create_only: bool,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("url", &self.url).finish()
    }
}

fn is_loopback(endpoint: &str) -> bool {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    let host_port = rest.split('/').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// An object_store error shown with its causes: its own text can stop at "error sending
/// request", leaving out that the request timed out or the connection was reset.
#[derive(Debug)]
struct WithCauses(object_store::Error);

impl std::fmt::Display for WithCauses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.0.to_string();
        write!(f, "{shown}")?;
        let mut cause = std::error::Error::source(&self.0);
        while let Some(c) = cause {
            let text = c.to_string();
            if !shown.contains(&text) {
                write!(f, ": {text}")?;
                shown.push_str(&text);
            }
            cause = c.source();
        }
        Ok(())
    }
}

impl std::error::Error for WithCauses {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}

impl Remote {
    /// Open the store at `url`: `s3://bucket[/prefix]`, `file:///path` or a local path (created
    /// if missing).
    pub fn open(url: &str, cfg: &StoreConfig) -> Result<Remote, SplitError> {
        Remote::open_inner(url, cfg, true)
    }

    /// [`open`](Self::open) for reading: a local folder must exist already (a mistyped path
    /// is an error, not an empty store made on the spot).
    pub fn open_existing(url: &str, cfg: &StoreConfig) -> Result<Remote, SplitError> {
        Remote::open_inner(url, cfg, false)
    }

    fn open_inner(url: &str, cfg: &StoreConfig, create: bool) -> Result<Remote, SplitError> {
        let bad = |reason: &str| SplitError::Url { url: url.to_owned(), reason: reason.to_owned() };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| super::io_err(Path::new(url))(e))?;
        let (store, root): (Box<dyn ObjectStore>, String) =
            if let Some(rest) = url.strip_prefix("s3://") {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(bad("no bucket (s3://bucket/prefix)"));
                }
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(cfg.region.clone().unwrap_or_else(|| "us-east-1".to_owned()));
                if let Some(e) = &cfg.endpoint {
                    b = b.with_endpoint(e).with_allow_http(is_loopback(e));
                }
                if let Some(k) = &cfg.access_key_id {
                    b = b.with_access_key_id(k);
                }
                if let Some(s) = &cfg.secret_access_key {
                    b = b.with_secret_access_key(s);
                }
                if let Some(t) = &cfg.session_token {
                    b = b.with_token(t);
                }
                if let Some(t) = &cfg.timeout {
                    b = b.with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), t);
                }
                if let Some(n) = &cfg.retries {
                    let max_retries = n.parse::<usize>().map_err(|e| {
                        bad(&format!("{RETRIES_VAR}={n}: not a number of retries ({e})"))
                    })?;
                    b = b.with_retry(RetryConfig { max_retries, ..RetryConfig::default() });
                }
                let s3 = b.build().map_err(|e| bad(&e.to_string()))?;
                (Box::new(s3), prefix.trim_matches('/').to_owned())
            } else {
                let path = match url.strip_prefix("file://") {
                    Some(p) => p,
                    None if url.contains("://") => {
                        return Err(bad("unknown scheme (s3://, file:// or a local path)"));
                    }
                    None => url,
                };
                if path.is_empty() {
                    return Err(bad("empty path"));
                }
                let dir = Path::new(path);
                if create {
                    std::fs::create_dir_all(dir).map_err(super::io_err(dir))?;
                } else if !dir.is_dir() {
                    return Err(bad("no such folder"));
                }
                let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| bad(&e.to_string()))?;
                (Box::new(fs), String::new())
            };
        Ok(Remote {
            url: url.trim_end_matches('/').to_owned(),
            rt,
            store,
            root,
            ignore_create_only: cfg.ignore_create_only,
        })
    }

    /// The store's URL, as given (without a trailing `/`).
    pub fn url(&self) -> &str {
        &self.url
    }

    fn key(&self, name: &str) -> Result<Key, SplitError> {
        let full =
            if self.root.is_empty() { name.to_owned() } else { format!("{}/{name}", self.root) };
        Key::parse(&full).map_err(|e| SplitError::Url {
            url: format!("{}/{name}", self.url),
            reason: e.to_string(),
        })
    }

    fn err(&self, op: &'static str, name: &str) -> impl FnOnce(object_store::Error) -> SplitError {
        let (url, key) = (self.url.clone(), name.to_owned());
        move |e| SplitError::Store { url, op, key, source: Box::new(WithCauses(e)) }
    }

    /// Put `bytes` at `name`, replacing what is there.
    pub fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), SplitError> {
        let key = self.key(name)?;
        self.rt
            .block_on(self.store.put(&key, PutPayload::from(bytes)))
            .map(|_| ())
            .map_err(self.err("put", name))
    }

    /// Put `bytes` at `name` only if nothing is there.
    pub fn create(&self, name: &str, bytes: Vec<u8>) -> Result<Created, SplitError> {
        let key = self.key(name)?;
        let mode = if self.ignore_create_only { PutMode::Overwrite } else { PutMode::Create };
        let opts = PutOptions { mode, ..PutOptions::default() };
        match self.rt.block_on(self.store.put_opts(&key, PutPayload::from(bytes), opts)) {
            Ok(_) => Ok(Created::New),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(Created::Exists),
            Err(e) => Err(self.err("create-only put", name)(e)),
        }
    }

    /// Upload the first `len` bytes of the local file `path` to `name` (multipart above
    /// [`PART`]), returning their MD5, computed from the bytes sent.
    pub fn put_file(&self, name: &str, path: &Path, len: u64) -> Result<Md5, SplitError> {
        let file = std::fs::File::open(path).map_err(super::io_err(path))?;
        let mut src = file.take(len);
        let mut hasher = Md5Hasher::new();
        if len <= PART as u64 {
            let mut buf = Vec::with_capacity(len as usize);
            src.read_to_end(&mut buf).map_err(super::io_err(path))?;
            if buf.len() as u64 != len {
                return Err(SplitError::Changed { path: path.to_path_buf() });
            }
            hasher.update(&buf);
            self.put(name, buf)?;
            return Ok(hasher.finish());
        }
        let key = self.key(name)?;
        let upload = self
            .rt
            .block_on(self.store.put_multipart(&key))
            .map_err(self.err("multipart put", name))?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buf = vec![0u8; 1 << 20];
        let mut sent = 0u64;
        let result: Result<(), SplitError> = self.rt.block_on(async {
            loop {
                let n = src.read(&mut buf).map_err(super::io_err(path))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                sent += n as u64;
                w.wait_for_capacity(2).await.map_err(self.err("multipart put", name))?;
                w.write(&buf[..n]);
            }
            Ok(())
        });
        if let Err(e) = result {
            let _ = self.rt.block_on(w.abort());
            return Err(e);
        }
        if sent != len {
            let _ = self.rt.block_on(w.abort());
            return Err(SplitError::Changed { path: path.to_path_buf() });
        }
        self.rt.block_on(w.finish()).map_err(self.err("multipart put", name))?;
        Ok(hasher.finish())
    }

    /// The whole object at `name`, or `None` when there is none.
    pub fn get(&self, name: &str) -> Result<Option<Vec<u8>>, SplitError> {
        let key = self.key(name)?;
        let got = self.rt.block_on(async {
            match self.store.get(&key).await {
                Ok(r) => r.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        got.map(|b| b.map(|b| b.to_vec())).map_err(self.err("get", name))
    }

    /// Bytes `start..start + len` of the object at `name` (one ranged GET).
    pub fn get_range(&self, name: &str, start: u64, len: u64) -> Result<Vec<u8>, SplitError> {
        let key = self.key(name)?;
        let end = start.saturating_add(len);
        let b = self
            .rt
            .block_on(self.store.get_range(&key, start..end))
            .map_err(self.err("ranged get", name))?;
        Ok(b.to_vec())
    }

    /// The size of the object at `name`, or `None` when there is none.
    pub fn size(&self, name: &str) -> Result<Option<u64>, SplitError> {
        let key = self.key(name)?;
        match self.rt.block_on(self.store.head(&key)) {
            Ok(m) => Ok(Some(m.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err("head", name)(e)),
        }
    }

    /// Copy the object at `name` (of `len` bytes) into `out` by ranged reads of [`CHUNK`],
    /// returning the MD5 of what was written.
    pub fn download(
        &self,
        name: &str,
        len: u64,
        out: &mut dyn Write,
        out_path: &Path,
    ) -> Result<Md5, SplitError> {
        let mut hasher = Md5Hasher::new();
        let mut at = 0u64;
        while at < len {
            let n = CHUNK.min(len - at);
            let bytes = self.get_range(name, at, n)?;
            if bytes.len() as u64 != n {
                return Err(SplitError::SizeMismatch {
                    url: self.url.clone(),
                    file: name.to_owned(),
                    expected: len,
                    actual: at + bytes.len() as u64,
                });
            }
            hasher.update(&bytes);
            out.write_all(&bytes).map_err(super::io_err(out_path))?;
            at += n;
        }
        Ok(hasher.finish())
    }

    /// Delete the object at `name` (nothing there is fine).
    pub fn delete(&self, name: &str) -> Result<(), SplitError> {
        let key = self.key(name)?;
        match self.rt.block_on(self.store.delete(&key)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err("delete", name)(e)),
        }
    }

    /// The names directly under `dir/` that are "folders" (common prefixes), sorted.
    pub fn folders(&self, dir: &str) -> Result<Vec<String>, SplitError> {
        let key = self.key(dir)?;
        let listed = self
            .rt
            .block_on(self.store.list_with_delimiter(Some(&key)))
            .map_err(self.err("list", dir))?;
        let mut out: Vec<String> =
            listed.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_owned)).collect();
        out.sort();
        Ok(out)
    }

    /// Check that the store honours create-only puts: put a fresh probe object create-only
    /// twice; the second must find it there. Refuses with [`SplitError::CreateOnlyIgnored`]
    /// otherwise (see the module docs for why refusal, not a fallback). The probe is deleted.
    pub fn probe_create_only(&self) -> Result<(), SplitError> {
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("splits/.probe-{}-{nonce}", std::process::id());
        let first = self.create(&name, b"probe".to_vec())?;
        let second = self.create(&name, b"probe again".to_vec())?;
        self.delete(&name)?;
        match (first, second) {
            (Created::New, Created::Exists) => Ok(()),
            _ => Err(SplitError::CreateOnlyIgnored { url: self.url.clone(), key: name }),
        }
    }
}

impl SplitError {
    /// May the operation pass when run again? True for a store that failed or did not answer
    /// (5xx, timeouts, connection errors: object_store has already retried those, and an outage
    /// may end); false for what a retry meets again: a refusal (credentials, permissions), a key
    /// or operation the store rejects, a create-only put that lost, and every error that is not
    /// the store's (a bad manifest, a size or MD5 mismatch, a usage error). A task engine retries
    /// only the transient ones (`python/driver.py`, exit code 5).
    pub fn is_transient(&self) -> bool {
        let SplitError::Store { source, .. } = self else { return false };
        let Some(WithCauses(e)) = source.downcast_ref::<WithCauses>() else { return true };
        // A local folder's errors (permissions, a read-only or full disk) come as `Generic`
        // from object_store's LocalFileSystem: nothing a retry changes.
        if let object_store::Error::Generic { store, .. } = e
            && *store == "LocalFileSystem"
        {
            return false;
        }
        !matches!(
            e,
            object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. }
                | object_store::Error::InvalidPath { .. }
                | object_store::Error::NotSupported { .. }
                | object_store::Error::NotImplemented { .. }
                | object_store::Error::UnknownConfigurationKey { .. }
                | object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. }
                | object_store::Error::NotModified { .. }
                | object_store::Error::NotFound { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{SplitError, WithCauses, is_loopback};

    fn store_error(e: object_store::Error) -> SplitError {
        SplitError::Store {
            url: "u".into(),
            op: "put",
            key: "k".into(),
            source: Box::new(WithCauses(e)),
        }
    }

    /// A local folder's failures (object_store's LocalFileSystem says only `Generic`) are not
    /// retried; a remote store's unclassified failures (its retries spent on 5xx or timeouts)
    /// are; a refusal is not.
    #[test]
    fn what_a_retry_may_change() {
        let generic = |store| object_store::Error::Generic { store, source: "failed".into() };
        assert!(!store_error(generic("LocalFileSystem")).is_transient());
        assert!(store_error(generic("S3")).is_transient());
        let denied =
            object_store::Error::PermissionDenied { path: "k".into(), source: "no".into() };
        assert!(!store_error(denied).is_transient());
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("http://127.0.0.1:8333"));
        assert!(is_loopback("http://localhost:8333/"));
        assert!(is_loopback("http://[::1]:8333"));
        assert!(!is_loopback("http://10.0.0.1:8333"));
        assert!(!is_loopback("https://s3.example.com"));
    }
}
