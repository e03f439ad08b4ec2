"""CPython mirrors of MicroPython's own modules.

install() puts them into sys.modules under their MicroPython names before any firmware
module is imported, so `from micropython import const` in firmware/ works unchanged.
"""
import sys

from sim.mirror import micropython as _micropython


def install():
    """Make `import micropython` resolve to the mirror. Idempotent."""
    sys.modules.setdefault("micropython", _micropython)
    if not hasattr(sys, "print_exception"):
        sys.print_exception = _micropython.print_exception
