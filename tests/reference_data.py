"""The project's reference data (../shared/reference beside the checkout): the catalogue, the action map, the specs."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
IN_CI = bool(os.environ.get("CI"))


@functools.cache
def _load(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text())


def reference(name: str) -> Any:
    """A reference file, parsed once. Missing: fail in CI (it runs with ../shared beside it), else skip."""
    path = REFERENCE / name
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing: CI runs with ../shared beside the checkout")
        pytest.skip(f"{path} is not beside this checkout")
    return _load(name)
