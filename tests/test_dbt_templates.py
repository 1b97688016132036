"""dbt's compiled Jinja kept on disk (orchestration/defs/dbt/templates.py): loaded instead of compiled again, and
never for another source or another kind of environment."""

from __future__ import annotations

import inspect
from pathlib import Path

import jinja2
import pytest
from jinja2.bccache import FileSystemBytecodeCache, bc_magic
from dbt_common.clients.jinja import MacroFuzzEnvironment, get_template

from orchestration.defs.dbt import templates
from orchestration.defs.dbt.project import COMPILED_TEMPLATES, dbt_project, parsed_manifest

SOURCE = "{% set half = 21 %}{{ half * 2 }}"


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The sources Jinja generates code for, with the compiled templates kept in tmp_path (the process's cache
    directory is restored afterwards)."""
    monkeypatch.setattr(templates, "_cache", None)
    templates.cache_compiled_templates(tmp_path)
    generated: list[str] = []
    generate = jinja2.Environment._generate

    def counted(self, source, name, filename, defer_init=False):  # type: ignore[no-untyped-def]
        generated.append(name or "<string>")
        return generate(self, source, name, filename, defer_init=defer_init)

    monkeypatch.setattr(jinja2.Environment, "_generate", counted)
    return generated


def test_a_template_compiled_once_is_loaded_in_a_new_environment(compiles: list[str], tmp_path: Path) -> None:
    assert get_template(SOURCE, {}).render({}) == "42"
    assert len(compiles) == 1 and any(tmp_path.iterdir())
    assert get_template(SOURCE, {}).render({}) == "42"  # get_template makes a new environment each time
    assert len(compiles) == 1


def test_another_source_or_kind_of_environment_compiles_again(compiles: list[str]) -> None:
    assert get_template("{{ x }}", {}).render({"x": {"k": 1}}) == "{'k': 1}"
    # dbt's native environment generates other code for the same source: it renders the value itself
    assert get_template("{{ x }}", {}, native=True).render({"x": {"k": 1}}) == {"k": 1}
    assert get_template("{{ x }} ", {}).render({"x": {"k": 1}}) == "{'k': 1} "
    assert len(compiles) == 3


def _upper(text: str) -> str:
    return text.upper()


def _exclaimed(text: str) -> str:
    return text + "!"


def test_an_environment_with_other_filters_compiles_again(compiles: list[str]) -> None:
    """Jinja applies a filter to constants while compiling, so the code depends on the environment's filters."""
    def shouted(shout):  # type: ignore[no-untyped-def]
        environment = MacroFuzzEnvironment()
        environment.filters["shout"] = shout
        return environment.from_string("{{ 'a' | shout }}").render({})

    assert shouted(_upper) == "A"
    assert shouted(_exclaimed) == "a!"
    assert shouted(_exclaimed) == "a!"
    assert len(compiles) == 2


@pytest.mark.parametrize("damage", [b"not bytecode", bc_magic + b"cut short"], ids=["other bytes", "cut short"])
def test_a_damaged_cache_file_is_compiled_again_and_replaced(compiles: list[str], tmp_path: Path,
                                                              damage: bytes) -> None:
    get_template(SOURCE, {})
    for path in tmp_path.iterdir():
        path.write_bytes(damage)
    assert get_template(SOURCE, {}).render({}) == "42"
    assert get_template(SOURCE, {}).render({}) == "42"
    assert len(compiles) == 2


def test_a_cache_that_cannot_be_written_never_fails_a_render(compiles: list[str], monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    def refuse(self, bucket):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemBytecodeCache, "dump_bytecode", refuse)
    assert get_template(SOURCE, {}).render({}) == "42"
    (tmp_path / "taken").write_text("a file where the folder would be")
    templates.cache_compiled_templates(tmp_path / "taken")
    assert templates._cache is None
    assert get_template(SOURCE, {}).render({}) == "42"


def test_without_a_directory_nothing_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    templates.cache_compiled_templates(tmp_path)  # the wrapper stays installed for the process
    monkeypatch.setattr(templates, "_cache", None)
    assert get_template(SOURCE, {}).render({}) == "42"
    assert not any(tmp_path.iterdir())


def test_the_compile_is_wrapped_once(compiles: list[str], tmp_path: Path) -> None:
    templates.cache_compiled_templates(tmp_path)
    wrapped = inspect.getclosurevars(MacroFuzzEnvironment.compile).nonlocals["compile_source"]
    assert getattr(MacroFuzzEnvironment.compile, "caches_bytecode", False)
    assert not getattr(wrapped, "caches_bytecode", False)


def test_every_dbt_invocation_keeps_its_templates_beside_the_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templates, "_cache", None)
    project = dbt_project()
    parsed_manifest(project)
    assert templates._cache is not None
    expected = Path(project.project_dir) / project.target_path / COMPILED_TEMPLATES
    assert Path(templates._cache.directory) == expected
