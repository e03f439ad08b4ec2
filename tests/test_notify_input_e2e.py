"""Bad input end to end, over the BLE link: each case gets its clear reason back at the
phone, and nothing already on the glasses is lost.

Two senders: the phone's own API (host_tools/notify/host.py), which validates with the
firmware's model before sending anything, and raw messages put on the link as a buggy or
foreign phone app would (the glasses validate again and answer with the same reasons)."""
import asyncio

import pytest
from e2e_util import Rig, haptic_probe

from firmware.protocol import kinds
from firmware.protocol.channels import CONTROL, EVENTS
from firmware.notify import model as M
from firmware.notify import wire as W
from host_tools.errors import OutboxFull
from host_tools.notify.client import NotificationError
from host_tools.notify.host import note_fields, send_notification


@pytest.fixture
def rig():
    r = Rig(seed=41)
    yield r
    r.close()


def _wire(nid, **kw):
    f = {"id": nid, "app": "Chat", "title": "Hi", "priority": "normal",
         "category": "message", "ts": 1767250800}
    f.update(kw)
    keys = dict(zip(M.FIELDS, (M.K_ID, M.K_APP, M.K_TITLE, M.K_BODY, M.K_PRIORITY,
                               M.K_CATEGORY, M.K_ACTIONS, M.K_ASKS, M.K_TS)))
    return {keys[k]: v for k, v in f.items() if v is not None}


async def _raw(r, note_wire):
    """Put a NOTIFY on the link without the phone's validation; the glasses' reply."""
    before = len(r.notify.replies)
    assert r.phone.send(EVENTS, W.notify(note_wire))
    assert await r.until(lambda: len(r.notify.replies) > before, 5)
    return r.notify.replies[before]


def test_missing_fields_and_unknown_values(rig):
    r = rig

    async def scenario():
        await r.start()
        out = []
        for fields, bad in ((dict(title=None), "title"), (dict(priority="high"), "priority"),
                            (dict(category="news"), "category")):
            f = dict(app="Chat", title="Hi", category="message", id="x")
            f.update({k: v for k, v in fields.items() if v is not None})
            if fields.get("title", 1) is None:
                del f["title"]
            frames = r.phone.session.stats()["frames_out"]
            with pytest.raises(NotificationError) as e:  # the phone refuses, sends nothing
                await send_notification(r.phone, **f)
            assert r.phone.session.stats()["frames_out"] == frames
            out.append((bad, e.value.reason))
        # the same mistakes from a phone app that does not validate: the glasses refuse
        out.append(await _raw(r, _wire("r1", title=None)))
        out.append(await _raw(r, _wire("r2", priority="high")))
        out.append(await _raw(r, _wire("r3", category="news")))
        out.append(await _raw(r, _wire(None)))
        out.append(await _raw(r, {M.K_ID: "r5", 77: "from a newer phone"}))
        return out

    out = r.run(scenario())
    assert out[0] == ("title", "missing field 'title'")
    assert out[1] == ("priority", "unknown priority 'high' (use urgent, normal, low)")
    assert out[2][1].startswith("unknown category 'news' (use message, call, calendar")
    got = [(x.id, x.outcome, x.detail) for x in out[3:]]
    assert got[0] == ("r1", "rejected", "missing field 'title'")
    assert got[1] == ("r2", "rejected", "unknown priority 'high' (use urgent, normal, low)")
    assert got[2][:2] == ("r3", "rejected") and "unknown category 'news'" in got[2][2]
    assert got[3] == (None, "rejected", "missing field 'id'")
    assert got[4] == ("r5", "rejected", "missing field 'app'")
    assert r.app.notify.svc.center.ids() == []  # nothing half-delivered


def test_a_body_larger_than_the_glasses_hold_is_cut_with_a_marker(rig):
    r = rig

    async def scenario():
        await r.start()
        big = await r.notify.send(app="Mail", title="Log", body="x" * 5000, id="big")
        mid = await _raw(r, _wire("mid", body="y" * 700))  # fits the link, not the glasses
        await asyncio.sleep(0.5)
        held = {e.note.id: e.note.body for e in r.app.notify.svc.center.entries}
        return big, mid, held

    big, mid, held = r.run(scenario())
    # cut on the phone, before sending (5000 chars cannot cross the link in one message)
    assert big.outcome == "accepted" and big.cuts == ["body cut by 4517 chars"]
    assert len(held["big"]) == 500 and held["big"].endswith("…[cut 4517 chars]")
    # cut on the glasses, the reason in the reply
    assert (mid.id, mid.outcome, mid.detail) == ("mid", "cut", ["body cut by 216 chars"])
    assert len(held["mid"]) == 500 and held["mid"].endswith("…[cut 216 chars]")


