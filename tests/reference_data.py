"""The project's reference data (`reference/` in this repository): the catalogue, the action map, the specs."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).resolve().parents[1] / "reference"


@functools.cache
def _load(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text())


def reference(name: str) -> Any:
    """A reference file, parsed once. It ships with the repository, so a missing file is an error, never a skip."""
    path = REFERENCE / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the reference data ships in reference/ with the repository")
    return _load(name)
