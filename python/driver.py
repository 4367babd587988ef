#!/usr/bin/env python3
"""A thin Ray driver for `ediscovery` (issue 14): fan-out search over splits, and an export
written in parts by Ray tasks, then merged.

Every task body is one subprocess call of the `ediscovery` CLI (`search --splits`, `export part`,
`export merge`), so the engine holds no logic the CLI lacks: a part is identified by K/N, its
bytes are decided by the CLI, a part committed by an earlier attempt is checked by the CLI
rather than written again, and the merge refuses missing or damaged parts. What the driver adds
is scheduling: one task per split or per part, retries of what may pass on a retry, resuming a
killed run by skipping parts whose `part.json` is committed, and a JSON summary on stdout. Exit
code: 0 done, 1 failure (the CLI's message in the summary), 3 the export is written but records
failed (the CLI's "partial").

What is retried (Ray's `max_retries` with `retry_exceptions=[TransientFailure]`): a lost worker
or node (Ray's own system-failure retry), a CLI call killed by a signal, and a CLI call that
exits 5, the code the CLI documents as transient (the object store failed or did not answer, or
a part's records could not be read now). Every other exit (1 error: a bad query, a refused
request, parts of another plan after the collection changed; 2 usage) fails the task at once:
running it again would fail the same way.

    driver.py [--address ADDR] [--ediscovery BIN] search --splits URL[,URL...] [--cache DIR]
              [--cases FILE] [--check] [-- SEARCH-ARGS...]
    driver.py [--address ADDR] [--ediscovery BIN] export --name NAME --out DIR --parts N
              (--collection DIR | --splits URL[,URL...] [--cache DIR]) [-- EXPORT-ARGS...]

SEARCH-ARGS and EXPORT-ARGS are the CLI's own scope flags, options and query, passed through.
`--cases FILE` is a JSON list of such argument lists (several searches fanned out at once).
Ray is reached at --address (else $RAY_ADDRESS, else a local instance bound to 127.0.0.1).

Test hook (scripts/scaleout-test.sh): with EDISCOVERY_RAY_KILL_PART=K the first attempt of part
K kills its own `export part` subprocess once it has started writing, then kills its Ray worker
process, so Ray retries the task as it would after a lost node; a marker file beside the parts
makes the kill happen once.
"""

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

import ray

import ray_start  # python/ray_start.py, beside this file

# Environment passed to every task: task processes are started by the raylets, which do not
# inherit the driver's environment.
PASSED_ENV_PREFIXES = ("AWS_", "EDISCOVERY_")
KILL_VAR = "EDISCOVERY_RAY_KILL_PART"
PR_SET_PDEATHSIG = 1


# The CLI's exit code for "could not do it now; the same call may pass" (src/bin exit table).
EXIT_TRANSIENT = 5
# Where each task attempt is logged, one JSON line per attempt, beside the parts.
ATTEMPTS_DIR = ".driver"


class TransientFailure(Exception):
    """A CLI call that may pass when run again (exit 5, or killed by a signal): Ray retries it."""


class PermanentFailure(Exception):
    """A CLI call that failed for good (a usage error, a bad query, a refused request): not
    retried, reported with the CLI's message."""


def failure(what, code, err):
    """The exception for a failed CLI call: transient (retried) or not."""
    msg = err.strip().splitlines()
    msg = " | ".join(m for m in msg if m.strip())[-2000:] or "(no message)"
    if code < 0:
        return TransientFailure(f"{what} killed by signal {-code}: {msg}")
    if code == EXIT_TRANSIENT:
        return TransientFailure(f"{what} exited {code} (transient): {msg}")
    return PermanentFailure(f"{what} exited {code}: {msg}")


def cause(e):
    """The exception a task raised, out of Ray's wrapper (`RayTaskError.cause`)."""
    return getattr(e, "cause", None) or e


def failure_kind(e):
    """"transient", "permanent" or "lost" (a worker or node lost past the retries). By class
    name: the exception comes back through Ray's pickling, wrapped in a class of Ray's."""
    names = {c.__name__ for c in type(e).__mro__}
    if "TransientFailure" in names:
        return "transient"
    if "PermanentFailure" in names:
        return "permanent"
    return "lost"


