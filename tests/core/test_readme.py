"""README's quick start holds for a fresh clone: it says how to change the port, and every file
or folder of the repository it names is in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Made by `make run` or `make install`, so a fresh clone lacks them by design.
GENERATED = ("instance/", "./instance", ".venv")


def tracked() -> set[str]:
    listing = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    folders = {str(Path(name).parent) + "/" for name in listing}
    return set(listing) | folders | {folder.rstrip("/") for folder in folders}


def mentioned_paths() -> set[str]:
    """Repository paths README names: link targets and `code` that looks like a path."""
    candidates = set(re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README))
    candidates |= set(re.findall(r"`([^`\s]+)`", README))
    paths = set()
    for item in candidates:
        if "://" in item or item.startswith(("/", "<", "http")) or "=" in item:
            continue  # URLs, routes on the running app, settings
        if item.startswith(("application/", "text/")):
            continue  # media types
        if "/" not in item and not re.search(r"\.(md|json|csv|py|txt|toml|cfg)$", item):
            continue
        if item.startswith(GENERATED):
            continue
        paths.add(item.rstrip("/") if item.endswith("/") and item != "/" else item)
    return paths


def test_readme_says_how_to_change_the_port() -> None:
    assert "PORT=8080 make run" in README


def test_every_path_readme_names_is_in_a_fresh_clone() -> None:
    files = tracked()
    missing = sorted(
        path for path in mentioned_paths() if path not in files and path.rstrip("/") not in files
    )
    assert missing == [], f"README names paths a fresh clone lacks: {missing}"
    assert "docs/mappings/comcast.json" in mentioned_paths()  # the check does look at paths
