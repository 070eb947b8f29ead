"""Turning a ToolSpec into a CompiledTool: input and output schemas, annotations, routing plan, a compiled validator."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .catalogue import catalogue_problems
from .spec import ParamSpec, ToolSpec, find_combinators
from .times import INCLUSIVE_SUFFIX, UNIX_TIME, TimeField, publish, time_fields

if TYPE_CHECKING:
    import jsonschema
    from jsonschema import Draft202012Validator

# Inputs the server adds and handles itself; never sent to ClickSend. They mean the same on every tool, so their
# meaning is stated once, in the server's instructions (SERVER_INPUTS_NOTE), not in each of some 250 schemas.
DRY_RUN_PARAM: dict[str, Any] = {"type": "boolean", "default": False}
ALL_PAGES_PARAM: dict[str, Any] = {"type": "boolean", "default": False}
MAX_ITEMS_PARAM: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500}
FIELDS_PARAM: dict[str, Any] = {"type": "array", "items": {"type": "string"}, "minItems": 1}
KEEP_EMPTY_PARAM: dict[str, Any] = {"type": "boolean", "default": False}
SERVER_INPUTS_NOTE = (
    "Inputs the server adds mean the same on every tool: dry_run (sends): true sends and spends nothing and returns "
    "the request and ClickSend's quote (price, parts); all_pages (lists): fetch every page from `page` on, up to "
    "max_items items; fields: return only these fields of each item; keep_empty: keep items' null and empty fields."
)
# On every send tool, kept to its type: what it does is in the server's instructions and the README, and the
# dispatcher checks its length and characters.
IDEMPOTENCY_KEY_PARAM: dict[str, Any] = {"type": "string"}
SERVER_PARAMS = frozenset({"dry_run", "all_pages", "max_items", "fields", "keep_empty", "idempotency_key"})
EXCLUSIVE_NOTE = " Exclusive: a message at exactly this time is not included (use date_before_inclusive)."
DATE_BEFORE_INCLUSIVE_PARAM: dict[str, Any] = {
    "type": ["integer", "string"],
    "description": "Instead of date_before: includes the message at exactly this time (e.g. the last one you "
    "processed).",
}

# Maton connection ids as the gateway documents them (e.g. 37beee67-29f7-43b6-b0b2-5f0f7a5d6440): a UUID.
CONNECTION_ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# With --maton-connection-arg, every ClickSend tool in maton mode takes this input, sent as a header for one call.
# Validated when first asked for (`MATON_CONNECTION_PARAM`, module __getattr__ below): validating it at import would
# build the spec models' validators, which a start from the compiled catalogue otherwise never needs.
_MATON_CONNECTION_INPUT: dict[str, Any] = {
    "name": "maton_connection",
    "in": "header",
    "wire_name": "Maton-Connection",
    "schema": {"type": "string", "pattern": CONNECTION_ID_PATTERN},
    "description": "The Maton connection (ClickSend account) for this call only, as its connection_id from "
    "CLICKSEND_MATON_LIST_CONNECTIONS. Omitted: the server's MATON_CONNECTION, else Maton's oldest active one.",
}
_LAZY: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name == "MATON_CONNECTION_PARAM":
        if name not in _LAZY:
            _LAZY[name] = ParamSpec.model_validate(_MATON_CONNECTION_INPUT)
        return _LAZY[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Only formats jsonschema checks without optional packages, so validation is the same on every install.
CHECKED_FORMATS = ("email", "date")

# What every result honours (the tests hold every result to it); every result also carries http_code, response_code,
# response_msg and, when they apply, warnings, retry_after, tag, truncated, untrusted_content, sandbox.
RESULT_CONTRACT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "successful": {"type": "boolean"},
        "error": {"type": ["string", "null"]},
        "error_code": {"type": ["string", "null"]},
    },
    "required": ["successful", "data", "error", "error_code"],
}

# Published as every tool's outputSchema, so clients can rely on structuredContent's shape. It is repeated on every
# tool in tools/list, so it is the contract's core only; the server's instructions state the rest once.
OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"successful": {"type": "boolean"}},
    "required": ["successful", "data", "error", "error_code"],
}


@dataclass(frozen=True)
class ArgumentProblem:
    """One reason the arguments were refused: where (a field path) and what was expected."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


