"""Host side of notifications (CPython): validation before sending, reply routing, action
dedup and acks, against the real firmware NotifyService. Every message crosses a loopback
session as CBOR bytes (the link's codec, checked against cbor2), so both ends see exactly
what the link would carry; the BLE session itself is the lead's wiring."""
import json

import cbor2
import pytest

from firmware.runtime import cbor
from firmware.notify import wire
from firmware.notify.presentation import Presenter
from firmware.notify.rules import RulesError
from firmware.notify.core import NotifyService
from firmware.runtime.store import Store
from firmware.sense import gestures as G
from host_tools import cli, errors as exits
from host_tools.notify.client import (ActionReceiver, NotificationClient, NotificationError,
                                      build)


class Loopback:
    """One direction of a session: send_event(obj) encodes to CBOR bytes and hands the
    decoded object to the other end (if the link is up)."""

    def __init__(self):
        self.peer = None
        self.up = True
        self.frames = []

    def send_event(self, obj):
        data = cbor.dumps(obj)
        assert data == cbor2.dumps(obj, canonical=True)
        if not self.up:
            raise OSError("link down")
        self.frames.append(data)
        if self.peer is not None:
            self.peer(cbor.loads(data))


def _pair(tmp_path, state_path=None):
    said = []
    to_glasses = Loopback()
    to_host = Loopback()
    host = NotificationClient(to_glasses, state_path=state_path)
    store = Store(str(tmp_path / "flash"))

    def boot():
        svc = NotifyService(store, Presenter(speak=said.append), to_host.send_event,
                            epoch="feed")
        to_glasses.peer = svc.on_host
        svc.on_wear(True)
        svc.start()
        return svc

    to_host.peer = host.handle_event
    return host, boot, to_glasses, to_host, said


def test_bad_notifications_are_refused_on_the_host_before_sending(tmp_path):
    host, boot, to_glasses, _, _ = _pair(tmp_path)
    boot()
    with pytest.raises(NotificationError) as e:
        host.send({"id": "x", "app": "Chat", "title": "Hi", "priority": "high",
                   "category": "message", "ts": 1})
    assert e.value.reason == "unknown priority 'high' (use urgent, normal, low)"
    with pytest.raises(NotificationError, match="missing field 'title'"):
        host.send({"id": "x", "app": "Chat", "priority": "low", "category": "other", "ts": 1})
    with pytest.raises(RulesError):
        host.set_rules({"quiet": [[0, 2000]]})
    assert to_glasses.frames == []


def test_replies_are_routed_per_notification(tmp_path):
    host, boot, _, _, said = _pair(tmp_path)
    svc = boot()
    note, cuts = build("Chat", "Ana", "x" * 2000, id="a1", ts=5)
    assert cuts == ["body cut by 1517 chars"]
    host.send(note)
    assert host.outcome("a1").outcome == wire.ACCEPTED  # cut already on the host
    host.send({"id": "a1", "app": "Chat", "title": "Ana", "priority": "normal",
               "category": "message", "ts": 5})
    assert host.outcome("a1").outcome == wire.DUPLICATE and host.outcome("a1").delivered
    host.set_rules({"apps": {"Spam": {"mute": True}}})
    host.send(build("Spam", "Win!", id="s1", ts=5)[0])
    r = host.outcome("s1")
    assert r.outcome == wire.DROPPED and "muted" in r.detail and not r.delivered
    assert [x.id for x in host.other_replies] == ["rules"]
    assert said == ["Chat: Ana"] and svc.center.ids() == ["a1"]


def test_evicted_notifications_are_reported_by_id(tmp_path):
    host, boot, _, _, _ = _pair(tmp_path)
    boot()
    for i in range(12):
        host.send(build("Feed", "Post %d" % i, priority="low", id="l%d" % i, ts=1)[0])
    host.send(build("Chat", "Ana", id="n1", ts=1)[0])
    assert host.outcome("n1").outcome == wire.ACCEPTED
    assert host.outcome("l0").outcome == wire.DROPPED and "evicted" in host.outcome("l0").detail
    assert host.outcome("l1").outcome == wire.ACCEPTED


