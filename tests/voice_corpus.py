"""A spoken corpus made at test time (tests/test_voice_accuracy.py on a slice, bench/
bench_voice_corpus.py whole): queries for every intent with varied slot values, questions
no intent covers, and the wake word; said by the test voice (Piper's voice, slower and
higher than the answering voice, at several rates) and by eSpeak NG voices, with room
noise at a given SNR, then through the glasses' own VAD and ADPCM packets (firmware/voice/
vad.py, packet format and codec) and the phone's packet decoding, to the phone's ASR
worker and the assistant.
"""
import array
import asyncio
import random
import re

import host_tools  # noqa: F401
from firmware.voice import adpcm, packet as P, vad as V
from host_tools.voice.collect import decode_packet
from host_tools.voice.parse import normalise
from host_tools.voice.voices import espeak, speak

# (text, intent, slots that must be right)
QUERIES = [(t, "time", {}) for t in (
    "what time is it", "what's the time", "tell me the time", "what time is it now",
    "could you tell me what time it is")]
QUERIES += [(t, "date", {}) for t in (
    "what day is it", "what's the date today", "what is today's date",
    "what day of the week is it")]
QUERIES += [(t, "battery", {}) for t in (
    "what is my battery level", "how much battery is left", "how is my battery",
    "battery status")]
for n, s in (("five minutes", 300), ("ten minutes", 600), ("one minute", 60),
             ("thirty seconds", 30), ("two hours", 7200), ("twenty five minutes", 1500),
             ("an hour and a half", 5400), ("forty five seconds", 45)):
    QUERIES.append(("set a timer for %s" % n, "timer", {"duration": s}))
QUERIES += [("start a %s timer" % n, "timer", {"duration": s})
            for n, s in (("three minute", 180), ("fifteen minute", 900))]
QUERIES += [("cancel the timer", "timer_cancel", {}), ("stop the timer", "timer_cancel", {}),
            ("cancel the five minute timer", "timer_cancel", {"duration": 300}),
            ("cancel all timers", "timer_cancel_all", {}),
            ("delete all my timers", "timer_cancel_all", {}),
            ("how much time is left on my timer", "timer_left", {}),
            ("how long is left on the ten minute timer", "timer_left", {"duration": 600}),
            ("how much time is left", "timer_left", {})]
for what, when, key, val in (
        ("call mom", "at six pm", "time", ((18,), 0, 0)),
        ("buy milk", "in ten minutes", "duration", 600),
        ("take the pizza out", "in twenty minutes", "duration", 1200),
        ("water the plants", "at seven thirty", "time", ((7, 19), 30, 0)),
        ("call the dentist", "at nine am", "time", ((9,), 0, 0)),
        ("check the oven", "in five minutes", "duration", 300),
        ("stretch", "in one hour", "duration", 3600),
        ("send the report", "at four pm", "time", ((16,), 0, 0))):
    QUERIES.append(("remind me to %s %s" % (what, when), "reminder", {"text": what, key: val}))
QUERIES += [("remind me in two minutes to check the tea", "reminder", {"duration": 120})]
QUERIES += [(t, "notify_read", {}) for t in (
    "read my notifications", "do I have any new messages", "read my messages",
    "any new notifications")]
QUERIES += [(t, "notify_latest", {}) for t in (
    "read the latest notification", "what was the last message")]
QUERIES += [("clear my notifications", "notify_clear", {}),
            ("clear all notifications", "notify_clear", {}),
            ("reply yes", "notify_yes", {}), ("reply no", "notify_no", {}),
            ("dismiss", "notify_dismiss", {}), ("dismiss the notification", "notify_dismiss", {})]
QUERIES += [(t, "volume_up", {}) for t in (
    "turn up the volume", "volume up", "louder", "increase the volume")]
QUERIES += [(t, "volume_down", {}) for t in (
    "turn the volume down", "volume down", "lower the volume", "quieter")]
QUERIES += [("set the volume to %s" % n, "volume_set", {"number": v})
            for n, v in (("five", 5), ("three", 3), ("seven", 7), ("ten", 10))]
QUERIES += [("set the volume to fifty percent", "volume_percent", {"number": 50})]
QUERIES += [(t, "stop", {}) for t in ("stop", "cancel", "never mind", "be quiet")]
QUERIES += [(t, "repeat", {}) for t in ("repeat that", "say that again", "what did you say")]
QUERIES += [(t, "help", {}) for t in ("what can you do", "help", "what can I say")]
QUERIES += [("what time is it right now", "time", {}), ("tell me the date", "date", {}),
            ("is my battery low", "battery", {}), ("set a timer for eight minutes", "timer",
                                                   {"duration": 480}),
            ("speak up", "volume_up", {}), ("forget it", "stop", {})]

OUT_OF_SCOPE = [
    "what's the weather like", "take a picture", "call my wife", "send a message to John",
    "play some music", "what's on my calendar today", "navigate to the nearest coffee shop",
    "how tall is mount everest", "who won the game last night", "tell me a joke",
    "what's the capital of France", "translate hello into Spanish",
    "how do I make pancakes", "set an alarm for seven", "turn on the lights",
    "what time does the pharmacy close", "how long does it take to boil an egg",
    "what's the battery life of a new phone", "stop the music", "cancel my meeting",
    "how far is the moon", "what's the news today", "book a table for two",
    "what song is this", "how many steps did I walk today", "remind me",
    "what is the time in Tokyo"]

