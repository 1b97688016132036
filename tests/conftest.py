"""Set-up shared by every test module."""

import sys

# The suite runs on pytest-xdist workers (`make test`), which start from `python -c`: their __main__ has neither a
# __spec__ nor a __file__. pyspark (imported by Great Expectations when the spark extra is installed) takes that for
# a doctest run and exits the worker; a file name tells it otherwise.
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<pytest-xdist worker>"
