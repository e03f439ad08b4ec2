"""A spoken corpus made at test time (tests/test_voice_accuracy.py on a slice, bench/
bench_voice_corpus.py whole): queries for every intent with varied slot values, questions
no intent covers, the wake word before queries, and ordinary speech without it; said by
the Piper family (the answering voice's model, joe-medium, made other speakers: slower
or faster than it answers and a semitone higher; the only English Piper voice in a
wheel) and by eSpeak NG voices (variants and rates), with room noise at a given SNR, then
through the glasses' own VAD and ADPCM packets (firmware/voice/vad.py, packet format and
codec) and the phone's packet decoding, to the phone's ASR worker and the assistant (the
path the host takes, without the radio: the link carries the packets unchanged).
"""
import array
import asyncio
import random
import re

import numpy as np

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
    "what's the weather like", "book a table for two", "call my wife", "send a message to John",
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
# near misses: a greeting or a word that sounds like the wake word, which a detector may
# fire on (openWakeWord does on several; microWakeWord too) and a wearer says every day
NEAR_MISS = [
    "hey travis, what is the date", "hey harvey, can you pass the salt",
    "hey, the jar is in the cupboard", "hey service desk, I need some help",
    "hey charlie, what's up", "a jar of honey, please", "hey, carve us a piece of cake",
    "hey jasmine, where are you", "say hi to mavis for me", "hey marcus, is it raining",
    "hey, just a minute", "the jar vase is broken", "hey darling, are you there",
    "hey, are we nearly there", "hey java developers", "hey garvey, what time is it",
    "hey jarrod, are you coming", "they service the jar every week"]

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
FAMILIES = {"piper": [n for n, _ in PIPER], "espeak": [n for n, _, _ in ESPEAK]}
NOT_A_COMMAND = ("fallback", "unsure", "none", "backend")
CONTEXT = {"timers": [[200, 300], [500, 600]], "volume": 5}  # the glasses' state, as asked


def voice(name, text):
    """16 kHz int16 of text in one of the corpus's voices (PIPER / ESPEAK names)."""
    for n, ls in PIPER:
        if n == name:
            return speak(text, length_scale=ls)
    for n, v, wpm in ESPEAK:
        if n == name:
            return espeak(text, v, wpm)
    raise KeyError(name)


LEAD_S = 1.5


def room(pcm, snr_db, seed, lead_s=LEAD_S, tail_s=0.5):
    """The utterance in a room: lead_s of room before it (the glasses' VAD, listening
    while worn, has learned the room by then) and tail_s after, and room noise (white,
    low-passed: rumble and hiss) at snr_db against the speech's power over the clip."""
    speech = np.concatenate([np.zeros(int(16000 * lead_s)), np.asarray(pcm, np.float64),
                             np.zeros(int(16000 * tail_s))])
    white = np.random.default_rng(seed).standard_normal(len(speech) + 40)
    noise = np.convolve(white, 0.2 * 0.8 ** np.arange(40), "valid")[:len(speech)]
    p_s = float(np.mean(np.square(np.asarray(pcm, np.float64)))) if len(pcm) else 0.0
    noise *= (p_s / 10 ** (snr_db / 10) / float(np.mean(np.square(noise)))) ** 0.5
    return array.array("h", np.clip(speech + noise, -32768, 32767).astype("<i2").tobytes())


def _capture_default(name):
    import inspect
    from firmware.voice.capture import Capture
    return inspect.signature(Capture.__init__).parameters[name].default


PREROLL = _capture_default("preroll_frames")  # the glasses' pre-roll, frames of 20 ms
WAKE_GRACE = _capture_default("wake_grace_ms") // 20  # frames


