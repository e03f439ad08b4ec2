"""Voice path figures on this machine (CPython; run by bench/run.py):

- adpcm_snr_db: the firmware ADPCM round trip on speech from the host TTS (target >= 20)
- audio_packet_kBps: bytes per second of audio packets: one per 20 ms as built by
  firmware/voice/capture.py (packet header + ADPCM block); audio_link_kBps, what goes on
  the link, is measured end to end by bench_voice_e2e.py
- asr_rtf_grammar / asr_rtf_lm: pocketsphinx time / audio time, for a command (grammar
  pass + phone-loop check) and for free speech (all three passes)
- tts_rtf and tts_first_chunk_ms: eSpeak NG + resampling time / audio time, and the time
  to the first 16 kHz chunk
"""
import array
import math
import time

from sim import mirror

mirror.install()

from firmware.voice import adpcm, packet as P  # noqa: E402
from host_tools.voice.tts import Tts  # noqa: E402

SENTENCES = ["what time is it", "set a timer for five minutes", "what is my battery level",
             "read my notifications", "tell me a joke about cats"]


def _snr(tts):
    sig = err = 0
    for s in SENTENCES:
        pcm = array.array("h", tts.synthesize(s))
        pcm.extend([0] * (-len(pcm) % 320))
        enc, dec = adpcm.State(), adpcm.State()
        blk = bytearray(163)
        out = array.array("h", bytes(640))
        for i in range(0, len(pcm), 320):
            n = adpcm.encode(enc, pcm[i:i + 320], 320, blk, 0)
            adpcm.decode(dec, blk, 0, n, out)
            for a, b in zip(pcm[i:i + 320], out):
                sig += a * a
                err += (a - b) * (a - b)
    return 10 * math.log10(sig / err)


def _link_rate():
    pkt = bytearray(P.HEADER_BYTES + adpcm.encoded_size(320))
    n = P.HEADER_BYTES + adpcm.encode(adpcm.State(), array.array("h", bytes(640)), 320, pkt,
                                      P.HEADER_BYTES)
    return n * 50 / 1000  # 50 packets per second


def _stack():
    """The phone's stack over its workers (warm): Piper's first chunk, Whisper per query,
    the CPU seconds the workers used (their processes' own counters)."""
    import asyncio
    from host_tools.voice.compute import Compute
    from host_tools.voice.settings import Settings
    from host_tools.voice.speech import Speech
    from host_tools.voice.voices import speak
    sp = Speech(Settings.from_env(), Compute("thread"))
    text = "Your glasses battery is at 87 percent. Timer set for five minutes."
    queries = ["what time is it", "set a timer for five minutes", "what is my battery level",
               "remind me to call Ana at six pm", "what is the weather like"]

    async def go():
        async for _ in sp.tts("Ready."):
            pass
        await sp.asr(speak("warm up").tobytes())
        firsts = []
        for _ in range(3):
            t0 = time.perf_counter()
            async for _chunk in sp.tts(text):
                firsts.append(time.perf_counter() - t0)
                break
        w_asr, w_tts = sp.worker("asr"), sp.worker("tts")
        c0 = (w_asr.cpu_s() or 0) + (w_tts.cpu_s() or 0)
        walls = []
        for q in queries:
            pcm = speak(q).tobytes()
            t0 = time.perf_counter()
            res = await sp.asr(pcm)
            walls.append(time.perf_counter() - t0)
            async for _chunk in sp.tts("It's 9:00 AM." if res["text"] else "Sorry."):
                pass
        c1 = (w_asr.cpu_s() or 0) + (w_tts.cpu_s() or 0)
        return sorted(firsts)[1], sorted(walls)[len(walls) // 2], (c1 - c0) / len(queries)
    return asyncio.run(go())


def run():
    tts = Tts()
    t0 = time.perf_counter()
    first = None
    for _chunk in tts.stream("Your glasses battery is at 87 percent."):
        if first is None:
            first = time.perf_counter() - t0
    first_tts, asr_s, cpu_q = _stack()
    return {
        "adpcm_snr_db": round(_snr(tts), 1),
        "audio_packet_kBps": round(_link_rate(), 2),
        "tts_first_chunk_ms": round(first_tts * 1000, 1),
        "asr_ms_per_query": round(asr_s * 1000, 1),
        "phone_cpu_s_per_query": round(cpu_q, 3),
        "espeak_tts_first_chunk_ms": round(first * 1000, 1),
    }
