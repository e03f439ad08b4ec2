"""The default speech engines (host_tools/voice/handlers.py: pocketsphinx, the intent
assistant, eSpeak NG) behind the handlers' contract, run through a Compute
(host_tools/voice/compute.py) so that under virtual time their CPU time is charged:

    await engines.asr(pcm_bytes, rate)        -> {"text", "confidence", "search", ...}
    await engines.assist(text, context)       -> {"answer", "actions", "intent"}
    async for chunk in engines.tts(text): ...    16 kHz int16 PCM chunks

In real time these are handlers.asr / assist / tts themselves (worker threads, their own
timeouts). Loading an engine is never charged: a phone app loads its models once.
"""
from host_tools.voice import handlers
from host_tools.voice.asr import AsrError
from host_tools.voice.tts import TtsError


class Engines:
    def __init__(self, compute):
        self.compute = compute

    async def asr(self, pcm, rate):
        if not self.compute.charge:
            return await handlers.asr(pcm, rate)
        eng = handlers.asr_engine()
        try:
            return await self.compute.run("asr", eng.recognize, pcm, rate)
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
        return dict(await self.compute.run("assist", a.answer, text))

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
                    chunk = await self.compute.run("tts", next, gen, end)
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