WAKE = ["hey jarvis, " + q[0] for q in QUERIES[:42]]

ORDINARY = [
    "So yesterday I went down to the market by the river and bought bread and apples.",
    "I think we should leave around eight so we are not late for the train.",
    "Did you see the match on Sunday? It was a close one until the very end.",
    "My sister is visiting next week, so the spare room needs a clean.",
    "The new cafe on the corner makes a very good flat white, you should try it.",
    "Harvey said the meeting moved to Thursday afternoon, after lunch.",
    "Can you pass me the salt? Thanks. And the pepper too, please.",
    "We are thinking of painting the kitchen a pale green this summer.",
    "Travis is bringing the car round at six, so be ready by then.",
    "I read an article about bees and how they find their way home.",
    "Are you there? Okay, I will call you back in a few minutes.",
    "The library closes early on Fridays, so return the books tomorrow.",
]

PIPER = [("piper-1.15", 1.15), ("piper-0.95", 0.95), ("piper-1.35", 1.35)]
ESPEAK = [("espeak-m3-160", "en-us+m3", 160), ("espeak-us-150", "en-us", 150),
          ("espeak-m1-175", "en-us+m1", 175), ("espeak-f3-140", "en-us+f3", 140)]


def voice(name, text):
    """16 kHz int16 of text in one of the corpus's voices (PIPER / ESPEAK names)."""
    for n, ls in PIPER:
        if n == name:
            return speak(text, length_scale=ls)
    for n, v, wpm in ESPEAK:
        if n == name:
            return espeak(text, v, wpm)
    raise KeyError(name)


def room(pcm, snr_db, seed):
    """0.5 s of room before and after, and room noise (low-passed) at snr_db against the
    speech's power."""
    r = random.Random(seed)
    speech = array.array("h", bytes(16000)) + pcm + array.array("h", bytes(16000))
    p_s = sum(x * x for x in pcm) / max(1, len(pcm))
    amp = (p_s / (10 ** (snr_db / 10))) ** 0.5 * 1.7
    out = array.array("h")
    y = 0.0
    for x in speech:
        y = 0.8 * y + 0.2 * r.gauss(0, 1)  # one pole low-pass: room rumble and hiss
        v = int(x + amp * y * 2.2)
        out.append(32767 if v > 32767 else -32768 if v < -32768 else v)
    return out


def through_glasses(pcm):
    """The utterance as the phone gets it: the glasses' VAD (as when listening), ADPCM
    packets of 20 ms with a 160 ms pre-roll, decoded by the phone. Empty if the VAD never
    started."""
    vad = V.Vad()
    st = adpcm.State()
    frames = [pcm[i:i + 320] for i in range(0, len(pcm) - 319, 320)]
    out = []
    streaming = False
    for k, f in enumerate(frames):
        ev = vad.feed(f, 320)
        if not streaming and ev == V.EV_START:
            streaming = True
            for g in frames[max(0, k - 8):k]:
                out.append(_pkt(st, g))
        if streaming:
            out.append(_pkt(st, f))
            if ev in (V.EV_END, V.EV_MAX):
                break
    return b"".join(decode_packet(p) for p in out)


def _pkt(st, frame):
    pkt = bytearray(P.HEADER_BYTES + adpcm.encoded_size(320))
    P.put_header(pkt, P.CODEC_ADPCM, 0, 0)
    adpcm.encode(st, frame, 320, pkt, P.HEADER_BYTES)
    return pkt


def wer(ref, hyp):
    r, h = normalise(ref).split(), normalise(hyp).split()
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)], len(r)


def slots_ok(reply, want):
    got = reply.get("slots", {})
    for k, v in want.items():
        g = got.get(k)
        if isinstance(v, tuple):
            v = [list(v[0]), v[1], v[2]]
        if k == "text":
            if normalise(str(g or "")) != normalise(v):
                return False
        elif g != v:
            return False
    return True


def evaluate(engines, voice_name, queries, oos, snr_db, seed=1):
    """{"wer_pct", "intent_pct", "wrong", "n", "misses": [...]} for one voice."""
    async def go():
        errs = words = right = wrong = 0
        misses = []
        for i, (text, intent, want) in enumerate(list(queries) + [(t, None, {}) for t in oos]):
            pcm = through_glasses(room(voice(voice_name, text), snr_db, seed + i))
            res = await engines.asr(pcm, 16000)
            reply = await engines.assist(res["text"], {"timers": [[200, 300], [500, 600]],
                                                       "volume": 5}, res["confidence"])
            got = reply["intent"]
            if intent is None:
                if got not in ("fallback", "unsure", "none", "backend"):
                    wrong += 1
                    misses.append((text, res["text"], got))
                continue
            e, n = wer(text, res["text"])
            errs += e
            words += n
            if got == intent and slots_ok(reply, want):
                right += 1
            else:
                if got != intent and got not in ("fallback", "unsure", "none", "backend"):
                    wrong += 1  # another command than the one said
                misses.append((text, res["text"], got))
        return {"wer_pct": round(100 * errs / max(1, words), 1),
                "intent_pct": round(100 * right / max(1, len(queries)), 1),
                "wrong": wrong, "n": len(queries), "misses": misses}
    return asyncio.run(go())


def words_of(text):
    return re.findall(r"[a-z']+", text.lower())
