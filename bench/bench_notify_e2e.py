"""Notification latency end to end (CPython; bench/run.py calls run()).

notify_to_haptic_ms: the phone hands a normal notification to its link session
(NotifyHost's client.send) -> the haptic motor's PWM starts on the simulated glasses;
mean over N sends in the rig (sim/linked.py: real firmware, the real BLE stack on both
sides, the link model at the rig's 15 ms connection interval), worn, in virtual time.
Sends are spread at seeded random offsets so they fall anywhere in the connection
interval. The path: the phone's session -> ATT write on the next connection event ->
the glasses' GATT IRQ -> link task -> NotifyService -> flash write (the state before
anything is presented) -> Presenter -> HapticPlayer.play() turns the motor on at once.
The firmware's own run time is not in virtual time (docs/power.md: CPU time is charged
per wake, not simulated), so the figure is the link and scheduling latency.

notify_reply_ms: the same send -> the glasses' REPLY (accepted) at the phone.
"""
import asyncio
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

N = 40


def run(seed=5):
    from host_tools.notify.host import note_fields
    from sim.linked import Linked
    rig = Linked(seed=seed)
    w = rig.world
    starts = []  # when the motor's PWM went on (us)
    w.observe_pwm(w.data["parts"]["haptic"]["pin"],
                  lambda freq, duty: starts.append(w.now_us()) if duty else None)
    rng = random.Random(seed)
    sent = {}  # id -> us
    replied = {}  # id -> us
    haptic = []

    async def scenario():
        await rig.start()
        notes = rig.notify
        notes.user_reply = lambda r: replied.setdefault(r.id, w.now_us())
        await rig.phone.wait_open(30)
        await asyncio.sleep(5)
        app = rig.glasses.app
        assert app.senses.wear.worn() and rig.radio_power.interval_ms == 15.0
        for i in range(N):
            await asyncio.sleep(1.5 + rng.random() * 0.05)
            nid = "m%d" % i
            n = len(starts)
            sent[nid] = w.now_us()
            notes.client.send(note_fields(app="Chat", title=nid, id=nid, category="message"))
            for _ in range(500):
                await asyncio.sleep(0.001)
                if len(starts) > n and nid in replied:
                    break
            assert len(starts) > n and notes.client.outcome(nid).outcome == "accepted"
            haptic.append((starts[n] - sent[nid]) / 1000)

    try:
        rig.run(scenario())
    finally:
        rig.close()
    reply = sorted((replied[k] - sent[k]) / 1000 for k in sent)
    haptic.sort()
    return {
        "notify_to_haptic_ms": round(sum(haptic) / len(haptic), 1),
        "notify_to_haptic_ms_max": round(haptic[-1], 1),
        "notify_to_haptic_ms_min": round(haptic[0], 1),
        "notify_reply_ms": round(sum(reply) / len(reply), 1),
    }


if __name__ == "__main__":
    print(run())
