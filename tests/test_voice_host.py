"""The phone host's speech side, with the real engines (CPython only): queries spoken by
the project's own TTS are recognised by its own ASR into the right intent after the
firmware's ADPCM round trip; the assistant answers; every handler error path is clear.
(The assistant's text side and its chat backend: test_voice_host_assistant.py.)"""
import array
import asyncio
import os

import pytest

from firmware.voice import adpcm
from host_tools.voice import handlers
from host_tools.voice.asr import Asr, AsrError
from host_tools.voice.assist import Assistant, Context, Intent, Registry, Reply, default_registry
from host_tools.voice.tts import Tts, TtsError
from voice_host_util import NOW, ChatServer as _ChatServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SILENCE = bytes(16000)  # 0.5 s


@pytest.fixture(scope="module")
def tts():
    return Tts()


@pytest.fixture(scope="module")
def registry():
    return default_registry()


@pytest.fixture(scope="module")
def asr(registry):
    return Asr(registry.jsgf(), lambda t: registry.match(t)[0] is not None)


def adpcm_round_trip(pcm_bytes):
    """What the phone hears: 20 ms ADPCM blocks through the firmware codec."""
    pcm = array.array("h", pcm_bytes)
    pcm.extend([0] * (-len(pcm) % 320))
    enc, dec = adpcm.State(), adpcm.State()
    out = array.array("h", bytes(len(pcm) * 2))
    blk = bytearray(adpcm.encoded_size(320))
    frame = array.array("h", bytes(640))
    for i in range(0, len(pcm), 320):
        n = adpcm.encode(enc, pcm[i:i + 320], 320, blk, 0)
        adpcm.decode(dec, blk, 0, n, frame)
        out[i:i + 320] = frame
    return pcm, out


def snr_db(ref, got):
    import math
    sig = sum(v * v for v in ref)
    err = sum((a - b) ** 2 for a, b in zip(ref, got))
    return 10 * math.log10(sig / err)


@pytest.mark.parametrize("spoken, intent", [
    ("what time is it", "time"),
    ("set a timer for five minutes", "timer"),
    ("what is my battery level", "battery"),
])
def test_spoken_query_is_recognised_into_the_right_intent_and_answered(tts, asr, spoken,
                                                                       intent):
    pcm, heard = adpcm_round_trip(SILENCE + tts.synthesize(spoken) + SILENCE)
    assert snr_db(pcm, heard) >= 20
    res = asr.recognize(heard.tobytes(), 16000)
    assert res["text"] == spoken and res["search"] == "grammar", res
    assert 0.5 < res["confidence"] <= 1.0
    ctx = Context(now=lambda: NOW)
    ctx.update({"battery_pct": 87, "charging": False})
    reply = Assistant(context=ctx).answer(res["text"])
    assert reply["intent"] == intent
    expected = {"time": ("It's 3:07 PM.", []),
                "timer": ("Timer set for five minutes.", [{"type": "timer", "seconds": 300}]),
                "battery": ("Your glasses battery is at 87 percent.", [])}[intent]
    assert (reply["answer"], reply["actions"]) == expected


def test_free_speech_falls_back_to_the_language_model(tts, asr):
    res = asr.recognize(SILENCE + tts.synthesize("tell me a joke about cats") + SILENCE)
    assert res["search"] == "lm" and "joke" in res["text"], res
    reply = Assistant().answer(res["text"])
    assert reply["intent"] == "fallback" and "no answer service is configured" in reply["answer"]


def test_asr_refuses_bad_audio_clearly(asr):
    with pytest.raises(AsrError, match="must be 16000 Hz"):
        asr.recognize(SILENCE, 8000)
    with pytest.raises(AsrError, match="even byte count"):
        asr.recognize(b"\x00\x01\x02")
    with pytest.raises(AsrError, match="more than 30 s"):
        asr.recognize(bytes(31 * 32000))
    assert asr.recognize(bytes(100))["text"] == ""  # too short to say anything


