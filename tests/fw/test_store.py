# Atomic file store. Runs under CPython (pytest) and MicroPython (tests/mpy/run.py).
from fwtest import raises, temp_root

from firmware.runtime.store import Store, StoreFull, StoreError

def _fresh_root():
    return temp_root("store")


def test_write_read_replace_remove():
    s = Store(_fresh_root())
    assert s.read("a") is None
    s.write("a", b"one")
    s.write("a", b"two!")
    assert s.read("a") == b"two!"
    assert s.names() == ["a"]
    s.remove("a")
    assert s.read("a") is None and s.names() == []


def test_cbor_records_and_bad_content():
    s = Store(_fresh_root())
    s.write_cbor("bonds", {1: [b"\x01" * 6, b"k" * 16]})
    assert s.read_cbor("bonds") == {1: [b"\x01" * 6, b"k" * 16]}
    s.write("junk", b"\xff\xff")
    assert s.read_cbor("junk", "default") == "default"


def test_a_torn_temp_file_never_replaces_the_real_one():
    root = _fresh_root()
    s = Store(root)
    s.write("n", b"committed")
    with open(root + "/n.tmp", "wb") as f:  # a reset in the middle of the next write
        f.write(b"half")
    assert s.read("n") == b"committed"
    s.write("n", b"next")
    assert s.read("n") == b"next" and s.names() == ["n"]


def test_an_interrupted_replace_keeps_the_complete_new_copy():
    root = _fresh_root()
    s = Store(root)
    with open(root + "/m.tmp", "wb") as f:  # old file removed, rename not done yet
        f.write(b"new copy")
    assert s.read("m") == b"new copy"


def test_capacity_is_checked_before_writing_and_nothing_is_lost():
    s = Store(_fresh_root(), capacity_bytes=100)
    s.write("a", b"x" * 60)
    e = raises(StoreFull, s.write, "b", b"y" * 50)
    assert "flash full" in str(e)
    assert s.read("a") == b"x" * 60 and s.read("b") is None
    s.write("a", b"z" * 90)  # replacing within the budget is fine
    assert s.free_bytes() == 10


def test_bad_names_are_refused():
    s = Store(_fresh_root())
    for bad in ("", "a/b", ".hidden"):
        raises(StoreError, s.write, bad, b"x")
