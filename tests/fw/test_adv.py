# Advertising payloads and UUID helpers (firmware/ble/adv.py, uuids.py). Runs under
# CPython and MicroPython.
from fwtest import raises

from firmware.ble import adv
from firmware.protocol import uuids


def test_service_uuid_goes_on_air_little_endian():
    le = uuids.uuid128_le(uuids.SERVICE)
    assert len(le) == 16 and le[0] == 0x31 and le[15] == 0xAF  # ...d731 / afe9...
    raises(ValueError, uuids.uuid128_le, "1234")
    assert uuids.uuid16_full(0x180A) == "0000180a-0000-1000-8000-00805f9b34fb"


def test_advertising_data_has_flags_and_the_service():
    data = adv.advertising_data()
    assert adv.parse(data) == [(adv.AD_FLAGS, b"\x06"),
                               (adv.AD_UUID128_COMPLETE, uuids.uuid128_le(uuids.SERVICE))]
    assert len(data) == 21


def test_scan_response_has_name_appearance_and_interval_range():
    data = adv.scan_response("Glasses-A1B2", interval_ms=(15, 30))
    fields = adv.parse(data)
    assert fields[0] == (adv.AD_NAME_COMPLETE, b"Glasses-A1B2")
    assert fields[1] == (adv.AD_APPEARANCE, b"\xc0\x01")
    assert fields[2] == (adv.AD_CONN_INTERVAL_RANGE, b"\x0c\x00\x18\x00")  # 12, 24 x 1.25 ms
    assert len(data) <= adv.MAX_AD_LEN


def test_payload_errors():
    raises(adv.AdvError, adv.scan_response, "Glasses-with-a-very-long-name")
    raises(adv.AdvError, adv.scan_response, "G", interval_ms=(5, 30))
    raises(adv.AdvError, adv.scan_response, "G", interval_ms=(40, 30))
    raises(adv.AdvError, adv.field, bytearray(), 9, bytes(255))
    raises(adv.AdvError, adv.parse, b"\x05\x09ab")  # runs past the end
    assert adv.parse(b"\x02\x01\x06\x00\x00") == [(1, b"\x06")]  # zero length ends it
