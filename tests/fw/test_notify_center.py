# The notification centre: replies, duplicates, flood eviction, quiet hours / DND, per-app
# rules, worn gating, persistence across a reset. CPython and MicroPython.
# Heap budget: 32 KB per test. MicroPython's figure is everything allocated in a step
# (garbage included): a received notification costs ~2-4 KB transient (decode, validate,
# CBOR, the store's file calls), so the longer tests yield between phases.
from fwtest import raises

from firmware.notify import wire as W
from firmware.notify.center import ANNOUNCED, NEW, READ, Center
from firmware.notify.rules import RulesError
from firmware.runtime.store import Store, StoreError
from notify_helpers import Recorder, fresh_store, outcomes, wire

HEAP_BUDGET = {}


def _center(store=None, rules=None, worn=True, minute=None, **kw):
    rec = Recorder()
    st = store if store is not None else fresh_store()
    clock = [minute]
    c = Center(st, rec.p, rules=rules, local_minute=lambda: clock[0], **kw)
    if worn:
        c.set_worn(True)
    return c, rec, st, clock


def test_every_outcome_gets_a_reply():
    c, rec, _, _ = _center()
    assert outcomes(c.receive(wire("a"))) == [("a", W.ACCEPTED)]
    r = c.receive(wire("b", body="x" * 900))
    assert outcomes(r) == [("b", W.CUT)] and r[0][3] == ["body cut by 416 chars"], r
    assert outcomes(c.receive(wire("a"))) == [("a", W.DUPLICATE)]
    r = c.receive(wire("c", priority="asap"))
    assert outcomes(r) == [("c", W.REJECTED)] and "unknown priority" in r[0][3]
    r = c.receive({5: "normal"})
    assert outcomes(r) == [(None, W.REJECTED)] and r[0][3] == "missing field 'id'"
    assert c.ids() == ["a", "b"]


def test_normal_is_announced_urgent_read_in_full_low_waits():
    c, rec, _, _ = _center()
    c.receive(wire("n", app="Mail", title="Lunch?", category="email"))
    assert rec.calls == [("haptic", "tick"), ("chime", "notification"),
                         ("speak", "Mail: Lunch?")], rec.calls
    rec.clear()
    c.receive(wire("u", app="Bank", title="Card used", body="42 EUR", priority="urgent"))
    assert rec.calls == [("haptic", "urgent"), ("chime", "urgent"), ("speak", "Bank: Card used"),
                         ("speak", "42 EUR")], rec.calls
    rec.clear()
    c.receive(wire("l", priority="low", category="social"))
    assert rec.calls == []
    assert [e.state for e in c.entries] == [ANNOUNCED, READ, NEW]


def test_category_chimes():
    c, rec, _, _ = _center()
    for i, cat in enumerate(("call", "calendar", "message")):
        c.receive(wire("n%d" % i, category=cat))
    assert rec.of("chime") == ["call", "reminder", "message"]


def test_a_flood_evicts_oldest_low_first_and_names_every_dropped_id():
    c, rec, _, _ = _center(max_entries=4)
    c.receive(wire("n1"))
    c.receive(wire("l1", priority="low"))
    c.receive(wire("l2", priority="low"))
    c.receive(wire("u1", priority="urgent"))
    yield
    r = c.receive(wire("n2"))
    assert outcomes(r) == [("n2", W.ACCEPTED), ("l1", W.DROPPED)], r
    assert "queue full (4): evicted (low, new) for n2" in r[1][3], r[1][3]
    r = c.receive(wire("n3"))
    assert outcomes(r) == [("n3", W.ACCEPTED), ("l2", W.DROPPED)]
    yield
    # no low ones left: the normal ones go, an already-read one before unread ones
    c.read_current()  # reads n3 (the current one) in full
    r = c.receive(wire("n4"))
    assert outcomes(r) == [("n4", W.ACCEPTED), ("n3", W.DROPPED)], r
    assert "(normal, read)" in r[1][3]
    yield
    r = c.receive(wire("n5"))
    assert outcomes(r) == [("n5", W.ACCEPTED), ("n1", W.DROPPED)]
    assert c.ids() == ["u1", "n2", "n4", "n5"]
    yield
    # a low one cannot push out anything more important: it is dropped itself
    r = c.receive(wire("l3", priority="low"))
    assert outcomes(r) == [("l3", W.DROPPED)] and "more important" in r[0][3]
    # and a dropped or evicted id sent again is a duplicate
    assert outcomes(c.receive(wire("l1"))) == [("l1", W.DUPLICATE)]
    assert outcomes(c.receive(wire("l3"))) == [("l3", W.DUPLICATE)]


def test_urgent_ones_are_evicted_only_by_urgent_ones():
    c, _, _, _ = _center(max_entries=2)
    c.receive(wire("u1", priority="urgent"))
    c.receive(wire("u2", priority="urgent"))
    assert outcomes(c.receive(wire("n1"))) == [("n1", W.DROPPED)]
    assert outcomes(c.receive(wire("u3", priority="urgent"))) == [("u3", W.ACCEPTED),
                                                                   ("u1", W.DROPPED)]


