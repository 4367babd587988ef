//! Issue 14 item 5: splits against a store that fails. `moto_server` (PyPI `moto[server]`, an S3
//! server) on 127.0.0.1 behind a small fault-injecting HTTP proxy (Python stdlib, written here)
//! that can answer 500 to the Nth matching request, stall past the client's timeout, or strip
//! the create-only header so the store ignores create-only puts. Whatever is injected, `split
//! publish` and `export part` end in a complete result or a clear error, never in a
//! `manifest.json` or `part.json` that exists while the files it names are incomplete; a re-run
//! then succeeds and gives the same bytes. A failure the store may get over (500s, timeouts, a
//! part's records unreadable now) exits 5, "transient", which a task engine retries; a refusal
//! (403) exits 1, which it does not. Skipped with a message when moto cannot be installed.

use super::common::*;
use ediscovery::Collection;
use ediscovery::split::{self, SplitError, StoreConfig};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The proxy: `fault_proxy.py UPSTREAM_PORT CONTROL_FILE LOG_FILE`. Creates the bucket `splits`
/// upstream, prints its own port once ready, then forwards every request, re-reading the
/// control file (JSON) when it changes: `rules` is a list of {"method", "path" (a substring),
/// "nth", "times", "action": "500" | "stall", "secs"}; the matching requests numbered nth to
/// nth + times - 1 get the action instead of being forwarded. `strip_conditional` drops
/// If-None-Match and If-Match, as a store that ignores conditional writes behaves.
const PROXY: &str = r#"
import http.client, http.server, json, os, sys, threading, time
UP, CONTROL, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()
state = {"mtime": None, "rules": [], "strip": False, "seen": {}}
HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}

def current():
    try:
        m = os.stat(CONTROL).st_mtime_ns
    except FileNotFoundError:
        return state
    if m != state["mtime"]:
        with open(CONTROL) as f:
            c = json.load(f)
        state.update(mtime=m, rules=c.get("rules", []), strip=c.get("strip_conditional", False), seen={})
    return state

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        rule = None
        with lock:
            st = current()
            for i, r in enumerate(st["rules"]):
                if r.get("method", self.command) == self.command and r.get("path", "") in self.path:
                    k = st["seen"][i] = st["seen"].get(i, 0) + 1
                    if r.get("nth", 1) <= k < r.get("nth", 1) + r.get("times", 1):
                        rule = r
                        break
            strip = st["strip"]
            with open(LOG, "a") as log:
                log.write("%s %s %s\n" % (self.command, self.path, rule["action"] if rule else "-"))
        if rule and rule["action"].isdigit():
            status = int(rule["action"])
            code = b"AccessDenied" if status == 403 else b"InternalError"
            err = b"<?xml version='1.0'?><Error><Code>" + code + b"</Code><Message>injected</Message></Error>"
            self.send_response_only(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(err)))
            self.end_headers()
            self.wfile.write(err)
            return
        if rule and rule["action"] == "stall":
            time.sleep(rule.get("secs", 5))
            self.close_connection = True
            return
        up = http.client.HTTPConnection("127.0.0.1", UP, timeout=60)
        up.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() in HOP and k.lower() != "host":
                continue
            if strip and k.lower() in ("if-none-match", "if-match"):
                continue
            up.putheader(k, v)
        up.putheader("Content-Length", str(len(body)))
        up.endheaders(body)
        r = up.getresponse()
        data = r.read()
        self.send_response_only(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", r.getheader("Content-Length", "0"))
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        up.close()
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_any

for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", UP, timeout=5)
        c.request("PUT", "/splits")
        c.getresponse().read()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("moto_server did not answer")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// `moto_server`: $EDISCOVERY_MOTO, on PATH, or installed from PyPI (`moto[server]`, the
/// version python/requirements-test.txt pins) into a venv under the temporary folder.
fn find_moto() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EDISCOVERY_MOTO") {
        return Some(PathBuf::from(p));
    }
    let on_path = Command::new("moto_server").arg("--help").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return Some(PathBuf::from("moto_server"));
    }
    let venv = std::env::temp_dir().join("ediscovery-moto-venv");
    let moto = venv.join("bin/moto_server");
    if !moto.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--retries",
                    "1",
                    "--timeout",
                    "20",
                    "moto[server]==5.2.5",
                ])
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
    }
    moto.exists().then_some(moto)
}

/// moto_server and the proxy in front of it, both on 127.0.0.1, killed by PID when dropped.
struct Faulty {
    moto: Child,
    proxy: Child,
    moto_port: u16,
    proxy_port: u16,
    control: PathBuf,
    log: PathBuf,
}

