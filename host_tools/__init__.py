"""Desktop side of the glasses: the `glasses` CLI, the phone-host role, flashing, OTA.

The link protocol code is shared with the firmware (firmware/link/), which imports
MicroPython's own modules; under CPython the simulator's mirrors stand in for them.
"""
from sim import mirror as _mirror

_mirror.install()
