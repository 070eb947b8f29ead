"""The typed model of one tool spec file (`tool_specs/**/*.yaml`) and its cross-field checks."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TOOL_NAME_RE = re.compile(r"^CLICKSEND_[A-Z0-9_]{1,54}$")
PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
TOOLSET_RE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")

JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object", "null"})
COMBINATORS = ("anyOf", "oneOf", "allOf", "not")
SEND_CHANNELS = ("sms", "mms", "voice", "email", "fax", "post")
HEADER_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
# Inputs the server adds to tools itself (compiler.py); a spec may not declare them.
SERVER_PARAM_NAMES = ("dry_run", "all_pages", "max_items", "maton_connection", "idempotency_key")

Api = Literal["clicksend", "maton_control", "skillboss"]
"""Which API answers a tool: ClickSend's REST API v3 (direct, the Maton gateway, the sandbox), Maton's connection
control API, or SkillBoss's /run. Each backend serves some of them (backends/)."""


class _Strict(BaseModel):
    # defer_build: the validators are built when a spec is first validated (reading YAML or the spec cache); a start
    # from the compiled catalogue (catalogue_cache.py) unpickles specs and never pays for building them.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class HttpSpec(_Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(description="Path relative to the API's base, with {placeholders} for path parameters.")
    fixed_query: dict[str, str] = Field(default_factory=dict, description="Query fields sent with every call.")
    fixed_body: dict[str, Any] = Field(default_factory=dict, description="Body fields sent with every call.")
    body_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        description="Send the body parameters inside this key of the body (SkillBoss: inputs) rather than at its top.",
    )

    @field_validator("path")
    @classmethod
    def _path_shape(cls, value: str) -> str:
        if not value.startswith("/") or value.startswith("//"):
            raise ValueError("must start with a single '/' (relative to the /v3 base)")
        if "?" in value or "#" in value or ".." in value:
            raise ValueError("must not contain '?', '#' or '..'; use query parameters instead")
        if re.search(r"\s", value):
            raise ValueError("must not contain white space")
        return value

    @property
    def placeholders(self) -> list[str]:
        return PLACEHOLDER_RE.findall(self.path)


class LocalSpec(_Strict):
    """A tool the server answers itself (from its ledger, or by composing other tools) instead of one HTTP call."""

    handler: str = Field(
        pattern=r"^[a-z][a-z0-9_]{2,63}$", description="The name of the handler registered in local_tools.py."
    )


class ParamSpec(_Strict):
    name: str
    # `local`: an input of a local tool, read by its handler; never sent to ClickSend as is.
    location: Literal["path", "query", "body", "header", "local"] = Field(alias="in")
    required: bool = False
    description: str = Field(min_length=3)
    schema_: dict[str, Any] = Field(alias="schema")
    wire_name: str | None = Field(
        default=None, description="The name ClickSend uses, when the tool's input name (the catalogue's) differs."
    )

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not PARAM_NAME_RE.match(value):
            raise ValueError(f"{value!r} must match {PARAM_NAME_RE.pattern}")
        return value

    @field_validator("schema_")
    @classmethod
    def _schema_shape(cls, value: dict[str, Any]) -> dict[str, Any]:
        kind = value.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if kind is None and "enum" not in value:
            raise ValueError("needs a 'type' (or an 'enum')")
        unknown = [k for k in kinds if k is not None and k not in JSON_TYPES]
        if unknown:
            raise ValueError(f"unknown JSON type(s) {unknown}; expected one of {sorted(JSON_TYPES)}")
        if "description" in value:
            raise ValueError("put the description on the parameter, not inside its schema")
        bad = _misplaced_unix_time(value, "schema")
        if bad:
            raise ValueError(f"format: unix-time marks integer Unix seconds; not {', '.join(bad)}")
        return value

    @property
    def wire(self) -> str:
        return self.wire_name or self.name


class AnnotationsSpec(_Strict):
    """Always explicit: a spec that leaves any hint out does not load."""

    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool


class CatalogueDifference(_Strict):
    input: str
    change: Literal["added", "removed", "required", "optional", "renamed", "type", "location"]
    reason: str = Field(min_length=10)


