"""Tests that race separate processes: start them together, wait for all, fail on any failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_together(
    commands: list[list[str]], env: dict[str, str] | None = None, timeout: float = 300
) -> list[str]:
    """Start every command (the interpreter's arguments, e.g. `["-m", "tests.core.x", url]`) at
    once from the repository root with LOOP_ENV=testing and `env`, wait for them all, and return
    their outputs (stdout and stderr together). A process that fails fails the test with its
    output; none is left running."""
    environment = {**os.environ, "LOOP_ENV": "testing", **(env or {})}
    processes = [
        subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for command in commands
    ]
    outputs = []
    try:
        for process in processes:
            output, _ = process.communicate(timeout=timeout)
            outputs.append(output)
            assert process.returncode == 0, output
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    return outputs
