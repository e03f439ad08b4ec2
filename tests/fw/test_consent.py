# Who may get in (firmware/ble/consent.py, access.py): the pairing window, refused
# pairings, squatters and their back-off, forgetting; the advertised state byte.
# Sans-IO, in virtual time. Runs under CPython and MicroPython.
from fwtest import raises

from firmware.ble import adv
from firmware.ble.access import (A_ADVERTISE, A_BOND_OFF, A_BOND_ON, A_DISCONNECT, A_LINK,
                                 A_PAYLOAD, Access)
from firmware.ble.bonds import BondStore, bond_key
from firmware.ble.consent import IGNORED, MAX_TRACKED, PAIRING, SQUATTER, Consent
from firmware.runtime.clock import VirtualClock
from firmware.runtime.store import Store
from test_store import _fresh_root

OWNER = b"\xc1\x00\x00\x00\x00\x01"
STRANGER = b"\xc2\x00\x00\x00\x00\x02"


def _rig(window_ms=60000, secure_ms=5000):
    c = VirtualClock(3)
    bonds = BondStore(Store(_fresh_root()))
    a = Access(Consent(c, window_ms=window_ms, secure_ms=secure_ms), bonds)
    seen = []
    a.on("pairing", lambda open_, why: seen.append(("pairing", open_, why)))
    a.on("refused", lambda what, addr: seen.append(("refused", what, addr)))
    return c, bonds, a, seen


def _pair(a, bonds, addr, conn=0):
    """A central pairs and bonds: its keys reach the store (_IRQ_SET_SECRET), then the
    stack reports the encryption; returns the actions for both."""
    acts = a.connect(conn, 1, addr)
    bonds.set(2, bond_key(1, addr), b"keys")
    return acts | a.encryption(True, False, True)


def test_the_window_is_open_out_of_the_box_and_the_first_bond_closes_it():
    c, bonds, a, seen = _rig()
    assert a.window_open() and a.bonding_wanted()
    acts = _pair(a, bonds, OWNER)
    assert a.authorised and acts & A_LINK and acts & A_BOND_OFF and acts & A_PAYLOAD
    assert not a.window_open() and seen == [("pairing", False, "bonded")]
    assert a.key == bond_key(1, OWNER) and a.consent.counts["new_bonds"] == 1


def test_outside_the_window_a_strangers_pairing_is_refused_and_its_keys_dropped():
    c, bonds, a, seen = _rig()
    _pair(a, bonds, OWNER)
    a.disconnect(0)
    a.connect(1, 1, STRANGER)
    assert a.encryption(True, False, False) & A_DISCONNECT  # no bond taken: refused
    a.disconnect(1)
    c.advance_ms(60000)  # its back-off over
    a.connect(2, 1, STRANGER)  # the stack took its keys anyway: refused, keys gone
    bonds.set(2, bond_key(1, STRANGER), b"theirs")
    acts = a.encryption(True, False, True)
    assert acts & A_DISCONNECT and not a.authorised and bonds.peers() == [bond_key(1, OWNER)]
    assert a.consent.counts[PAIRING] == 2
    assert [e[1] for e in seen if e[0] == "refused"] == [PAIRING, PAIRING]


def test_the_gesture_opens_the_window_for_a_minute_and_one_new_phone():
    c, bonds, a, seen = _rig()
    _pair(a, bonds, OWNER)
    a.disconnect(0)
    acts = a.open_window()
    assert acts & A_BOND_ON and a.window_open() and seen[-1] == ("pairing", True, "gesture")
    c.advance_ms(30000)
    assert a.consent.left_ms() == 30000
    assert not _pair(a, bonds, STRANGER, conn=3) & A_DISCONNECT and a.authorised
    assert not a.window_open() and len(bonds.peers()) == 2  # the first new bond closed it
    a.disconnect(3)
    a.open_window()
    c.advance_ms(60001)
    assert a.tick(c.ticks_ms()) & A_BOND_OFF and seen[-1] == ("pairing", False, "timeout")
    assert a.wait_ms(c.ticks_ms()) == -1  # nothing left to time


