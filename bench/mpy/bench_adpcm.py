# The voice path's per-frame costs under the official MicroPython build (run by
# bench/run.py): the portable IMA ADPCM codec (the one a port without a native emitter
# uses) and the VAD, on one second (50 frames of 20 ms) of a speech-like signal.
# Reported as "times faster than real time" at 16 kHz: 1 s of audio / time to process it.
import array
import gc
import time

import asyncio
from firmware.voice import adpcm, codec
from firmware.voice.vad import Vad

FRAMES = 50
ROUNDS = 4


def _signal():
    """50 frames: a 180 Hz buzz with harmonics under a syllable envelope, plus noise."""
    pcm = array.array("h", bytes(2 * 320 * FRAMES))
    s = 1
    for i in range(320 * FRAMES):
        s ^= (s << 7) & 0xFFFF
        s ^= s >> 9
        s ^= (s << 8) & 0xFFFF
        ph = (i * 180 * 64 // 16000) & 63  # 64 steps per period
        tri = ph * 512 if ph < 32 else (64 - ph) * 512
        env = (i % 4000) if (i % 4000) < 2000 else 4000 - (i % 4000)
        pcm[i] = ((tri - 8192) * env >> 11) + (s & 511) - 256
    return pcm


async def main():
    pcm = _signal()
    mv = memoryview(pcm)
    out = bytearray(200)
    dec = array.array("h", bytes(640))
    enc_us = dec_us = vad_us = 0
    for _ in range(ROUNDS):
        gc.collect()
        await asyncio.sleep_ms(1)
        st = adpcm.State()
        ds = adpcm.State()
        v = Vad()
        t0 = time.ticks_us()
        for f in range(FRAMES):
            adpcm.encode(st, mv[f * 320:(f + 1) * 320], 320, out, 0)
        t1 = time.ticks_us()
        for _ in range(FRAMES):
            adpcm.decode(ds, out, 0, 163, dec)
        t2 = time.ticks_us()
        for f in range(FRAMES):
            v.feed(mv[f * 320:(f + 1) * 320])
        t3 = time.ticks_us()
        enc_us += time.ticks_diff(t1, t0)
        dec_us += time.ticks_diff(t2, t1)
        vad_us += time.ticks_diff(t3, t2)
    audio_us = 1000000 * ROUNDS
    return {
        "adpcm_codec_mpy": codec.NAME,
        "adpcm_encode_realtime_x": round(audio_us / enc_us, 1),
        "adpcm_decode_realtime_x": round(audio_us / dec_us, 1),
        "vad_frame_us_mpy": vad_us // (FRAMES * ROUNDS),
    }
