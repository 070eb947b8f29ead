"""The package type-checks: mypy, strict, with the project's own configuration ([tool.mypy] in pyproject.toml),
over every module of server/clicksend_mcp, from a cold cache as on a fresh CI clone."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "server" / "clicksend_mcp"


def test_the_package_type_checks_with_no_errors(tmp_path: Path) -> None:
    assert importlib.util.find_spec("mypy") is not None, "mypy is missing: pip install -e '.[test]'"
    # A fresh cache dir: the run is the same cold one CI makes, and never reads a stale cache left by a developer.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"mypy found errors (run `python -m mypy` from the repository root):\n{output}"
    checked = re.search(r"Success: no issues found in (\d+) source files", done.stdout)
    assert checked, output
    # Every module is checked: a narrowed `files` or an exclude would otherwise pass by checking less.
    modules = [p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts]
    assert int(checked.group(1)) == len(modules), output


def test_the_configuration_is_strict_and_ignores_missing_imports_only_by_name() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True
    assert config["files"] == ["server/clicksend_mcp"]
    assert "ignore_missing_imports" not in config, "name the untyped package in an override instead"
    for override in config.get("overrides", []):
        modules = override["module"] if isinstance(override["module"], list) else [override["module"]]
        assert not any(m.startswith("clicksend_mcp") for m in modules), f"an override weakens our own code: {override}"
