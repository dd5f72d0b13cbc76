"""Shared helpers for the benchmark modules: measured figures, tables, temporary environments."""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured number: what it is, its value and unit, and an optional note (a target)."""

    name: str
    value: float
    unit: str
    note: str = ""

    def formatted_value(self) -> str:
        if self.value != self.value:  # NaN: not measurable here
            return "n/a"
        if self.unit == "s":
            return f"{self.value:,.2f}"
        if self.unit == "ms":
            return f"{self.value:,.3f}"
        if abs(self.value) >= 100 or float(self.value).is_integer():
            return f"{self.value:,.0f}"
        return f"{self.value:,.1f}"


def format_table(figures: list[Figure]) -> str:
    rows = [(figure.name, figure.formatted_value(), figure.unit, figure.note) for figure in figures]
    headers = ("figure", "value", "unit", "note")
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        name, value, unit, note = cells
        return f"{name:<{widths[0]}}  {value:>{widths[1]}}  {unit:<{widths[2]}}  {note}".rstrip()

    separator = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), separator, *(line(row) for row in rows)])


def machine_summary() -> str:
    return (
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPU(s), {platform.system()} {platform.machine()}"
    )


def peak_rss_mib(pid: int | str = "self") -> float | None:
    """Peak resident memory (the high-water mark) of a process, in MiB.

    On Linux this is VmHWM from /proc, which belongs to the process's own memory image. Its
    `ru_maxrss` is not used there: a process started with fork (or vfork) and exec keeps the
    larger of its parent's resident size at the fork and its own, so a small verify started by a
    benchmark that has just loaded a million rows would report the benchmark's memory. Elsewhere
    (no /proc), `ru_maxrss` of this process is the best there is; None for another process.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    if pid != "self":
        return None
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mib: float | None


def run_measured(command: list[str], **popen: Any) -> Measured:
    """Run a command to its end: wall time, output, and its peak memory, sampled every 20 ms."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen
    )
    peak: float | None = None
    while process.poll() is None:
        sample = peak_rss_mib(process.pid)
        if sample is not None:
            peak = sample if peak is None else max(peak, sample)
        time.sleep(0.02)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    return Measured(process.returncode, stdout, stderr, seconds, peak)


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block and put the old values back afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def say(message: str) -> None:
    print(message, flush=True)


REPO_ROOT = Path(__file__).resolve().parents[2]


def env_int(name: str, default: int) -> int:
    """An integer option from the environment (how `run_all` passes options), or the default."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def flask_command() -> list[str]:
    """The venv's `flask` script (or `python -m flask`), to run the real CLI in a subprocess."""
    script = Path(sys.executable).with_name("flask")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flask"]


def subprocess_env(database_url: str, instance_dir: Path) -> dict[str, str]:
    """The environment for a CLI subprocess working on the benchmark's database."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        LOOP_ENV="testing",
        LOOP_INSTANCE_DIR=str(instance_dir),
        LOOP_SCHEDULER="off",
    )
    return env


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95 → p95) of the samples."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]