def glasses_frames(pcm, wake=False):
    """(index of the first frame streamed, [the frames streamed]) as the glasses' VAD
    (listening) takes the utterance, with their pre-roll; (None, []) if it never started.
    wake: as the glasses awaiting the phone's verdict on a wake word take it (Capture's
    wake grace): a pause the VAD ends the utterance at is streamed on for the grace, and
    speech within it is the same utterance (the verdict comes meanwhile)."""
    vad = V.Vad()
    frames = [pcm[i:i + 320] for i in range(0, len(pcm) - 319, 320)]
    for k, f in enumerate(frames):
        if vad.feed(f, 320) == V.EV_START:
            first = max(0, k - PREROLL)
            out = frames[first:k + 1]
            grace = 0
            for g in frames[k + 1:]:
                out.append(g)
                ev = vad.feed(g, 320)
                if ev == V.EV_START:
                    grace = 0
                elif ev == V.EV_END and wake:
                    grace = WAKE_GRACE
                elif ev in (V.EV_END, V.EV_MAX):
                    break
                elif grace:
                    grace -= 1
                    if not grace:
                        break
            return first, out
    return None, []


def through_glasses(pcm, wake=False):
    """The utterance as the phone gets it: the glasses' VAD (as when listening; wake: as
    when waiting for the wake word), ADPCM packets of 20 ms with their pre-roll, decoded
    by the phone. Empty if the VAD never started."""
    return to_phone(glasses_frames(pcm, wake)[1])


def to_phone(frames):
    """Frames the glasses stream, as the phone decodes them from their ADPCM packets."""
    st = adpcm.State()
    return b"".join(decode_packet(_pkt(st, f)) for f in frames)


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


def _plain(v):
    return [_plain(x) for x in v] if isinstance(v, (list, tuple)) else v


def slots_ok(reply, want):
    got = reply.get("slots", {})
    for k, v in want.items():
        g = got.get(k)
        if k == "text":
            if normalise(str(g or "")) != normalise(v):
                return False
        elif _plain(g) != _plain(v):
            return False
    return True


def evaluate(engines, voice_name, queries, oos, snr_db, seed=1):
    """{"wer_pct", "intent_pct", "wrong", "n", "misses": [...], "errs", "words", "right",
    "clipped_ms": [...]} for one voice, or for a list of voices taking turns (item i in
    voice i % len). The word error rate is over every utterance, out-of-scope ones too;
    clipped_ms: per utterance, how much of its start the glasses did not stream (their
    VAD started too late for the pre-roll to cover it), None where it never started."""
    names = [voice_name] if isinstance(voice_name, str) else list(voice_name)

    async def go():
        errs = words = right = wrong = 0
        misses = []
        clipped = []
        for i, (text, intent, want) in enumerate(list(queries) + [(t, None, {}) for t in oos]):
            first, frames = glasses_frames(room(voice(names[i % len(names)], text), snr_db,
                                                seed + i))
            clipped.append(None if first is None else max(0, 20 * first - 1000 * LEAD_S))
            pcm = to_phone(frames)
            res = await engines.asr(pcm, 16000)
            reply = await engines.assist(res["text"], CONTEXT, res["confidence"])
            got = reply["intent"]
            e, n = wer(text, res["text"])
            errs += e
            words += n
            if intent is None:
                if got not in NOT_A_COMMAND:
                    wrong += 1
                    misses.append((text, res["text"], got))
                continue
            if got == intent and slots_ok(reply, want):
                right += 1
            else:
                if got != intent and got not in NOT_A_COMMAND:
                    wrong += 1  # another command than the one said
                misses.append((text, res["text"], got))
        return {"wer_pct": round(100 * errs / max(1, words), 1),
                "intent_pct": round(100 * right / max(1, len(queries)), 1),
                "wrong": wrong, "n": len(queries), "misses": misses,
                "errs": errs, "words": words, "right": right, "clipped_ms": clipped}
    return asyncio.run(go())


