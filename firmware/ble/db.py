# The glasses' GATT database: Device Information (0x180A), Battery (0x180F) and the link
# service (firmware/protocol/uuids.py) with RX (write / write without response, encrypted
# only) and TX (notify; its CCCD needs an encrypted link). The stack adds Generic Access
# and Generic Attribute with Service Changed itself (NimBLE registers them).
from micropython import const

from firmware.protocol import uuids

_FLAG_READ = const(0x0002)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_READ_ENCRYPTED = const(0x0200)
_FLAG_WRITE_ENCRYPTED = const(0x1000)
_RX_FLAGS = const(0x100C)  # write | write without response | write encrypted
_TX_FLAGS = const(0x0210)  # notify | encrypted (its CCCD needs an encrypted link)
_BATTERY_FLAGS = const(0x0012)  # read | notify


def register(ble, manufacturer, model, serial, firmware_version, battery, rx_bytes):
    """Register the services and write their values; returns (rx, tx, battery) handles.
    rx_bytes: the largest frame an RX write carries."""
    import bluetooth  # here, not at import: a host test can import this module

    U = bluetooth.UUID
    services = (
        (U(uuids.DEVICE_INFORMATION), (
            (U(uuids.MANUFACTURER_NAME), _FLAG_READ),
            (U(uuids.MODEL_NUMBER), _FLAG_READ),
            (U(uuids.SERIAL_NUMBER), _FLAG_READ),
            (U(uuids.FIRMWARE_REVISION), _FLAG_READ),
        )),
        (U(uuids.BATTERY), ((U(uuids.BATTERY_LEVEL), _BATTERY_FLAGS),)),
        (U(uuids.SERVICE), ((U(uuids.RX), _RX_FLAGS), (U(uuids.TX), _TX_FLAGS))),
    )
    ((man, mod, ser, fw), (bat,), (rx, tx)) = ble.gatts_register_services(services)
    ble.gatts_write(man, manufacturer.encode())
    ble.gatts_write(mod, model.encode())
    ble.gatts_write(ser, serial.encode())
    ble.gatts_write(fw, firmware_version.encode())
    ble.gatts_write(bat, bytes((battery if battery > 0 else 0,)))
    ble.gatts_set_buffer(rx, rx_bytes)
    return rx, tx, bat


def hex_serial(b):
    out = ""
    for x in b:
        out += "%02X" % x
    return out
