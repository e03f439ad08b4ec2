"""pytest setup shared by all tests.

Firmware tests in tests/fw/ also run under MicroPython (tests/mpy/run.py), where pytest does
not exist, so they are plain functions. Some are generators: each `yield` is a checkpoint
where the MicroPython runner lets the GC run and measures the heap; here they are simply
run to the end.
"""
import inspect

import pytest

collect_ignore = ["mpy"]  # MicroPython-only tests; tests/mpy/run.py runs them


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector, name, obj):
    if name.startswith("test_") and inspect.isgeneratorfunction(obj):
        return pytest.Function.from_parent(collector, name=name)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if inspect.isgeneratorfunction(pyfuncitem.obj):
        args = {k: pyfuncitem.funcargs[k] for k in pyfuncitem._fixtureinfo.argnames}
        for _ in pyfuncitem.obj(**args):
            pass
        return True
    return None


# Firmware modules import MicroPython's own modules; under CPython the simulator's mirrors
# stand in for them.
from sim import mirror as _mirror  # noqa: E402

_mirror.install()