class SourceSpec(_Strict):
    """Where the tool comes from and what was decided on the way."""

    catalogue: bool = Field(description="True when the tool is a CLICKSEND_* catalogue action.")
    operation_id: str | None = None
    confidence: Literal["high", "medium", "low"] = "high"
    notes: str | None = None
    differences: tuple[CatalogueDifference, ...] = ()


class RecipientSpec(_Strict):
    """Where a send tool's recipients are: `messages[].to` reads `to` from each item of `messages`."""

    path: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\])?)*$")
    kind: Literal["phone", "fax", "email", "postal", "list", "area", "stored_email"]
    """`stored_email`: an address ClickSend holds, named by its id (it cannot be checked against the policy)."""


class GuardSpec(_Strict):
    """What the guardrails need to know about a tool that reaches a person (`send`) or spends money (`spend`).

    Both kinds are hidden by --read-only, take `dry_run` and are confirmed under --confirm-sends; a `send` also has
    its recipients checked (E.164, --max-recipients, --allowed-countries, --test-numbers-only)."""

    kind: Literal["send", "spend"] = "send"
    recipients: tuple[RecipientSpec, ...] = ()
    cost: str | None = Field(
        default=None,
        min_length=10,
        description="What ClickSend charges for one call (spend guards): shown to the person.",
    )
    price_tool: str | None = Field(default=None, description="The read-only tool that quotes this send.")
    tag: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\])?)*$",
        description="Where to put a lookup tag (e.g. messages[].custom_string) when the caller gave none.",
    )
    history_tool: str | None = Field(default=None, description="Where a tagged send can be looked up.")

    @model_validator(mode="after")
    def _kind_fits(self) -> GuardSpec:
        if self.kind == "send" and not self.recipients:
            raise ValueError("recipients: a send guard says where the recipients are (at least one path)")
        if self.kind == "spend":
            if self.recipients or self.tag:
                raise ValueError(
                    "a spend guard has no recipients and no tag (use kind: send for tools that reach people)"
                )
            if not self.cost:
                raise ValueError("cost: a spend guard says what ClickSend charges")
        return self


class ResponseSpec(_Strict):
    model_config = ConfigDict(defer_build=False)  # ToolSpec's default is an instance, made at import

    unwrap: Literal["data"] | None = "data"
    paginated: bool = False
    untrusted: tuple[str, ...] = Field(
        default=(),
        description="Result paths holding text written by third parties (inbound messages, email bodies).",
    )


class ConfirmSpec(_Strict):
    """A tool that does not send but still needs the person's yes under --confirm-sends (it cuts something off)."""

    message: str = Field(
        min_length=10, description="What the person is asked; {param} placeholders take the call's arguments."
    )