impl Drop for Faulty {
    fn drop(&mut self) {
        for c in [&mut self.proxy, &mut self.moto] {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Faulty {
    fn start(moto: &Path, dir: &Path) -> Faulty {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let moto = Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::fs::File::create(dir.join("moto.log")).unwrap())
            .stderr(std::fs::File::create(dir.join("moto.err")).unwrap())
            .spawn()
            .unwrap();
        let script = dir.join("fault_proxy.py");
        std::fs::write(&script, PROXY).unwrap();
        let (control, log) = (dir.join("faults.json"), dir.join("requests.log"));
        std::fs::write(&control, "{}").unwrap();
        let mut proxy = Command::new("python3")
            .arg(&script)
            .arg(port.to_string())
            .arg(&control)
            .arg(&log)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(proxy.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let mut f = Faulty { moto, proxy, moto_port: port, proxy_port: 0, control, log };
        f.proxy_port = line.trim().parse().unwrap_or_else(|_| {
            panic!(
                "the proxy did not start: {line:?} (moto: {:?})",
                std::fs::read_to_string(dir.join("moto.err"))
            )
        });
        f
    }

    /// Replace the faults (a JSON value as the proxy reads it); counts start again.
    fn faults(&self, v: serde_json::Value) {
        let tmp = self.control.with_extension("tmp");
        std::fs::write(&tmp, v.to_string()).unwrap();
        std::fs::rename(&tmp, &self.control).unwrap();
    }

    /// How many requests the proxy answered with a fault since the log was last taken:
    /// (500s, stalls).
    fn injected(&self) -> (usize, usize) {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let _ = std::fs::remove_file(&self.log);
        let n = |a: &str| text.lines().filter(|l| l.ends_with(&format!(" {a}"))).count();
        (n("500"), n("stall"))
    }

    /// The store as the library sees it, past the proxy (no faults): to check what is there.
    fn direct(&self) -> StoreConfig {
        cfg(self.moto_port)
    }
}

fn cfg(port: u16) -> StoreConfig {
    super::split::loopback_cfg(port, "testing", "testing")
}

/// Run the CLI against the proxy with a short request timeout and `retries` retries.
fn ed(f: &Faulty, retries: &str, args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ediscovery"))
        .args(args)
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", f.proxy_port))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("EDISCOVERY_STORE_TIMEOUT", "2s")
        .env("EDISCOVERY_STORE_RETRIES", retries)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `split publish --collection C --to ROOT --json` through the proxy.
fn publish(f: &Faulty, retries: &str, c: &Path, root: &str) -> (i32, String, String) {
    let os = std::ffi::OsStr::new;
    ed(
        f,
        retries,
        &[
            os("split"),
            os("publish"),
            os("--collection"),
            c.as_os_str(),
            os("--to"),
            os(root),
            os("--json"),
        ],
    )
}

/// Under `root` (read past the proxy): nothing published, or exactly one split whose every file
/// is complete: the manifest's files have their MD5s (open_split fetches and checks the tables
/// and index) and every record's bytes read back from the packs with their MD5 checked. Returns
/// the split id, if any.
fn published_whole(f: &Faulty, root: &str, c: &Collection, cache: &Path) -> Option<String> {
    let found = match split::list_splits(root, &f.direct()) {
        Err(SplitError::NoSplits { .. }) => return None,
        other => other.unwrap(),
    };
    assert_eq!(found.len(), 1, "{found:?}");
    let s = split::open_split(&found[0], cache, &f.direct()).unwrap();
    for rec in c.store().iter() {
        let rec = rec.unwrap();
        for p in rec.parts.iter() {
            assert_eq!(s.part_bytes(&rec, p).unwrap(), c.store().part_bytes(&rec, p).unwrap());
        }
    }
    Some(s.manifest().split_id.clone())
}

#[test]
fn publish_and_export_parts_survive_500s_timeouts_and_a_store_ignoring_create_only() {
    let Some(moto) = find_moto() else {
        eprintln!("SKIPPED: moto_server is not installed and `pip install moto[server]` failed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let f = Faulty::start(&moto, dir.path());
    let c = sample_org_collection(dir.path(), 1);
    let cdir = dir.path().join("c");
    // The id the split must have: the same collection published to a folder.
    let id =
        split::publish(&cdir, dir.path().join("folder").to_str().unwrap(), &StoreConfig::default())
            .unwrap()
            .split_id;
    let cache = |n: &str| dir.path().join("cache").join(n);

    // (c) A store that ignores create-only puts: the probe refuses, nothing is published.
    f.faults(serde_json::json!({"strip_conditional": true}));
    let (code, _, err) = publish(&f, "1", &cdir, "s3://splits/strip");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("ignores create-only puts") && err.contains("refusing to publish"),
        "{err}"
    );
    assert_eq!(published_whole(&f, "s3://splits/strip", &c, &cache("strip")), None);
    // The same store honouring them: published (moto answers 412 to the probe's second put).
    f.faults(serde_json::json!({}));
    let (code, _, err) = publish(&f, "1", &cdir, "s3://splits/strip");
    assert_eq!(code, 0, "{err}");
    assert_eq!(published_whole(&f, "s3://splits/strip", &c, &cache("strip2")), Some(id.clone()));

    // (a) One 500 on the manifest's put and one on a pack's: object_store retries them.
    f.faults(serde_json::json!({"rules": [
        {"method": "PUT", "path": "/manifest.json", "nth": 1, "action": "500"},
        {"method": "PUT", "path": "/packs/", "nth": 1, "action": "500"},
    ]}));
    let (code, _, err) = publish(&f, "3", &cdir, "s3://splits/once");
    assert_eq!(code, 0, "{err}");
    assert_eq!(f.injected(), (2, 0), "the faults were not injected");
    assert_eq!(published_whole(&f, "s3://splits/once", &c, &cache("once")), Some(id.clone()));

    // 500s on every put of one file, past the retries: a clear error naming the file, no
    // manifest; the re-run without faults publishes the same split.
    for (root, path) in [
        ("s3://splits/manifest", "/manifest.json"),
        ("s3://splits/pack", "/packs/"),
        ("s3://splits/index", "/index/"),
    ] {
        f.faults(serde_json::json!({"rules": [
            {"method": "PUT", "path": path, "nth": 1, "times": 1000, "action": "500"},
        ]}));
        let (code, _, err) = publish(&f, "1", &cdir, root);
        // Exit 5, transient: the store failed; the same command may pass (and does, below).
        assert_eq!(code, 5, "{root}: {err}");
        assert!(err.contains(path.trim_matches('/')) && err.contains("500"), "{root}: {err}");
        assert!(f.injected().0 >= 2, "{root}: not retried once");
        assert_eq!(published_whole(&f, root, &c, &cache(&format!("{path}-bad"))), None, "{root}");
        f.faults(serde_json::json!({}));
        let (code, _, err) = publish(&f, "1", &cdir, root);
        assert_eq!(code, 0, "{root}: {err}");
        assert_eq!(published_whole(&f, root, &c, &cache(&format!("{path}-ok"))), Some(id.clone()));
    }

    // A refusal (403 on the manifest's put) is not transient: exit 1, which a task engine does
    // not retry; nothing is published.
    f.faults(serde_json::json!({"rules": [
        {"method": "PUT", "path": "/manifest.json", "nth": 1, "times": 1000, "action": "403"},
    ]}));
    let (code, _, err) = publish(&f, "1", &cdir, "s3://splits/refused");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("manifest.json") && err.contains("403"), "{err}");
    assert_eq!(published_whole(&f, "s3://splits/refused", &c, &cache("refused")), None);
    f.faults(serde_json::json!({}));

    // (b) A put that stalls past the 2 s timeout, every time: a clear error and no manifest,
    // or (a retried put) a complete split; either way the re-run gives the same split.
    f.faults(serde_json::json!({"rules": [
        {"method": "PUT", "path": "/records/", "nth": 1, "times": 1000, "action": "stall", "secs": 4},
    ]}));
    let (code, _, err) = publish(&f, "1", &cdir, "s3://splits/stall");
    assert!(f.injected().1 >= 1, "no stall injected");
    let got = published_whole(&f, "s3://splits/stall", &c, &cache("stall"));
    eprintln!("stalled puts: publish exit {code}: {}", err.trim());
    if code == 0 {
        assert_eq!(got, Some(id.clone()));
    } else {
        assert_eq!(code, 5, "{err}");
        assert!(err.contains("records/") && err.to_lowercase().contains("timed out"), "{err}");
        assert_eq!(got, None);
    }
    f.faults(serde_json::json!({}));
    let (code, _, err) = publish(&f, "1", &cdir, "s3://splits/stall");
    assert_eq!(code, 0, "{err}");
    assert_eq!(published_whole(&f, "s3://splits/stall", &c, &cache("stall-ok")), Some(id.clone()));

    // Export parts reading the split's packs through the proxy.
    let split = format!("s3://splits/once/splits/{id}");
    export_parts_under_faults(&f, dir.path(), &split);

    // The store stops answering after the split opened: the record data, read by ranges when
    // the search's hits are decoded, gets 500s. Exit 5, transient (a task engine retries it;
    // tantivy and the record table hand the store's error on inside an io::Error).
    f.faults(serde_json::json!({"rules": [
        {"method": "GET", "path": "/records/data-", "nth": 1, "times": 1000, "action": "500"},
    ]}));
    let os = std::ffi::OsStr::new;
    let fresh = dir.path().join("mid-search-cache");
    let args = [os("search"), os("--splits"), os(&split), os("--split-cache"), fresh.as_os_str()];
    let (code, stdout, err) = ed(&f, "1", &[&args[..], &[os("--json"), os("")]].concat());
    assert!(f.injected().0 >= 1, "no 500 injected: {err}");
    assert_eq!(code, 5, "{stdout}{err}");
    assert!(err.contains("records/data-"), "{err}");
    f.faults(serde_json::json!({}));
    let (code, _, err) = ed(&f, "1", &[&args[..], &[os("--json"), os("")]].concat());
    assert_eq!(code, 0, "without faults the same search runs: {err}");
}

/// `export part` / `export merge` over `split` (through the proxy) against the same export of
/// the collection: one 500 and one stall on pack reads are retried and give the same bytes;
/// 500s past the retries leave the part uncommitted with a clear error; a re-run without faults,
/// and a fresh run, give the same bytes.
fn export_parts_under_faults(f: &Faulty, dir: &Path, split: &str) {
    let os = std::ffi::OsStr::new;
    let cdir = dir.join("c");
    let one = dir.join("one");
    let (code, _, err) =
        cli!("export", "--collection", &cdir, "--name", "E", "--out", &one, "--entire-org");
    assert_eq!(code, 0, "{err}");
    let step = |out: &Path, retries: &str, what: &[&str]| {
        let mut a: Vec<&std::ffi::OsStr> = vec![os("export")];
        a.extend(what.iter().map(|s| os(s)));
        let cache = dir.join("export-cache");
        a.extend([os("--splits"), os(split), os("--cache"), cache.as_os_str()]);
        a.extend([os("--name"), os("E"), os("--out"), out.as_os_str(), os("--entire-org")]);
        ed(f, retries, &a)
    };
    let same_as_one = |out: &Path| {
        let (code, stdout, err) = cli!("verify", &out.join("E"));
        assert_eq!(code, 0, "{stdout}{err}");
        let mut names: Vec<_> =
            std::fs::read_dir(one.join("E")).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        for n in names {
            let s = n.to_string_lossy();
            if s.ends_with("-summary.json") || s.ends_with("-checksums.md5") {
                continue;
            }
            assert!(
                std::fs::read(one.join("E").join(&n)).unwrap()
                    == std::fs::read(out.join("E").join(&n)).unwrap(),
                "{s} differs"
            );
        }
    };
    // Both parts, then the merge, with one try per store request; the same bytes as one machine.
    let parts_then_merge = |out: &Path| {
        for k in ["1/2", "2/2"] {
            let (code, _, err) = step(out, "1", &["part", "--part", k]);
            assert_eq!(code, 0, "{err}");
        }
        let (code, _, err) = step(out, "1", &["merge", "--parts", "2"]);
        assert_eq!(code, 0, "{err}");
        same_as_one(out);
    };

    // One 500 and one stall past the timeout on pack reads: retried, the same bytes.
    let out = dir.join("retried");
    f.faults(serde_json::json!({"rules": [
        {"method": "GET", "path": "/packs/", "nth": 2, "action": "500"},
        {"method": "GET", "path": "/packs/", "nth": 4, "action": "stall", "secs": 4},
    ]}));
    for k in ["1/2", "2/2"] {
        let (code, _, err) = step(&out, "3", &["part", "--part", k]);
        assert_eq!(code, 0, "part {k}: {err}");
    }
    assert_eq!(f.injected(), (1, 1), "the faults were not injected");
    let (code, _, err) = step(&out, "3", &["merge", "--parts", "2"]);
    assert_eq!(code, 0, "{err}");
    same_as_one(&out);

    // Every pack read fails, past the retries: the part is not committed (a part with records
    // missing must not look finished to the engine) and the error says which record and why;
    // its re-run without faults writes it.
    let out = dir.join("failing");
    f.faults(serde_json::json!({"rules": [
        {"method": "GET", "path": "/packs/", "nth": 1, "times": 100000, "action": "500"},
    ]}));
    let (code, stdout, err) = step(&out, "1", &["part", "--part", "1/2"]);
    assert_eq!(code, 5, "transient, so a task engine retries it: {stdout}{err}");
    assert!(err.contains("could not be read now") && err.contains("not committed"), "{err}");
    assert!(err.contains("packs/") && err.contains("500"), "{err}");
    assert!(!out.join("E.parts/part-1/part.json").exists(), "a failed part looks committed");
    assert!(f.injected().0 >= 2, "not retried once");
    f.faults(serde_json::json!({}));
    parts_then_merge(&out);

    // A fresh run without faults: the same bytes.
    f.faults(serde_json::json!({}));
    let out = dir.join("clean");
    parts_then_merge(&out);
}
