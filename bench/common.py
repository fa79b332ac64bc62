"""What every benchmark step needs: a quiet machine, timed subprocesses with their peak memory, percentiles.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEFAULT_PATHS = (
    SHARED / "benchmarks" / "financebench-dev" / "pdfs",
    SHARED / "benchmarks" / "zh-dev" / "docs",
    SHARED / "corpus",
)
DEFAULT_QUESTIONS = (
    SHARED / "benchmarks" / "financebench-dev" / "questions.jsonl",
    SHARED / "benchmarks" / "zh-dev" / "questions.jsonl",
    ROOT / "eval" / "datasets" / "reference_report_zh.jsonl",
)
_GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
# PYTHONPATH: the console script must run this tree's code, wherever an editable install points.
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
       "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}


@dataclass(frozen=True)
class Quiet:
    """How to wait for other work on the machine to settle before a timed step."""

    threshold: float = 1.5  # 1-minute load average
    max_wait_s: float = 600.0
    poll_s: float = 30.0


@dataclass(frozen=True)
class Timed:
    """One finished subprocess: wall time, CPU time (user + system), peak resident memory, its output."""

    seconds: float
    max_rss_mib: float
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float = float("nan")

    def checked(self, what: str) -> Timed:
        """This result, or RuntimeError with the end of stderr when the command failed."""
        if self.returncode != 0:
            raise RuntimeError(f"{what} exited {self.returncode}:\n{self.stderr[-3000:]}")
        return self


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def wait_quiet(quiet: Quiet, label: str) -> dict[str, float]:
    """Poll the 1-minute load average until it is below the threshold (or the wait runs out)."""
    started = time.monotonic()
    while load_avg() >= quiet.threshold and time.monotonic() - started + quiet.poll_s <= quiet.max_wait_s:
        log.info("%s: load %.2f >= %.2f, waiting", label, load_avg(), quiet.threshold)
        time.sleep(quiet.poll_s)
    waited = round(time.monotonic() - started, 1)
    log.info("%s: starting at load %.2f (waited %.0f s)", label, load_avg(), waited)
    return {"load_before": load_avg(), "waited_s": waited}


def run_timed(command: Sequence[str], cwd: Path = ROOT, timeout_s: float | None = None) -> Timed:
    """Run ``command``; wall time from here, peak RSS and CPU time from GNU time where it is installed.

    ``wait4``'s ``ru_maxrss`` of a direct child is not used: a child started by ``vfork``/``fork`` from this
    (large) process carries this process's RSS into its own maximum. GNU time is a small process, so the
    maximum it reports for its own child is the command's alone.
    """
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        rss_file = Path(tmp) / "maxrss"
        wrapped = [_GNU_TIME, "-f", "%M %U %S", "-o", str(rss_file), *command] if _GNU_TIME else list(command)
        started = time.perf_counter()
        proc = subprocess.run(wrapped, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout_s)
        seconds = time.perf_counter() - started
        last = rss_file.read_text().strip().splitlines()[-1] if _GNU_TIME and rss_file.exists() else "nan 0 0"
    kib, user, system = (float(x) for x in last.split())
    cpu = round(user + system, 2) if _GNU_TIME else float("nan")
    return Timed(round(seconds, 3), round(kib / 1024, 1), proc.returncode, proc.stdout, proc.stderr, cpu)


def cpu_seconds() -> float:
    """User + system CPU time of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reportqa() -> list[str]:
    """The installed console script itself (not a pyenv shim, whose bash start-up is not ours to count)."""
    beside = Path(sys.executable).with_name("reportqa")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("reportqa")
    return [found] if found else [sys.executable, "-m", "reportqa"]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), in the values' unit."""
    import numpy as np

    return round(float(np.percentile(np.asarray(values, dtype=float), q)), 2) if values else float("nan")


def rss_mib() -> dict[str, float]:
    """Current and peak resident memory of this process, from /proc (Linux)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mib": fields.get("VmRSS", float("nan")), "peak_rss_mib": fields.get("VmHWM", float("nan"))}


def machine() -> dict[str, object]:
    """nproc, CPU model, RAM and the versions that decide the figures."""
    import importlib.metadata as md

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    versions = {name: md.version(name) for name in ("torch", "sentence-transformers", "chromadb", "bm25s",
                                                      "jieba", "pypdf", "pypdfium2", "llama-index-core")}
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 2**20, 1),
            "python": platform.python_version(), "versions": versions, "code": _git_state(),
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


def _git_state() -> str:
    """The commit measured, and how many files differed from it."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else "?"

    changed = [line for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line]
    return f"{git('rev-parse', '--short', 'HEAD')} + {len(changed)} modified files"


def load_questions(paths: Sequence[Path]) -> list[str]:
    """The ``question`` field of every line of the given JSONL files, in file order."""
    questions = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                questions.append(json.loads(line)["question"])
    return questions


def cycled(items: Sequence[str], n: int) -> list[str]:
    return [items[i % len(items)] for i in range(n)] if items else []
