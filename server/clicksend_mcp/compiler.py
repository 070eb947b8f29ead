"""Turning a ToolSpec into a CompiledTool: input and output schemas, annotations, routing plan, a compiled validator."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

from .spec import ParamSpec, ToolSpec, find_combinators

# Only formats jsonschema checks without optional packages, so validation is the same on every install.
_FORMAT_CHECKER = FormatChecker(formats=("email", "date"))

RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The normalized result of every ClickSend call.",
    "properties": {
        "successful": {"type": "boolean", "description": "Whether the call succeeded."},
        "data": {"description": "ClickSend's `data`, unwrapped from its envelope; null on failure."},
        "error": {"type": ["string", "null"], "description": "What went wrong and what to do; null on success."},
        "error_code": {
            "type": ["string", "null"],
            "description": "Stable machine-readable code: INVALID_ARGUMENTS, BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, "
            "NOT_FOUND, CONFLICT, RATE_LIMITED, INSUFFICIENT_CREDIT, UPSTREAM_ERROR, TIMEOUT, NETWORK_ERROR, "
            "INTERNAL_ERROR; null on success.",
        },
        "http_code": {"type": ["integer", "null"], "description": "The HTTP status ClickSend answered."},
        "response_code": {"type": ["string", "null"], "description": "ClickSend's application code, e.g. SUCCESS."},
        "response_msg": {"type": ["string", "null"], "description": "ClickSend's message."},
        "warnings": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Things that need attention although the call succeeded (e.g. some messages refused).",
        },
        "sandbox": {"type": "boolean", "description": "True when the answer came from the built-in sandbox."},
    },
    "required": ["successful", "data", "error", "error_code"],
    "additionalProperties": True,
}


@dataclass(frozen=True)
class ArgumentProblem:
    """One reason the arguments were refused: where (a field path) and what was expected."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class CompiledTool:
    spec: ToolSpec
    input_schema: dict[str, Any]
    annotations: dict[str, Any]
    path_params: tuple[ParamSpec, ...]
    query_params: tuple[ParamSpec, ...]
    body_params: tuple[ParamSpec, ...]
    validator: Draft202012Validator = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def read_only(self) -> bool:
        return self.spec.annotations.read_only

    def check_arguments(self, arguments: Mapping[str, Any]) -> list[ArgumentProblem]:
        """Every problem with the arguments, most specific first; empty when they are valid."""
        errors = sorted(self.validator.iter_errors(dict(arguments)), key=_error_sort_key)
        return [ArgumentProblem(_field_of(err), _explain(err)) for err in errors[:20]]


class CompileError(ValueError):
    """A spec that loads but cannot become a tool (its schema is not valid JSON Schema)."""


def compile_tool(spec: ToolSpec) -> CompiledTool:
    properties: dict[str, Any] = {}
    for param in spec.params:
        schema = copy.deepcopy(param.schema_)
        schema["description"] = param.description.strip()
        properties[param.name] = schema
    input_schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    required = [p.name for p in spec.params if p.required]
    if required:
        input_schema["required"] = required
    if find_combinators(input_schema):
        raise CompileError(f"{spec.name}: top-level combinators are not allowed in an input schema")
    try:
        Draft202012Validator.check_schema(input_schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise CompileError(f"{spec.name}: input schema is not valid JSON Schema at {where}: {exc.message}") from None
    ann = spec.annotations
    annotations = {
        "title": spec.title,
        "readOnlyHint": ann.read_only,
        "destructiveHint": ann.destructive,
        "idempotentHint": ann.idempotent,
        "openWorldHint": ann.open_world,
    }
    return CompiledTool(
        spec=spec,
        input_schema=input_schema,
        annotations=annotations,
        path_params=tuple(p for p in spec.params if p.location == "path"),
        query_params=tuple(p for p in spec.params if p.location == "query"),
        body_params=tuple(p for p in spec.params if p.location == "body"),
        validator=Draft202012Validator(input_schema, format_checker=_FORMAT_CHECKER),
    )


def compile_tools(specs: Iterable[ToolSpec]) -> dict[str, CompiledTool]:
    """Compile every spec; raise one CompileError naming every spec that fails."""
    compiled: dict[str, CompiledTool] = {}
    failures: list[str] = []
    for spec in specs:
        try:
            compiled[spec.name] = compile_tool(spec)
        except CompileError as exc:
            failures.append(str(exc))
    if failures:
        raise CompileError("\n".join(failures))
    return compiled


# --- readable argument errors -------------------------------------------------------------------------------------

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def _error_sort_key(err: jsonschema.ValidationError) -> tuple[str, int]:
    return (_field_of(err), -len(err.absolute_path))


def _field_of(err: jsonschema.ValidationError) -> str:
    parts: list[str] = []
    for item in err.absolute_path:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}" if parts else str(item))
    path = "".join(parts)
    if err.validator == "required" and isinstance(err.instance, dict):
        missing = _missing_property(err)
        if missing:
            return f"{path}.{missing}" if path else missing
    return path or "arguments"


def _missing_property(err: jsonschema.ValidationError) -> str | None:
    required = err.validator_value if isinstance(err.validator_value, list) else []
    present = err.instance if isinstance(err.instance, dict) else {}
    missing = [str(name) for name in required if name not in present]
    for name in missing:
        if err.message.startswith(repr(name)):
            return name
    return missing[0] if missing else None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _explain(err: jsonschema.ValidationError) -> str:
    v, expected, got = err.validator, err.validator_value, err.instance
    if v == "required":
        return "is required"
    if v == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_TYPE_NAMES.get(k, k) for k in kinds)
        return f"expected {wanted}, got {_kind(got)}"
    if v == "enum":
        return f"expected one of {', '.join(repr(x) for x in expected)}; got {got!r}"
    if v == "const":
        return f"expected {expected!r}"
    if v == "additionalProperties":
        extras = sorted(set(got) - set(err.schema.get("properties", {}))) if isinstance(got, dict) else []
        allowed = ", ".join(sorted(err.schema.get("properties", {}))) or "none"
        return f"unknown field(s) {', '.join(extras)}; accepted fields: {allowed}"
    if v == "minimum":
        return f"expected a value >= {expected}, got {got!r}"
    if v == "maximum":
        return f"expected a value <= {expected}, got {got!r}"
    if v == "exclusiveMinimum":
        return f"expected a value > {expected}, got {got!r}"
    if v == "exclusiveMaximum":
        return f"expected a value < {expected}, got {got!r}"
    if v == "minLength":
        return f"expected at least {expected} character(s)"
    if v == "maxLength":
        return f"expected at most {expected} characters, got {len(got) if isinstance(got, str) else '?'}"
    if v == "minItems":
        return f"expected at least {expected} item(s), got {len(got) if isinstance(got, list) else '?'}"
    if v == "maxItems":
        return f"expected at most {expected} items, got {len(got) if isinstance(got, list) else '?'}"
    if v == "pattern":
        return f"expected text matching {expected}"
    if v == "format":
        return f"expected a valid {expected}"
    if v == "uniqueItems":
        return "expected unique items"
    return err.message if len(err.message) <= 200 else err.message[:200] + "..."
