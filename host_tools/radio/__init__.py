"""bleak on the simulator's virtual radio.

    radio = open_radio("virtual:127.0.0.1:7101")    # or GLASSES_RADIO, or --radio
    devices = await BleakScanner.discover(backend=radio.scanner)
    async with BleakClient(device, backend=radio.client) as client: ...

`open_radio` understands:
  system                  bleak's own platform backend (real Bluetooth; the default on
                          real hardware): radio.scanner and radio.client are None, which
                          bleak reads as "pick the platform backend"
  virtual                 the simulator's controllers over TCP at 127.0.0.1:7101
  virtual:HOST:PORT       the same at another address
and, from Python, `open_radio(radio=sim_radio)` for a host in the simulator's own loop.

The same bleak calls then run against the simulator and against real glasses. A refused
pairing raises PairingRefused, a BleakError (defined in host_tools/errors.py, exported here
for code written against bleak).
"""
from __future__ import annotations

import os

from host_tools.errors import PairingRefused, RadioSpecError
from host_tools.config import config_dir
from host_tools.radio.adapter import BumbleAdapter
from host_tools.radio.client import BleakClientBumble
from host_tools.radio.scanner import BleakScannerBumble

DEFAULT_VIRTUAL = "127.0.0.1:7101"
ENV = "GLASSES_RADIO"

__all__ = ["open_radio", "RadioChoice", "BumbleAdapter", "BleakClientBumble",
           "BleakScannerBumble", "PairingRefused", "config_dir"]


class RadioChoice:
    """Which radio the host uses: `scanner`/`client` are the bleak backends to pass as
    `backend=` (None: bleak's platform backend)."""

    def __init__(self, name, adapter=None):
        self.name = name
        self.adapter = adapter
        if adapter is None:
            self.scanner = None
            self.client = None
        else:
            self.scanner = type("BleakScannerVirtual", (BleakScannerBumble,),
                                {"adapter": adapter})
            self.client = type("BleakClientVirtual", (BleakClientBumble,),
                               {"adapter": adapter})

    @property
    def virtual(self):
        return self.adapter is not None

    async def close(self):
        if self.adapter is not None:
            await self.adapter.close()


def parse_spec(spec):
    """("system", None) or ("virtual", "HOST:PORT"); RadioSpecError if not understood."""
    spec = (spec or "").strip()
    if spec in ("", "system"):
        return "system", None
    if spec == "virtual":
        return "virtual", DEFAULT_VIRTUAL
    if spec.startswith("virtual:"):
        rest = spec[len("virtual:"):]
        host, sep, port = rest.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise RadioSpecError("radio %r: expected virtual:HOST:PORT, e.g. "
                                 "virtual:127.0.0.1:7101" % spec)
        return "virtual", rest
    raise RadioSpecError("radio %r: expected 'system', 'virtual' or 'virtual:HOST:PORT'"
                         % spec)


def open_radio(spec=None, radio=None, config_dir_path=None):
    """The host's radio. `radio`: a sim.radio.Radio in this process (in-process host
    controller). Otherwise `spec` (or $GLASSES_RADIO, default "system")."""
    if radio is not None:
        return RadioChoice("in-process", BumbleAdapter(
            controller=radio.host_controller("host"), config_dir_path=config_dir_path))
    kind, where = parse_spec(spec if spec is not None else os.environ.get(ENV, "system"))
    if kind == "system":
        return RadioChoice("system")
    return RadioChoice("virtual:" + where, BumbleAdapter(
        transport="tcp-client:" + where, config_dir_path=config_dir_path))
