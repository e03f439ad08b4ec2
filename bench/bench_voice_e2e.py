"""The voice path end to end over the rig (simulated glasses + phone over bumble, virtual
time, link model at a 15 ms interval, LE 2M, ATT MTU 247; default host handlers):

- voice_latency_ms_p50 / _p90: end of speech (the end of the synthesised query in the
  scenario timeline) to the first answer sample at the simulated speaker, over QUERIES
  (20: every intent with a spoken answer, slots, two questions no intent covers), said in the test
  voice (Piper, host_tools/voice/voices.py) into the simulated microphone. The phone's
  CPU time (ASR, assistant, TTS, ADPCM) is the worker processes' own CPU seconds (and
  process_time() for the host's part), charged to the simulated timeline
  (host_tools/voice/compute.py, "measured" mode; the simulator's default is a cost model,
  so that runs repeat from their seed).
- voice_latency_ms_no_speculation_p50 / _p90: the same queries in the same run with the
  phone's own end-pointing and speculative answer off (it starts when the glasses ask,
  after their 600 ms hangover). Issue 12 asked for "today's grammar path" side by side:
  the pocketsphinx grammar path is gone from the host (host_tools/voice has one stack),
  so the path without speculation is what stands beside it.
- voice_lat_*_ms: what the time is made of (medians), see docs/voice.md.
- voice_listening_avg_ma / battery_life_h_connected_listening (and _autolightsleep): worn,
  connected at 15 ms, no speech, the VAD listening (the voice service's default while worn)
  over 120 s: what always-on listening costs against bench_power.py's connected idle
  (tap-to-talk, microphone closed). The I2S DMA stops in lightsleep, so the board is held
  awake while the microphone is open, also on a build that could light-sleep connected.
- audio_link_kBps: bytes of audio-channel frames the glasses' GATT layer sent (packet +
  link frame header), per second of audio they carry (20 ms per packet). The pre-roll
  (160 ms) goes out as a burst when an utterance starts, so per second of wall time the
  first 0.2 s run higher; the sustained rate is this one.
"""
import asyncio
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import host_tools  # noqa: E402,F401  (MicroPython mirrors for the firmware modules)
from firmware.voice import chimes  # noqa: E402
from firmware.protocol.channels import AUDIO  # noqa: E402
from firmware.protocol.frame import parse_header  # noqa: E402
from voice_e2e_util import VoiceRig  # noqa: E402

QUERIES = ("what time is it", "what is my battery level", "set a timer for five minutes",
           "what day is it", "how much time is left on my timer", "turn up the volume",
           "remind me to call mom in ten minutes", "read my notifications", "tell me the date",
           "what can you do", "set the volume to three", "cancel all timers",
           "what's the weather like", "tell me the time", "start a three minute timer",
           "how is my battery", "volume down", "remind me to buy milk at six pm",
           "repeat that", "how tall is mount everest")
END_CHIME_MS = 1000 * chimes.length(chimes.END) / 16000


async def _query(vr, text, parts):
    v = vr.voice
    ends = []
    on_end = v.on_end

    def note_end(first, last, why, delivered):
        ends.append(vr.now())
        on_end(first, last, why, delivered)
    v.capture.on_end = note_end
    n = v.answers
    mark = vr.tap.mark()
    _, t_end = vr.say_to_mic(text)
    await vr.until(lambda: v.answers > n or v.errors, 30)
    await vr.idle()
    v.capture.on_end = on_end
    if v.answers <= n:
        raise RuntimeError("%r was not answered: %s" % (text, v.last_error))
    t_first, _ = vr.tap.stream(mark)
    if t_first is None:
        raise RuntimeError("%r was answered without audio" % text)
    tm = vr.host.timings[-1]
    lat = t_first - t_end
    parts["latency"].append(lat)
    if tm["speculated"]:
        parts["endpoint"].append(tm["guess_start"] - t_end)
        parts["asr"].append(tm["asr_s"])
        parts["assist"].append(tm["assist_s"])
        parts["tts_first"].append(tm["tts_first_s"])
        parts["hint_to_end"].append(ends[0] - (tm["guess_start"] + tm["asr_s"]))
    else:
        parts["vad_end"].append(ends[0] - t_end)
        parts["asr"].append(tm["asr_s"])
        parts["assist"].append(tm["assist_s"])
    parts["ask_link"].append(tm["request"] - ends[0])
    parts["playback_start"].append(t_first - max(ends[0] + END_CHIME_MS / 1000,
                                                 tm["meta_out"]))
    return lat


