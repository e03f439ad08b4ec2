"""The phone's speculative answer (host_tools/voice/host.py runs it): at each quiet point of
an utterance the phone recognises and answers what it heard so far and starts the TTS;
if the speech goes on the guess is dropped; if the glasses' ask arrives and nothing
changed, the guess is the answer (docs/voice.md, "Latency"). `self` is the VoiceHost."""
import asyncio

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.protocol import kinds
from firmware.protocol.channels import EVENTS
from host_tools.voice import steps


def start(self, live):
    upto = live.heard_through()
    self.speculations += 1
    pcm = live.pcm() if live.wake is None else live.wake.query_pcm(live.pcm())
    task = asyncio.get_running_loop().create_task(
        guess(self, live, pcm, live.epoch, upto))
    live.spec = [upto, live.epoch, task]

def drop(live):
    spec = live.spec
    live.spec = None
    if spec is not None and not spec[2].done():
        spec[2].cancel()
    elif spec is not None and not spec[2].cancelled() and spec[2].exception() is None:
        guess = spec[2].result()
        if guess is not None and guess[2] is not None:
            asyncio.get_running_loop().create_task(guess[2].aclose())

async def guess(self, live, pcm, epoch, upto):
    """Recognise and answer what was heard up to a quiet point; start the TTS.
    Returns (asr result, reply, packet generator, first packets, timing)."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    res = await self._asr(pcm)
    t1 = loop.time()
    if live.epoch != epoch:
        return None
    whole = bool(res.get("text")) and self._is_command(res)
    if whole and self.endpoint_hints and not live.ended:
        self.hints += 1
        try:
            self.phone.send(EVENTS, {kinds.K: kinds.VOICE_ENDPOINT, 1: live.first, 2: upto})
        except Exception as e:
            self.note("could not tell the glasses to stop listening: %s" % steps.why(e), True)
    ctx = self._assist_context()
    reply = await self._assist(res, ctx)
    t2 = loop.time()
    gen = self._tts_packets(reply.get("answer", ""))
    first = []
    try:
        first.append(await gen.__anext__())
    except StopAsyncIteration:
        gen = None
    except BaseException:
        await gen.aclose()
        raise
    t3 = loop.time()
    return res, reply, gen, first, {"asr_s": t1 - t0, "assist_s": t2 - t1,
                                    "tts_first_s": t3 - t2, "heard_through": upto,
                                    "guess_start": t0, "hint": whole, "context": ctx}

async def refresh(self, guess, ctx):
    """The guess as the answer to the glasses' ask, whose context (ctx: their timers,
    volume, battery, ...) may be newer than the one it was made with: then it is answered
    again, and its speech kept only when the answer is the same ("how long is left"
    guessed before the ask said a timer was set)."""
    res, reply, gen, pre, timing = guess
    if timing.pop("context") == ctx:
        return guess
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    fresh = await self._assist(res, ctx)
    timing["assist_s"] = loop.time() - t0
    if (fresh.get("answer"), fresh.get("actions")) == (reply.get("answer"), reply.get("actions")):
        return res, fresh, gen, pre, timing
    if gen is not None:
        await gen.aclose()
    timing["reanswered"] = True
    return res, fresh, self._tts_packets(fresh.get("answer", "")), [], timing


def usable(self, first, last):
    live = self.lives.get(first)
    if live is None or live.spec is None or live.dirty:
        return None
    upto, epoch, task = live.spec
    if epoch != live.epoch or (last - upto) & 0xFFFF >= 0x8000:
        return None
    live.spec = None  # taken: nobody else may use (or close) it
    return task