Path = tuple[tuple[str, bool], ...]
"""A parsed guard path: `messages[].to` is (("messages", True), ("to", False)); True means 'each item of'."""


def parse_path(text: str) -> Path:
    return tuple((part.removesuffix("[]"), part.endswith("[]")) for part in text.split("."))


@dataclass(frozen=True)
class CompiledGuard:
    recipients: tuple[tuple[Path, str], ...]
    tag: Path | None
    price_tool: str | None
    history_tool: str | None
    kind: str = "send"  # send: reaches people; spend: costs money, no recipients
    cost: str | None = None


@dataclass(frozen=True)
class CompiledTool:
    spec: ToolSpec
    input_schema: dict[str, Any]
    annotations: dict[str, Any]
    path_params: tuple[ParamSpec, ...]
    query_params: tuple[ParamSpec, ...]
    body_params: tuple[ParamSpec, ...]
    guard: CompiledGuard | None = None
    header_params: tuple[ParamSpec, ...] = ()
    untrusted: tuple[Path, ...] = ()
    times: tuple[TimeField, ...] = ()  # inputs that take a time (converted to Unix seconds before the call)
    # What arguments are checked against when it differs from the published schema (a send's published
    # recipient cap is the operator's, enforced by the guardrails with their own message).
    validation_schema: dict[str, Any] | None = None
    # Where the input schema's descriptions name a tool (CLICKSEND_...), as key paths: the only descriptions
    # presentation.py may rewrite for a selection, found once here rather than by walking every schema at each start.
    mentions: tuple[tuple[str | int, ...], ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def read_only(self) -> bool:
        return self.spec.annotations.read_only

    @property
    def sends(self) -> bool:
        return self.spec.sends is not None

    @property
    def paginated(self) -> bool:
        return self.spec.response.paginated and any(p.name == "page" for p in self.query_params)

    @cached_property
    def validator(self) -> Draft202012Validator:
        """Compiled on first use: start-up stays fast, and each call after the first reuses it."""
        from jsonschema import FormatChecker

        schema = self.validation_schema if self.validation_schema is not None else self.input_schema
        return _strict_validator_class()(schema, format_checker=FormatChecker(formats=CHECKED_FORMATS))

    @cached_property
    def _no_argument_problems(self) -> tuple[ArgumentProblem, ...]:
        """What validating no arguments at all finds: always the same, so found once (a read such as the account
        or the countries is usually called with none, and the validator's walk cost more than the rest of its
        preparation)."""
        return tuple(self._validate({}))

    def check_arguments(self, arguments: Mapping[str, Any]) -> list[ArgumentProblem]:
        """Every problem with the arguments, most specific first; empty when they are valid."""
        if not arguments:
            return list(self._no_argument_problems)
        return self._validate(arguments)

    def _validate(self, arguments: Mapping[str, Any]) -> list[ArgumentProblem]:
        huge = _unprintable_numbers(arguments)
        if huge:  # the validator's own messages would fail on them
            return huge
        errors = sorted(self.validator.iter_errors(dict(arguments)), key=_error_sort_key)
        problems: list[ArgumentProblem] = []
        for err in errors:
            problems.extend(_problems(err))
        return problems[:20]


class CompileError(ValueError):
    """A spec that loads but cannot become a tool (its schema is not valid JSON Schema)."""


def compile_tool(spec: ToolSpec, *, check_schema: bool = True) -> CompiledTool:
    """`check_schema=False` skips the JSON-Schema meta-check: only for specs that passed it before (the cache)."""
    if spec.alias_of and not spec.description.startswith(f"Same as {spec.alias_of}"):
        # An agent that meets both names learns at once that they are one endpoint.
        spec = spec.model_copy(
            update={"description": f"Same as {spec.alias_of} (a second name for one endpoint). {spec.description}"}
        )
    properties: dict[str, Any] = {}
    free_form = set(spec.free_form)
    for param in spec.params:
        schema = copy.deepcopy(param.schema_)
        _close_objects(schema, param.name, free_form)
        schema["description"] = param.description.strip()
        properties[param.name] = schema
    times = tuple(time_fields({"properties": properties}))
    properties = _publish_times(properties)
    for field in times:
        name = field.path[0][0]
        if len(field.path) == 1 and name == "date_before":
            # ClickSend's date_before is exclusive; the inclusive form marks the message at exactly that time too.
            properties[name]["description"] += EXCLUSIVE_NOTE
            properties[name + INCLUSIVE_SUFFIX] = {**DATE_BEFORE_INCLUSIVE_PARAM}
            times += (TimeField(((name + INCLUSIVE_SUFFIX, False),), inclusive_of=name),)
    if spec.guard is not None:
        properties["dry_run"] = dict(DRY_RUN_PARAM)
        properties["idempotency_key"] = dict(IDEMPOTENCY_KEY_PARAM)
    elif spec.local is not None and spec.confirm is not None:
        # A local tool that changes the account shows its plan first.
        properties["dry_run"] = {**DRY_RUN_PARAM, "description": "true: change nothing; return what would change."}
    paginated = spec.response.paginated and any(p.name == "page" and p.location == "query" for p in spec.params)
    if paginated:
        properties["all_pages"] = dict(ALL_PAGES_PARAM)
        properties["max_items"] = dict(MAX_ITEMS_PARAM)
    if spec.http is not None and spec.http.method == "GET" and "fields" not in properties:
        properties["fields"] = copy.deepcopy(FIELDS_PARAM)
    if paginated and "keep_empty" not in properties:
        properties["keep_empty"] = dict(KEEP_EMPTY_PARAM)
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
    if check_schema:
        import jsonschema

        try:
            jsonschema.Draft202012Validator.check_schema(input_schema)
        except jsonschema.SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "(root)"
            raise CompileError(
                f"{spec.name}: input schema is not valid JSON Schema at {where}: {exc.message}"
            ) from None
    guard = _compile_guard(spec, input_schema)
    ann = spec.annotations
    # No title here: the tool's own title says it, and every byte of tools/list is paid for in each conversation.
    annotations = {
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
        guard=guard,
        header_params=tuple(p for p in spec.params if p.location == "header"),
        untrusted=tuple(parse_path(p) for p in spec.response.untrusted),
        times=times,
        mentions=tuple(tool_mentions(input_schema)),
    )


TOOL_PREFIX = "CLICKSEND_"


def tool_mentions(schema: Any, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The key paths of the descriptions in a schema that name a tool (hold CLICKSEND_), in document order."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                if TOOL_PREFIX in value:
                    found.append((*at, key))
            else:
                found += tool_mentions(value, (*at, key))
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found += tool_mentions(value, (*at, index))
    return found


def _publish_times(node: Any) -> Any:
    """Spec schemas -> published ones: each `format: unix-time` input also takes the text forms times.py reads."""
    if isinstance(node, dict):
        if node.get("format") == UNIX_TIME:
            # The text forms a time input takes are the same everywhere: the server's instructions say them once.
            return publish(node)
        return {k: _publish_times(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_publish_times(v) for v in node]
    return node


def _close_objects(schema: Any, path: str, free_form: set[str]) -> None:
    """Unknown keys are refused at every level: a misspelt `shedule` must not reach ClickSend (and send now).

    An object that declares properties gets `additionalProperties: false`, unless it already says what extra keys
    may hold or the spec lists its path under `free_form` (objects ClickSend documents as open maps).
    """
    if not isinstance(schema, dict):
        return
    kinds = schema.get("type")
    is_object = kinds == "object" or (isinstance(kinds, list) and "object" in kinds)
    if is_object and "properties" in schema and "additionalProperties" not in schema and path not in free_form:
        schema["additionalProperties"] = False
    for name, sub in schema.get("properties", {}).items():
        _close_objects(sub, f"{path}.{name}", free_form)
    if isinstance(schema.get("items"), dict):
        _close_objects(schema["items"], f"{path}[]", free_form)
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(keyword, ()) or ():
            _close_objects(branch, path, free_form)


def _schema_at(schema: dict[str, Any], path: Path) -> dict[str, Any] | None:
    node: dict[str, Any] | None = schema
    for name, each in path:
        if node is None:
            return None
        node = node.get("properties", {}).get(name)
        if node is not None and each:
            node = node.get("items") if node.get("type") == "array" else None
    return node


def _compile_guard(spec: ToolSpec, input_schema: dict[str, Any]) -> CompiledGuard | None:
    if spec.guard is None:
        return None
    recipients = []
    for item in spec.guard.recipients:
        path = parse_path(item.path)
        if _schema_at(input_schema, path) is None:
            raise CompileError(f"{spec.name}: guard.recipients path {item.path!r} is not in the input schema")
        recipients.append((path, item.kind))
    tag = parse_path(spec.guard.tag) if spec.guard.tag else None
    if tag is not None and _schema_at(input_schema, tag) is None:
        raise CompileError(f"{spec.name}: guard.tag path {spec.guard.tag!r} is not in the input schema")
    return CompiledGuard(
        tuple(recipients), tag, spec.guard.price_tool, spec.guard.history_tool, spec.guard.kind, spec.guard.cost
    )


def with_param(tool: CompiledTool, param: ParamSpec) -> CompiledTool:
    """The tool with one more input the server adds (e.g. maton_connection): recompiled, so schema, validator and
    routing all know it. The spec it came from passed the full checks already."""
    if param.name in tool.spec.param_by_name:
        return tool
    spec = tool.spec.model_copy(update={"params": (*tool.spec.params, param)})
    return compile_tool(spec, check_schema=False)


def compile_tools(specs: Iterable[ToolSpec], *, check_schemas: bool = True) -> dict[str, CompiledTool]:
    """Compile every spec; raise one CompileError naming every spec that fails."""
    compiled: dict[str, CompiledTool] = {}
    failures: list[str] = []
    for spec in specs:
        try:
            compiled[spec.name] = compile_tool(spec, check_schema=check_schemas)
        except CompileError as exc:
            failures.append(str(exc))
    from .local_tools import HANDLERS  # here, not at import: local tools build on the compiled tools

    for tool in compiled.values():
        local = tool.spec.local
        if local is not None and local.handler not in HANDLERS:
            failures.append(f"{tool.name}: local.handler {local.handler!r} is not one of {sorted(HANDLERS)}")
        guard = tool.guard
        if guard is None:
            continue
        price = compiled.get(guard.price_tool) if guard.price_tool else None
        if guard.price_tool and (price is None or not price.read_only):
            failures.append(f"{tool.name}: guard.price_tool {guard.price_tool} is not a read-only tool")
        if guard.history_tool and guard.history_tool not in compiled:
            failures.append(f"{tool.name}: guard.history_tool {guard.history_tool} is not a tool")
    failures += catalogue_problems(tool.spec for tool in compiled.values())
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


MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer every JSON reader holds exactly; ClickSend's ids and timestamps are far below it."""


def _is_strict_integer(checker: Any, instance: Any) -> bool:
    # jsonschema counts 1.0 and 1e308 as integers; they would reach ClickSend as "1.0" and "1e+308".
    return isinstance(instance, int) and not isinstance(instance, bool) and abs(instance) <= MAX_SAFE_INTEGER


def _is_finite_number(checker: Any, instance: Any) -> bool:
    if isinstance(instance, bool) or not isinstance(instance, (int, float)):
        return False
    return isinstance(instance, int) or math.isfinite(instance)


_VALIDATOR_CLASS: type[Draft202012Validator] | None = None


def _strict_validator_class() -> type[Draft202012Validator]:
    """Draft 2020-12 with exact integers (no 1.0, nothing past 2^53) and finite numbers."""
    global _VALIDATOR_CLASS
    if _VALIDATOR_CLASS is None:
        from jsonschema import Draft202012Validator, validators

        checker = Draft202012Validator.TYPE_CHECKER.redefine_many(
            {"integer": _is_strict_integer, "number": _is_finite_number}
        )
        # types-jsonschema leaves extend() unannotated; it returns a subclass of the validator it extends.
        _VALIDATOR_CLASS = validators.extend(Draft202012Validator, type_checker=checker)  # type: ignore[no-untyped-call]
    return _VALIDATOR_CLASS


def _unprintable_numbers(arguments: Mapping[str, Any]) -> list[ArgumentProblem]:
    """Integers past Python's int-to-text limit (4,300 digits): no message, log line or request could show them."""
    found: list[ArgumentProblem] = []
    stack: list[tuple[str, Any]] = [(str(k), v) for k, v in arguments.items()]
    while stack and len(found) < 20:
        where, value = stack.pop()
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 14_000:
            found.append(ArgumentProblem(where, f"expected a number, got an integer of about {_digits(value)} digits"))
        elif isinstance(value, dict):
            stack.extend((f"{where}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))
    return sorted(found, key=lambda p: p.field)


def _digits(value: int) -> int:
    return int(value.bit_length() * 0.30103) + 1


def _problems(err: jsonschema.ValidationError) -> list[ArgumentProblem]:
    """One problem per unknown key (with the closest known key), else one per error."""
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        import difflib

        known = _schema_properties(err)
        base = _field_of(err)
        base = "" if base == "arguments" else base
        extras = sorted(str(k) for k in set(err.instance) - set(known))
        problems = []
        for key in extras:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if close:
                message = f"unknown field; did you mean {close[0]}?"
            else:
                message = f"unknown field; accepted fields: {', '.join(known) or 'none'}"
            problems.append(ArgumentProblem(f"{base}.{key}" if base else key, message))
        if problems:
            return problems
    return [ArgumentProblem(_field_of(err), _explain(err))]


def _schema_properties(err: jsonschema.ValidationError) -> list[str]:
    """The property names of the (object) schema an error was raised against, sorted; none for any other schema."""
    schema = err.schema  # a mapping for every error iter_errors yields; typed wider for hand-built errors
    properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    return sorted(properties)


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


def _show(value: Any) -> str:
    """A short, safe rendering of an argument value (repr of a 5,000-digit integer raises)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {_digits(value)} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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


def object_keys(schema: Any) -> str:
    """' with fields a, b (required: a)' for an object schema, so an agent can write the object it was refused."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict) or not schema["properties"]:
        return ""
    required = [str(r) for r in schema.get("required", [])]
    text = " with fields " + ", ".join(sorted(schema["properties"]))
    return text + (f" (required: {', '.join(required)})" if required else "")


def _explain(err: jsonschema.ValidationError) -> str:
    v, got = err.validator, err.instance
    expected: Any = err.validator_value  # the schema keyword's value: any JSON (set on every error iter_errors yields)
    if v == "required":
        return "is required"
    if v == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_TYPE_NAMES.get(str(k), str(k)) for k in kinds)
        if isinstance(got, (int, float)) and not isinstance(got, bool) and ("integer" in kinds or "number" in kinds):
            if isinstance(got, float) and not math.isfinite(got):
                return f"expected {wanted}, got {_show(got)}"
            if isinstance(got, float) and "integer" in kinds:
                return f"expected {wanted} (a whole number without a decimal point or exponent), got {_show(got)}"
            if isinstance(got, int):
                return f"expected {wanted} between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}, got {_show(got)}"
        keys = object_keys(err.schema) if "object" in kinds else ""
        return f"expected {wanted}{keys}, got {_kind(got)}"
    if v == "enum":
        return f"expected one of {', '.join(repr(x) for x in expected)}; got {_show(got)}"
    if v == "const":
        return f"expected {expected!r}"
    if v == "additionalProperties":
        known = _schema_properties(err)
        extras = sorted(set(got) - set(known)) if isinstance(got, dict) else []
        allowed = ", ".join(known) or "none"
        return f"unknown field(s) {', '.join(extras)}; accepted fields: {allowed}"
    if v == "minimum":
        return f"expected a value >= {expected}, got {_show(got)}"
    if v == "maximum":
        return f"expected a value <= {expected}, got {_show(got)}"
    if v == "exclusiveMinimum":
        return f"expected a value > {expected}, got {_show(got)}"
    if v == "exclusiveMaximum":
        return f"expected a value < {expected}, got {_show(got)}"
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
