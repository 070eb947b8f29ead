"""Running one call: prepare (validate, guard, limits, build) -> [confirmation, done by the app] -> execute ->
normalize -> record.

Knows nothing of MCP: progress is a plain callback and confirmation happens between prepare and execute. Sends go
through the ledger when there is one: checked in prepare, reserved atomically just before the request, settled after.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from . import results
from .backends import BackendConfig, backends_serving
from .backends.tenants import TenantBackends
from .compiler import CompiledTool, object_keys
from .fingerprints import Fingerprints
from .guardrails import CheckedSend, GuardrailError, SendPolicy, check_count, check_send
from .http import HttpResponse, TransportFailure
from .ledger import Ledger, SendPlan, refusal
from .observe import CallObserver, NoObserver
from .presentation import served
from .redaction import Redactor
from .request_builder import HttpRequest, PathValueError, RequestValueError, build_request, encode_segment
from .retries import RetryPolicy, send_with_retries
from .selection import Narrowing, Selection
from .shaping import shape
from .tenancy import tenant_label
from .times import INCLUSIVE_SUFFIX, TimeValueError, convert

if TYPE_CHECKING:
    from .conversations import Conversations
    from .store.messages import SentCopies, StoredMessage

log = logging.getLogger("clicksend_mcp.calls")

Progress = Callable[[float, float | None, str | None], Awaitable[None]]
PAGE_LIMIT = 100  # ClickSend's largest page


class UnknownToolError(LookupError):
    """No tool of that name is served (a protocol error, not a call result)."""

    def __init__(self, name: str, reason: str | None = None) -> None:
        self.name = name
        self.reason = reason
        super().__init__(reason or f"Unknown tool: {name}")


@dataclass
class PreparedCall:
    """A call that passed validation and the guardrails, ready to execute (or already decided)."""

    tool: CompiledTool
    arguments: dict[str, Any]
    request: HttpRequest | None = None
    outcome: dict[str, Any] | None = None  # set when preparation decided the result (nothing will be sent)
    dry_run: bool = False
    all_pages: bool = False
    max_items: int = 500
    send: CheckedSend | None = None
    plan: SendPlan | None = None  # the ledger's view of a send
    fields: tuple[str, ...] = ()  # return only these fields
    keep_empty: bool = True  # list tools drop null and empty item fields unless asked to keep them
    times_used: dict[str, str] = field(default_factory=dict)  # inputs given as text times -> the UTC time sent
    started: float = field(default_factory=time.perf_counter)
    backend: BackendConfig | None = field(default=None, repr=False)  # where it goes: the configured or tenant's
    redactor: Redactor | None = field(default=None, repr=False)
    # Set when the result holds only what a plain answer of this size carries (no arguments echoed):
    clean_body: bool = False  # ClickSend's raw answer held no secret value or secret-named key
    body_bytes: int | None = None  # the raw answer's size, to skip measuring small results

    @property
    def needs_confirmation(self) -> bool:
        asks = self.send is not None or self.tool.spec.confirm is not None
        # A send the limits will refuse is not put to the person: admission refuses (and records) it at once.
        doomed = self.plan is not None and bool(self.plan.hits)
        return self.outcome is None and asks and not self.dry_run and not doomed


@dataclass(frozen=True)
class CallScope:
    """What one request brings besides its arguments (from the transport): the tenant's backend in multi-tenant
    mode, or why it has none; and a narrower selection of tools for this request only."""

    backend: BackendConfig | None = None
    refusal: tuple[str, str] | None = None  # (error_code, message): refuse before anything is sent
    narrowing: Narrowing | None = None


class Dispatcher:
    def __init__(
        self,
        tools: Mapping[str, CompiledTool],
        backend: BackendConfig,
        *,
        selection: Selection | None = None,
        policy: SendPolicy | None = None,
        retry: RetryPolicy | None = None,
        max_result_bytes: int = results.DEFAULT_MAX_RESULT_BYTES,
        max_argument_bytes: int = 4 * 1024 * 1024,
        extra_secrets: Iterable[str] = (),
        ledger: Ledger | None = None,
        tenants: TenantBackends | None = None,
        observer: CallObserver | None = None,
    ) -> None:
        self.all_tools = dict(tools)
        self.selection = selection or Selection()
        self.backend = backend
        self.policy = policy or SendPolicy()
        # Listed tools, and the aliases of listed tools (callable by their old name), as the agent reads them.
        # Only what this backend can run is served (the others answer NOT_SUPPORTED_BY_BACKEND when called).
        self.tools, self.callable = served(
            self.selection,
            self.all_tools,
            max_recipients=self.policy.max_recipients,
            runs=lambda tool: backend.serves(tool.spec.api),
        )
        self.retry = retry or RetryPolicy()
        self.max_result_bytes = max_result_bytes
        self.max_argument_bytes = max_argument_bytes
        self._secrets = [*backend.secrets, *extra_secrets]
        self.redactor = Redactor(self._secrets)
        self.ledger = ledger
        # Multi-tenant mode: no stored credentials; every call must bring its tenant's backend (CallScope).
        self.tenants = tenants
        self.observer: CallObserver = observer or NoObserver()
        self.conversations: Conversations | None = None  # replies and receipts (assembly sets it with the ledger)
        self._in_flight = 0
        self._idle: anyio.Event | None = None
        self._abandoned = False
        self._waiting: set[anyio.CancelScope] = set()  # one per request now waiting on ClickSend

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def wait_idle(self) -> None:
        """Return once no call is executing (graceful shutdown waits on this)."""
        if self._in_flight:
            self._idle = self._idle or anyio.Event()
            await self._idle.wait()

    def abandon(self) -> None:
        """Shutting down and out of time: stop waiting on ClickSend. Every waiting call answers at once (a send with
        OUTCOME_UNKNOWN and its tag, since it may have been accepted); a later call sends nothing."""
        self._abandoned = True
        for scope in list(self._waiting):
            scope.cancel()

    def get(self, name: str, narrowed: Narrowing | None = None) -> CompiledTool:
        tool = self.callable.get(name)
        if tool is None:
            raise UnknownToolError(name, self.selection.why_hidden(name, self.all_tools))
        if narrowed is not None and not narrowed.admits(tool):
            raise UnknownToolError(name, narrowed.why_hidden(name, self.all_tools))
        return tool

    def visible(self, narrowed: Narrowing | None = None) -> dict[str, CompiledTool]:
        """The tools this request may see: the configured selection, narrowed by the request's own headers."""
        return self.tools if narrowed is None else narrowed.apply(self.tools)

    def unsupported(self, name: str, backend: BackendConfig | None = None) -> dict[str, Any] | None:
        """The NOT_SUPPORTED_BY_BACKEND result for a known tool this backend cannot run (naming those that can)."""
        backend = backend or self.backend
        known = self.all_tools.get(name)
        if known is None or backend.serves(known.spec.api):
            return None
        serving = backends_serving(known.spec.api)
        return results.refused(
            "NOT_SUPPORTED_BY_BACKEND",
            f"{name} is not available with the {backend.name} backend; it runs with the "
            f"{' or '.join(serving)} backend (choose it with --backend or CLICKSEND_BACKEND)",
        )

    async def call(
        self, name: str, arguments: Mapping[str, Any] | None, progress: Progress | None = None
    ) -> dict[str, Any]:
        """Prepare and execute with no confirmation step (the CLI, and servers without --confirm-sends)."""
        prepared = await self.prepare(name, arguments)
        return await self.execute(prepared, progress)

    async def prepare(
        self, name: str, arguments: Mapping[str, Any] | None, scope: CallScope | None = None
    ) -> PreparedCall:
        scope = scope or CallScope()
        known = self.all_tools.get(name)
        routed = scope.backend is not None or self.tenants is None  # else _route refuses it below
        if known is not None and routed and not (scope.backend or self.backend).serves(known.spec.api):
            prepared = PreparedCall(known, {})
            prepared.outcome = self.unsupported(name, scope.backend)
            return prepared
        tool = self.get(name, scope.narrowing)
        prepared = PreparedCall(tool, {})
        self._route(prepared, scope)
        if prepared.outcome is not None:
            return prepared
        if arguments is not None and not isinstance(arguments, Mapping):
            prepared.outcome = results.invalid_arguments(
                [f"arguments: expected an object{object_keys(tool.input_schema)}, got {type(arguments).__name__}"]
            )
            return prepared
        args = dict(arguments or {})
        prepared.arguments = args
        try:
            size = results.json_size(args)
        except ValueError:  # an integer too long to print: the checks below name it
            size = 0
        if size > self.max_argument_bytes:
            prepared.outcome = results.invalid_arguments(
                [f"arguments: {size} bytes is more than the {self.max_argument_bytes} this server accepts"]
            )
            return prepared
        problems = tool.check_arguments(args)
        if problems:
            prepared.outcome = results.invalid_arguments(str(p) for p in problems)
            return prepared
        if tool.times:
            both = [f.inclusive_of for f in tool.times if f.inclusive_of and f.label in args and f.inclusive_of in args]
            if both:
                prepared.outcome = results.invalid_arguments(
                    [f"{name}: give {name} or {name}{INCLUSIVE_SUFFIX}, not both" for name in both]
                )
                return prepared
            try:
                prepared.times_used = convert(args, tool.times)
            except TimeValueError as exc:
                prepared.outcome = results.invalid_arguments([str(exc)])
                return prepared
        if tool.spec.http is not None and tool.spec.http.method == "GET":
            prepared.fields = tuple(args.pop("fields", ()) or ()) if "fields" not in tool.spec.param_by_name else ()
            prepared.keep_empty = bool(args.pop("keep_empty", False)) if tool.paginated else True
        prepared.dry_run = bool(args.pop("dry_run", False))
        prepared.all_pages = bool(args.pop("all_pages", False))
        prepared.max_items = int(args.pop("max_items", 500))
        key = args.pop("idempotency_key", None)
        if key is not None and not (8 <= len(key) <= 200 and all("!" <= ch <= "~" for ch in key)):
            prepared.outcome = results.invalid_arguments(
                ["idempotency_key: expected 8 to 200 printable ASCII characters without spaces, e.g. a UUID"]
            )
            return prepared
        if tool.spec.local is not None:
            prepared.arguments = args
            return prepared
        arguments_hash = Fingerprints.arguments(tool.name, args) if key else ""
        try:
            if tool.guard is not None:
                # ClickSend's test numbers are test numbers only at ClickSend (not through other providers).
                prepared.send = check_send(tool, args, self.policy, test_numbers=tool.spec.api == "clicksend")
                args = prepared.send.arguments
            prepared.arguments = args
            prepared.request = build_request(tool, args)
            if prepared.send is not None:
                # The lists are looked up in the account the send will use (a per-call Maton connection).
                await self._check_list_sizes(prepared, prepared.request.headers)
        except RequestValueError as exc:
            prepared.outcome = results.invalid_arguments([str(exc)])
        except GuardrailError as exc:
            prepared.outcome = results.refused(exc.code, exc.message)
        if prepared.send is not None and prepared.outcome is None:
            prepared.outcome = await self._plan(prepared, key, arguments_hash)
        return prepared

    async def _plan(self, prepared: PreparedCall, key: str | None, arguments_hash: str) -> dict[str, Any] | None:
        """The ledger's look at a send before confirmation: a replay, a conflict, or the limits it would meet."""
        if self.ledger is None:
            if key:
                return results.refused(
                    "REFUSED", "idempotency_key needs the send ledger, and it is off (CLICKSEND_MCP_DATABASE_URL=off)"
                )
            return None
        ledger = self.ledger_for(prepared.backend)
        assert ledger is not None
        try:
            prepared.plan = await ledger.plan(prepared, key, arguments_hash)
            return await ledger.check(prepared.plan, prepared, self.quote)
        except Exception:  # a database failure: refuse the send rather than send it unrecorded
            log.exception("ledger check failed for tool=%s", prepared.tool.name)
            return _ledger_unavailable()

    def _route(self, prepared: PreparedCall, scope: CallScope) -> None:
        """Which backend the call uses. In multi-tenant mode a call without its tenant's credentials is refused
        here, before anything could be sent."""
        if self.tenants is None:
            prepared.backend = self.backend
            return
        if scope.backend is None:
            code, message = scope.refusal or ("MISSING_CREDENTIALS", "this server holds no ClickSend credentials")
            prepared.backend = self.backend
            prepared.outcome = results.refused(code, message)
            return
        prepared.backend = scope.backend
        prepared.redactor = Redactor([*self._secrets, *scope.backend.secrets])

    def _backend(self, prepared: PreparedCall | None) -> BackendConfig:
        return prepared.backend if prepared is not None and prepared.backend is not None else self.backend

    def ledger_for(self, backend: BackendConfig | None) -> Ledger | None:
        """The ledger as a call's tenant sees it: in multi-tenant mode the tenant whose credentials the request
        brought (their fingerprint), otherwise the configured account. Its rows, limits and keys are its own."""
        tenant = backend.tenant if backend is not None else None
        if self.ledger is None or not tenant:
            return self.ledger
        return self.ledger.for_tenant(tenant)

    def conversations_for(self, backend: BackendConfig | None) -> Conversations | None:
        """The replies and receipts of a call's tenant (as `ledger_for`)."""
        tenant = backend.tenant if backend is not None else None
        if self.conversations is None or not tenant:
            return self.conversations
        return self.conversations.for_tenant(tenant)

    def confirmation_text(self, prepared: PreparedCall) -> str:
        """What the person is asked before a call that is not a ClickSend send: a tool that cuts something off
        (spec `confirm`), or a send through another provider (its recipients and what it sends)."""
        spec = prepared.tool.spec
        lines = [f"Confirm: {spec.title} (through the {self._backend(prepared).name} backend)."]
        if spec.confirm is not None:
            message = spec.confirm.message
            for key, value in prepared.arguments.items():
                message = message.replace("{" + key + "}", str(value))
            lines.append(" ".join(message.split()))
        if prepared.send is not None:
            lines.append("To: " + ", ".join(r.value for r in prepared.send.recipients[:10]))
            shown = {k: v for k, v in prepared.arguments.items() if k not in ("to", "maton_connection")}
            if shown:
                text = results.json_text(shown)
                lines.append("With: " + (text if len(text) <= 300 else text[:300] + "..."))
        return "\n".join(lines)

    async def _check_list_sizes(self, prepared: PreparedCall, headers: tuple[tuple[str, str], ...] = ()) -> None:
        """A contact list counts as its contacts against --max-recipients; its size comes from ClickSend."""
        send = prepared.send
        assert send is not None
        if not send.list_ids:
            return
        lists = iter(r for r in send.recipients if r.kind == "list")
        for list_id, recipient in zip(send.list_ids, lists, strict=True):
            try:
                request = HttpRequest("GET", "/lists/" + encode_segment(recipient.where, list_id), headers=headers)
                response = await self._backend(prepared).send("clicksend", request)
            except (TransportFailure, PathValueError):
                raise GuardrailError(
                    "REFUSED", f"{recipient.where}: could not check the size of list {list_id}"
                ) from None
            found = results.from_response(response)
            size = (
                found["data"].get("_contacts_count")
                if found["successful"] and isinstance(found["data"], dict)
                else None
            )
            if not isinstance(size, int):
                raise GuardrailError("REFUSED", f"{recipient.where}: could not check the size of list {list_id}")
            recipient.count = size
        check_count(send.recipients, self.policy)

    async def execute(self, prepared: PreparedCall, progress: Progress | None = None) -> dict[str, Any]:
        self._in_flight += 1
        self.observer.call_started()
        try:
            return await self._execute(prepared, progress)
        finally:
            self._in_flight -= 1
            self.observer.call_ended()
            if self._in_flight == 0 and self._idle is not None:
                self._idle.set()
                self._idle = None

    async def _execute(self, prepared: PreparedCall, progress: Progress | None) -> dict[str, Any]:
        tool = prepared.tool
        if prepared.outcome is not None:
            result = prepared.outcome
        elif prepared.dry_run and tool.spec.local is None:
            result = await self._dry_run(prepared)
        elif prepared.all_pages:
            result = await self._all_pages(prepared, progress)
        elif tool.spec.local is not None:
            result = await self._local(prepared, progress)
        elif prepared.plan is not None:
            return await self._send_recorded(prepared)
        else:
            result = await self._send(tool, prepared.request, prepared.send, prepared, measure=True)
        return self._finish(prepared, result)

    async def _local(self, prepared: PreparedCall, progress: Progress | None = None) -> dict[str, Any]:
        from .local_tools import LocalCall, run_local

        backend = self._backend(prepared)
        call = LocalCall(self, backend, self.ledger_for(backend), self.conversations_for(backend))
        try:
            return await run_local(call, prepared.tool, prepared.arguments, progress, dry_run=prepared.dry_run)
        except Exception:  # the boundary: no exception text may reach a client
            log.exception("call tool=%s failed inside the server", prepared.tool.name)
            return results.internal_error()

    async def _send_recorded(self, prepared: PreparedCall) -> dict[str, Any]:
        """Reserve (pending row, limits, idempotency) -> send -> settle. A crash after the reservation leaves the
        row pending, and the next start marks it unknown: never sent twice, never silently forgotten."""
        ledger, plan = self.ledger_for(prepared.backend), prepared.plan
        assert ledger is not None and plan is not None
        if plan.hits and self.policy.confirm_sends:
            # Not put to the person because the limits stopped it: it must not go out unconfirmed if they changed.
            # (Unless it repeats a key another call used meanwhile: then that call's result is the answer.)
            try:
                replayed = await ledger.earlier(plan)
            except Exception:
                log.exception("ledger lookup failed for tool=%s", prepared.tool.name)
                replayed = None
            return self._finish(prepared, replayed or refusal(plan.hits))
        try:
            send_id, decided = await ledger.admit(plan)
        except Exception:
            log.exception("ledger admission failed for tool=%s", prepared.tool.name)
            return self._finish(prepared, _ledger_unavailable())
        if decided is not None:
            return self._finish(prepared, decided)
        assert send_id is not None
        try:
            answer = await self._send(prepared.tool, prepared.request, prepared.send, prepared, measure=True)
            result = self._finish(prepared, answer)
        except BaseException:
            with anyio.CancelScope(shield=True):
                tag = prepared.send.tag if prepared.send else None
                await self._settle(send_id, plan, results.interrupted_send(tag))
            raise
        copies = None
        conversations = self.conversations_for(prepared.backend)
        if conversations is not None and prepared.tool.spec.sends is not None:
            try:  # the conversation shows our side too; a failure here never changes the send's result
                copies = conversations.sent_copies(prepared.tool.spec.sends, result)
            except Exception:
                log.exception("recording the sent messages of tool=%s failed", prepared.tool.name)
        stored = await self._settle(send_id, plan, result, copies)
        if stored and conversations is not None:
            try:
                await conversations.copies_stored(stored)
            except Exception:
                log.exception("recording the sent messages of tool=%s failed", prepared.tool.name)
        return result

    async def _settle(
        self, send_id: int, plan: SendPlan, result: dict[str, Any], copies: SentCopies | None = None
    ) -> list[StoredMessage]:
        """The outcome recorded, with the sent messages' copies in the same trip; the copies stored."""
        assert self.ledger is not None
        try:
            return await self.ledger.settle(send_id, plan, result, copies)
        except Exception:  # the send happened; its row stays pending and becomes unknown at the next start
            log.exception("ledger settlement failed for send %d", send_id)
            return []

    def finish_declined(self, prepared: PreparedCall, code: str, message: str) -> dict[str, Any]:
        """The result when the person did not confirm a send: nothing was sent."""
        return self._finish(prepared, results.refused(code, message))

    def _finish(self, prepared: PreparedCall, result: dict[str, Any]) -> dict[str, Any]:
        tool = prepared.tool
        if prepared.send is not None and prepared.send.tag and not prepared.dry_run and result.get("http_code"):
            result.setdefault("tag", prepared.send.tag)
        if prepared.times_used and (result.get("http_code") is not None or prepared.dry_run):
            result["times_used"] = dict(prepared.times_used)
        if result.get("successful") and (prepared.fields or not prepared.keep_empty):
            result["data"], notes = shape(result["data"], fields=prepared.fields, keep_empty=prepared.keep_empty)
            if notes:
                result["warnings"] = [*result.get("warnings", []), *notes]
        if tool.untrusted and result.get("successful"):
            results.mark_untrusted(result, tool.untrusted)
        backend = self._backend(prepared)
        redactor = prepared.redactor or self.redactor
        if backend.is_sandbox:
            result["sandbox"] = True
        if not prepared.clean_body:
            result = redactor.value(result)
        # A result is its answer's data plus a few short fields: far under the cap, it need not be measured.
        if prepared.body_bytes is None or prepared.body_bytes * 2 + 4096 > self.max_result_bytes:
            result = results.cap_size(result, self.max_result_bytes)
        self.observer.call_finished(
            tool.name,
            backend.name,
            backend.tenant,
            result,
            sent=prepared.send is not None and not prepared.dry_run,
        )
        fields = {
            "tool": tool.name,
            "backend": backend.name,
            "http": result.get("http_code"),
            "error_code": result.get("error_code"),
            "duration_ms": round((time.perf_counter() - prepared.started) * 1000, 1),
        }
        tenant_id = tenant_label(backend.tenant) if backend.tenant else ""
        tenant = f" tenant={tenant_id}" if tenant_id else ""
        if tenant_id:
            fields["tenant"] = tenant_id
        # Arguments may hold personal data (numbers, message text): never logged above debug.
        log.info(
            "call tool=%s backend=%s http=%s error_code=%s duration_ms=%.1f%s",
            fields["tool"],
            fields["backend"],
            fields["http"],
            fields["error_code"] or "-",
            fields["duration_ms"],
            tenant,
            extra={"fields": fields},
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("call tool=%s arguments=%s", tool.name, results.json_text(redactor.value(prepared.arguments)))
        return result

    async def _send(
        self,
        tool: CompiledTool,
        request: HttpRequest | None,
        send: CheckedSend | None,
        prepared: PreparedCall | None = None,
        *,
        measure: bool = False,  # the call's own answer (not a quote or one page of many): note if it is clean
        backend: BackendConfig | None = None,  # where a call the server makes itself goes (a local tool's tenant)
    ) -> dict[str, Any]:
        assert request is not None
        backend = backend or self._backend(prepared)
        # Reads and idempotent writes are retried on transient failures; a send or a spend only if it provably never
        # left (a repeated campaign update could move its send time, a repeated purchase charges twice).
        idempotent = tool.spec.annotations.idempotent and tool.guard is None
        lookup = (
            results.SendLookup(tool.guard.history_tool if tool.guard else None, send.tag) if send is not None else None
        )
        attempts = 0

        async def attempt() -> HttpResponse:
            nonlocal attempts
            attempts += 1
            started = time.perf_counter()
            try:
                return await backend.send(tool.spec.api, request)
            finally:
                self.observer.upstream_answered(backend.name, time.perf_counter() - started)

        try:
            if self._abandoned:
                raise TransportFailure("network", False, "the server is shutting down and sent nothing")
            with anyio.CancelScope() as waiting:
                self._waiting.add(waiting)
                try:
                    response = await send_with_retries(attempt, idempotent=idempotent, policy=self.retry)
                finally:
                    self._waiting.discard(waiting)
            if waiting.cancelled_caught:
                raise TransportFailure("network", True, "the server shut down before ClickSend answered")
        except TransportFailure as failure:
            if lookup is not None:
                return results.send_failure(failure, lookup)
            return results.from_transport_failure(failure)
        except Exception:  # the boundary: no exception text may reach a client
            log.exception("call tool=%s failed inside the server", tool.name)
            if lookup is not None:  # the request may have left before the failure
                return results.outcome_unknown("The server failed while sending", lookup)
            return results.internal_error()
        finally:
            if attempts > 1:
                self.observer.retried(backend.name, attempts - 1)
        try:
            if measure and prepared is not None:
                prepared.clean_body = not (prepared.redactor or self.redactor).could_leak(response.body)
                prepared.body_bytes = len(response.body)
            uncertain = results.uncertain_send_answer(response) if lookup is not None else None
            if lookup is not None and uncertain is not None:
                return results.outcome_unknown(uncertain, lookup, http_code=response.status)
            return backend.normalize(tool.spec.api, response, unwrap=tool.spec.response.unwrap == "data")
        except Exception:  # the answer arrived: for a send, whatever it said, it may have gone out
            log.exception("call tool=%s: the answer could not be read", tool.name)
            if measure and prepared is not None:
                prepared.clean_body = False
            if lookup is not None:
                return results.outcome_unknown(
                    f"The send was answered with HTTP {response.status} in a form the server could not read",
                    lookup,
                    http_code=response.status,
                )
            return results.internal_error()

    async def read(self, name: str, arguments: dict[str, Any], backend: BackendConfig | None = None) -> dict[str, Any]:
        """One read-only call made by the server itself (local tools): validated, built and sent, never a send;
        through `backend` (the calling tenant's) or the configured one."""
        tool = self.all_tools[name]
        assert tool.read_only and tool.spec.http is not None
        problems = tool.check_arguments(arguments)
        if problems:
            return results.invalid_arguments(str(p) for p in problems)
        return await self._send(tool, build_request(tool, arguments), None, backend=backend)

    async def write(self, name: str, arguments: dict[str, Any], backend: BackendConfig | None = None) -> dict[str, Any]:
        """One change made by the server itself (a local tool, after its own confirmation); never a send."""
        tool = self.all_tools[name]
        assert tool.spec.sends is None and tool.spec.http is not None
        problems = tool.check_arguments(arguments)
        if problems:
            return results.invalid_arguments(str(p) for p in problems)
        return await self._send(tool, build_request(tool, arguments), None, backend=backend)

    async def quote(self, prepared: PreparedCall) -> dict[str, Any] | None:
        """ClickSend's price for a prepared send, from its price tool (same arguments), or None."""
        guard = prepared.tool.guard
        price_tool = self.all_tools.get(guard.price_tool) if guard and guard.price_tool else None
        if price_tool is None:
            return None
        accepted = {p.name for p in price_tool.spec.params}
        arguments = {k: v for k, v in prepared.arguments.items() if k in accepted}
        if price_tool.check_arguments(arguments):
            return None
        try:
            request = build_request(price_tool, arguments)
        except RequestValueError:
            return None
        return await self._send(price_tool, request, None, prepared)

    async def _dry_run(self, prepared: PreparedCall) -> dict[str, Any]:
        assert prepared.request is not None
        data: dict[str, Any] = {
            "dry_run": True,
            "sent": False,
            "request": prepared.request.describe(),
            "recipients": [r.value for r in prepared.send.recipients] if prepared.send else [],
        }
        guard = prepared.tool.guard
        if guard is not None and guard.cost:
            data["cost"] = guard.cost
        quoted = await self.quote(prepared) if prepared.send else None
        if quoted is not None:
            data["quote"] = quoted["data"] if quoted["successful"] else None
            if not quoted["successful"]:
                data["quote_error"] = quoted["error"]
        if prepared.plan is not None and self.ledger is not None:
            data["limits"] = self.ledger.report(prepared.plan)
        return results.dry_run(data)

    async def start(self) -> None:
        """Open what the calls need beyond HTTP: the ledger's store (migrated, stale pending rows resolved)."""
        if self.ledger is not None:
            await self.ledger.start()

    async def aclose(self) -> None:
        try:
            await self.backend.aclose()
            if self.tenants is not None:
                await self.tenants.aclose()
        finally:
            if self.ledger is not None:
                await self.ledger.close()

    async def _all_pages(self, prepared: PreparedCall, progress: Progress | None) -> dict[str, Any]:
        tool = prepared.tool
        args = dict(prepared.arguments)
        page = int(args.get("page", 1))
        args.setdefault("limit", PAGE_LIMIT)
        items: list[Any] = []
        first: dict[str, Any] | None = None
        fetched = 0
        last_page: int | None = None
        while True:
            args["page"] = page
            result = await self._send(tool, build_request(tool, args), None, prepared)
            if not result["successful"]:
                if first is None:
                    return result
                break
            first = first or result
            data = result["data"] if isinstance(result["data"], dict) else {}
            found = data.get("data")
            chunk = found if isinstance(found, list) else []
            items.extend(chunk)
            fetched += 1
            reported = data.get("last_page")
            last_page = reported if isinstance(reported, int) else page
            if progress is not None:
                await progress(
                    float(fetched),
                    float(last_page - int(prepared.arguments.get("page", 1)) + 1),
                    f"page {page} of {last_page}",
                )
            if len(items) >= prepared.max_items or page >= last_page or not chunk:
                break
            page += 1
        assert first is not None
        more = len(items) > prepared.max_items or (last_page is not None and page < last_page)
        gathered = {
            "data": items[: prepared.max_items],
            "total": first["data"].get("total") if isinstance(first["data"], dict) else None,
            "pages_fetched": fetched,
            "last_page_fetched": page,
            "more": more,
            "next_page": page + 1 if more and last_page is not None and page < last_page else None,
        }
        return {**first, "data": gathered}


def _ledger_unavailable() -> dict[str, Any]:
    return results.refused(
        "REFUSED", "the send ledger (CLICKSEND_MCP_DATABASE_URL) could not be reached, so the send was not made"
    )
