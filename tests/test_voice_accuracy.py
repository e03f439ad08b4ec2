"""Accuracy floors on a slice of the spoken corpus (tests/voice_corpus.py; the whole of it,
and the targets, are in `make bench`: bench/bench_voice_corpus.py): the Piper family at
20 and at 10 dB SNR of room noise and the eSpeak NG family at 20 dB, each family's voices
taking turns, through the glasses' VAD and ADPCM to the phone's Whisper worker and the
assistant. Out-of-scope speech never becomes a command; the wake word wakes the glasses
in the robotic voices too and near misses do not; the query after it is understood.
~70 s."""
import voice_corpus as C
from host_tools.voice.compute import Compute
from host_tools.voice.engines import Engines

SLICE = C.QUERIES[::4]  # every intent family, varied slot values
OOS = C.OUT_OF_SCOPE[::3]


def _eval(family, queries, oos, snr_db):
    return C.evaluate(Engines(Compute("thread")), C.FAMILIES[family], queries, oos, snr_db)


def test_the_piper_family_is_understood_and_nothing_out_of_scope_is_a_command():
    r = _eval("piper", SLICE, OOS, 20)
    assert r["wrong"] == 0, r["misses"]
    assert r["intent_pct"] >= 90, r  # measured 95.2; the bench's target is 95
    assert r["wer_pct"] <= 8, r  # measured 5.5


def test_the_piper_family_in_a_loud_room():
    r = _eval("piper", C.QUERIES[2::8], C.OUT_OF_SCOPE[1::6], 10)
    assert r["wrong"] == 0, r["misses"]
    assert r["intent_pct"] >= 80, r  # measured 90 (70 with 160 ms of pre-roll, not 240)


def test_the_espeak_family_is_understood_well_enough():
    r = _eval("espeak", C.QUERIES[::8], C.OUT_OF_SCOPE[::6], 20)
    assert r["wrong"] == 0, r["misses"]
    assert r["intent_pct"] >= 70, r  # measured 81.8 (45 before the 15 s window, the
    # commands' prompt and the beam of 3); tiny.en on robotic speech; target 85


def test_the_wake_word_wakes_in_every_voice_and_a_near_miss_does_not():
    """The default detector (openWakeWord) and the recogniser's confirmation, as the host
    decides (tests/voice_corpus.py woke()): the eSpeak NG voices at 10 dB (microWakeWord
    alone hears 6 % of them at 20 dB), and near misses the detector fires on."""
    eng = Engines(Compute("thread"))
    names = C.FAMILIES["espeak"]
    woke = [C.woke(eng, C.through_glasses(C.room(C.voice(names[i % len(names)], t), 10,
                                                 6000 + i)))[1]
            for i, t in enumerate(C.WAKE[::7])]
    assert sum(woke) >= len(woke) - 1, woke  # measured: all
    near = [C.woke(eng, C.through_glasses(C.room(C.voice(name, t), 20, 7000 + k)))
            for t in C.NEAR_MISS[::3] for k, name in enumerate(C.FAMILIES["piper"][:2])]
    assert any(fired for fired, _, _ in near)  # the detector alone is fooled ...
    assert not any(w for _, w, _ in near), near  # ... the glasses are not


def test_the_query_after_the_wake_word_is_understood_in_a_loud_room():
    """ "hey jarvis, <query>" in the Piper family at 10 dB, through the glasses waiting for
    the wake word: the word's quiet end and the pause after it outlast the VAD's hangover,
    and the glasses stream on for the phone's verdict (firmware/voice/capture.py wake
    grace: without it 71 % of these queries were lost, the rest of the utterance a new
    one awaiting a wake word); the host cuts the query QUERY_BACK_MS before the detection,
    which fires late (into "what" of "what time is it" in quick speech)."""
    eng = Engines(Compute("thread"))
    names = C.FAMILIES["piper"]
    got = []
    for i in range(5, len(C.WAKE), 6):
        pcm = C.through_glasses(C.room(C.voice(names[i % len(names)], C.WAKE[i]), 10,
                                       6000 + i), wake=True)
        ms, woke, _ = C.wake_at(eng, pcm)
        _, intent, want = C.QUERIES[i]
        got.append(woke and C.query_after(eng, pcm, ms, intent, want))
    assert sum(got) >= len(got) - 1, got  # the bench: 100 % of 42 (71.4 without the grace)
