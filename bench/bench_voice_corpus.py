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
  VAD (as the glasses take it waiting for the wake word: a pause is streamed on for the
  phone's verdict) and ADPCM: the share that wakes the glasses as the host decides it
  (the default detector, openWakeWord, fires; the recogniser confirms it:
  host_tools/voice/wake.py); per family; wake_detector_pct: the detector alone (and
  _at_0.5, its customary cutoff); _microwakeword: microWakeWord alone at its model's own
  cutoff, side by side. wake_query_intent_pct_<family>(_<snr>db): woke, and the query
  after the wake word (the audio after the detection, as the host cuts it) understood.
- wake_near_miss_pct: NEAR_MISS ("hey Travis", "a jar of honey", ...) in the seven voices
  at 20 dB: the share that wakes the glasses; _detector_pct: that the detector fires on;
  _microwakeword: that microWakeWord fires on.
- wake_false_per_hour: ordinary talk without the wake word (tests/voice_corpus.py
  ordinary(): generated sentences, among them names like Harvey and Travis), the seven
  voices taking turns, 20 dB SNR, each utterance through the VAD and ADPCM to a fresh
  detector, for >= 30 minutes of speech (wake_false_minutes): wakes per hour; the
  detector alone (wake_detector_false_per_hour, and _at_0.5), microWakeWord alone, and
  wake_false_peak_probability (the highest the detector reached).
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
LOW_CUTOFF = 0.5  # openWakeWord's customary cutoff, side by side with ours (0.2)


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


def _share(hits, n):
    return round(100 * hits / max(1, n), 1)


def _wake(engines, out):
    tot = Counter()
    for fam, names in C.FAMILIES.items():
        c = Counter()
        for k, snr in enumerate(SNRS):
            for i, text in enumerate(C.WAKE[::STEP]):
                pcm = C.through_glasses(C.room(C.voice(names[i % len(names)], text), snr,
                                               5000 + 1000 * k + i), wake=True)
                ms, woke, best = C.wake_at(engines, pcm)
                _, intent, want = C.QUERIES[i * STEP]
                query = woke and C.query_after(engines, pcm, ms, intent, want)
                if not query:
                    print("  wake %s: %r (%s, %d dB) %s" % (
                        "query missed" if woke else "missed", text, names[i % len(names)],
                        snr, "" if woke else "not confirmed" if ms is not None else
                        "detector %.2f" % best), file=sys.stderr)
                c.update(n=1, woke=woke, fired=ms is not None, low=best > LOW_CUTOFF,
                         query=query, **{"query_%d" % snr: query, "n_%d" % snr: 1},
                         micro=bool(C.wake_peak(pcm, engine="microwakeword")[0]))
        out["wake_detect_pct_" + fam] = _share(c["woke"], c["n"])
        out["wake_query_intent_pct_" + fam] = _share(c["query"], c["n"])
        for snr in SNRS:
            out["wake_query_intent_pct_%s_%ddb" % (fam, snr)] = _share(
                c["query_%d" % snr], c["n_%d" % snr])
        out["wake_detect_pct_%s_microwakeword" % fam] = _share(c["micro"], c["n"])
        tot += c
    out["wake_detect_pct"] = _share(tot["woke"], tot["n"])
    out["wake_query_intent_pct"] = _share(tot["query"], tot["n"])
    out["wake_detector_pct"] = _share(tot["fired"], tot["n"])
    out["wake_detector_pct_at_%s" % LOW_CUTOFF] = _share(tot["low"], tot["n"])
    out["wake_detect_pct_microwakeword"] = _share(tot["micro"], tot["n"])
    out["wake_utterances"] = tot["n"]


def _near_misses(engines, out):
    names = C.FAMILIES["piper"] + C.FAMILIES["espeak"]
    c = Counter()
    for text in C.NEAR_MISS[::STEP]:
        for k, name in enumerate(names):
            pcm = C.through_glasses(C.room(C.voice(name, text), 20, 7000 + k))
            fired, woke, _ = C.woke(engines, pcm)
            micro = bool(C.wake_peak(pcm, engine="microwakeword")[0])
            c.update(n=1, woke=woke, fired=fired, micro=micro)
            if woke or micro:
                print("  near miss woke: %r (%s)%s" % (text, name, "" if woke else
                                                        " microWakeWord"), file=sys.stderr)
    out["wake_near_miss_pct"] = _share(c["woke"], c["n"])
    out["wake_near_miss_detector_pct"] = _share(c["fired"], c["n"])
    out["wake_near_miss_pct_microwakeword"] = _share(c["micro"], c["n"])
    out["wake_near_miss_utterances"] = c["n"]


def _false_wakes(engines, out):
    names = C.FAMILIES["piper"] + C.FAMILIES["espeak"]
    speech_s = 0.0
    c = Counter()
    peak = 0.0
    goal = ORDINARY_S / STEP
    sentences = C.ordinary(2000)
    i = 0
    while speech_s < goal:
        text = sentences[i % len(sentences)]
        sp = C.voice(names[i % len(names)], text)
        speech_s += len(sp) / 16000
        pcm = C.through_glasses(C.room(sp, 20, 9000 + i))
        fired, woke, best = C.woke(engines, pcm)
        micro = bool(C.wake_peak(pcm, engine="microwakeword")[0])
        c.update(woke=woke, fired=fired, low=best > LOW_CUTOFF, micro=micro)
        if fired or micro:
            print("  false wake: %r (%s) detector %s, woke %s, microWakeWord %s"
                  % (text, names[i % len(names)], fired, woke, micro), file=sys.stderr)
        peak = max(peak, best)
        i += 1
    hours = speech_s / 3600
    out["wake_false_per_hour"] = round(c["woke"] / hours, 2)
    out["wake_false_count"] = c["woke"]
    out["wake_detector_false_per_hour"] = round(c["fired"] / hours, 2)
    out["wake_detector_false_per_hour_at_%s" % LOW_CUTOFF] = round(c["low"] / hours, 2)
    out["wake_false_per_hour_microwakeword"] = round(c["micro"] / hours, 2)
    out["wake_false_peak_probability"] = round(float(peak), 3)
    out["wake_false_minutes"] = round(speech_s / 60, 1)
    out["wake_false_sentences"] = i


def run():
    out = {"voice_corpus_queries": len(C.QUERIES[::STEP]),
           "voice_corpus_out_of_scope": len(C.OUT_OF_SCOPE[::STEP]),
           "voice_corpus_wake": len(C.WAKE[::STEP])}
    t0 = time.time()
    engines = Engines(Compute("thread"))
    _accuracy(engines, out)
    t1 = time.time()
    _wake(engines, out)
    _near_misses(engines, out)
    _false_wakes(engines, out)
    print("  [accuracy %.0f s, wake %.0f s]" % (t1 - t0, time.time() - t1), file=sys.stderr)
    return out


if __name__ == "__main__":
    for k, val in run().items():
        print("%s: %s" % (k, val))
