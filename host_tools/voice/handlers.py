"""The speech handlers the offload RPC registers by name:

    await asr(pcm_bytes, rate)        -> {"text", "confidence", "search", ...}
    await assist(text, context)       -> {"answer", "actions", "intent"}
    async for chunk in tts(text): ...    16 kHz int16 PCM chunks (bytes)

Engines load lazily on first use with offline defaults (pocketsphinx en-US, eSpeak NG,
the built-in intents; the answer backend only if GLASSES_LLM_URL is set). An engine that
cannot load raises Unavailable("unavailable: <why>"); a job that fails or times out
raises HandlerError with the reason. Blocking engine work runs in worker threads.

Configuration (environment or configure()):
    GLASSES_ASR_MODEL_DIR   a pocketsphinx model folder (en-us/, *.dict, *.lm.bin)
    GLASSES_TTS_VOICE       eSpeak NG voice (default en-us+f2)
    GLASSES_VOICE_PLUGINS   comma-separated modules with register(registry): more intents
    GLASSES_LLM_URL / _MODEL / _KEY / _TIMEOUT_S   see backend.py
"""
import asyncio
import importlib
import os
import threading

from host_tools.voice import assist as _assist
from host_tools.voice.asr import Asr, AsrError, AsrUnavailable
from host_tools.voice.backend import BackendError, ChatBackend
from host_tools.voice.tts import Tts, TtsError, TtsUnavailable

ASR_TIMEOUT_S = 30.0
ASSIST_TIMEOUT_S = 60.0
TTS_CHUNK_TIMEOUT_S = 15.0


class HandlerError(RuntimeError):
    """A job failed; the message says which handler and why."""


class Unavailable(HandlerError):
    """The handler's engine cannot run here: 'unavailable: <why>'."""

    def __init__(self, why):
        super().__init__("unavailable: " + why)


_lock = threading.RLock()  # engines are built under it, and one may need another
_config = {}
_state = {}  # engines, created lazily


def configure(**kw):
    """Override the environment (keys: asr_model_dir, tts_voice, tts_lib,
    tts_max_audio_s, plugins, llm_url, llm_model, llm_key, env) and drop loaded engines so
    the next call reloads them."""
    with _lock:
        _config.clear()
        _config.update(kw)
        _state.clear()


def _env(name, key):
    if key in _config:
        return _config[key]
    env = _config.get("env", os.environ)
    return env.get(name) or None


def _engine(name, make):
    with _lock:
        if name not in _state:
            _state[name] = make()
        return _state[name]


def registry():
    def make():
        r = _assist.default_registry()
        plugins = _env("GLASSES_VOICE_PLUGINS", "plugins") or ""
        for mod in [m.strip() for m in plugins.split(",") if m.strip()]:
            try:
                importlib.import_module(mod).register(r)
            except Exception as e:
                raise Unavailable("assist: intent plugin %s failed to load: %s: %s"
                                  % (mod, type(e).__name__, e)) from e
        return r
    return _engine("registry", make)


def assistant():
    def make():
        env = dict(_config.get("env", os.environ))
        for key, name in (("llm_url", "GLASSES_LLM_URL"), ("llm_model", "GLASSES_LLM_MODEL"),
                          ("llm_key", "GLASSES_LLM_KEY")):
            if key in _config:
                env[name] = _config[key] or ""
        try:
            backend = ChatBackend.from_env(env)
        except BackendError as e:
            raise Unavailable("assist: answer backend misconfigured: %s" % e) from e
        return _assist.Assistant(registry(), _assist.Context(), backend)
    return _engine("assistant", make)


def asr_engine():
    def make():
        r = registry()
        try:
            return Asr(r.jsgf(), lambda text: r.match(text)[0] is not None,
                       model_dir=_env("GLASSES_ASR_MODEL_DIR", "asr_model_dir"))
        except AsrUnavailable as e:
            raise Unavailable(str(e)) from e
        except AsrError as e:
            raise Unavailable(str(e)) from e
    return _engine("asr", make)


def tts_engine():
    def make():
        try:
            return Tts(voice=_env("GLASSES_TTS_VOICE", "tts_voice") or "en-us+f2",
                       lib_path=_config.get("tts_lib"),
                       max_audio_s=_config.get("tts_max_audio_s", 60.0))
        except TtsUnavailable as e:
            raise Unavailable(str(e)) from e
    return _engine("tts", make)


async def asr(pcm_bytes, rate, timeout_s=ASR_TIMEOUT_S):
    eng = await asyncio.to_thread(asr_engine)
    try:
        return await asyncio.wait_for(asyncio.to_thread(eng.recognize, pcm_bytes, rate),
                                      timeout_s)
    except asyncio.TimeoutError:
        raise HandlerError("asr: timed out after %s s" % timeout_s) from None
    except AsrError as e:
        raise HandlerError(str(e)) from e
    except Exception as e:
        raise HandlerError("asr failed: %s: %s" % (type(e).__name__, e)) from e


async def assist(text, context=None, timeout_s=ASSIST_TIMEOUT_S):
    a = await asyncio.to_thread(assistant)
    if context:
        try:
            a.context.update(context)
        except ValueError as e:
            raise HandlerError("assist: bad context: %s" % e) from e
    try:
        return dict(await asyncio.wait_for(asyncio.to_thread(a.answer, text), timeout_s))
    except asyncio.TimeoutError:
        raise HandlerError("assist: timed out after %s s" % timeout_s) from None
    except TypeError as e:
        raise HandlerError("assist: %s" % e) from e


async def tts(text, chunk_timeout_s=TTS_CHUNK_TIMEOUT_S):
    """Async iterator of 16 kHz PCM chunks. A stream that stops before the end raises
    HandlerError saying why (never a silent short answer)."""
    eng = await asyncio.to_thread(tts_engine)
    gen = eng.stream(text)
    n = 0
    end = object()
    try:
        while True:
            try:
                chunk = await asyncio.wait_for(asyncio.to_thread(next, gen, end),
                                               chunk_timeout_s)
            except asyncio.TimeoutError:
                raise HandlerError("tts: stream stopped after %d chunks: no audio for %s s"
                                   % (n, chunk_timeout_s)) from None
            except TtsError as e:
                why = str(e)
                why = why[5:] if why.startswith("tts: ") else why
                raise HandlerError("tts: stream stopped after %d chunks: %s" % (n, why)) from e
            if chunk is end:
                return
            n += 1
            yield chunk
    finally:
        try:
            await asyncio.to_thread(gen.close)  # stops eSpeak if we leave early
        except ValueError:
            pass  # still running in the timed-out worker: its own stall limit ends it
