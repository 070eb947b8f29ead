"""Minimal valid arguments for a tool, derived from its input schema (required fields only)."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from fake_clicksend import TEST_NUMBER

_CANDIDATES = ("sample", "AU", "1", TEST_NUMBER, "test1@test.com", "https://example.com/file.pdf", "en-au", "x")


def sample(schema: dict[str, Any], name: str = "", prefer: frozenset[str] = frozenset()) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "integer":
        low = schema.get("minimum", 1)
        return max(int(low), 1) if "maximum" not in schema else int(low)
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "array":
        item = sample(schema.get("items", {"type": "string"}), name, prefer)
        return [item] * max(1, int(schema.get("minItems", 1)))
    if kind == "object":
        props = schema.get("properties", {})
        names = list(schema.get("required", [])) + [
            k for k in props if k in prefer and k not in schema.get("required", [])
        ]
        return {k: sample(props.get(k, {"type": "string"}), k, prefer) for k in names}
    return _string(schema, name)


def _preferred(name: str) -> str | None:
    lowered = name.lower()
    if "email" in lowered:
        return "test1@test.com"
    if lowered in ("to", "from", "phone_number", "phone", "fax_number", "mobile") or lowered.endswith("_number"):
        return TEST_NUMBER
    if "url" in lowered:
        return "https://example.com/file.pdf"
    if "country" in lowered:
        return "AU"
    return None


def _string(schema: dict[str, Any], name: str) -> str:
    """The first plausible value the field's own schema accepts."""
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    preferred = _preferred(name)
    # Specs give an example in the description ("e.g. #9999FF"): it fits patterns the generic values do not.
    examples = [m.rstrip(".,;)") for m in re.findall(r"e\.g\. ?([^\s,;]+)", schema.get("description", ""))]
    candidates = ([preferred] if preferred else []) + examples + list(_CANDIDATES)
    min_length = int(schema.get("minLength", 1))
    candidates.append("s" * min_length)
    for candidate in candidates:
        if validator.is_valid(candidate):
            return candidate
    raise AssertionError(f"no sample value fits {name}: {schema}")


def minimal_arguments(input_schema: dict[str, Any], prefer: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Required fields only, plus optional nested fields named in `prefer` (e.g. a message's `to`)."""
    props = input_schema.get("properties", {})
    return {name: sample(props[name], name, prefer) for name in input_schema.get("required", [])}
