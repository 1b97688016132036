"""Set-up shared by every test module."""

import sys

# The suite runs on pytest-xdist workers (`make test`), which start from `python -c`: their __main__ has neither a
# __spec__ nor a __file__. pyspark (imported by Great Expectations when the spark extra is installed) takes that for
# a doctest run and exits the worker; a file name tells it otherwise.
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<pytest-xdist worker>"


def pytest_collection_modifyitems(config, items) -> None:
    """The longest modules first (`pytestmark = pytest.mark.duration(seconds)`), the others in collection order:
    `make test` hands whole modules to a few workers in this order (--dist loadfile --no-loadscope-reorder), so the
    few modules that run the pipeline on a simulated world start at once and overlap the many short ones, instead
    of starting halfway and running alone at the end."""
    def seconds(item) -> float:
        marker = item.get_closest_marker("duration")
        return marker.args[0] if marker else 0.0

    items.sort(key=seconds, reverse=True)  # stable: collection order among equals
