# Advertising payloads (Core spec Supplement, Part A: AD types). A legacy advertising
# packet and its scan response hold 31 bytes each: the flags and the 128-bit service
# UUID go in the advertising packet (so a passive scan can filter on the service), the
# name, appearance, preferred connection interval and the glasses' state byte in the scan
# response. The state byte is manufacturer-specific data under company id 0xFFFF (the
# id the Assigned Numbers reserve for internal use and tests): bit 0 set while the
# pairing window is open, so a phone can say "open the window first" before it tries.
from micropython import const

from firmware.protocol import uuids

AD_FLAGS = const(0x01)
AD_UUID128_COMPLETE = const(0x07)
AD_NAME_COMPLETE = const(0x09)
AD_CONN_INTERVAL_RANGE = const(0x12)  # "Peripheral Connection Interval Range"
AD_APPEARANCE = const(0x19)
AD_MANUFACTURER = const(0xFF)
COMPANY_ID = const(0xFFFF)
STATE_PAIRING = const(0x01)
FLAGS_LE_GENERAL_NO_BREDR = const(0x06)
MAX_AD_LEN = const(31)


class AdvError(ValueError):
    pass


def field(out, ad_type, data):
    """Append one AD structure (length, type, data) to the bytearray `out`."""
    n = len(data) + 1
    if n > 255:
        raise AdvError("AD field of %d bytes" % len(data))
    out.append(n)
    out.append(ad_type)
    out.extend(data)


def _checked(out):
    if len(out) > MAX_AD_LEN:
        raise AdvError("advertising payload of %d bytes exceeds %d" % (len(out), MAX_AD_LEN))
    return bytes(out)


def advertising_data(service_uuid=uuids.SERVICE):
    out = bytearray()
    field(out, AD_FLAGS, bytes((FLAGS_LE_GENERAL_NO_BREDR,)))
    field(out, AD_UUID128_COMPLETE, uuids.uuid128_le(service_uuid))
    return _checked(out)


def scan_response(name, appearance=uuids.APPEARANCE_EYEGLASSES, interval_ms=(15, 30),
                  pairing=False):
    """Name, appearance, the connection interval range the glasses prefer (in ms; sent in
    1.25 ms units) and the state byte (pairing: the window is open)."""
    out = bytearray()
    field(out, AD_NAME_COMPLETE, name.encode() if isinstance(name, str) else name)
    field(out, AD_APPEARANCE, bytes((appearance & 0xFF, appearance >> 8)))
    lo = (interval_ms[0] * 4) // 5
    hi = (interval_ms[1] * 4) // 5
    if not 6 <= lo <= hi <= 3200:
        raise AdvError("connection interval range %r ms is outside 7.5..4000" % (interval_ms,))
    field(out, AD_CONN_INTERVAL_RANGE, bytes((lo & 0xFF, lo >> 8, hi & 0xFF, hi >> 8)))
    field(out, AD_MANUFACTURER, bytes((COMPANY_ID & 0xFF, COMPANY_ID >> 8,
                                       STATE_PAIRING if pairing else 0)))
    return _checked(out)


def parse(payload):
    """[(ad_type, bytes)] of an advertising payload; AdvError if it is malformed."""
    out = []
    i = 0
    n = len(payload)
    while i < n:
        ln = payload[i]
        if ln == 0:
            break
        if i + 1 + ln > n:
            raise AdvError("AD structure at %d runs past the payload" % i)
        out.append((payload[i + 1], bytes(payload[i + 2:i + 1 + ln])))
        i += 1 + ln
    return out
