# The glasses' GATT identifiers, in one place for the firmware and the host tools.
#
# The custom service: a random 128-bit base (afe9xxxx-92bd-48be-8eae-065ff130d731) with
# the service at 0x0001, RX (central writes, glasses read) at 0x0002 and TX (glasses
# notify) at 0x0003. The rest are Bluetooth SIG assigned numbers.
from micropython import const

SERVICE = "afe90001-92bd-48be-8eae-065ff130d731"
RX = "afe90002-92bd-48be-8eae-065ff130d731"  # write / write without response
TX = "afe90003-92bd-48be-8eae-065ff130d731"  # notify

GENERIC_ACCESS = const(0x1800)
GENERIC_ATTRIBUTE = const(0x1801)
SERVICE_CHANGED = const(0x2A05)
DEVICE_INFORMATION = const(0x180A)
MANUFACTURER_NAME = const(0x2A29)
MODEL_NUMBER = const(0x2A24)
SERIAL_NUMBER = const(0x2A25)
FIRMWARE_REVISION = const(0x2A26)
BATTERY = const(0x180F)
BATTERY_LEVEL = const(0x2A19)
CCCD = const(0x2902)

APPEARANCE_EYEGLASSES = const(0x01C0)  # Assigned Numbers 2.6.2: category 0x007, Eye-glasses
NAME_PREFIX = "Glasses-"


def uuid128_le(text):
    """The 16 little-endian bytes of a 128-bit UUID string (as it goes on air)."""
    h = text.replace("-", "")
    if len(h) != 32:
        raise ValueError("not a 128-bit UUID: %r" % (text,))
    b = bytearray(16)
    for i in range(16):
        b[15 - i] = int(h[2 * i:2 * i + 2], 16)
    return bytes(b)


def uuid16_full(n):
    """A 16-bit SIG UUID written out as the 128-bit string hosts (bleak) use."""
    return "0000%04x-0000-1000-8000-00805f9b34fb" % n