def test_a_flood_evicts_the_oldest_low_priority_first_and_says_which(rig):
    r = rig
    r.linked.world.part("prox").take_off()  # on the table: nothing is read out meanwhile

    async def scenario():
        await r.start()
        ids = (["l%d" % i for i in range(1, 9)] + ["n%d" % i for i in range(1, 9)]
               + ["u%d" % i for i in range(1, 5)])
        prio = {"l": "low", "n": "normal", "u": "urgent"}
        for i in ids:  # back to back, in order: more than the phone's outbox holds
            while True:
                try:
                    r.notify.client.send(note_fields(app="Feed", title=i, id=i,
                                                     priority=prio[i[0]]))
                    break
                except OutboxFull:
                    await asyncio.sleep(0.01)
        await r.until(lambda: all(r.notify.client.outcome(i) for i in ids), 10)
        first = [r.notify.client.sent[i].replies[0] for i in ids]
        last = await r.notify.send(app="Feed", title="l9", id="l9", priority="low")
        await asyncio.sleep(1)
        return ids, first, last

    ids, first, last = r.run(scenario())
    assert [x.outcome for x in first] == ["accepted"] * 20
    dropped = [(x.id, x.detail) for x in r.notify.replies if x.outcome == "dropped"]
    evicted_for = ["n5", "n6", "n7", "n8", "u1", "u2", "u3", "u4"]
    assert dropped[:8] == [("l%d" % (k + 1), "queue full (12): evicted (low, new) for %s" % f)
                           for k, f in enumerate(evicted_for)]
    assert (last.outcome, last.detail) == (
        "dropped", "queue full (12) and every waiting notification is more important")
    assert r.app.notify.svc.center.ids() == ids[8:]
    assert r.notify.client.outcome("l1").outcome == "dropped"  # the latest word on l1


def test_a_duplicate_id_is_delivered_once(rig):
    r = rig
    motor = haptic_probe(r)

    async def scenario():
        await r.start()
        await r.until(lambda: r.app.senses.wear.worn(), 5)
        a = await r.notify.send(app="Chat", title="Ana", id="d1")
        await asyncio.sleep(0.5)
        b = await r.notify.send(app="Chat", title="Ana", id="d1")
        await asyncio.sleep(0.5)
        return a, b

    a, b = r.run(scenario())
    assert (a.outcome, b.outcome, b.detail) == ("accepted", "duplicate", "already delivered")
    assert r.voice.said.count("Chat: Ana") == 1 and r.spoken.count("Chat: Ana") == 1
    assert len(motor.pulses(0, 1e9)) == 1  # one tick, not two
    assert r.app.notify.svc.center.ids() == ["d1"]


def test_bad_rules_dnd_time_and_unknown_messages_get_reasons(rig):
    r = rig

    async def scenario():
        await r.start()
        before = len(r.notify.replies)
        r.phone.send(EVENTS, W.rules({"quiet": [[1300, 1300]]}))
        r.phone.send(EVENTS, {W.T: W.T_DND, 1: "yes"})
        r.phone.send(EVENTS, {W.T: W.T_ACK, 1: "a1"})
        await r.until(lambda: len(r.notify.replies) >= before + 3, 5)
        replies = list(r.notify.replies)[before:]
        bad_time = await r.phone.request(CONTROL, {kinds.K: kinds.TIME, 1: "noon"},
                                         kinds.RESULT)
        return replies, bad_time

    replies, bad_time = r.run(scenario())
    assert [(x.id, x.outcome, x.detail) for x in replies] == [
        ("rules", "rejected", "quiet period 1300-1300 is empty"),
        (None, "rejected", "dnd: true or false expected"),
        (None, "rejected", "ack: a list of action ids expected")]
    assert bad_time[2] is False and bad_time[1] == kinds.TIME
    assert bad_time[3] == "time must be whole seconds since 1970, not 'noon'"
    assert r.app.notify.time.synced  # the good time from the link's open still stands
