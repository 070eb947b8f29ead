"""The compiled catalogue kept between starts: a warm start neither validates nor compiles, serves exactly what a
fresh compile would, and never uses an entry made from other spec files or other code, or one it cannot trust."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from clicksend_mcp import assembly, catalogue_cache
from clicksend_mcp.assembly import load_tools
from clicksend_mcp.catalogue_cache import COMPILED_FROM, PACKAGE_DIR, CompiledCache, compiled_key
from clicksend_mcp.listing import listed_tools
from clicksend_mcp.loader import SpecCache, default_specs_dir
from clicksend_mcp.settings import Settings


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    root = tmp_path / "specs"
    for toolset in ("account", "sms"):
        shutil.copytree(default_specs_dir() / toolset, root / toolset)
    return root


def settings_for(root: Path) -> Settings:
    return Settings(specs_dir=str(root))


def entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("compiled-*.pickle"))


def no_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled again although the compiled catalogue holds these exact files")

    monkeypatch.setattr(assembly, "compile_tools", refuse)


def test_a_warm_start_serves_the_compiled_catalogue_without_compiling(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = SpecCache(tmp_path / "cache")
    fresh = load_tools(settings_for(specs), cache)
    assert len(entries(tmp_path / "cache")) == 1
    no_compiling(monkeypatch)
    warm = load_tools(settings_for(specs), cache)
    assert list(warm) == list(fresh)
    for name, tool in fresh.items():
        assert warm[name].spec == tool.spec
        assert warm[name].input_schema == tool.input_schema
        assert warm[name].guard == tool.guard and warm[name].times == tool.times
        assert warm[name].path_params == tool.path_params and warm[name].body_params == tool.body_params
    assert listed_tools(warm.values()) == listed_tools(fresh.values())


def test_a_warm_start_refuses_the_same_arguments_with_the_same_words(specs: Path, tmp_path: Path) -> None:
    cache = SpecCache(tmp_path / "cache")
    fresh = load_tools(settings_for(specs), cache)["CLICKSEND_CREATE_SMS_SEND"]
    warm = load_tools(settings_for(specs), cache)["CLICKSEND_CREATE_SMS_SEND"]
    bad = {"messages": [{"to": 61411111111, "body": "x", "shedule": 1}]}
    assert [str(p) for p in warm.check_arguments(bad)] == [str(p) for p in fresh.check_arguments(bad)]
    assert [str(p) for p in warm.check_arguments({})] == [str(p) for p in fresh.check_arguments({})]


def test_an_edited_spec_is_compiled_again_and_the_old_entry_removed(specs: Path, tmp_path: Path) -> None:
    cache = SpecCache(tmp_path / "cache")
    load_tools(settings_for(specs), cache)
    [before] = entries(tmp_path / "cache")
    path = specs / "account" / "clicksend_get_account.yaml"
    path.write_text(path.read_text().replace("title: ", "title: Edited ", 1))
    tools = load_tools(settings_for(specs), cache)
    assert tools["CLICKSEND_GET_ACCOUNT"].spec.title.startswith("Edited ")
    [after] = entries(tmp_path / "cache")
    assert after != before


@pytest.mark.parametrize("content", [b"", b"not a pickle", pickle.dumps(["a list"]), pickle.dumps({"X": 1})])
def test_a_corrupt_or_foreign_entry_falls_back_to_compiling_and_is_rewritten(
    specs: Path, tmp_path: Path, content: bytes
) -> None:
    cache = SpecCache(tmp_path / "cache")
    fresh = load_tools(settings_for(specs), cache)
    [entry] = entries(tmp_path / "cache")
    entry.write_bytes(content)
    os.chmod(entry, 0o600)
    again = load_tools(settings_for(specs), cache)
    assert {n: t.input_schema for n, t in again.items()} == {n: t.input_schema for n, t in fresh.items()}
    assert CompiledCache(tmp_path / "cache").read(entry.name.removeprefix("compiled-").removesuffix(".pickle"))


def test_an_entry_others_can_write_is_never_read(specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = SpecCache(tmp_path / "cache")
    load_tools(settings_for(specs), cache)
    [entry] = entries(tmp_path / "cache")
    os.chmod(entry, 0o666)
    key = entry.name.removeprefix("compiled-").removesuffix(".pickle")
    assert CompiledCache(tmp_path / "cache").read(key) is None
    os.chmod(entry, 0o600)
    assert CompiledCache(tmp_path / "cache").read(key) is not None


def test_an_entry_is_written_only_for_this_user(specs: Path, tmp_path: Path) -> None:
    load_tools(settings_for(specs), SpecCache(tmp_path / "cache"))
    [entry] = entries(tmp_path / "cache")
    assert entry.stat().st_mode & 0o077 == 0


def test_the_key_changes_with_the_spec_files_and_with_any_module_that_shapes_a_compiled_tool(tmp_path: Path) -> None:
    package = tmp_path / "package"
    package.mkdir()
    for name in COMPILED_FROM:
        shutil.copyfile(PACKAGE_DIR / name, package / name)
    key = compiled_key("digest-a", package)
    assert compiled_key("digest-a", package) == key
    assert compiled_key("digest-b", package) != key
    for name in COMPILED_FROM:
        original = (package / name).read_bytes()
        (package / name).write_bytes(original + b"\n# changed\n")
        assert compiled_key("digest-a", package) != key, name
        (package / name).write_bytes(original)


def _modules_in(value: Any, seen: set[int], found: set[str]) -> None:
    if id(value) in seen:
        return
    seen.add(id(value))
    found.add(type(value).__module__)
    if isinstance(value, dict):
        for item in value.values():
            _modules_in(item, seen, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _modules_in(item, seen, found)
    elif isinstance(value, BaseModel):
        _modules_in(dict(value.__dict__), seen, found)
    elif hasattr(value, "__dataclass_fields__"):
        for field in value.__dataclass_fields__:
            _modules_in(getattr(value, field), seen, found)


def test_every_module_whose_classes_are_in_an_entry_is_part_of_the_key() -> None:
    found: set[str] = set()
    _modules_in(load_tools(), set(), found)
    ours = {name.removeprefix("clicksend_mcp.") + ".py" for name in found if name.startswith("clicksend_mcp.")}
    assert ours and ours <= set(COMPILED_FROM), ours - set(COMPILED_FROM)


def test_no_entry_is_written_when_the_cache_is_off(specs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[str] = []
    monkeypatch.setattr(catalogue_cache.CompiledCache, "write", lambda self, key, tools: writes.append(key))
    assert "CLICKSEND_GET_ACCOUNT" in load_tools(settings_for(specs), SpecCache(None))
    assert writes == []


def test_without_the_compilers_sources_no_compiled_catalogue_is_kept_and_the_server_still_starts(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_cache, "PACKAGE_DIR", tmp_path / "no-sources")
    monkeypatch.setattr(catalogue_cache.compiled_key, "__defaults__", (tmp_path / "no-sources",))
    assert "CLICKSEND_GET_ACCOUNT" in load_tools(settings_for(specs), SpecCache(tmp_path / "cache"))
    assert entries(tmp_path / "cache") == []
    assert list((tmp_path / "cache").glob("specs-*.json"))  # the validated specs are still kept
