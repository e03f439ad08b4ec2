"""The default speech engines (host_tools/voice/handlers.py: pocketsphinx, the intent
assistant, eSpeak NG) behind the handlers' contract, run through a Compute
(host_tools/voice/compute.py) so that under virtual time their CPU time is charged:

    await engines.asr(pcm_bytes, rate)        -> {"text", "confidence", "search", ...}
    await engines.assist(text, context)       -> {"answer", "actions", "intent"}
    async for chunk in engines.tts(text): ...    16 kHz int16 PCM chunks

In real time these are handlers.asr / assist / tts themselves (worker threads, their own
timeouts). Loading an engine is never charged: a phone app loads its models once.

The cost model (Compute's "model" mode, the simulator's default): seconds of phone CPU
per second of audio, measured on the development machine (bench/bench_voice.py:
asr_rtf_grammar ~0.09-0.12, asr_rtf_lm ~0.2-0.4, tts_rtf ~0.03-0.04), rounded up.
"""
from host_tools.voice import handlers
from host_tools.voice.asr import AsrError
from host_tools.voice.tts import TtsError

BYTES_PER_S = 32000  # 16 kHz int16
ASR_RTF_GRAMMAR = 0.10  # grammar + phone-loop passes (a command)
ASR_RTF_LM = 0.40  # all three passes (free speech)
TTS_RTF = 0.04
ASSIST_S = 0.001  # the intent matcher (a backend over HTTP is not modelled)


def asr_cost(pcm):
    s = len(pcm) / BYTES_PER_S

    def cost(result):
        grammar = isinstance(result, dict) and result.get("search") == "grammar"
        return s * (ASR_RTF_GRAMMAR if grammar else ASR_RTF_LM)
    return cost


def tts_cost(chunk):
    return len(chunk) / BYTES_PER_S * TTS_RTF if isinstance(chunk, bytes) else 0.0


class Engines:
    def __init__(self, compute):
        self.compute = compute

    async def asr(self, pcm, rate):
        if not self.compute.charge:
            return await handlers.asr(pcm, rate)
        eng = handlers.asr_engine()
        try:
            return await self.compute.run("asr", eng.recognize, pcm, rate,
                                          cost=asr_cost(pcm))
        except AsrError as e:
            raise handlers.HandlerError(str(e)) from e

    async def assist(self, text, context=None):
        if not self.compute.charge:
            return await handlers.assist(text, context)
        a = handlers.assistant()
        if context:
            try:
                a.context.update(context)
            except ValueError as e:
                raise handlers.HandlerError("assist: bad context: %s" % e) from e
        return dict(await self.compute.run("assist", a.answer, text,
                                           cost=lambda _r: ASSIST_S))

    async def tts(self, text):
        if not self.compute.charge:
            async for chunk in handlers.tts(text):
                yield chunk
            return
        gen = handlers.tts_engine().stream(text)
        end = object()
        n = 0
        try:
            while True:
                try:
                    chunk = await self.compute.run("tts", next, gen, end, cost=tts_cost)
                except TtsError as e:
                    why = str(e)
                    why = why[5:] if why.startswith("tts: ") else why
                    raise handlers.HandlerError("tts: stream stopped after %d chunks: %s"
                                                % (n, why)) from e
                if chunk is end:
                    return
                n += 1
                yield chunk
        finally:
            gen.close()
