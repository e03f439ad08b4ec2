"""CPython mirrors of MicroPython's own modules.

install() puts them into sys.modules under their MicroPython names before any firmware
module is imported, so `from micropython import const` and `import machine` in firmware/
and boards/ work unchanged. `machine` acts on the active simulated world (sim/world.py);
importing it creates nothing.
"""
import sys

from sim.mirror import micropython as _micropython


def install():
    """Make `import micropython` / `import machine` resolve to the mirrors. Idempotent."""
    mods = sys.modules
    mods.setdefault("micropython", _micropython)
    if "machine" not in mods:
        from sim.mirror import machine as _machine
        mods["machine"] = _machine
    if not hasattr(sys, "print_exception"):
        sys.print_exception = _micropython.print_exception
