"""Every exception the host side defines, and the exit codes of the `glasses` commands:
one code per kind of failure, so scripts can tell them apart.

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

The exceptions, all under HostError (the modules that raise them import them from here):

    HostError
      GlassesError(kind, message)   one line for the CLI and an exit code (kind: a key of CODES)
        NoAdapter                   no usable radio for a scan (kind "no_adapter")
      PhoneError                    the Phone's link (host_tools/phone/link.py)
        VersionMismatch             the glasses speak another link protocol: retrying cannot help
        GlassesNotFound             no matching glasses advertised within the scan
      EndpointBusy  (RuntimeError)  another running host serves the control endpoint
      RadioSpecError  (ValueError)  a --radio / $GLASSES_RADIO that is not understood
      PackageError                  not an update package, or a bad signing key (ota/package.py)
      OtaFailed(reason)             the update did not happen (ota/host.py)
        UpdateRefused               the glasses refused the package
        RolledBack                  the new firmware did not get healthy
      VisionError, OcrError         no answer about a photo (camera/vision.py, camera/ocr.py)
      OutboxFull  (OSError)         the phone's events outbox stayed full (notify/host.py)
      PairingRefused  (BleakError)  the pairing was refused or failed (radio/client.py)

PairingRefused is a BleakError because bleak's backend contract wants bleak's exceptions
from a backend: code written against bleak catches it as one. host_tools.radio re-exports
it for such code. That is why this module imports bleak.exc (small, and bleak is a
dependency); nothing heavier is imported here.

Not here, on purpose: the flasher's errors (host_tools/flash/errors.py: the flash package
is a tool of its own, with a tree of errors that each say how to fix the board), and the
voice feature's (AsrError, TtsError, BackendError, HandlerError, AudioError in their
modules under host_tools/voice/): each belongs to its engine's or handler's API, and none
leaves the voice feature, which turns them into the link's RPC errors for the glasses
(firmware/protocol/rpc.py). NotificationError is the firmware's own (firmware/notify/
model.py: the phone validates with the glasses' code). ota/host.py's _Restart is private
control flow, not an error.
"""
import asyncio

from bleak.exc import (BleakBluetoothNotAvailableError, BleakDBusError,
                       BleakDeviceNotFoundError, BleakError)

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


class HostError(Exception):
    """The base of every exception the host side raises on purpose."""


class GlassesError(HostError):
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


class NoAdapter(GlassesError):
    """No usable radio to scan with; the message says which and what to try."""

    def __init__(self, message):
        super().__init__("no_adapter", message)


class PhoneError(HostError):
    """The Phone cannot do what was asked (not started, not connected, outbox full...)."""


class VersionMismatch(PhoneError):
    """The glasses speak another link protocol version; retrying cannot help."""


class GlassesNotFound(PhoneError):
    """No matching glasses advertised within the scan."""


class EndpointBusy(HostError, RuntimeError):
    """Another running host already serves the endpoint."""


class RadioSpecError(HostError, ValueError):
    """A radio spec (--radio, $GLASSES_RADIO) that is not understood."""


class PackageError(HostError):
    """Not an update package (or not one of this firmware), or a bad signing key."""


class OtaFailed(HostError):
    """The update did not happen; .reason says why (the glasses' words when they gave one)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class UpdateRefused(OtaFailed):
    """The glasses refused the package (battery, signature, board, space, trial...)."""


class RolledBack(OtaFailed):
    """The new firmware did not get healthy and the glasses went back to the old one."""


class PrivateDirError(HostError, OSError):
    """The config folder for keys is not this user's (host_tools/config.py)."""


class OutboxFull(HostError, OSError):
    """The phone's events outbox stayed full for the whole timeout."""


class VisionError(HostError, RuntimeError):
    """The vision backend gave no answer about a photo (host_tools/camera/vision.py)."""


class OcrError(HostError, RuntimeError):
    """The offline text reader gave no text for a photo (host_tools/camera/ocr.py): its
    engine or models are missing, or its worker process timed out or died."""


class PairingRefused(BleakError, HostError):
    """The peripheral (or this host) refused or failed the pairing; the reason says why."""


def no_adapter(e):
    """Is this what bleak (or the virtual radio's TCP transport) raises when there is no
    usable radio?"""
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
