"""Checks across the whole catalogue of specs: one canonical tool per endpoint, aliases, and the default set."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping

from .spec import ToolSpec

MAX_DEFAULT_TOOLS = 40  # many clients cap a server at 40 tools


def endpoint_of(spec: ToolSpec) -> tuple[str, ...]:
    """What makes two tools the same call: the API, method and path, and the fields every call sends (SkillBoss
    tools share POST /run and differ by the model in their fixed body)."""
    http = spec.http
    if http is None:  # a tool the server answers itself: its handler is its endpoint
        assert spec.local is not None
        return (spec.api, "LOCAL", spec.local.handler)
    fixed = (json.dumps(http.fixed_query, sort_keys=True), json.dumps(http.fixed_body, sort_keys=True))
    return (spec.api, http.method, http.path, *fixed)


def catalogue_problems(specs: Iterable[ToolSpec]) -> list[str]:
    """Every reason the set of specs is inconsistent, one line each (empty when it is sound)."""
    by_name = {spec.name: spec for spec in specs}
    problems: list[str] = []
    canonical: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for spec in by_name.values():
        endpoint = endpoint_of(spec)
        if spec.alias_of is None:
            canonical[endpoint].append(spec.name)
            continue
        target = by_name.get(spec.alias_of)
        if target is None:
            problems.append(f"{spec.name}: alias_of {spec.alias_of} is not a tool")
            continue
        if target.alias_of is not None:
            problems.append(f"{spec.name}: alias_of {spec.alias_of}, which is itself an alias")
        if endpoint_of(target) != endpoint:
            problems.append(
                f"{spec.name}: alias_of {target.name}, which reaches {target.endpoint}, not {spec.endpoint}"
            )
        missing = sorted({p.name for p in spec.params} - {p.name for p in target.params})
        if missing:
            problems.append(f"{spec.name}: its canonical tool {target.name} lacks the inputs {missing}")
    for (_api, method, path, *_fixed), names in canonical.items():
        if len(names) > 1:
            problems.append(
                f"{', '.join(sorted(names))} all reach {method} {path}: keep one canonical tool and mark the "
                "others alias_of it"
            )
    defaults = [spec.name for spec in by_name.values() if spec.default]
    if len(defaults) > MAX_DEFAULT_TOOLS:
        problems.append(f"{len(defaults)} tools are marked default; at most {MAX_DEFAULT_TOOLS} may be")
    return problems


def aliases_of(specs: Mapping[str, ToolSpec] | Iterable[ToolSpec]) -> dict[str, list[str]]:
    """canonical name -> the aliases that reach the same endpoint."""
    values = specs.values() if isinstance(specs, Mapping) else specs
    found: dict[str, list[str]] = defaultdict(list)
    for spec in values:
        if spec.alias_of:
            found[spec.alias_of].append(spec.name)
    return {name: sorted(aliases) for name, aliases in found.items()}
