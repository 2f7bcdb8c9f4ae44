"""The Runner: runs each case in a fresh process (`run.py --child`) with an RSS watchdog and a
timeout, runs it again when other work disturbed it, and reuses the cases of a run resumed.

No TensorFlow here: a fresh child's ru_maxrss starts from its parent's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from machine import busy_cpu_s, own_cpu_s, rss_mb

POLL_S = 0.2
# A case during which other work kept more cores than this busy on average is run again.
NOISY_CORES = 0.25
# The spec fields that are not recorded with a result (they differ from run to run).
UNRECORDED_FIELDS = ("kind", "path", "dir")


def log(message: str) -> None:
    """Progress, to stderr."""
    print(message, file=sys.stderr, flush=True)


def recorded_fields(spec: dict) -> dict:
    """The fields of `spec` that a result records: all but `UNRECORDED_FIELDS`."""
    return {k: v for k, v in spec.items() if k not in UNRECORDED_FIELDS}


def _quiet_match(result: dict, fields: dict) -> bool:
    """Whether `result` is an undisturbed ok measurement of the case with spec `fields`."""
    return (
        result.get("status") == "ok"
        and result.get("other_cores", 1.0) <= NOISY_CORES
        and all(json.dumps(result.get(k)) == json.dumps(v) for k, v in fields.items())
    )


def previous_cases(path: str, header: dict) -> list:
    """`(kind, result)` of every case of the results file `path`, to resume that run; its
    code must be the code of this run."""
    with open(path) as f:
        previous = json.load(f)
    for key in ("commit", "modified_files"):
        if previous["header"].get(key) != header.get(key):
            raise SystemExit(
                f"Cannot resume {path}: its {key} is {previous['header'].get(key)!r}, this "
                f"run's is {header.get(key)!r}."
            )
    cases = [("setup", previous.get("setup", {})), ("masks", previous.get("masks", {}))]
    for kind, section in (("forward", "forward"), ("saved_model", "saved_model"),
                          ("hd", "hd"), ("train", "train")):  # fmt: skip
        cases += [(kind, r) for r in previous.get(section, [])]
    return cases


class Runner:
    """Runs children one at a time with a RSS watchdog and a timeout, measures how busy the
    machine was with other work meanwhile, and runs a case again (`retries` times at most)
    when that was more than `NOISY_CORES` cores on average, keeping the quieter run."""

    def __init__(
        self,
        workdir: str,
        snapshot: str,
        max_rss_gb: float,
        timeout_s: float,
        retries: int = 0,
        previous: list | None = None,
    ):
        self.workdir = workdir
        self.snapshot = snapshot
        self.max_rss_gb = max_rss_gb
        self.timeout_s = timeout_s
        self.retries = retries
        self.previous = previous or []  # (kind, result) of a run to resume
        self.count = 0
        self.reused = 0

    def __call__(self, spec: dict, label: str, timed: bool = True) -> dict:
        """The result of one case, with the spec's fields (but `UNRECORDED_FIELDS`); an
        untimed case (an export) is neither retried nor reused."""
        self.count += 1
        fields = recorded_fields(spec)
        for kind, old in self.previous if timed else []:
            if kind == spec["kind"] and _quiet_match(old, fields):
                log(f"[{self.count:2d}] {label}: reused from the run resumed")
                self.reused += 1
                return {**old, "reused": True}
        best = None
        for attempt in range(1 + self.retries * timed):
            suffix = f" (again: other load {best['other_cores']:.2f} cores)" if attempt else ""
            result = self._run(spec, label + suffix, f"{self.count}_{attempt}")
            if best is None or result["other_cores"] < best["other_cores"]:
                best = result
            if result["status"] != "ok" or best["other_cores"] <= NOISY_CORES:
                break
        best["attempts"] = attempt + 1
        return {**fields, **best}

    def _run(self, spec: dict, label: str, name: str) -> dict:
        out = os.path.join(self.workdir, f"case{name}.json")
        errors = os.path.join(self.workdir, f"case{name}.stderr")
        scripts = os.path.join(self.snapshot, "bench")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([self.snapshot, scripts]))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        script = os.path.join(scripts, "run.py")
        command = [sys.executable, script, "--child", json.dumps(spec)]
        log(f"[{self.count:2d}] {label} ...")
        start = time.perf_counter()
        busy, own = busy_cpu_s(), own_cpu_s()
        high = 0.0
        killed = None
        with open(errors, "w") as stderr:
            child = subprocess.Popen(
                [*command, "--out", out], stdout=subprocess.DEVNULL, stderr=stderr, env=env
            )
            try:
                while True:
                    try:
                        child.wait(timeout=POLL_S)
                        break
                    except subprocess.TimeoutExpired:
                        pass
                    high = max(high, rss_mb(child.pid))
                    if high > self.max_rss_gb * 1024:
                        killed = f"killed: RSS passed {self.max_rss_gb:.1f} GB (--max_rss_gb)"
                    elif time.perf_counter() - start > self.timeout_s:
                        killed = f"killed: still running after {self.timeout_s:.0f} s (--timeout)"
                    if killed:
                        break
            finally:  # also on Ctrl-C or SIGTERM: no orphaned child
                if child.poll() is None:
                    child.kill()
                    child.wait()
        elapsed = time.perf_counter() - start
        other = (busy_cpu_s() - busy) - (own_cpu_s() - own)
        if killed:
            result = {"status": "failed", "reason": killed, "observed_rss_mb": high}
        elif child.returncode or not os.path.exists(out):
            with open(errors) as f:
                tail = f.read().strip().splitlines()[-15:]
            log("\n".join("    " + line for line in tail))
            last = tail[-1] if tail else ""
            result = {"status": "failed", "reason": f"exit {child.returncode}: {last}"[:200]}
        else:
            with open(out) as f:
                result = json.load(f)
        result["wall_s"] = elapsed
        # Average number of cores busy with other work (other processes, other VMs) meanwhile.
        result["other_cores"] = max(other, 0.0) / elapsed
        status = result["status"]
        detail = f" ({result['reason']})" if "reason" in result else ""
        rss = f", peak RSS {result['peak_rss_mb'] / 1024:.2f} GB" if "peak_rss_mb" in result else ""
        load = f", other load {result['other_cores']:.2f} cores"
        log(f"     {status}{detail} in {elapsed:.0f} s{rss}{load}")
        return result
