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
from host_tools.voice.asr import Asr  # noqa: E402
from host_tools.voice.assist import default_registry  # noqa: E402
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


def _asr_rtf(tts, asr, text):
    pcm = bytes(8000) + tts.synthesize(text) + bytes(8000)
    t0 = time.perf_counter()
    res = asr.recognize(pcm)
    dt = time.perf_counter() - t0
    return dt / (len(pcm) / 32000), res["search"]


def run():
    tts = Tts()
    t0 = time.perf_counter()
    first = None
    total = 0
    for chunk in tts.stream("Your glasses battery is at 87 percent. You have two new "
                            "notifications. Timer set for five minutes."):
        if first is None:
            first = time.perf_counter() - t0
        total += len(chunk)
    synth_s = time.perf_counter() - t0
    r = default_registry()
    asr = Asr(r.jsgf(), lambda t: r.match(t)[0] is not None)
    rtf_g, search_g = _asr_rtf(tts, asr, "set a timer for five minutes")
    rtf_l, search_l = _asr_rtf(tts, asr, "tell me a joke about cats")
    assert search_g == "grammar" and search_l == "lm", (search_g, search_l)
    return {
        "adpcm_snr_db": round(_snr(tts), 1),
        "audio_packet_kBps": round(_link_rate(), 2),
        "asr_rtf_grammar": round(rtf_g, 3),
        "asr_rtf_lm": round(rtf_l, 3),
        "tts_rtf": round(synth_s / (total / 32000), 3),
        "tts_first_chunk_ms": round(first * 1000, 1),
    }
