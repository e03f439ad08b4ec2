# Gesture actions and their exactly-once delivery to the host (outbox, acks, resend after
# a reset or a reconnect, host-side dedup by action id); the service's host messages.
# CPython and MicroPython. Heap budget: 32 KB per test (generator tests yield between
# phases; a received notification costs ~2-4 KB transient on MicroPython).
from firmware.notify import wire as W
from firmware.notify.actions import Outbox
from firmware.notify.core import NotifyService
from firmware.sense import gestures as G
from firmware.runtime.store import Store
from notify_helpers import Recorder, fresh_store, outcomes, wire


def fresh_store_at(root):
    return Store(root)

HEAP_BUDGET = {}


class Host:
    """The host's side as the firmware sees it: every message lands here; actions are
    deduplicated by action id, as host_tools.notify.client.ActionReceiver does."""

    def __init__(self):
        self.msgs = []
        self.actions = []  # unique actions, in arrival order
        self.copies = 0
        self.up = True

    def send(self, m):
        if not self.up:
            raise OSError("link down")
        self.msgs.append(m)
        if m[W.T] == W.T_ACTION:
            if any(a[W.A_AID] == m[W.A_AID] for a in self.actions):
                self.copies += 1
            else:
                self.actions.append(m)

    def kinds(self):
        return [(a[W.A_KIND], a[W.A_NID], a[W.A_VALUE]) for a in self.actions]

    def ack_all(self, svc):
        svc.on_host(W.ack([a[W.A_AID] for a in self.actions]))


def _svc(store=None, host=None, **kw):
    rec = Recorder()
    h = host if host is not None else Host()
    st = store if store is not None else fresh_store()
    s = NotifyService(st, rec.p, h.send, epoch="e1", **kw)
    s.start()
    s.on_wear(True)
    return s, rec, h, st


def test_gestures_act_on_the_current_notification():
    s, rec, h, _ = _svc()
    s.on_host(W.notify(wire("m1", title="Ana", body="Running late",
                            actions=["Reply 'On my way'", "Dismiss"])))
    s.on_host(W.notify(wire("q1", title="Bob", body="Call at 5", asks="Join the call?")))
    yield
    rec.clear()
    s.on_gesture(G.TAP, 0)  # q1 was announced last: it is the current one
    assert rec.said() == ["Chat: Bob", "Call at 5 Join the call? Nod for yes, shake for no."]
    s.on_gesture(G.NOD, "head")
    assert rec.of("chime") == ["confirm"]
    s.on_gesture(G.DOUBLE_TAP, 0)  # now m1 is current
    assert h.kinds() == [("read", "q1", None), ("answer", "q1", "yes"),
                         ("action", "m1", "Reply 'On my way'")], h.kinds()
    assert s.center.ids() == []
    yield
    s.on_host(W.notify(wire("x1")))
    s.on_host(W.notify(wire("x2")))
    rec.clear()
    s.on_gesture(G.SHAKE, "head")  # x2 asks nothing: nothing happens but a "nope"
    s.on_gesture(G.DOUBLE_TAP, 0)  # no actions either
    assert rec.of("haptic") == ["nope", "nope"] and len(h.actions) == 3
    s.on_gesture(G.LONG_PRESS, 0)
    assert h.kinds()[-1] == ("dismiss_all", None, ["x1", "x2"]) and s.center.ids() == []
    assert rec.of("chime") == ["dismiss"]
    s.on_gesture(G.LONG_PRESS, 0)  # nothing left
    assert len(h.actions) == 4 and rec.of("haptic")[-1] == "nope"


def test_actions_wait_for_the_ack_and_go_again_on_reconnect():
    s, _, h, st = _svc()
    s.on_host(W.notify(wire("m1", actions=["OK"])))
    h.up = False  # the link drops before the action is sent
    s.on_gesture(G.DOUBLE_TAP, 0)
    assert h.actions == [] and len(s.outbox.pending()) == 1 and s.center.ids() == []
    h.up = True
    assert s.on_link(True) == 1
    assert h.kinds() == [("action", "m1", "OK")]
    s.on_link(True)  # reconnect again before the ack arrived: a copy, dropped by the host
    assert h.copies == 1 and len(h.actions) == 1
    h.ack_all(s)
    assert s.outbox.pending() == [] and s.on_link(True) == 0
    assert [n for n in st.names() if n.startswith("act")] == []