def test_a_plugin_intent_joins_the_grammar_and_the_matcher(tts):
    r = Registry()
    r.register(Intent("flashlight", ["turn on the flashlight"],
                      lambda c, s: Reply("Flashlight on.")))
    assert "turn on the flashlight" in r.jsgf()
    with pytest.raises(ValueError, match="already registered"):
        r.register(Intent("flashlight", ["x"], None))
    with pytest.raises(ValueError, match="at least one example phrase"):
        Intent("empty", [], None)
    asr = Asr(r.jsgf(), lambda t: r.match(t)[0] is not None)
    res = asr.recognize(SILENCE + tts.synthesize("turn on the flashlight") + SILENCE)
    assert res["text"] == "turn on the flashlight" and res["search"] == "grammar", res


def test_a_grammar_word_missing_from_the_dictionary_is_a_clear_error():
    r = Registry()
    r.register(Intent("x", ["glorbify the zzyzx"], None))
    with pytest.raises(AsrError, match="pronunciation dictionary"):
        Asr(r.jsgf(), lambda t: True)


def test_tts_streams_16_khz_chunks_and_stops_early_cleanly(tts):
    chunks = []
    for c in tts.stream("one two three four five six seven eight nine ten"):
        chunks.append(c)
    assert len(chunks) >= 5 and all(len(c) % 2 == 0 for c in chunks)
    total_s = sum(len(c) for c in chunks) / 32000
    assert 1.5 < total_s < 8
    g = tts.stream("a long sentence that the listener interrupts after the first chunk")
    next(g)
    g.close()  # the consumer left: eSpeak is stopped, and the engine still works
    assert len(tts.synthesize("hello")) > 8000
    assert list(tts.stream("   ")) == []
    with pytest.raises(TtsError, match="must be a string"):
        list(tts.stream(42))
    with pytest.raises(TtsError, match="unknown eSpeak NG voice"):
        list(Tts(voice="no-such-voice").stream("hello"))


_TTS_HISTORY = """
import hashlib, sys
from host_tools.voice.tts import Tts
t = Tts()
g = t.stream("a long answer that the listener may interrupt after its first chunk")
if sys.argv[1] == "interrupt":
    next(g)
    g.close()
else:
    list(g)
print(hashlib.sha1(t.synthesize("what time is it")).hexdigest())
"""


def test_the_same_speech_follows_the_same_history_in_every_process():
    """eSpeak carries state from one utterance into the next and seeds its noise from the
    clock: with a fixed seed, and an abandoned stream finished to its end (not stopped at
    whatever point its thread had reached), what a process says next is the same whether
    or not the listener left early (a simulator run replays from its seed)."""
    import subprocess
    import sys

    def said_next(how):
        return subprocess.run([sys.executable, "-c", _TTS_HISTORY, how], capture_output=True,
                              text=True, check=True, cwd=ROOT).stdout.strip()

    outs = [said_next("interrupt"), said_next("listen"), said_next("interrupt")]
    assert len(set(outs)) == 1 and len(outs[0]) == 40, outs


def test_a_tts_stream_that_stops_half_way_raises_a_clear_error():
    short = Tts(max_audio_s=0.8)
    got = []
    with pytest.raises(TtsError, match=r"stopped after 0.8 s of audio"):
        for c in short.stream("this answer is much longer than the limit allows, "
                              "so the stream has to stop half way through it"):
            got.append(c)
    assert got  # it did play the first part


# ---- handlers (what the RPC layer registers) -----------------------------------------
def run(coro):
    return asyncio.run(coro)


async def collect(aiter):
    return [c async for c in aiter]


@pytest.fixture
def fresh_handlers():
    handlers.configure()
    yield handlers
    handlers.configure()


def test_handlers_end_to_end(fresh_handlers, tts):
    pcm = SILENCE + tts.synthesize("what is my battery level") + SILENCE
    res = run(handlers.asr(pcm, 16000))
    assert res["text"] == "what is my battery level"
    ans = run(handlers.assist(res["text"], {"battery_pct": 64, "charging": True}))
    assert ans == {"answer": "Your glasses battery is at 64 percent, and charging.",
                   "actions": [], "intent": "battery"}
    chunks = run(collect(handlers.tts(ans["answer"])))
    assert len(chunks) > 3 and sum(map(len, chunks)) > 32000


def test_asr_handler_errors_and_timeout_are_clear(fresh_handlers):
    with pytest.raises(handlers.HandlerError, match="asr: audio must be 16000 Hz"):
        run(handlers.asr(SILENCE, 44100))
    with pytest.raises(handlers.HandlerError, match="asr: 16-bit PCM must have an even"):
        run(handlers.asr(b"abc", 16000))
    with pytest.raises(handlers.HandlerError, match=r"asr: timed out after 0 s"):
        run(handlers.asr(SILENCE * 4, 16000, timeout_s=0))
    with pytest.raises(handlers.HandlerError, match="assist: bad context"):
        run(handlers.assist("what time is it", {"battery_pct": -5}))


