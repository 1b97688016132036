"""dbt-common's behavior flags named without `inspect.stack()`.

Every dbt invocation registers its adapter, and every behavior flag the adapter declares without a `source` is named
after the module that declared it, found with `inspect.stack()`. That call builds the frame information of the whole
stack with its source lines, looking each frame's module up among all the loaded ones: under Dagster's deep stack,
with thousands of modules loaded, about 0.095 s a flag and two flags an adapter, in each of a run's three invocations
and once more when the code location loads (docs/performance-log.md, "forty-third session"). Reading each frame's
module name from its globals finds the same module without reading any source."""

from __future__ import annotations

import sys


def name_behavior_flags_cheaply() -> None:
    """From now on in this process, a behavior flag without a `source` is named after the first module on the stack
    other than dbt-common's behavior_flags (what dbt-common finds), by a walk of the frames' globals. Idempotent."""
    from dbt_common import behavior_flags

    rendered = behavior_flags.BehaviorFlagRendered
    own = rendered.__dict__.get("_default_source")
    if not isinstance(own, staticmethod) or getattr(own.__func__, "walks_frames", False):
        return  # installed already, or a dbt-common that names its flags otherwise (the test says so)

    def default_source() -> str:
        frame = sys._getframe(1)
        while frame is not None:
            name = frame.f_globals.get("__name__")
            if isinstance(name, str) and name != behavior_flags.__name__:
                return name
            frame = frame.f_back
        return "Unknown"

    default_source.walks_frames = True  # type: ignore[attr-defined]
    default_source.replaced = own  # type: ignore[attr-defined]
    rendered._default_source = staticmethod(default_source)