def test_the_gesture_ends_the_back_off_of_a_phone_refused_outside_the_window():
    c, bonds, a, seen = _rig()
    _pair(a, bonds, OWNER)
    a.disconnect(0)
    a.connect(1, 1, STRANGER)  # the wearer's new phone, before they opened the window
    assert a.encryption(True, False, False) & A_DISCONNECT
    a.disconnect(1)
    assert a.connect(2, 1, STRANGER) & A_DISCONNECT  # its back-off runs
    a.disconnect(2)
    a.open_window()
    assert a.consent.blocked_ms(STRANGER) == 0
    assert not _pair(a, bonds, STRANGER, conn=3) & A_DISCONNECT and a.authorised


def test_a_squatter_is_dropped_and_ignored_for_a_growing_back_off():
    c, bonds, a, seen = _rig(secure_ms=5000)
    _pair(a, bonds, OWNER)
    a.disconnect(0)
    a.connect(1, 1, STRANGER)
    assert a.wait_ms(c.ticks_ms()) == 5000
    c.advance_ms(4999)
    assert a.tick(c.ticks_ms()) == 0
    c.advance_ms(1)
    assert a.tick(c.ticks_ms()) & A_DISCONNECT and a.consent.counts[SQUATTER] == 1
    assert a.disconnect(1) & A_ADVERTISE
    assert a.connect(2, 1, STRANGER) & A_DISCONNECT  # back within 5 s: ignored at once
    a.disconnect(2)
    assert a.consent.blocked_ms(STRANGER) == 10000  # each return doubles it
    for _ in range(10):
        a.consent.strike(STRANGER, IGNORED)
    assert a.consent.blocked_ms(STRANGER) == a.consent.backoff_max_ms  # capped
    assert a.connect(3, 1, OWNER) == 0 and a.encryption(True, False, True) & A_LINK
    assert a.authorised  # a bonded phone is never struck


def test_the_back_off_table_is_bounded_and_forgets_the_least_recent():
    c, bonds, a, seen = _rig()
    con = a.consent
    for i in range(MAX_TRACKED + 3):
        con.strike(bytes((0xC0, 0, 0, 0, 0, i)), SQUATTER)
    assert len(con._strikes) == MAX_TRACKED
    assert con.blocked_ms(bytes((0xC0, 0, 0, 0, 0, 0))) == 0  # the oldest went
    assert con.blocked_ms(bytes((0xC0, 0, 0, 0, 0, MAX_TRACKED + 2))) == 5000


def test_forgetting_one_phone_or_all():
    c, bonds, a, seen = _rig()
    gone = []
    a.on("forgotten", gone.append)
    _pair(a, bonds, OWNER)
    a.disconnect(0)
    a.open_window()
    _pair(a, bonds, STRANGER, conn=1)
    acts = a.forget(bond_key(1, STRANGER))  # the linked phone asked to be forgotten
    assert acts & A_DISCONNECT and not a.authorised
    assert bonds.peers() == [bond_key(1, OWNER)] and not a.window_open()
    a.disconnect(1)
    acts = a.forget()
    assert bonds.peers() == [] and a.window_open() and acts & A_BOND_ON
    assert gone == [bond_key(1, STRANGER), None] and seen[-1] == ("pairing", True, "forgotten")


def test_the_scan_response_says_whether_the_window_is_open():
    for open_ in (True, False):
        fields = dict(adv.parse(adv.scan_response("Glasses-A1B2", pairing=open_)))
        data = fields[adv.AD_MANUFACTURER]
        assert data[0] | data[1] << 8 == adv.COMPANY_ID
        assert bool(data[2] & adv.STATE_PAIRING) == open_
    raises(ValueError, Consent, VirtualClock(1), secure_ms=0)