def log_attempt(out, name, what, record):
    """Append one attempt's record to OUT/NAME.parts/.driver/WHAT.attempts (JSON lines)."""
    d = os.path.join(out, f"{name}.parts", ATTEMPTS_DIR)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{what}.attempts"), "a") as f:
        f.write(json.dumps(record) + "\n")


def attempts(out, name, what):
    """The attempts logged for WHAT (a list of records)."""
    try:
        with open(os.path.join(out, f"{name}.parts", ATTEMPTS_DIR, f"{what}.attempts")) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def log(*args):
    print("driver:", *args, file=sys.stderr, flush=True)


def die_with_parent():
    """In the CLI's process before exec (Linux): be killed when the task's worker dies, so a
    worker killed by Ray (its driver died, the task was cancelled) leaves no CLI call writing
    into a part that a retry is about to write again."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run_cli(argv):
    """Run the CLI; return (exit code, stdout, stderr)."""
    p = subprocess.run(argv, capture_output=True, text=True, preexec_fn=die_with_parent)
    return p.returncode, p.stdout, p.stderr


# ---------------------------------------------------------------------------------- search


@ray.remote(max_retries=2, retry_exceptions=[TransientFailure])
def search_task(binary, split, cache, args):
    """Counts of one search over one split (or root): `search --splits U --count --json`."""
    t = time.monotonic()
    argv = [binary, "search", "--splits", split, "--split-cache", cache, "--count", "--json"]
    code, out, err = run_cli(argv + list(args))
    if code != 0:
        raise failure(f"search over {split}", code, err)
    counts = json.loads(out)["counts"]
    return {"split": split, "counts": counts, "seconds": round(time.monotonic() - t, 3)}


def sum_counts(parts):
    """Counts of disjoint parts of one search added up, as the library's `Counts::merge`."""
    per = {}
    for c in parts:
        for acct, n in c["per_account"].items():
            per[acct] = per.get(acct, 0) + n
    return {
        "total": sum(per.values()),
        "per_account": dict(sorted(per.items())),
        "queried_accounts": len(per),
        "matching_accounts": sum(1 for n in per.values() if n > 0),
    }


def nonzero(counts):
    """The accounts with hits: a split ruled out by its manifest reports no zeros for its
    accounts, so zeros are not compared."""
    return {a: n for a, n in counts["per_account"].items() if n}


def cmd_search(a, binary):
    splits = [s for s in a.splits.split(",") if s]
    cache = a.cache or os.path.join(os.environ.get("TMPDIR", "/tmp"), "ediscovery-splits")
    if a.cases:
        with open(a.cases) as f:
            cases = json.load(f)
    else:
        cases = [a.rest]
    t = time.monotonic()
    futures = [[search_task.remote(binary, s, cache, case) for s in splits] for case in cases]
    checks = []
    if a.check:
        all_splits = ",".join(splits)
        checks = [search_task.remote(binary, all_splits, cache, case) for case in cases]
    results, ok = [], True
    for i, case in enumerate(cases):
        try:
            per_split = ray.get(futures[i])
        except Exception as e:  # a search that failed for good, or after its retries
            results.append({"args": case, "error": str(cause(e)).strip()})
            ok = False
            continue
        summed = sum_counts(r["counts"] for r in per_split)
        entry = {
            "args": case,
            "counts": summed,
            "per_split": [{"split": r["split"], "total": r["counts"]["total"],
                           "seconds": r["seconds"]} for r in per_split],
        }
        if a.check:
            try:
                one = ray.get(checks[i])["counts"]
            except Exception as e:
                entry["check"] = {"error": str(cause(e)).strip(), "same": False}
                results.append(entry)
                ok = False
                continue
            same = one["total"] == summed["total"] and nonzero(one) == nonzero(summed)
            entry["check"] = {"total": one["total"], "same": same}
            ok = ok and same
        results.append(entry)
    return {"command": "search", "splits": len(splits), "cases": results,
            "seconds": round(time.monotonic() - t, 3)}, (0 if ok else 1)


