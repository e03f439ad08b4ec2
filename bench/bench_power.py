"""Power figures of the glasses (CPython; bench/run.py calls run()). docs/power.md.

Measured in the rig (sim/linked.py: the real firmware on the simulated XIAO ESP32S3
Sense, the phone over the real BLE stack, the radio's current from sim/radiopower.py),
worn, connected, in virtual time, RUN_S simulated seconds after the link settled.

"Asleep" (idle_sleep_fraction) is light sleep: the CPU and its clocks stopped, RAM kept
(0.24 mA). That is the only state in which the board's draw is small. On stock
MicroPython the board cannot light-sleep while a BLE connection is up (micropython#6396:
the connection is lost), so the firmware holds the board awake while connected and it
idles in modem sleep (waiti, 18 mA): idle_sleep_fraction is 0 there, however idle the
firmware is. idle_cpu_idle_fraction says how idle it is (time not running code).

The `_autolightsleep` figures are the same firmware on a build with ESP-IDF's automatic
light sleep and BLE modem sleep (a custom MicroPython build: CONFIG_PM_ENABLE,
CONFIG_FREERTOS_USE_TICKLESS_IDLE, CONFIG_BT_CTRL_MODEM_SLEEP, esp_pm_configure with
light_sleep_enable): the board's capability `lightsleep_connected`. Without a 32 kHz
crystal the main crystal clocks BLE through sleep (+3.06 mA); `_32k` adds the crystal.
`_30ms`: the phone granted a 30 ms connection interval instead of the rig's 15 ms.

battery_life_h_mixed: 10 % voice use, VOICE_S of every CYCLE_S: the wearer speaks for
half of it (microphone clocked, an ADPCM packet of 166 bytes to the phone every 20 ms)
and the glasses answer for the other half (the phone streams ADPCM packets every 20 ms,
the firmware's Playback plays them through the speaker I2S); the board is held awake
meanwhile ("audio"), the CPU is charged a wake per 20 ms frame.
"""
import asyncio
import contextlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

BOARD = "xiao_esp32s3_sense"
SETTLE_S = 10
RUN_S = 600
CYCLE_S = 60
VOICE_S = 6  # 10 %


@contextlib.contextmanager
def board_variant(add_caps=(), **data):
    """The board with more capabilities / DATA keys, for the duration of a run."""
    from sim import boards
    mod = boards.load(BOARD)
    saved = mod.DATA
    d = dict(saved)
    d["caps"] = tuple(saved["caps"]) + tuple(add_caps)
    d.update(data)
    mod.DATA = d
    try:
        yield
    finally:
        mod.DATA = saved


def _adpcm_packet(seq, flags=0):
    from firmware.voice import packet as P
    b = bytearray(P.HEADER_BYTES + 3 + 160)
    P.put_header(b, P.CODEC_ADPCM, flags, seq)
    return bytes(b)


class VoiceLoad:
    """VOICE_S of every CYCLE_S: listen (mic + uplink) then answer (downlink + speaker)."""

    def __init__(self, rig):
        self.rig = rig
        self.frames_up = 0
        self.frames_down = 0
        self.playback = None

    def on_boot(self, g):
        from firmware.runtime import sched as S
        g.sched.spawn(self._glasses, g.app, name="voiceload", prio=S.PRIO_AUDIO)

    async def _glasses(self, app):
        from firmware.voice.playback import Playback
        from firmware.runtime import sched as S
        b = app.board
        half = VOICE_S * 1000 // 2
        await S.sleep_ms((CYCLE_S - VOICE_S) * 1000)
        while True:
            b.stay_awake("audio", True)
            b.mic.open()
            n = half // 20
            for seq in range(n):
                await S.sleep_ms(20)
                flags = 0x10 if seq == 0 else (0x20 if seq == n - 1 else 0)
                app.link.send_audio(_adpcm_packet(seq, flags))  # END: the phone answers
                self.frames_up += 1
            b.mic.close()
            pb = self.playback = Playback(b.speaker.open(), app.sched)
            app.link.on("audio", pb.push)
            task = app.sched.spawn(pb.run, name="playback", prio=S.PRIO_AUDIO)
            await S.sleep_ms(half + 200)
            task.cancel()
            app.link.off("audio", pb.push)
            b.speaker.close()
            b.stay_awake("audio", False)
            await S.sleep_ms((CYCLE_S - VOICE_S) * 1000 - 200)

    def on_phone_audio(self, pkt):
        if pkt[0] & 0x20:  # the end of what the wearer said: answer it
            asyncio.ensure_future(self._answer())

    async def _answer(self):
        n = VOICE_S * 50 // 2
        for seq in range(n):
            flags = 0x10 if seq == 0 else (0x20 if seq == n - 1 else 0)
            self.rig.phone.driver.send_audio(_adpcm_packet(seq, flags))
            self.frames_down += 1
            await asyncio.sleep(0.02)


