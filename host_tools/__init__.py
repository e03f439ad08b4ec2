"""The desktop side of the glasses: the `glasses` CLI (cli/), the phone's role (phone/,
notify/, voice/, ota/), the bleak backend for the simulator's radio (radio/) and the
serial flasher (flash/).

The link protocol is the firmware's own code (firmware/protocol/), which imports
MicroPython's `micropython` module; importing host_tools makes that resolve to a CPython
stand-in (host_tools/micropython_standin.py) and installs nothing else.
"""
from host_tools import micropython_standin as _micropython

_micropython.install()