def test_actions_exactly_once_across_a_glasses_reset_and_a_reconnect(tmp_path):
    host, boot, to_glasses, to_host, _ = _pair(tmp_path)
    svc = boot()
    host.send(build("Chat", "Ana", actions=["On my way"], id="m1", ts=1)[0])
    host.send(build("Cal", "Review", asks="Accept?", id="c1", ts=1)[0])
    to_glasses.up = False  # the host's acks get lost
    svc.on_gesture(G.NOD, "head")  # c1 is current: answer yes
    svc.on_gesture(G.DOUBLE_TAP, 0)  # then m1's first action
    assert [(a.kind, a.notification_id, a.value) for a in host.actions] == [
        ("answer", "c1", "yes"), ("action", "m1", "On my way")]
    assert len(svc.outbox.pending()) == 2
    svc2 = boot()  # reset: both records sent again, still no ack getting through
    to_glasses.up = True
    svc2.on_link(True)  # reconnect: sent again, acked this time
    assert host.receiver.duplicates == 4 and len(host.actions) == 2
    assert host.receiver.acks_lost == 4
    assert svc2.outbox.pending() == []
    boot()  # nothing left to resend
    assert host.receiver.duplicates == 4


def test_the_action_dedup_survives_a_host_restart(tmp_path):
    state = str(tmp_path / "host_actions.json")
    sent = []

    class S:
        def send_event(self, obj):
            sent.append(obj)

    got = []
    r = ActionReceiver(S(), got.append, state_path=state)
    msg = wire.action("e-1", wire.A_READ, "n1", None)
    assert r.handle(msg) and not r.handle(msg)
    r2 = ActionReceiver(S(), got.append, state_path=state)
    assert not r2.handle(msg) and len(got) == 1
    assert sent == [wire.ack(["e-1"])] * 3  # every copy is acknowledged
    with pytest.raises(ValueError, match="without an action id"):
        r2.handle({0: wire.T_ACTION})

    def failing(action):
        raise RuntimeError("app busy")
    r3 = ActionReceiver(S(), failing)
    msg2 = wire.action("e-2", wire.A_READ, "n2", None)
    with pytest.raises(RuntimeError):
        r3.handle(msg2)
    assert "e-2" not in r3.seen and sent[-1] == wire.ack(["e-1"])  # not acked: retried later


def test_unanswered_notifications_are_resent_after_a_reconnect(tmp_path):
    host, boot, to_glasses, to_host, _ = _pair(tmp_path)
    svc = boot()
    to_host.up = False  # the glasses' replies are lost
    host.send(build("Chat", "Ana", id="a1", ts=1)[0])
    assert host.unanswered() == ["a1"] and svc.unsent == 1
    to_host.up = True
    assert host.resend_unanswered() == 1
    assert host.outcome("a1").outcome == wire.DUPLICATE and host.outcome("a1").delivered
    assert host.handle_event({0: 99}) is False


def _cli(capsys, argv):
    rc = cli.main(argv)
    got = capsys.readouterr()
    return rc, got.out, got.err


def test_glasses_notify_dry_run_prints_the_validated_notification(tmp_path, capsys):
    body = tmp_path / "long.txt"
    body.write_text("z" * 700)
    rc, out, err = _cli(capsys, ["notify", "--app", "Chat", "--title", "Ana", "--body-file",
                                 str(body), "--category", "message", "--action",
                                 "Reply 'On my way'", "--id", "n1", "--ts", "7", "--dry-run"])
    assert rc == 0 and err == ""
    d = json.loads(out)
    assert d["notification"]["id"] == "n1" and d["notification"]["actions"] == [
        "Reply 'On my way'"]
    assert d["notification"]["body"].endswith("…[cut 216 chars]")
    assert d["cut"] == ["body cut by 216 chars"]


def test_glasses_notify_errors_are_clear(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GLASSES_CONFIG_DIR", str(tmp_path / "cfg"))  # no host running there
    rc, out, err = _cli(capsys, ["notify", "--app", "Chat", "--title", "Ana", "--priority",
                                 "high", "--dry-run"])
    assert rc == exits.USAGE and out == "" and "unknown priority 'high'" in err
    rc, _, err = _cli(capsys, ["notify", "--app", "Chat", "--title", "Ana", "--body-file",
                               "/nonexistent/x", "--dry-run"])
    assert rc == exits.USAGE and "cannot read the body" in err
    rc, out, _ = _cli(capsys, ["notify", "--app", "Chat", "--title", "Ana", "--radio",
                               "virtual:127.0.0.1:9", "--timeout", "2"])  # nothing listens
    assert rc == exits.NO_ADAPTER and "cannot reach the simulator's radio at " \
        "virtual:127.0.0.1:9" in " ".join(out.split())  # rich wraps long lines
    rc, out, _ = _cli(capsys, ["notify", "--app", "Chat", "--title", "Ana", "--radio",
                               "bogus"])
    assert rc == exits.USAGE and "bogus" in out