def measure(voice=False, interval_ms=None, seed=7, policy=False):
    """Figures of one run: (report over RUN_S, details). policy: the phone's idle
    interval policy (host_tools/power/host.py) moves the connection as the traffic says."""
    from sim.linked import Linked
    # tap-to-talk: the voice service does not listen (the load generator drives the mic
    # and speaker itself; always-on listening is measured in bench_voice_e2e.py)
    rig = Linked(BOARD, seed=seed, notify=True, config={"voice_vad": False})
    load = VoiceLoad(rig) if voice else None
    if load is not None:
        rig.glasses.on_boot = load.on_boot
    out = {}

    async def scenario():
        await rig.start()
        if policy:
            from host_tools.power.host import IntervalPolicy
            out["policy"] = IntervalPolicy(rig.phone)
        await rig.phone.wait_open(30)
        if interval_ms:
            conn = rig.phone.client._backend._conn  # the bumble connection under bleak
            await conn.update_parameters(interval_ms, interval_ms, 0, 4000)
        await asyncio.sleep(SETTLE_S)
        p = rig.world.power
        r0 = p.report()
        runs0 = _runs(rig)
        if load is not None:
            rig.phone.on("audio", load.on_phone_audio)
        await asyncio.sleep(RUN_S)
        r1 = p.report()
        out["task_runs_per_s"] = {k: (v - runs0.get(k, 0)) / RUN_S
                                  for k, v in _runs(rig).items()}
        out["cpu_hz"] = rig.world.cpu_hz
        out["r0"], out["r1"] = r0, r1
        out["interval_ms"] = rig.radio_power.interval_ms
        out["awake"] = rig.glasses.board.awake_reasons()
        out["link_up"] = rig.glasses.app.link.up
        out["speaker_frames"] = rig.world.part("speaker").frames_heard

    try:
        rig.run(scenario())
    finally:
        rig.close()
    return _delta(out["r0"], out["r1"]), out, load


def _runs(rig):
    """{task name: slices run so far} of the firmware's scheduler."""
    return {t[0]: t[3] for t in rig.glasses.sched.stats()}


def _delta(r0, r1):
    secs = r1["seconds"] - r0["seconds"]
    st = {k: r1["state_seconds"][k] - r0["state_seconds"][k] for k in r1["state_seconds"]}
    mah = (sum(r1["state_mah"].values()) + sum(r1["adder_mah"].values())
           - sum(r0["state_mah"].values()) - sum(r0["adder_mah"].values()))
    avg = mah * 3600 / secs
    adders = {k: (v - r0["adder_mah"].get(k, 0.0)) * 3600 / secs
              for k, v in r1["adder_mah"].items()}
    return {"seconds": secs, "sleep": st["lightsleep"] / secs,
            "cpu_idle": (st["idle"] + st["lightsleep"]) / secs, "avg_ma": avg,
            "life_h": r1["battery_mah"] / avg, "adders_ma": adders,
            "wakes_per_s": (r1["wakes"] - r0["wakes"]) / secs}


def levers(figs):
    """The idle levers of stock MicroPython, each added to the one before, side by side
    in one run (docs/power.md, "Longer on stock firmware"): none; the CPU at 80 MHz while
    only the connection holds it awake; the phone's idle interval policy (30 ms)."""
    with board_variant(cpu_hz_idle=0):
        none, info0, _ = measure()
    clock, info1, _ = measure()
    both, info2, _ = measure(policy=True)
    assert info0["cpu_hz"] == 160000000 and info1["cpu_hz"] == 80000000
    assert info0["interval_ms"] == info1["interval_ms"] == 15.0
    assert info2["interval_ms"] == 30.0 and info2["link_up"]
    for name, r in (("none", none), ("cpu_80mhz", clock), ("cpu_80mhz_interval_30ms", both)):
        figs["lever_%s_avg_ma" % name] = round(r["avg_ma"], 2)
        figs["lever_%s_life_h" % name] = round(r["life_h"], 1)
    figs["battery_life_h_connected_idle"] = round(both["life_h"], 1)
    figs["idle_connected_avg_ma"] = round(both["avg_ma"], 2)
    figs["idle_wakes_per_s"] = round(both["wakes_per_s"], 1)
    for task, n in sorted(info2["task_runs_per_s"].items()):
        if n >= 0.05:
            figs["idle_task_runs_per_s_" + task] = round(n, 1)
    return both


def run():
    figs = {}
    idle = levers(figs)
    _, info, _ = measure()
    assert info["link_up"] and info["awake"] == ("ble",) and info["interval_ms"] == 15.0
    mixed, info_m, load = measure(voice=True)
    assert load.frames_up >= 1400 and load.frames_down >= 1400 and info_m["link_up"]
    assert info_m["speaker_frames"] >= 0.9 * 16000 * VOICE_S / 2 * RUN_S / CYCLE_S
    figs["idle_sleep_fraction"] = round(idle["sleep"], 4)
    figs["idle_cpu_idle_fraction"] = round(idle["cpu_idle"], 4)
    figs["idle_connected_radio_ma"] = round(idle["adders_ma"].get("radio", 0.0)
                                            + idle["adders_ma"].get("radio_data", 0.0), 2)
    figs["mixed_avg_ma"] = round(mixed["avg_ma"], 2)
    figs["battery_life_h_mixed"] = round(mixed["life_h"], 1)
    idle30, info30, _ = measure(interval_ms=30)
    assert info30["interval_ms"] == 30.0
    figs["battery_life_h_connected_idle_30ms"] = round(idle30["life_h"], 1)
    with board_variant(("lightsleep_connected",)):
        auto, info_a, _ = measure()
        auto_mixed, _, _ = measure(voice=True)
        auto30, _, _ = measure(interval_ms=30)
    assert info_a["awake"] == () and info_a["link_up"]
    figs["idle_sleep_fraction_autolightsleep"] = round(auto["sleep"], 4)
    figs["idle_connected_avg_ma_autolightsleep"] = round(auto["avg_ma"], 2)
    figs["battery_life_h_connected_idle_autolightsleep"] = round(auto["life_h"], 1)
    figs["battery_life_h_mixed_autolightsleep"] = round(auto_mixed["life_h"], 1)
    figs["battery_life_h_connected_idle_autolightsleep_30ms"] = round(auto30["life_h"], 1)
    with board_variant(("lightsleep_connected",), rtc_xtal_32k=True):
        auto32, _, _ = measure()
    figs["battery_life_h_connected_idle_autolightsleep_32k"] = round(auto32["life_h"], 1)
    return figs


if __name__ == "__main__":
    for k, v in run().items():
        print("%s: %s" % (k, v))
