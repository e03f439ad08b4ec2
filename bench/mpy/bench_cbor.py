# CBOR throughput under the official MicroPython build (run by bench/run.py): encode +
# decode of a typical link message mix. The loop runs in chunks of 16 messages; between
# chunks control goes back to JavaScript (a real timer sleep), where this build's GC runs,
# so the heap reading at the end of a chunk bounds the peak live heap from above.
import gc
import time

import asyncio
from firmware.runtime.cbor import dumps, loads

MIX = [
    {0: 1, 1: 1, 2: {0: "glasses", 1: "0.1.0", 2: ["audio", "rpc", "ota"]}},  # hello
    {0: 2, 1: 17, 2: {0: "tap", 1: 2}},  # gesture event
    {0: 3, 1: 18, 2: {0: "msg-42", 1: "Messages", 2: "Ana", 3: "Running late, 10 min",
                      4: 1, 5: "social", 6: ["Reply", "Dismiss"]}},  # notification
    {0: 4, 1: 301, 2: bytes(200)},  # audio packet (20 ms of ADPCM, 4 frames)
    {0: 5, 1: 300, 2: 8},  # ack with credits
    {0: 6, 1: 7, 2: "asr", 3: {0: 16000, 1: "adpcm"}},  # rpc request
    {0: 7, 1: 7, 2: {0: "what time is it", 1: 0.93}},  # rpc response
    {0: 8, 1: 19, 2: {0: 87, 1: False, 2: 3.9}},  # battery
]
CHUNK = 16
CHUNKS = 100


async def main():
    gc.collect()
    await asyncio.sleep_ms(1)
    base = gc.mem_alloc()
    peak = 0
    n = 0
    elapsed_us = 0
    allocated = 0
    for _ in range(CHUNKS):
        t0 = time.ticks_us()
        for i in range(CHUNK):
            m = MIX[i % len(MIX)]
            if loads(dumps(m)) is None:
                raise AssertionError("decode failed")
        elapsed_us += time.ticks_diff(time.ticks_us(), t0)
        n += CHUNK
        used = gc.mem_alloc() - base
        allocated += used
        if used > peak:
            peak = used
        gc.collect()
        await asyncio.sleep_ms(1)  # back to JavaScript: the GC runs here
    return {
        "cbor_msgs_per_s_mpy": int(n * 1000000 / elapsed_us),
        "cbor_peak_heap_bytes_mpy": peak,
        "cbor_alloc_bytes_per_msg_mpy": allocated // n,
    }
