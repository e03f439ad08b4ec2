# Bond records on flash (firmware/ble/bonds.py). Runs under CPython and MicroPython.
from fwtest import raises

from firmware.ble.bonds import BondStore
from firmware.runtime.store import Store
from test_store import _fresh_root


def test_secret_irq_semantics():
    b = BondStore(Store(_fresh_root()), max_bonds=3)
    assert b.get(2, 0, None) is None and b.get(2, 0, b"k1") is None
    assert b.set(2, b"k1", b"v1") and b.set(2, memoryview(b"k2"), memoryview(b"v2"))
    assert b.set(1, b"k1", b"ours")
    assert b.get(2, 0, memoryview(b"k2")) == b"v2"
    assert b.get(1, 0, b"k1") == b"ours"  # same key, other sec_type
    assert [b.get(2, i, None) for i in range(3)] == [b"v1", b"v2", None]  # index walk
    assert b.set(2, b"k1", None) and b.get(2, 0, b"k1") is None  # delete
    assert b.set(2, b"gone", None)  # deleting what is not there is fine


def test_saved_to_flash_and_loaded_back():
    root = _fresh_root()
    b = BondStore(Store(root))
    b.set(2, b"peer", b"keys")
    assert b.dirty and b.save() and not b.dirty and b.saves == 1
    assert b.save() and b.saves == 1  # nothing changed: no write
    again = BondStore(Store(root))
    assert again.get(2, 0, b"peer") == b"keys" and again.count() == 1


def test_oldest_bond_is_evicted_and_rewriting_refreshes():
    b = BondStore(Store(_fresh_root()), max_bonds=2)
    b.set(2, b"a", b"1")
    b.set(2, b"b", b"2")
    b.set(2, b"a", b"1'")  # a is now the newest
    b.set(2, b"c", b"3")  # evicts b
    assert b.get(2, 0, b"b") is None and b.get(2, 0, b"a") == b"1'"
    assert b.count(2) == 2 and b.evicted == 1


def test_bad_records_are_refused():
    b = BondStore(Store(_fresh_root()))
    assert not b.set(2, b"k" * 65, b"v")
    assert not b.set(300, b"k", b"v")
    assert not b.set(2, b"k", b"v" * 600)
    assert b.refused == 3 and b.count() == 0
    raises(ValueError, BondStore, Store(_fresh_root()), 0)


def test_a_corrupt_or_foreign_file_loads_as_no_bonds():
    root = _fresh_root()
    s = Store(root)
    s.write("bonds", b"\xff\x00garbage")
    assert BondStore(s).count() == 0
    s.write_cbor("bonds", [[2, b"k", b"v"], "junk", [2, 5, b"v"], [1, b"x", b"y"]])
    b = BondStore(s)
    assert b.count() == 2 and b.get(1, 0, b"x") == b"y"


def test_a_full_flash_keeps_the_bond_in_ram_and_retries():
    root = _fresh_root()
    s = Store(root, capacity_bytes=40)
    b = BondStore(s)
    b.set(2, b"peer", b"v" * 60)
    assert not b.save() and b.dirty and b.save_errors == 1
    assert b.get(2, 0, b"peer") == b"v" * 60
    s.capacity_bytes = 0
    assert b.save() and not b.dirty