def test_quiet_hours_hold_everything_but_urgent():
    rules = {"quiet": [[22 * 60, 7 * 60]]}
    c, rec, _, clock = _center(rules=rules, minute=23 * 60)
    c.receive(wire("n1"))
    c.receive(wire("l1", priority="low"))
    assert rec.calls == [] and c.waiting_counts() == (2, 0)
    c.receive(wire("u1", priority="urgent", title="Door", body="Someone at the door"))
    assert rec.said() == ["Chat: Door", "Someone at the door"]
    clock[0] = 7 * 60  # morning: presented again
    rec.clear()
    c.receive(wire("n2", title="Morning"))
    assert rec.said() == ["Chat: Morning"]


def test_dnd_and_breakthrough_as_data():
    c, rec, _, _ = _center(rules={"dnd": True, "breakthrough": ["urgent", "normal"]})
    c.receive(wire("n1"))
    c.receive(wire("l1", priority="low"))
    assert rec.said() == ["Chat: Hi"]
    c.set_rules({"dnd": True})
    rec.clear()
    c.receive(wire("n2"))
    assert rec.said() == []
    assert c.set_dnd(False) == "You have 2 notifications."  # l1 and n2 wait
    raises(RulesError, c.set_rules, {"dnd": "off"})
    assert c.rules["dnd"] is False  # the bad rules changed nothing


def test_per_app_rules():
    rules = {"apps": {"Spam": {"mute": True}, "Bank": {"priority": "urgent"},
                      "Mum": {"always_speak": True}}}
    c, rec, _, _ = _center(rules=rules)
    r = c.receive(wire("s1", app="Spam"))
    assert outcomes(r) == [("s1", W.DROPPED)] and r[0][3] == "muted by the rule for app Spam"
    r = c.receive(wire("b1", app="Bank", priority="low", title="Paid", body="12 EUR"))
    assert outcomes(r) == [("b1", W.ACCEPTED)]
    assert r[0][3] == ["priority set to urgent by the rule for app Bank"]
    assert rec.said() == ["Bank: Paid", "12 EUR"] and "urgent" in rec.of("haptic")
    rec.clear()
    c.receive(wire("m1", app="Mum", priority="low", title="Dinner", body="at 8"))
    assert rec.said() == ["Mum: Dinner", "at 8"] and rec.of("chime") == ["notification"]
    assert c.ids() == ["b1", "m1"]


def test_not_worn_means_led_and_queue_then_a_summary_on_put_on():
    c, rec, _, _ = _center(worn=False)
    c.receive(wire("l1", priority="low"))
    assert rec.calls == [("led", "waiting_low")]
    c.receive(wire("n1"))
    c.receive(wire("u1", priority="urgent"))
    assert rec.of("led") == ["waiting_low", "waiting", "waiting_urgent"]
    assert rec.said() == [] and rec.of("chime") == []
    rec.clear()
    assert c.set_worn(True) == "You have 3 notifications, 1 urgent."
    assert rec.calls == [("led", "off"), ("speak", "You have 3 notifications, 1 urgent.")]
    rec.clear()
    c.read_current()  # the urgent one first
    assert rec.said() == ["Chat: Hi", "hello"] and c.current().note.id == "u1"
    c.set_worn(False)
    assert rec.of("led") == ["waiting"]  # what still waits unheard


def test_a_reset_mid_queue_loses_nothing_and_repeats_nothing():
    st = fresh_store()
    c, rec, _, _ = _center(store=st)
    c.receive(wire("n1", title="One"))
    c.receive(wire("u1", title="Two", priority="urgent"))
    c.set_worn(False)
    c.receive(wire("n2", title="Three"))
    c.receive(wire("l1", title="Four", priority="low"))
    said_before = rec.said()
    yield
    # reset: a new centre from the same flash
    c2, rec2, _, _ = _center(store=st, worn=False)
    assert c2.ids() == ["n1", "u1", "n2", "l1"]
    assert [e.state for e in c2.entries] == [ANNOUNCED, READ, NEW, NEW]
    assert outcomes(c2.receive(wire("u1"))) == [("u1", W.DUPLICATE)]
    assert c2.set_worn(True) == "You have 2 notifications."  # only the unheard ones
    yield
    c2.read_current()
    c2.read_current()
    c2.read_current()
    new_said = rec2.said()
    # the oldest not yet heard in full first: One (only its title was said), Three, Four
    assert new_said == ["You have 2 notifications.", "Chat: One", "hello", "Chat: Three",
                        "hello", "Chat: Four", "hello"], new_said
    assert "Chat: Two" not in new_said and "Chat: Two" in said_before
    yield
    # ids already removed before the reset are still known as duplicates
    c2.remove(["n1"])
    c3, _, _, _ = _center(store=st)
    assert outcomes(c3.receive(wire("n1"))) == [("n1", W.DUPLICATE)]
    assert c3.ids() == ["u1", "n2", "l1"]


