"""dbt's compiled Jinja kept on disk between processes, as Python keeps its bytecode in __pycache__.

dbt compiles each macro and model it renders from Jinja source into Python code, once per process for a macro and on
every run for a model: about 530 compilations in a daily run, about 0.7 s of the 100-user day's 6 s
(docs/performance.md). A deployment starts a process per run, so it paid that every day. Jinja's
FileSystemBytecodeCache stores the code (atomic writes, a format stamp of Jinja and Python, a checksum of the source);
the key adds what else shapes the generated code: the environment's class, settings, filters and tests, and the Jinja
and dbt-common versions."""

from __future__ import annotations

import hashlib
import logging
import threading
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache

_lock = threading.Lock()
_cache: FileSystemBytecodeCache | None = None


def cache_compiled_templates(directory: Path) -> None:
    """From now on in this process, dbt's Jinja environments load compiled templates from `directory` and store the
    ones they compile there. Idempotent; the latest directory given is used."""
    from dbt_common.clients import jinja as dbt_jinja

    global _cache
    with _lock:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # a read-only install compiles as dbt does
            logging.getLogger(__name__).warning("dbt's compiled templates are not kept: %s", error)
            _cache = None
            return
        _cache = FileSystemBytecodeCache(str(directory))
        environment = dbt_jinja.MacroFuzzEnvironment  # the native environment dbt also uses is a subclass
        if not getattr(environment.compile, "caches_bytecode", False):
            environment.compile = _cached(environment.compile)


def _cached(compile_source: Any) -> Any:
    def compile(self: jinja2.Environment, source: Any, name: str | None = None, filename: str | None = None,
                raw: bool = False, defer_init: bool = False) -> Any:
        cache = _cache
        if cache is None or raw or not isinstance(source, str):  # parsed nodes and Python source: not cached
            return compile_source(self, source, name, filename, raw, defer_init)
        key = repr((_generator(self), name, filename, defer_init, hashlib.sha256(source.encode()).hexdigest()))
        bucket = Bucket(self, cache.get_cache_key(key, filename), cache.get_source_checksum(source))
        try:
            cache.load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a damaged file is compiled again and replaced, never an error
            bucket.reset()
        if bucket.code is None:  # missing, stale or unreadable: compile and store
            bucket.code = compile_source(self, source, name, filename, raw, defer_init)
            try:
                cache.set_bucket(bucket)
            except OSError:  # a full or read-only disk: the code is used all the same
                pass
        return bucket.code

    compile.caches_bytecode = True  # type: ignore[attr-defined]
    return compile


def _generator(environment: jinja2.Environment) -> tuple[Any, ...]:
    """What, besides the source, decides the code Jinja generates: the environment's class (dbt's native one emits
    other code), its extensions, syntax and options, its filters and tests (Jinja folds a filter or test of constants
    into the code it compiles), and the versions of Jinja and dbt's parser."""
    options = ("block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
               "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
               "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized", "is_async")
    return (_named(type(environment)), _named(environment.code_generator_class), tuple(sorted(environment.extensions)),
            tuple(getattr(environment, option) for option in options), _named(environment.autoescape),
            _named(environment.finalize), *(tuple(sorted((name, _named(function)) for name, function in table.items()))
                                            for table in (environment.filters, environment.tests)), *_versions())


def _named(value: Any) -> Any:
    """A function or class by its qualified name (as pickle refers to one); any other value as it is."""
    qualname = getattr(value, "__qualname__", None)
    return f"{getattr(value, '__module__', '')}.{qualname}" if isinstance(qualname, str) else value


@lru_cache(maxsize=1)
def _versions() -> tuple[str, str]:
    return version("jinja2"), version("dbt-common")
