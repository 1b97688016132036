"""dbt-common's behavior flags named without inspecting the stack (orchestration/defs/dbt/behavior.py): the same
module name dbt-common's own `inspect.stack()` search finds, and every dbt invocation of a run has it installed."""

from __future__ import annotations

import inspect

import pytest
from dbt_common import behavior_flags
from dbt_common.behavior_flags import BehaviorFlagRendered

from orchestration.defs.dbt import behavior
from orchestration.defs.dbt.project import dbt_project, parsed_manifest

FLAG = {"name": "some_new_behavior", "default": False, "description": "a change that is off for now"}


@pytest.fixture
def original(monkeypatch: pytest.MonkeyPatch):
    """dbt-common's own naming for the test (an earlier test may have installed the cheap one in this process); the
    process's naming is restored afterwards."""
    current = behavior_flags.BehaviorFlagRendered.__dict__["_default_source"]
    own = getattr(current.__func__, "replaced", current)
    monkeypatch.setattr(BehaviorFlagRendered, "_default_source", own)
    return own


def declared_here() -> str:
    """The source of a flag declared, without one, by a function of this module."""
    return BehaviorFlagRendered(FLAG, {})._behavior_change_event.flag_source


def test_a_flag_without_a_source_is_named_after_the_module_that_declared_it(original, monkeypatch) -> None:
    expected = declared_here()  # dbt-common's inspect.stack() search
    assert expected == __name__
    behavior.name_behavior_flags_cheaply()
    assert BehaviorFlagRendered._default_source is not original.__func__
    monkeypatch.setattr(inspect, "stack", lambda *args, **kwargs: pytest.fail("the stack was inspected"))
    assert declared_here() == expected
    # a flag that names its source keeps it
    assert BehaviorFlagRendered({**FLAG, "source": "dbt-duckdb"}, {})._behavior_change_event.flag_source == "dbt-duckdb"


def test_every_dbt_invocation_of_a_run_names_its_flags_cheaply(original) -> None:
    """A run's dbt invocations each ask for the parsed manifest first: that installs the cheap naming."""
    parsed_manifest(dbt_project())
    assert getattr(BehaviorFlagRendered._default_source, "walks_frames", False)
