"""Accuracy floors on a slice of the spoken corpus (tests/voice_corpus.py; the whole of it
is in `make bench`): real speech in the test voice and in an eSpeak NG voice, with room
noise at 20 dB SNR, through the glasses' VAD and ADPCM to the phone's Whisper worker and
the assistant. Out-of-scope speech never becomes a command."""
import voice_corpus as C
from host_tools.voice.compute import Compute
from host_tools.voice.engines import Engines

SLICE = C.QUERIES[::4]  # every intent family, varied slot values
OOS = C.OUT_OF_SCOPE[::3]


def test_the_test_voice_is_understood_and_nothing_out_of_scope_is_a_command():
    r = C.evaluate(Engines(Compute("thread")), "piper-1.15", SLICE, OOS, 20)
    assert r["wrong"] == 0, r["misses"]
    assert r["intent_pct"] >= 85, r  # measured 90; the target of the bench is 95


def test_an_espeak_voice_is_understood_well_enough():
    r = C.evaluate(Engines(Compute("thread")), "espeak-m3-160", SLICE[::2], OOS[::2], 20)
    assert r["wrong"] == 0, r["misses"]
    assert r["intent_pct"] >= 40, r  # measured 48 (tiny.en on robotic speech); target 85