def test_actions_survive_a_reset_exactly_once():
    st = fresh_store()
    host = Host()
    s, _, _, _ = _svc(st, host)
    s.on_host(W.notify(wire("m1", actions=["OK"])))
    s.on_host(W.notify(wire("q1", asks="Coming?")))
    s.on_gesture(G.SHAKE, "head")
    s.on_gesture(G.DOUBLE_TAP, 0)
    sent = [a[W.A_AID] for a in host.actions]
    assert len(sent) == 2
    yield
    # reset before any ack: the new service sends both again; the host keeps one of each
    s2, _, _, _ = _svc(st, host)
    assert host.copies == 2 and [a[W.A_AID] for a in host.actions] == sent
    assert s2.center.ids() == []  # acted-on notifications stay gone
    host.ack_all(s2)
    yield
    # after the ack and another reset: nothing pending, and new ids never reuse old ones
    s3, _, _, _ = _svc(st, host)
    assert s3.outbox.pending() == [] and host.copies == 2
    s3.on_host(W.notify(wire("m2", actions=["OK"])))
    s3.on_gesture(G.DOUBLE_TAP, 0)
    assert len(host.actions) == 3 and host.actions[-1][W.A_AID] not in sent
    assert host.actions[-1][W.A_AID] == "e1-3"


def test_a_reset_between_the_record_and_its_effect_finishes_the_effect():
    st = fresh_store()
    s, _, h, _ = _svc(st)
    s.on_host(W.notify(wire("m1", actions=["OK"])))
    s.on_host(W.notify(wire("m2")))
    s.outbox.add(W.A_ACTION, "m1", "OK")  # the record is on flash; then the reset
    s.outbox.add(W.A_DISMISS_ALL, None, ["m2"])
    s2, _, _, _ = _svc(st, h)
    assert s2.center.ids() == []
    assert [a[W.A_KIND] for a in h.actions] == ["action", "dismiss_all"]


def test_a_full_outbox_refuses_the_action_and_keeps_the_notification():
    s, rec, h, _ = _svc(max_pending=1)
    h.up = False
    s.on_host(W.notify(wire("m1", actions=["OK"])))
    s.on_host(W.notify(wire("m2", actions=["OK"])))
    s.on_gesture(G.DOUBLE_TAP, 0)  # m2 (current), pending
    rec.clear()
    s.on_gesture(G.DOUBLE_TAP, 0)  # m1: the outbox is full
    assert rec.of("haptic") == ["error"] and s.center.ids() == ["m1"]
    assert s.actions.refused == 1 and s.unsent == 2  # the replies to m1, m2: link down
    s.on_gesture(G.TAP, 0)  # reading still works; its record is best effort
    assert rec.said()[0] == "Chat: Hi"


def test_a_flash_error_refuses_the_action_and_bad_records_are_dropped():
    s, rec, h, st = _svc(max_pending=4)
    s.on_host(W.notify(wire("m1", actions=["OK"])))
    root = st.root
    st.capacity_bytes = st.used_bytes() + 10  # flash nearly full: the record cannot be saved
    rec.clear()
    s.on_gesture(G.DOUBLE_TAP, 0)
    assert rec.of("haptic") == ["error"] and s.center.ids() == ["m1"] and h.actions == []
    st.capacity_bytes = 0
    st.write("act7", b"\xff")  # an unreadable record (not CBOR)
    s2, _, _, _ = _svc(fresh_store_at(root), h)
    assert s2.outbox.pending() == [] and st.read("act7") is None
    s2.on_gesture(G.DOUBLE_TAP, 0)
    assert h.kinds() == [("action", "m1", "OK")]


def test_action_ids_differ_between_flash_stores():
    a = Outbox(fresh_store())
    b = Outbox(fresh_store())
    assert len(a.epoch) == 8 and a.epoch != b.epoch
    r = a.add(W.A_READ, "n", None)
    assert r[W.A_AID] == a.epoch + "-1"
    # also without a hardware RNG (the WebAssembly port has no os.urandom), back to back
    from firmware.notify.actions import new_epoch
    assert len(set(new_epoch() for _ in range(20))) == 20


def test_bad_host_messages_get_a_rejection():
    s, _, h, _ = _svc()
    for m in ({0: 99}, "junk", {0: W.T_ACK, 1: "x"}, {0: W.T_DND, 1: 1}):
        r = s.on_host(m)
        assert outcomes(r) == [(None, W.REJECTED)], (m, r)
    assert s.bad_messages == 4 and h.msgs[-1][W.R_OUTCOME] == W.REJECTED
    r = s.on_host(W.rules({"quiet": [[0, 1500]]}))
    assert outcomes(r) == [("rules", W.REJECTED)] and "quiet end" in r[0][3]
    r = s.on_host(W.rules({"apps": {"Chat": {"mute": True}}}))
    assert outcomes(r) == [("rules", W.ACCEPTED)]
    assert outcomes(s.on_host(W.notify(wire("c1")))) == [("c1", W.DROPPED)]
    assert outcomes(s.on_host(W.dnd(True))) == [("dnd", W.ACCEPTED)] and s.center.rules["dnd"]
    r = s.on_host(W.notify("not a map"))
    assert outcomes(r) == [(None, W.REJECTED)]


for _name in list(globals()):
    if _name.startswith("test_"):
        HEAP_BUDGET[_name] = 32768