def wake_peak(pcm, model="hey_jarvis", engine="openwakeword"):
    """([(name, ms, probability)] where the wake-word model fires on this utterance, the
    highest probability it reached: what it would have fired on at a lower cutoff). The
    wake worker's own detector (host_tools/voice/wake_server.py), fresh per utterance as
    the phone streams each one, fed its 20 ms frames; the whole utterance (the phone stops
    listening after 4 s of speech or its first pause without one: this hears more, never
    less)."""
    from host_tools.voice.wake_server import Detector
    d = Detector([model], engine=engine)
    pcm = pcm if isinstance(pcm, bytes) else pcm.tobytes()
    try:
        fired = []
        for off in range(0, len(pcm), 640):
            fired += d.feed(pcm[off:off + 640])
        return fired, d.best
    finally:
        d.close()


def woke(engines, pcm):
    """(the default detector fired, the glasses woke: it fired and the recogniser
    confirmed it, as the host decides: host_tools/voice/wake.py, on the audio up to
    VERIFY_TAIL_MS after the detection), with the detector's peak probability."""
    ms, ok, best = wake_at(engines, pcm)
    return ms is not None, ok, best


def wake_at(engines, pcm):
    """As woke(), with the ms of the detection (None: it did not fire) first."""
    from host_tools.voice.wake import VERIFY_TAIL_MS
    fired, best = wake_peak(pcm)
    if not fired:
        return None, False, best
    ms = fired[0][1]
    said, _ = asyncio.run(engines.wake_said(pcm[:(ms + VERIFY_TAIL_MS) * 32]))
    return ms, said is not False, best


def query_after(engines, pcm, ms, intent, want):
    """Whether the query after a wake word detected at ms (the audio from QUERY_BACK_MS
    before it, as the host cuts it: host_tools/voice/wake.py query_pcm) is understood: the
    right intent with the right slots."""
    from host_tools.voice.wake import query_start

    async def go():
        res = await engines.asr(pcm[query_start(ms):], 16000)
        return await engines.assist(res["text"], CONTEXT, res["confidence"])
    reply = asyncio.run(go())
    return reply["intent"] == intent and slots_ok(reply, want)


_WHO = ["my brother", "the neighbours", "our teacher", "my boss", "the kids", "Harvey",
        "Travis", "my friend Marcus", "the new manager", "grandma", "the plumber", "Jenny"]
_DID = ["drove down to", "walked over to", "spent the whole day at", "finally called",
        "had lunch near", "took the bus to", "got lost on the way to", "wrote a letter to",
        "went back to", "took some photos of"]
_WHERE = ["the old harbour", "the garden centre", "the station", "the bakery on Main "
          "Street", "the hospital", "the football ground", "the office downtown",
          "the museum", "the beach", "the hardware store", "the service desk"]
_WHEN = ["last Tuesday", "this morning", "after work", "on the weekend", "before dinner",
         "a couple of weeks ago", "yesterday evening", "around noon"]
_AFTER = ["and it started to rain", "and nobody was there", "and it took ages",
          "which was lovely", "but forgot the keys", "and met an old friend",
          "so we were late", "and the traffic was terrible", "and bought far too much"]
_SAID = ["I honestly think", "To be fair,", "Apparently", "As far as I know,",
         "Between you and me,", "Funny thing is,", "The way I see it,"]
_CLAIM = ["the prices went up again", "the match was better than last year",
          "the weather will clear up by Friday", "the new road saves ten minutes",
          "the film was a bit too long", "we need a bigger table",
          "the cat prefers the sofa", "the jar is in the top cupboard",
          "that song was everywhere last summer", "this coffee is far too strong"]


def ordinary(n, seed=0):
    """n sentences of everyday talk without the wake word (names that sound a little
    like it among them: Harvey, Travis, service), the same for a seed."""
    r = random.Random(seed)
    out = list(ORDINARY)
    seen = set(out)
    while len(out) < n:
        if r.random() < 0.6:
            t = "%s %s %s %s, %s." % (r.choice(_WHO).capitalize(), r.choice(_DID),
                                      r.choice(_WHERE), r.choice(_WHEN), r.choice(_AFTER))
        else:
            t = "%s %s." % (r.choice(_SAID), r.choice(_CLAIM))
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out[:n]


def words_of(text):
    return re.findall(r"[a-z']+", text.lower())