class ToolSpec(_Strict):
    name: str
    title: str = Field(min_length=3, max_length=80)
    toolset: str
    description: str = Field(min_length=40)
    http: HttpSpec | None = None
    local: LocalSpec | None = None
    params: tuple[ParamSpec, ...] = ()
    annotations: AnnotationsSpec
    sends: Literal["sms", "mms", "voice", "email", "fax", "post"] | None = Field(
        default=None, description="The channel, when a call can reach a phone, an inbox or a mailbox and cost money."
    )
    guard: GuardSpec | None = None
    source: SourceSpec
    response: ResponseSpec = ResponseSpec()
    api: Api = "clicksend"
    confirm: ConfirmSpec | None = None
    default: bool = Field(
        default=False,
        description="True when the tool is in the default selection (the `default` toolset): chosen by the everyday "
        "tasks agents are given; see the README. The loader caps the default at 40 tools.",
    )
    alias_of: str | None = Field(
        default=None,
        description="The canonical tool reaching the same endpoint: this one stays callable by name but is listed "
        "only with --toolsets all or aliases.",
    )
    free_form: tuple[str, ...] = Field(
        default=(),
        description="Input objects ClickSend documents as open maps (e.g. `fields` or `businesses[].meta`): "
        "they accept keys beyond their listed properties. Every other object refuses unknown keys.",
    )

    @field_validator("name")
    @classmethod
    def _tool_name(cls, value: str) -> str:
        if not TOOL_NAME_RE.match(value):
            raise ValueError(f"{value!r} must match {TOOL_NAME_RE.pattern}")
        return value

    @field_validator("toolset")
    @classmethod
    def _toolset_name(cls, value: str) -> str:
        if not TOOLSET_RE.match(value):
            raise ValueError(f"{value!r} must match {TOOLSET_RE.pattern}")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> ToolSpec:
        names = [p.name for p in self.params]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"params: duplicate names {dupes}")
        wires = [(p.location, p.wire) for p in self.params]
        wire_dupes = sorted({f"{loc}:{w}" for loc, w in wires if wires.count((loc, w)) > 1})
        if wire_dupes:
            raise ValueError(f"params: two inputs send the same {wire_dupes}")
        if (self.http is None) == (self.local is None):
            raise ValueError("a tool has exactly one of http (one ClickSend call) or local (answered by the server)")
        if self.local is not None:
            return self._local_checks()
        assert self.http is not None
        if any(p.location == "local" for p in self.params):
            raise ValueError("params: 'in: local' is only for local tools")
        placeholders = self.http.placeholders
        if len(set(placeholders)) != len(placeholders):
            raise ValueError(f"http.path: a placeholder appears twice in {self.http.path}")
        path_params = {p.wire for p in self.params if p.location == "path"}
        if set(placeholders) != path_params:
            raise ValueError(
                f"http.path placeholders {sorted(placeholders)} must equal the 'in: path' params {sorted(path_params)}"
            )
        not_required = sorted(p.name for p in self.params if p.location == "path" and not p.required)
        if not_required:
            raise ValueError(f"params: path parameters must be required: {not_required}")
        if self.http.method == "GET" and self.params and any(p.location == "body" for p in self.params):
            raise ValueError("params: a GET tool has no body parameters")
        ann = self.annotations
        if self.http.method == "GET" and not ann.read_only:
            raise ValueError("annotations.read_only: a GET tool is read-only")
        if ann.read_only and ann.destructive:
            raise ValueError("annotations: a read-only tool is not destructive")
        if self.sends is not None and ann.read_only:
            raise ValueError("sends: a tool that sends is not read-only")
        if self.sends is not None and not ann.open_world:
            raise ValueError("annotations.open_world: a tool that sends reaches the outside world")
        if self.sends is not None and (self.guard is None or self.guard.kind != "send"):
            raise ValueError("guard: a tool that sends needs a guard block of kind send (where its recipients are)")
        if self.guard is not None and self.guard.kind == "send" and self.sends is None:
            raise ValueError("sends: a send guard needs the channel it sends on (sms, mms, voice, email, fax, post)")
        if self.guard is not None and ann.read_only:
            raise ValueError("guard: a read-only tool neither sends nor spends")
        if any(p.name in SERVER_PARAM_NAMES for p in self.params):
            raise ValueError(f"params: {', '.join(SERVER_PARAM_NAMES)} are added by the server")
        bad_headers = sorted(p.wire for p in self.params if p.location == "header" and not HEADER_NAME_RE.match(p.wire))
        if bad_headers:
            raise ValueError(f"params: header names must match {HEADER_NAME_RE.pattern}: {bad_headers}")
        self._check_fixed_fields()
        if self.confirm is not None:
            if ann.read_only or self.sends is not None:
                raise ValueError("confirm: only for tools that change things without sending (sends always ask)")
            unknown = sorted(set(PLACEHOLDER_RE.findall(self.confirm.message)) - set(names))
            if unknown:
                raise ValueError(f"confirm.message: {unknown} are not parameters of this tool")
        if self.alias_of is not None:
            if not TOOL_NAME_RE.match(self.alias_of) or self.alias_of == self.name:
                raise ValueError(f"alias_of: {self.alias_of!r} must name another tool")
            if self.default:
                raise ValueError("default: an alias is never in the default selection (its canonical tool is)")
        for path in self.free_form:
            problem = _free_form_problem(self.params, path)
            if problem:
                raise ValueError(f"free_form: {path!r} {problem}")
        for diff in self.source.differences:
            if diff.change != "removed" and diff.input not in names:
                raise ValueError(f"source.differences: {diff.input!r} is not an input of this tool")
        return self

    def _local_checks(self) -> ToolSpec:
        outside = sorted(p.name for p in self.params if p.location != "local")
        if outside:
            raise ValueError(f"params: a local tool's inputs are 'in: local', not {outside}")
        if self.sends is not None or self.guard is not None:
            raise ValueError("sends/guard: a local tool does not send by itself")
        if self.response.paginated:
            raise ValueError("response.paginated: a local tool is not paginated")
        if self.annotations.read_only and self.annotations.destructive:
            raise ValueError("annotations: a read-only tool is not destructive")
        if any(p.name in SERVER_PARAM_NAMES for p in self.params):
            raise ValueError(f"params: {', '.join(SERVER_PARAM_NAMES)} are added by the server")
        return self

    @property
    def endpoint(self) -> str:
        """What a call does: `POST /sms/send`, or `local: handler` for a tool the server answers."""
        if self.http is not None:
            return f"{self.http.method} {self.http.path}"
        assert self.local is not None
        return f"local: {self.local.handler}"

    def _check_fixed_fields(self) -> None:
        http = self.http
        assert http is not None
        query_wires = {p.wire for p in self.params if p.location == "query"}
        clash = sorted(set(http.fixed_query) & query_wires)
        if clash:
            raise ValueError(f"http.fixed_query: {clash} are also query parameters")
        has_body = any(p.location == "body" for p in self.params)
        if http.method == "GET" and (http.fixed_body or http.body_key):
            raise ValueError("http: a GET tool has no body (fixed_body, body_key)")
        if http.body_key is not None:
            if not has_body:
                raise ValueError("http.body_key: the tool has no body parameters to put there")
            if http.body_key in http.fixed_body:
                raise ValueError("http.body_key: also a key of http.fixed_body")
        else:
            body_wires = {p.wire for p in self.params if p.location == "body"}
            clash = sorted(set(http.fixed_body) & body_wires)
            if clash:
                raise ValueError(f"http.fixed_body: {clash} are also body parameters")

    @property
    def param_by_name(self) -> dict[str, ParamSpec]:
        return {p.name: p for p in self.params}


