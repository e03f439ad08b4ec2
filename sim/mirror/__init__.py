"""CPython mirrors of MicroPython's own modules.

install() puts them into sys.modules under their MicroPython names before any firmware
module is imported, so `from micropython import const`, `import machine`,
`import bluetooth`, `import esp32` and `import camera` (micropython-camera-API, the
user C module camera boards are built with) in firmware/ and boards/ work unchanged. `machine`
acts on the active simulated world (sim/world.py); importing it creates nothing.
`bluetooth` (on Google's bumble) is loaded on first use: bumble takes a while to import.
"""
import importlib
import sys
import types

from host_tools import micropython_standin as _micropython


class _LazyModule(types.ModuleType):
    """A module that imports its implementation on first attribute access."""

    def __init__(self, name, target):
        super().__init__(name)
        self.__dict__["_target"] = target

    def __getattr__(self, attr):
        mod = importlib.import_module(self.__dict__["_target"])
        self.__dict__.update({k: v for k, v in mod.__dict__.items()
                              if not k.startswith("_") or k == "__doc__"})
        return getattr(mod, attr)


def install():
    """Make `import micropython` / `machine` / `bluetooth` resolve to the mirrors.
    Idempotent."""
    mods = sys.modules
    mods.setdefault("micropython", _micropython)
    if "machine" not in mods:
        from sim.mirror import machine as _machine
        mods["machine"] = _machine
    mods.setdefault("bluetooth", _LazyModule("bluetooth", "sim.mirror.bluetooth"))
    mods.setdefault("esp32", _LazyModule("esp32", "sim.mirror.esp32"))
    mods.setdefault("camera", _LazyModule("camera", "sim.mirror.camera"))  # a user C module
    if not hasattr(sys, "print_exception"):
        sys.print_exception = _micropython.print_exception