def _measure(speculate):
    vr = VoiceRig(seed=21, voice_kw={"speculate": speculate, "compute": "measured"})
    vr.world.battery.set_soc(63.4)
    parts = {k: [] for k in ("latency", "endpoint", "vad_end", "asr", "assist", "tts_first",
                             "hint_to_end", "ask_link", "playback_start")}
    audio = {"bytes": 0, "frames": 0}

    async def scenario():
        await vr.start()
        ble = vr.app.gatt._ble  # the radio (the session holds gatt.send bound)
        notify = ble.gatts_notify

        def counting(conn, handle, data=None):
            out = notify(conn, handle, data)  # raises when the stack is full
            if data is not None and parse_header(data)[0] == AUDIO:
                audio["bytes"] += len(data)
                audio["frames"] += 1  # one packet each at this MTU
            return out
        ble.gatts_notify = counting
        await asyncio.sleep(6)  # a gauge reading after the change
        for q in QUERIES:
            await _query(vr, q, parts)
        return vr.host.compute.charged_s

    try:
        charged = vr.run(scenario())
    finally:
        vr.close()
    return parts, audio["bytes"] / (audio["frames"] * 0.02) / 1000, charged


def _bench_power():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "bench_power_for_voice", os.path.join(ROOT, "bench", "bench_power.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _listening(bp, seconds=120):
    """(average mA, battery hours, awake reasons): worn, connected, listening."""
    from sim.linked import Linked
    rig = Linked(bp.BOARD, seed=7, notify=True)
    out = {}

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        await asyncio.sleep(bp.SETTLE_S)
        p = rig.world.power
        r0 = p.report()
        await asyncio.sleep(seconds)
        out["d"] = bp._delta(r0, p.report())
        out["awake"] = rig.glasses.board.awake_reasons()
        out["listening"] = rig.glasses.app.voice.status()["mic_open"]

    try:
        rig.run(scenario())
    finally:
        rig.close()
    if not out["listening"]:
        raise RuntimeError("the voice service was not listening")
    return out["d"]["avg_ma"], out["d"]["life_h"], out["awake"]


def _ms(values):
    return round(1000 * statistics.median(values), 1) if values else None


def _p90_ms(values):
    """The 90th percentile (nearest rank), ms."""
    v = sorted(values)
    return round(1000 * v[max(0, -(-9 * len(v) // 10) - 1)], 1)


def run():
    spec, kbps, charged = _measure(True)
    plain, _, _ = _measure(False)
    bp = _bench_power()
    ma, life, awake = _listening(bp)
    with bp.board_variant(("lightsleep_connected",)):
        ma_a, life_a, awake_a = _listening(bp)
    assert "mic" in awake and "mic" in awake_a, (awake, awake_a)
    return {
        "voice_latency_ms_p50": _ms(spec["latency"]),
        "voice_latency_ms_p90": _p90_ms(spec["latency"]),
        "voice_latency_ms_no_speculation_p50": _ms(plain["latency"]),
        "voice_latency_ms_no_speculation_p90": _p90_ms(plain["latency"]),
        "voice_latency_queries": len(spec["latency"]),
        "voice_lat_endpoint_ms": _ms(spec["endpoint"]),
        "voice_lat_asr_ms": _ms(spec["asr"]),
        "voice_lat_assist_ms": _ms(spec["assist"]),
        "voice_lat_tts_first_ms": _ms(spec["tts_first"]),
        "voice_lat_hint_to_glasses_end_ms": _ms(spec["hint_to_end"]),
        "voice_lat_end_chime_ms": round(END_CHIME_MS, 1),
        "voice_lat_ask_link_ms": _ms(spec["ask_link"]),
        "voice_lat_playback_start_ms": _ms(spec["playback_start"]),
        "voice_lat_plain_vad_end_ms": _ms(plain["vad_end"]),
        "voice_lat_plain_asr_ms": _ms(plain["asr"]),
        "voice_phone_cpu_s_charged": round(charged, 3),
        "audio_link_kBps": round(kbps, 2),
        "voice_listening_avg_ma": round(ma, 2),
        "battery_life_h_connected_listening": round(life, 1),
        "voice_listening_avg_ma_autolightsleep": round(ma_a, 2),
        "battery_life_h_connected_listening_autolightsleep": round(life_a, 1),
    }


if __name__ == "__main__":
    for k, val in run().items():
        print("%s: %s" % (k, val))