def test_state_is_saved_before_speaking():
    st = fresh_store()
    c, rec, _, _ = _center(store=st)
    seen_on_flash = []

    def speak(text):  # what flash says at the moment of speaking
        c2 = Center(st, Recorder().p)
        seen_on_flash.append([e.state for e in c2.entries])
    c.p.speak = speak
    c.receive(wire("u1", priority="urgent"))
    assert seen_on_flash == [[READ], [READ]]


def test_a_full_flash_evicts_or_drops_with_a_reason():
    st = fresh_store(capacity_bytes=700)
    c, _, _, _ = _center(store=st)
    r = []
    for i in range(8):
        r += c.receive(wire("l%d" % i, priority="low", body="b" * 60))
        yield
    assert ("l0", W.DROPPED) in outcomes(r) and "flash full" in r[-1][3]
    assert all(o[1] in (W.ACCEPTED, W.DROPPED) for o in outcomes(r))
    assert len(c.ids()) < 8 and c.ids()[-1] == "l7"
    yield
    # more important than all: still fits by evicting
    r = c.receive(wire("u1", priority="urgent", body="u" * 60))
    assert outcomes(r)[0] == ("u1", W.ACCEPTED)
    yield
    # nothing left to evict for a low one bigger than the flash: dropped with the reason
    c2, _, _, _ = _center(store=fresh_store(capacity_bytes=100))
    r = c2.receive(wire("big", body="b" * 300))
    assert outcomes(r) == [("big", W.DROPPED)] and r[0][3].startswith("flash full"), r


def test_unreadable_files_are_dropped_and_counted():
    st = fresh_store()
    c, _, _, _ = _center(store=st)
    c.receive(wire("n1"))
    st.write("note99", b"\xff\x00junk")
    st.write_cbor("note98", [98, 7, {1: "x"}])
    c2, _, _, _ = _center(store=st)
    assert c2.ids() == ["n1"] and c2.lost == 2 and st.read("note99") is None


def test_navigation_by_swipes():
    c, rec, _, _ = _center(worn=False)
    for i in range(3):
        c.receive(wire("n%d" % i, title="T%d" % i))
    c.set_worn(True)
    rec.clear()
    c.step(1)  # from the current one (n0: oldest unheard) to n1
    c.step(1)
    c.step(1)  # at the end
    c.step(-1)
    assert rec.said() == ["Chat: T1", "Chat: T2", "Chat: T1"] and rec.of("haptic") == ["nope"]
    c2, rec2, _, _ = _center()
    assert c2.step(1) is None and rec2.said() == ["No notifications."]


class _FailingStore(Store):
    """Flash that fails writes with an I/O error once `fail` is set."""

    def __init__(self, root):
        Store.__init__(self, root)
        self.fail = False

    def write(self, name, data):
        if self.fail:
            raise StoreError("I/O error writing %s" % name)
        Store.write(self, name, data)


def test_a_flash_write_error_drops_the_notification_with_the_reason():
    st = _FailingStore(fresh_store().root)
    c, rec, _, _ = _center(store=st)
    c.receive(wire("n1"))
    st.fail = True
    rec.clear()
    r = c.receive(wire("n2"))
    assert outcomes(r) == [("n2", W.DROPPED)] and r[0][3] == "flash error: I/O error writing note2"
    assert c.ids() == ["n1"] and rec.calls == []  # nothing presented that is not kept
    st.fail = False
    assert outcomes(c.receive(wire("n2"))) == [("n2", W.ACCEPTED)]  # not a duplicate


def test_rules_persist_and_bad_stored_rules_fall_back_to_the_defaults():
    st = fresh_store()
    c, _, _, _ = _center(store=st)
    c.set_rules({"dnd": True, "apps": {"Chat": {"mute": True}}})
    c2, _, _, _ = _center(store=st)
    assert c2.rules["dnd"] and c2.rules["apps"] == {"Chat": {"mute": True}}
    st.write_cbor("center", {"seen": ["a"], "rules": {"dnd": "maybe"}})
    c3, _, _, _ = _center(store=st)
    assert c3.rules["dnd"] is False and c3.seen == ["a"]


def test_a_smaller_queue_limit_after_a_reset_evicts_the_least_valuable():
    st = fresh_store()
    c, _, _, _ = _center(store=st, worn=False)
    for nid, p in (("u1", "urgent"), ("l1", "low"), ("n1", "normal"), ("l2", "low")):
        c.receive(wire(nid, priority=p))
    c2, _, _, _ = _center(store=st, max_entries=2)
    assert c2.ids() == ["u1", "n1"] and st.read("note2") is None
    raises(ValueError, Center, st, Recorder().p, max_entries=0)


for _name in list(globals()):
    if _name.startswith("test_"):
        HEAP_BUDGET[_name] = 32768