# ---------------------------------------------------------------------------------- export


def part_dir(out, name, k):
    return os.path.join(out, f"{name}.parts", f"part-{k}")


def committed(out, name, k):
    """Is part K committed? Its `part.json` is written last (the CLI checks its content)."""
    return os.path.isfile(os.path.join(part_dir(out, name, k), "part.json"))


def writing(pdir):
    """Has an attempt at the part started writing files (in its folder `attempt-<id>/`)?"""
    try:
        return any(e.is_dir() and e.name.startswith("attempt-") and os.listdir(e.path)
                   for e in os.scandir(pdir))
    except FileNotFoundError:
        return False


def kill_own_subprocess_once(argv, out, name, k):
    """The test hook: start the part, kill it once it has written something, then die."""
    marker = os.path.join(out, f"{name}.parts", f".killed-part-{k}")
    os.makedirs(os.path.dirname(marker), exist_ok=True)
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return  # killed once already: this is the retry, run normally
    pdir = part_dir(out, name, k)
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=die_with_parent)
    while child.poll() is None and not writing(pdir):
        time.sleep(0.002)
    child.kill()
    child.wait()
    note = {"part": k, "committed_when_killed": committed(out, name, k)}
    os.write(fd, (json.dumps(note) + "\n").encode())
    os.close(fd)
    # The worker dies as a lost node's would: Ray sees a system failure and retries the task.
    os.kill(os.getpid(), signal.SIGKILL)


@ray.remote(max_retries=3, retry_exceptions=[TransientFailure])
def part_task(binary, source, name, out, k, n, args):
    """`export part --part K/N`: returns the CLI's JSON ({"dir","written","zips"})."""
    t = time.monotonic()
    argv = [binary, "export", "part", "--part", f"{k}/{n}", *source, "--name", name,
            "--out", out, "--json", *args]
    log_attempt(out, name, f"part-{k}", {"pid": os.getpid(), "started": time.time()})
    if os.environ.get(KILL_VAR) == str(k):
        kill_own_subprocess_once(argv, out, name, k)
    code, stdout, err = run_cli(argv)
    if code != 0:
        raise failure(f"part {k}/{n}", code, err)
    done = json.loads(stdout)
    done.update(part=k, seconds=round(time.monotonic() - t, 3), node=ray.get_runtime_context().get_node_id()[:8])
    marker = os.path.join(out, f"{name}.parts", f".killed-part-{k}")
    if os.path.exists(marker):
        with open(marker) as f:
            done["killed_once"] = json.loads(f.read() or "{}")
    return done


@ray.remote(max_retries=2, retry_exceptions=[TransientFailure])
def merge_task(binary, source, name, out, n, args):
    """`export merge --parts N`: (exit code, the CLI's JSON or its error). Retried only when
    transient (exit 5: the splits' store did not answer; or killed)."""
    t = time.monotonic()
    argv = [binary, "export", "merge", "--parts", str(n), *source, "--name", name,
            "--out", out, "--json", *args]
    log_attempt(out, name, "merge", {"pid": os.getpid(), "started": time.time()})
    code, stdout, err = run_cli(argv)
    if code < 0 or code == EXIT_TRANSIENT:
        raise failure("merge", code, err)
    result = {"code": code, "seconds": round(time.monotonic() - t, 3)}
    if code in (0, 3):
        merged = json.loads(stdout)
        s = merged["summary"]
        result.update(dir=merged["dir"], totals=s["totals"], exported_bytes=s["exported_bytes"])
    else:
        result["error"] = err.strip()
    return result


