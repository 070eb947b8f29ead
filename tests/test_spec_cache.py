"""The spec cache: a hit skips YAML parsing and schema meta-checks; any change to any spec file is seen at once."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from clicksend_mcp import __version__, loader
from clicksend_mcp.assembly import load_tools
from clicksend_mcp.loader import SpecCache, default_specs_dir
from clicksend_mcp.settings import Settings


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    root = tmp_path / "specs"
    shutil.copytree(default_specs_dir() / "account", root / "account")
    return root


def settings_for(root: Path) -> Settings:
    return Settings(specs_dir=str(root))


def test_the_second_start_loads_from_the_cache_without_parsing_yaml(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = SpecCache(tmp_path / "cache")
    first = load_tools(settings_for(specs), cache)
    assert list((tmp_path / "cache").glob("specs-*.json"))

    def no_yaml() -> None:
        raise AssertionError("YAML was parsed although the cache holds these exact files")

    monkeypatch.setattr(loader, "_yaml_loader", no_yaml)
    second = load_tools(settings_for(specs), cache)
    assert {n: t.input_schema for n, t in second.items()} == {n: t.input_schema for n, t in first.items()}


def test_an_edited_spec_is_never_served_stale(specs: Path, tmp_path: Path) -> None:
    cache = SpecCache(tmp_path / "cache")
    load_tools(settings_for(specs), cache)
    path = specs / "account" / "clicksend_get_account.yaml"
    edited = "\n".join(
        "title: Edited Title" if line.startswith("title:") else line for line in path.read_text().splitlines()
    )
    path.write_text(edited + "\n")
    assert load_tools(settings_for(specs), cache)["CLICKSEND_GET_ACCOUNT"].spec.title == "Edited Title"
    assert len(list((tmp_path / "cache").glob("specs-*.json"))) == 1  # the old entry is gone


def test_a_broken_spec_is_reported_even_after_a_cached_start(specs: Path, tmp_path: Path) -> None:
    cache = SpecCache(tmp_path / "cache")
    load_tools(settings_for(specs), cache)
    path = specs / "account" / "clicksend_get_account.yaml"
    path.write_text(path.read_text() + "colour: blue\n")
    with pytest.raises(loader.SpecLoadError, match="colour"):
        load_tools(settings_for(specs), cache)


def test_a_corrupt_cache_entry_is_ignored(specs: Path, tmp_path: Path) -> None:
    cache = SpecCache(tmp_path / "cache")
    load_tools(settings_for(specs), cache)
    [entry] = (tmp_path / "cache").glob("specs-*.json")
    entry.write_text("{not json")
    assert "CLICKSEND_GET_ACCOUNT" in load_tools(settings_for(specs), cache)


def test_an_unwritable_cache_does_not_stop_the_server(specs: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    assert "CLICKSEND_GET_ACCOUNT" in load_tools(settings_for(specs), SpecCache(blocked / "cache"))


def test_the_cache_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKSEND_MCP_CACHE_DIR", "off")
    assert SpecCache.default().directory is None


def test_the_start_reads_the_files_and_digest_that_spec_files_and_the_cache_define(tmp_path: Path) -> None:
    """read_sources and spec_files walk with os.scandir for speed: the files pathlib's rglob finds, in its order,
    and the digest of their relative paths, lengths and bytes."""
    root = tmp_path / "specs"
    shutil.copytree(default_specs_dir(), root)
    (root / "sms" / "nested").mkdir()
    moved = sorted((root / "sms").glob("*.yaml"))[0]
    moved.rename(root / "sms" / "nested" / moved.name)
    (root / "notes.txt").write_text("not a spec")
    (root / "linked").symlink_to(root / "account")
    (root / "sms" / "linked.yaml").symlink_to(moved.parent / "nested" / moved.name)
    sources = loader.read_sources(root)
    exemptions = root / loader.EXEMPTIONS_FILE
    listed = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file() and p != exemptions)
    assert loader.spec_files(root) == listed
    expected = [(path, path.read_bytes()) for path in listed]
    assert [(Path(path), text) for path, text in sources.files] == expected
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{loader.CACHE_FORMAT}:{__version__}".encode())
    for path, text in expected:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + len(text).to_bytes(8, "big") + text)
    assert sources.digest == digest.hexdigest()
    assert all(Path(path).name != loader.EXEMPTIONS_FILE for path, _ in sources.files)
