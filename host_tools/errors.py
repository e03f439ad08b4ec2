"""Exit codes of the `glasses` commands: one per kind of failure, so scripts can tell them
apart, and the error that carries one.

    0    ok
    1    failed: the glasses refused the request, or something else went wrong
    2    usage: bad arguments, or a feature not available in this build
    3    no adapter: no usable Bluetooth on this computer (or no simulator radio there)
    4    not found: no matching glasses within the timeout
    5    pairing refused
    6    version mismatch: the glasses and this host speak different link protocols
    7    link timeout: connected, but the link did not open or answer in time
    130  interrupted (Ctrl-C)

The same kinds travel over the running host's control endpoint (host_tools/phone/control.py),
so a command gets the same exit code whether it went through a host or over BLE itself.
"""
import asyncio

OK = 0
FAILED = 1
USAGE = 2
NO_ADAPTER = 3
NOT_FOUND = 4
PAIRING_REFUSED = 5
VERSION_MISMATCH = 6
LINK_TIMEOUT = 7
INTERRUPTED = 130

CODES = {
    "failed": FAILED,
    "unavailable": USAGE,
    "bad_request": USAGE,
    "no_adapter": NO_ADAPTER,
    "not_found": NOT_FOUND,
    "pairing_refused": PAIRING_REFUSED,
    "version_mismatch": VERSION_MISMATCH,
    "link_timeout": LINK_TIMEOUT,
}


class GlassesError(Exception):
    """A failure the CLI reports as one clear line and an exit code. `kind` is a key of
    CODES (it is also what the control endpoint sends)."""

    def __init__(self, kind, message):
        if kind not in CODES:
            raise ValueError("unknown error kind %r" % (kind,))
        super().__init__(message)
        self.kind = kind
        self.message = message

    @property
    def exit_code(self):
        return CODES[self.kind]


def no_adapter(e):
    """Is this what bleak (or the virtual radio's TCP transport) raises when there is no
    usable radio?"""
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError
    if isinstance(e, (BleakBluetoothNotAvailableError, FileNotFoundError, ConnectionError)):
        return True
    return isinstance(e, BleakDBusError) and ("ServiceUnknown" in e.dbus_error
                                              or "UnknownObject" in e.dbus_error)


def adapter_hint(radio, e):
    if radio is not None and radio.virtual:
        return ("cannot reach the simulator's radio at %s (%s): is `glasses sim` running?"
                % (radio.name, e))
    return ("no Bluetooth adapter on this computer (%s: %s); to reach the simulator use "
            "--radio virtual" % (type(e).__name__, e))


def classify(e, radio=None):
    """The GlassesError for an exception from connecting / talking to the glasses."""
    from bleak.exc import BleakDeviceNotFoundError, BleakError

    from host_tools.radio import PairingRefused
    from host_tools.phone.link import GlassesNotFound, VersionMismatch
    if isinstance(e, GlassesError):
        return e
    if isinstance(e, VersionMismatch):
        return GlassesError("version_mismatch", str(e))
    if isinstance(e, (GlassesNotFound, BleakDeviceNotFoundError)):
        return GlassesError("not_found", "%s (are they on, near, and not connected to "
                            "another phone?)" % e)
    if isinstance(e, PairingRefused):
        return GlassesError("pairing_refused", "%s. If the glasses were paired with this "
                            "computer before, make them forget their bonds (`glasses forget`"
                            " or their button) and try again." % e)
    if no_adapter(e) or (isinstance(e, OSError) and radio is not None and radio.virtual):
        return GlassesError("no_adapter", adapter_hint(radio, e))
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return GlassesError("link_timeout", "the glasses did not answer in time")
    if isinstance(e, BleakError):
        return GlassesError("failed", str(e))
    return GlassesError("failed", "%s: %s" % (type(e).__name__, e))