def cmd_export(a, binary):
    if bool(a.collection) == bool(a.splits):
        raise SystemExit("export: give exactly one of --collection and --splits")
    source = ["--collection", a.collection] if a.collection else ["--splits", a.splits]
    if a.splits and a.cache:
        source += ["--cache", a.cache]
    out = os.path.abspath(a.out)
    t = time.monotonic()
    skipped = [k for k in range(1, a.parts + 1) if committed(out, a.name, k)]
    todo = [k for k in range(1, a.parts + 1) if k not in skipped]
    if skipped:
        log(f"resuming: parts {skipped} are committed, not run again")
    futures = {k: part_task.remote(binary, source, a.name, out, k, a.parts, a.rest) for k in todo}
    parts, failed = [], []
    for k, f in futures.items():
        try:
            done = ray.get(f)
            done["attempts"] = len(attempts(out, a.name, f"part-{k}"))
            parts.append(done)
        except Exception as e:  # failed for good, or after its retries: named in the summary
            c = cause(e)
            kind = failure_kind(c)
            failed.append({"part": k, "kind": kind, "error": str(c).strip(),
                           "attempts": len(attempts(out, a.name, f"part-{k}"))})
    parts_seconds = round(time.monotonic() - t, 3)
    summary = {"command": "export", "name": a.name, "out": out, "parts": a.parts,
               "skipped": skipped, "ran": parts, "failed": failed,
               "parts_seconds": parts_seconds}
    if failed:
        summary["seconds"] = parts_seconds
        return summary, 1
    try:
        merged = ray.get(merge_task.remote(binary, source, a.name, out, a.parts, a.rest))
    except Exception as e:  # transient past its retries, or the merge's worker lost
        merged = {"code": 1, "error": str(cause(e)).strip()}
    merged["attempts"] = len(attempts(out, a.name, "merge"))
    summary["merge"] = merged
    summary["seconds"] = round(time.monotonic() - t, 3)
    return summary, (merged["code"] if merged["code"] in (0, 3) else 1)


# ---------------------------------------------------------------------------------- main


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--address", default=os.environ.get("RAY_ADDRESS"),
                   help="Ray cluster (default $RAY_ADDRESS; none: a local instance on 127.0.0.1)")
    p.add_argument("--ediscovery", default=os.environ.get("EDISCOVERY_BIN", "ediscovery"),
                   help="the ediscovery CLI (default $EDISCOVERY_BIN, else on PATH)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("search", help="fan one or more searches out, one task per split")
    s.add_argument("--splits", required=True, help="comma-separated split URLs (or roots)")
    s.add_argument("--cache", help="the split cache every task uses (--split-cache)")
    s.add_argument("--cases", help="JSON list of argument lists, one search each")
    s.add_argument("--check", action="store_true",
                   help="also run each search once over all splits and compare the counts")
    e = sub.add_parser("export", help="an export in parts, one task per part, then merged")
    e.add_argument("--name", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--parts", type=int, required=True)
    e.add_argument("--collection")
    e.add_argument("--splits")
    e.add_argument("--cache")
    args, rest = p.parse_known_args(argv)
    if rest and rest[0] == "--":
        rest = rest[1:]
    args.rest = rest
    if args.command == "export" and args.parts < 1:
        raise SystemExit("export: --parts must be at least 1")
    binary = os.path.abspath(args.ediscovery) if os.sep in args.ediscovery else args.ediscovery

    # Ray writes some of its messages (a worker lost, a task retried) to stdout; stdout is the
    # summary's, so those go to stderr.
    summary_out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    t = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV_PREFIXES)}
    # A loopback address stays loopback (Ray would turn 127.0.0.1 into the machine's address,
    # both for a cluster's address and for a local instance: python/ray_start.py).
    ray_start.keep_loopback()
    if args.address:
        ray.init(address=args.address, runtime_env={"env_vars": env},
                 log_to_driver=False, logging_level="warning")
    else:
        ray.init(_node_ip_address="127.0.0.1", include_dashboard=False,
                 runtime_env={"env_vars": env}, log_to_driver=False, logging_level="warning")
    ray_seconds = round(time.monotonic() - t, 3)
    try:
        if args.command == "search":
            summary, code = cmd_search(args, binary)
        else:
            summary, code = cmd_export(args, binary)
    finally:
        ray.shutdown()
    summary["ray_connect_seconds"] = ray_seconds
    summary["ok"] = code == 0
    json.dump(summary, summary_out, indent=1)
    summary_out.write("\n")
    summary_out.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
