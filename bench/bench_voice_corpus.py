"""The phone's speech stack on a spoken corpus made now (tests/voice_corpus.py; run by
bench/run.py, `python bench/run.py voice_corpus`):

- QUERIES (every intent, varied slot values) and OUT_OF_SCOPE questions, each said by
  one voice of each family (the family's voices take turns) at 20 and at 10 dB SNR of
  room noise: Piper (the answering voice's model, en_US-joe-medium, at length scales
  0.95 / 1.15 / 1.35 where it answers at 1.0, and a semitone higher: the only English
  Piper voice in a wheel, so the family is that voice made other speakers) and eSpeak NG
  (en-us, +m1, +m3, +f3 at 140-175 wpm). Each utterance goes through the glasses' VAD
  (learning the room for 1.5 s first), their ADPCM packets and the phone's decoding to
  the ASR worker (faster-whisper tiny.en) and the assistant: the host's path without the
  radio, which carries the packets unchanged (the rig is too slow for the whole corpus;
  bench_voice_e2e.py has the rig).
  Per family: asr_wer_pct_<family> (every utterance, out-of-scope too),
  intent_accuracy_pct_<family> (the right intent with the right slots, of the queries),
  wrong_intent_count_<family> (an out-of-scope question taken for a command, or a query
  for another command); the same per SNR (_20db, _10db); intent_misses_<family>: which
  intents failed and how often; vad_late_start_pct_<family>_<snr>db: the share of
  utterances whose first ONSET_MS or more the glasses did not stream (their VAD started
  later than their pre-roll reaches back; or never), the cause of most misses at 10 dB.
- wake_detect_pct: "hey jarvis, <query>" (WAKE) in both families at both SNRs through the
  VAD and ADPCM, the wake worker's detector on each utterance: the share it fires on.
  wake_detect_pct_at_0.5: the same utterances at GLASSES_WAKE_CUTOFF=0.5 (the peak
  probability each reached, one pass).
- wake_false_per_hour: ordinary talk without the wake word (tests/voice_corpus.py
  ordinary(): generated sentences, among them names like Harvey and Travis), the seven
  voices taking turns, 20 dB SNR, each utterance through the VAD and ADPCM to a fresh
  detector, for >= 30 minutes of speech (wake_false_minutes): detections per hour; and
  _at_0.5, with wake_false_peak_probability (the highest any of it reached).
GLASSES_BENCH_SLICE=N takes every Nth item of each list (quick runs while developing).
"""
import os
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import voice_corpus as C  # noqa: E402
from host_tools.voice.compute import Compute  # noqa: E402
from host_tools.voice.engines import Engines  # noqa: E402

SNRS = (20, 10)
ONSET_MS = 40  # more than this of an utterance's start not streamed: its first sound
ORDINARY_S = 30 * 60  # at least this much ordinary speech
STEP = max(1, int(os.environ.get("GLASSES_BENCH_SLICE", "1")))
LOW_CUTOFF = 0.5  # GLASSES_WAKE_CUTOFF=0.5 side by side with the model's own (0.97)


def _accuracy(engines, out):
    for fam, names in C.FAMILIES.items():
        tot = Counter()
        misses = Counter()
        for k, snr in enumerate(SNRS):
            r = C.evaluate(engines, names, C.QUERIES[::STEP], C.OUT_OF_SCOPE[::STEP], snr,
                           seed=1000 * k + 1)
            out["asr_wer_pct_%s_%ddb" % (fam, snr)] = r["wer_pct"]
            out["intent_accuracy_pct_%s_%ddb" % (fam, snr)] = r["intent_pct"]
            for key in ("errs", "words", "right", "wrong", "n"):
                tot[key] += r[key]
            late = [c for c in r["clipped_ms"] if c is None or c > ONSET_MS]
            out["vad_late_start_pct_%s_%ddb" % (fam, snr)] = round(
                100 * len(late) / len(r["clipped_ms"]), 1)
            want = {t: i for t, i, _ in C.QUERIES}
            for text, heard, got in r["misses"]:
                misses[want.get(text, "out-of-scope")] += 1
                print("  %s %d dB: %r heard %r -> %s" % (fam, snr, text, heard, got),
                      file=sys.stderr)
        out["asr_wer_pct_" + fam] = round(100 * tot["errs"] / max(1, tot["words"]), 1)
        out["intent_accuracy_pct_" + fam] = round(100 * tot["right"] / max(1, tot["n"]), 1)
        out["wrong_intent_count_" + fam] = tot["wrong"]
        out["intent_misses_" + fam] = ", ".join("%s %d" % kv for kv in misses.most_common())


def _wake(out):
    hit = low = n = 0
    for fam, names in C.FAMILIES.items():
        fam_hit = fam_low = fam_n = 0
        for k, snr in enumerate(SNRS):
            for i, text in enumerate(C.WAKE[::STEP]):
                pcm = C.through_glasses(C.room(C.voice(names[i % len(names)], text), snr,
                                               5000 + 1000 * k + i))
                fired, best = C.wake_peak(pcm)
                fam_hit += bool(fired)
                fam_low += best > LOW_CUTOFF
                fam_n += 1
        out["wake_detect_pct_" + fam] = round(100 * fam_hit / fam_n, 1)
        out["wake_detect_pct_%s_at_%s" % (fam, LOW_CUTOFF)] = round(100 * fam_low / fam_n, 1)
        hit += fam_hit
        low += fam_low
        n += fam_n
    out["wake_detect_pct"] = round(100 * hit / n, 1)
    out["wake_detect_pct_at_%s" % LOW_CUTOFF] = round(100 * low / n, 1)
    out["wake_utterances"] = n


def _false_wakes(out):
    names = C.FAMILIES["piper"] + C.FAMILIES["espeak"]
    speech_s = 0.0
    fired = []
    low = 0
    peak = 0.0
    goal = ORDINARY_S / STEP
    sentences = C.ordinary(2000)
    i = 0
    while speech_s < goal:
        text = sentences[i % len(sentences)]
        sp = C.voice(names[i % len(names)], text)
        speech_s += len(sp) / 16000
        pcm = C.through_glasses(C.room(sp, 20, 9000 + i))
        dets, best = C.wake_peak(pcm)
        for det in dets:
            fired.append((text, names[i % len(names)], det))
        low += best > LOW_CUTOFF
        peak = max(peak, best)
        i += 1
    for f in fired:
        print("  false wake: %r (%s) %r" % f, file=sys.stderr)
    out["wake_false_per_hour"] = round(len(fired) / (speech_s / 3600), 2)
    out["wake_false_count"] = len(fired)
    out["wake_false_per_hour_at_%s" % LOW_CUTOFF] = round(low / (speech_s / 3600), 2)
    out["wake_false_peak_probability"] = round(float(peak), 3)
    out["wake_false_minutes"] = round(speech_s / 60, 1)
    out["wake_false_sentences"] = i


def run():
    out = {"voice_corpus_queries": len(C.QUERIES[::STEP]),
           "voice_corpus_out_of_scope": len(C.OUT_OF_SCOPE[::STEP]),
           "voice_corpus_wake": len(C.WAKE[::STEP])}
    t0 = time.time()
    _accuracy(Engines(Compute("thread")), out)
    t1 = time.time()
    _wake(out)
    _false_wakes(out)
    print("  [accuracy %.0f s, wake %.0f s]" % (t1 - t0, time.time() - t1), file=sys.stderr)
    return out


if __name__ == "__main__":
    for k, val in run().items():
        print("%s: %s" % (k, val))
