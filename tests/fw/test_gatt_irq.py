# The GATT peripheral's interrupt side and the parts that need no radio
# (firmware/ble/gatt.py). Runs under CPython and MicroPython; the radio side is tested
# over the real bumble stack in tests/test_ble_gatt.py.
from fwtest import virtual_scheduler

from firmware.ble.gatt import GattPeripheral
from firmware.runtime.store import Store
from test_store import _fresh_root


def _peripheral(**kw):
    s = virtual_scheduler()
    return GattPeripheral(None, s, Store(_fresh_root()), "Glasses-TEST", "sim", "0.1.0",
                          b"\xa1\xb2\x00\x0f", **kw)


def test_secret_irqs_answer_at_once_from_ram():
    g = _peripheral()
    assert g._irq(29, (2, 0, None)) is None
    assert g._irq(30, (2, memoryview(b"peer"), memoryview(b"keys"))) is True
    assert g.flag._set  # run() will save them to flash
    assert g._irq(29, (2, 0, memoryview(b"peer"))) == b"keys"
    assert g._irq(29, (2, 0, None)) == b"keys"
    assert g.bonds.dirty and g.bonds.save() and not g.bonds.dirty


def test_the_irq_ring_is_bounded_and_counts_what_it_drops():
    g = _peripheral(ring_size=4)
    for i in range(6):
        g._irq(21, (7, 100 + i))  # MTU events for a connection that is not ours
    assert g.irq_dropped == 2 and g._ring.count == 4
    g._drain()
    assert g._ring.count == 0 and g.mtu == 23  # not our connection: ignored
    g._irq(20, (7, 3, 0))  # indicate-done: nothing to record
    assert g._ring.count == 0


def test_nothing_is_sent_without_a_bonded_encrypted_peer():
    g = _peripheral()
    assert not g.authorised
    assert g.send(b"\x01\x00\x00hello") is False and g.tx_refused == 1
    assert not g.writable.is_set()


def test_battery_is_clamped_and_only_changes_count():
    g = _peripheral()
    assert g.set_battery(150) is True and g.battery == 100
    assert g.set_battery(100) is False
    assert g.set_battery(-3) is True and g.battery == 0


def test_forget_bonds_clears_ram_and_flash():
    g = _peripheral()
    g._irq(30, (2, b"peer", b"keys"))
    g.bonds.save()
    g.forget_bonds()
    assert g.bonds.count() == 0 and not g.bonds.dirty
    assert Store(g.bonds.store.root).read_cbor("bonds") == []


def test_serial_comes_from_the_unique_id_in_hex():
    assert _peripheral().serial == "A1B2000F"