def _misplaced_unix_time(node: Any, where: str) -> list[str]:
    """Where `format: unix-time` (the compiler's marker for time inputs) sits on something other than an integer."""
    if isinstance(node, dict):
        found = [where] if node.get("format") == "unix-time" and node.get("type") not in ("integer", "number") else []
        for key, value in node.items():
            found += _misplaced_unix_time(value, f"{where}.{key}")
        return found
    if isinstance(node, list):
        return [bad for index, value in enumerate(node) for bad in _misplaced_unix_time(value, f"{where}[{index}]")]
    return []


def find_combinators(schema: Any) -> list[str]:
    """The combinator keywords at the top level of a schema (some clients reject a whole tool list over one)."""
    if not isinstance(schema, dict):
        return []
    return [k for k in COMBINATORS if k in schema]


_FREE_FORM_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\])?)*$")


def _free_form_problem(params: tuple[ParamSpec, ...], path: str) -> str | None:
    """Why `path` (`messages[].meta`) does not name an object schema among the params, or None when it does."""
    if not _FREE_FORM_PATH.match(path):
        return "must look like name, name[] or name[].field"
    parts = path.split(".")
    first = parts[0].removesuffix("[]")
    param = next((p for p in params if p.name == first), None)
    if param is None:
        return f"{first!r} is not a parameter"
    node: Any = param.schema_
    for index, part in enumerate(parts):
        name, each = part.removesuffix("[]"), part.endswith("[]")
        if index > 0:
            node = node.get("properties", {}).get(name) if isinstance(node, dict) else None
        if node is not None and each:
            node = node.get("items") if isinstance(node, dict) else None
        if node is None:
            return "is not in the parameter's schema"
    kinds = node.get("type") if isinstance(node, dict) else None
    if not (kinds == "object" or (isinstance(kinds, list) and "object" in kinds)):
        return "is not an object"
    return None