def test_tts_handler_that_stops_half_way_raises(fresh_handlers):
    handlers.configure(tts_max_audio_s=0.6)

    async def play():
        got = []
        try:
            async for c in handlers.tts("a long answer that goes on well past the limit "
                                        "that this host was configured with"):
                got.append(c)
        except handlers.HandlerError as e:
            return got, str(e)
        return got, None

    got, err = run(play())
    assert got and err is not None
    assert err.startswith("tts: stream stopped after %d chunks: stopped after 0.6 s" % len(got))


def test_each_handler_says_clearly_when_its_engine_is_unavailable(fresh_handlers, tmp_path):
    handlers.configure(asr_model_dir=str(tmp_path))
    with pytest.raises(handlers.Unavailable, match=r"^unavailable: asr: pocketsphinx "
                                                   r"acoustic model not found at "):
        run(handlers.asr(SILENCE, 16000))
    handlers.configure(tts_lib=str(tmp_path / "libespeak-ng.so"))
    with pytest.raises(handlers.Unavailable, match=r"^unavailable: tts: cannot load "
                                                   r"libespeak-ng from "):
        run(collect(handlers.tts("hello")))
    handlers.configure(plugins="tests.no_such_plugin")
    with pytest.raises(handlers.Unavailable, match=r"^unavailable: assist: intent plugin "
                                                   r"tests.no_such_plugin failed to load"):
        run(handlers.assist("what time is it"))
    handlers.configure(llm_url="http://127.0.0.1:9/v1", llm_model="")
    with pytest.raises(handlers.Unavailable, match="GLASSES_LLM_MODEL is not"):
        run(handlers.assist("what time is it"))


def test_plugins_load_through_the_handlers(fresh_handlers, tts):
    handlers.configure(plugins="tests.voice_plugin")
    ans = run(handlers.assist("flashlight on"))
    assert ans["intent"] == "flashlight" and ans["actions"] == [{"type": "flashlight",
                                                                 "on": True}]
    res = run(handlers.asr(SILENCE + tts.synthesize("turn on the flashlight") + SILENCE,
                           16000))
    assert res["text"] == "turn on the flashlight"


def test_handler_uses_the_backend_from_configuration(fresh_handlers):
    srv = _ChatServer()
    try:
        handlers.configure(llm_url=srv.url, llm_model="tiny")
        ans = run(handlers.assist("who wrote hamlet"))
        assert ans["intent"] == "backend" and ans["answer"] == "You asked: who wrote hamlet"
    finally:
        srv.close()


def test_the_cached_phrase_says_phone_not_reachable_and_fits():
    """firmware/voice/phrases/unreachable.py (built by make_phrases.py) decodes with the
    firmware codec, fits its budget, and is heard as the phrase it claims to be."""
    from firmware.voice.phrases import unreachable
    from host_tools.voice import make_phrases
    data = unreachable.DATA
    assert unreachable.TEXT == make_phrases.PHRASES["unreachable"]
    assert len(data) <= 12 * 1024 and len(data) % unreachable.BLOCK_BYTES == 0
    st = adpcm.State()
    frame = array.array("h", bytes(640))
    pcm = array.array("h")
    for off in range(0, len(data), unreachable.BLOCK_BYTES):
        assert adpcm.decode(st, data, off, unreachable.BLOCK_BYTES, frame) == 320
        pcm.extend(frame)
    r = Registry()
    r.register(Intent("unreachable", ["phone not reachable"], None))
    r.register(Intent("other", ["what time is it", "battery level"], None))
    asr = Asr(r.jsgf(), lambda t: r.match(t)[0] is not None)
    res = asr.recognize(SILENCE + pcm.tobytes() + SILENCE)
    assert res["text"] == "phone not reachable" and res["search"] == "grammar", res
    fresh = make_phrases.encode_blocks(make_phrases.trim(
        array.array("h", Tts().synthesize(unreachable.TEXT))))
    assert abs(len(fresh) - len(data)) <= 3 * unreachable.BLOCK_BYTES  # same phrase today
