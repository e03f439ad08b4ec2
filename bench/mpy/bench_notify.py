# Sensing and notification costs under the official MicroPython build (bench/run.py).
# - gyro: microseconds per sample through the nod/shake recogniser (walking-like motion
#   plus a nod every few seconds), and the share of one core that is at 104 Hz here;
# - notify: milliseconds per received notification (validate, decide, persist to the
#   in-memory filesystem, present), and per tap (read out + persisted action record).
# Report-only figures: the WebAssembly build's speed is not an MCU's.
import gc
import math
import time

import asyncio
from firmware.notify.presentation import Presenter
from firmware.notify.core import NotifyService
from firmware.runtime.store import Store
from firmware.sense import gestures as G

_SIN = [int(1000 * math.sin(2 * math.pi * i / 64)) for i in range(64)]


class _Count:
    def __init__(self):
        self.n = 0

    def two(self, a, b):
        self.n += 1


def _gyro(n_samples):
    c = _Count()
    g = G.Gestures(c.two, c.two)
    t = 1000
    t0 = time.ticks_us()
    for i in range(n_samples):
        k = i % 500  # 5 s cycle: 3.5 s of walking bob, then a 1.5 s nod
        if k < 350:
            p = 20 * _SIN[(i * 5) & 63] // 1000
        else:
            p = 130 * _SIN[((k - 350) * 64 // 40) & 63] // 1000  # 2.5 Hz
        g.on_gyro(p, 3, 8 * _SIN[(i * 2) & 63] // 1000, t)
        t += 10
    us = time.ticks_diff(time.ticks_us(), t0)
    return us, c.n


async def main():
    gc.collect()
    await asyncio.sleep_ms(1)
    total_us = 0
    n = 0
    gestures = 0
    for _ in range(10):
        us, k = _gyro(1000)
        total_us += us
        n += 1000
        gestures += k
        await asyncio.sleep_ms(1)
    per_sample = total_us / n
    said = []
    store = Store("/bench_notify")
    svc = NotifyService(store, Presenter(speak=said.append), lambda m: None, epoch="b")
    svc.on_wear(True)
    t_recv = 0
    t_tap = 0
    N = 40
    for i in range(N):
        m = {0: 1, 1: {1: "n%d" % i, 2: "Chat", 3: "Ana", 4: "Running late, 10 min",
                       5: "normal", 6: "message", 7: ["Reply 'On my way'"], 9: 1767250800}}
        t0 = time.ticks_us()
        svc.on_host(m)
        t1 = time.ticks_us()
        svc.on_gesture(G.TAP, 0)
        t2 = time.ticks_us()
        svc.on_gesture(G.DOUBLE_TAP, 0)  # acted on: keeps the queue short
        t_recv += time.ticks_diff(t1, t0)
        t_tap += time.ticks_diff(t2, t1)
        svc.on_host({0: 4, 1: [r[1] for r in svc.outbox.pending()]})
        gc.collect()
        await asyncio.sleep_ms(1)
    return {
        "sense_gyro_us_per_sample_mpy": round(per_sample, 1),
        "sense_gyro_core_pct_at_104hz_mpy": round(per_sample * 104 / 10000, 2),
        "sense_gyro_gestures_in_bench": gestures // 2,
        "notify_receive_ms_mpy": round(t_recv / N / 1000, 2),
        "notify_tap_read_ms_mpy": round(t_tap / N / 1000, 2),
    }
