# Capture and playback tasks on the firmware scheduler in virtual time, against test
# doubles of machine.I2S (tests/fw/i2s_double.py): VAD and tap-to-talk streaming, the
# privacy LED, chimes, ring overruns, offline keeping and handover of the last query,
# and playback with the jitter buffer, a gap, a duplicate and an unknown codec id.
from fwtest import raises, run_chunks
from audio_signals import FRAME, Speech, frame_buf, silence, Snr
from i2s_double import AudioWorld, MicI2S, SpeakerI2S, checksum

from firmware.voice import adpcm, chimes, packet as P
from firmware.voice.capture import Capture, END_STOP, MODE_TAP
from firmware.voice.playback import Playback, IDLE
from firmware.voice.offline import IDLE as ST_IDLE, HELD
from firmware.runtime import sched as S
from firmware.runtime.clock import VirtualClock

# Peak heap per test under MicroPython. What the firmware preallocates: the capture ring
# (24 x 640 B = 15 KB), the offline store (8 KB here; 32 KB by default and in the offline
# test), the jitter buffer (8 x 643 B = 5 KB), two playback frames (1.3 KB); the cached
# phrase is 10 KB of data plus its compilation from source in the offline test (a board
# freezes it into flash). The rest is the test's own recording of packets and frames.
FILE_HEAP_BUDGET = 176 * 1024  # imports included: the voice modules, from source
HEAP_BUDGET = {
    "test_vad_capture_streams_one_utterance_with_preroll_led_and_chimes": 96000,
    "test_tap_to_talk_streams_between_start_and_stop": 72000,
    "test_a_starved_processor_loses_the_oldest_frames_and_counts_them": 40000,
    "test_offline_query_is_kept_announced_and_handed_over": 112000,
    "test_offline_query_expires": 56000,
    "test_playback_orders_packets_fills_gaps_and_refuses_unknown_codecs": 64000,
    "test_capture_refuses_a_ring_smaller_than_the_preroll": 8000,
    "test_speech_right_after_a_dropped_stream_is_a_new_utterance": 88000,
    "test_speech_going_on_after_a_stop_is_a_new_utterance": 72000,
    "test_a_pause_after_the_wake_word_streams_on_for_the_phones_verdict": 88000,
    "test_with_no_verdict_the_paused_stream_ends_after_its_grace": 96000,
    "test_the_wake_word_confirmed_in_the_pause_after_it_waits_for_the_question": 96000,
}


class Source:
    """Microphone: `plan` is [(frames, kind)] with kind "quiet" or "speech"; after the
    plan, silence. Keeps a copy of the frames it produced from `keep_from`."""

    def __init__(self, plan, seed=4):
        self.plan = plan
        self.i = 0
        self.sp = Speech(seed=seed, level=9000)
        self.kept = {}
        self.keep = ()

    def __call__(self, out):
        k = self.i
        self.i += 1
        buf = out if out is not None else frame_buf()
        n = 0
        kind = "quiet"
        for frames, what in self.plan:
            if k < n + frames:
                kind = what
                break
            n += frames
        if kind == "speech":
            self.sp.fill(buf)
        else:
            silence(buf)
        if k in self.keep:
            self.kept[k] = checksum(buf)


def rig(plan, link=None, mode=0, with_playback=True, with_phrase=False,
        offline_bytes=8192, **kw):
    clock = VirtualClock(5)
    world = AudioWorld(clock)
    s = S.Scheduler(clock=clock, idle=world.idle)
    world.sched = s
    src = Source(plan)
    mic = MicI2S(world, src)
    spk = SpeakerI2S(world)
    led = []
    sent = []

    def send_audio(pkt):
        sent.append((world.now, bytes(pkt)))

    pb = None
    if with_playback:
        phrase = None
        if with_phrase:
            from firmware.voice.phrases import unreachable
            phrase = unreachable.DATA
        pb = Playback(spk, s, phrase=phrase)
        s.spawn(pb.run, prio=S.PRIO_AUDIO, name="playback")
    cap = Capture(mic, s, send_audio, lambda on: led.append((world.now, on)),
                  link_up=link, playback=pb, mode=mode, offline_bytes=offline_bytes, **kw)
    s.spawn(cap.reader, prio=S.PRIO_AUDIO, name="mic")
    s.spawn(cap.processor, prio=S.PRIO_LINK, name="capture")
    return s, world, cap, pb, mic, spk, src, led, sent


def run_for(s, world, ms, chunk_ms=400):
    return run_chunks(s, ms, chunk_ms)


def decode_all(pkts):
    st = adpcm.State()
    out = []
    for p in pkts:
        pcm = frame_buf()
        adpcm.decode(st, p, P.HEADER_BYTES, len(p) - P.HEADER_BYTES, pcm)
        out.append(pcm)
    return out


def test_vad_capture_streams_one_utterance_with_preroll_led_and_chimes():
    plan = [(25, "quiet"), (75, "speech"), (60, "quiet")]  # 0.5 s, 1.5 s, 1.2 s
    s, world, cap, pb, mic, spk, src, led, sent = rig(plan)
    yield from run_for(s, world, 3600)
    yield
    pkts = [p for _, p in sent]
    assert cap.utterances == 1 and not cap.streaming and cap.overruns == 0
    assert mic.dropped == 0 and cap.i2s_stalls == 0
    assert P.flags(pkts[0]) & P.F_START and P.flags(pkts[-1]) & P.F_END
    assert all(P.flags(p) == 0 for p in pkts[1:-1])
    assert [P.seq(p) for p in pkts] == list(range(len(pkts)))
    assert all(len(p) == 166 and P.codec(p) == P.CODEC_ADPCM for p in pkts)
    # pre-roll: the stream begins preroll frames before the frame that started it,
    # which is 3..6 frames into the speech
    n_pre = cap.preroll
    assert n_pre == 12
    assert 75 + n_pre - 6 <= len(pkts) <= 75 + n_pre + 31, len(pkts)
    # LED on exactly while streaming: on before the first packet, off after the last
    assert [on for _, on in led] == [True, False], led
    assert led[0][0] <= sent[0][0] and led[1][0] >= sent[-1][0]
    assert all(led[0][0] <= t <= led[1][0] for t, _ in sent)
    # chimes went out through the speaker: start (880 Hz) and end, nothing else
    loud = [lv for lv, _ in spk.out if lv > 1000]
    n_chime = 2 * chimes.length(chimes.START) // FRAME  # start + end: 18 frames
    assert n_chime - 2 <= len(loud) <= n_chime, (len(loud), n_chime)
    assert pb.state == IDLE and pb.errors == 0
    # the audio is the microphone's: decode and compare with a regenerated source
    import array
    n_dec = 16
    keep = pkts[0:n_dec]
    del pkts, sent, s, world, cap, pb, mic, spk, src, led, loud  # free the rig first
    yield
    dec = array.array("h", bytes(2 * FRAME * n_dec))  # decoded packets, flat
    st = adpcm.State()
    for i in range(n_dec):
        adpcm.decode(st, keep[i], P.HEADER_BYTES, 163, memoryview(dec)[i * FRAME:])
    del keep
    yield
    n_ref = 27 + n_dec
    ref = array.array("h", bytes(2 * FRAME * n_ref))  # the microphone's frames, flat
    src2 = Source(plan)
    for k in range(n_ref):
        src2(memoryview(ref)[k * FRAME:(k + 1) * FRAME])
    yield
    best = None  # align: the offset where the decoded audio matches the microphone best
    for off in range(13, 27):
        sn = Snr()
        sn.add(memoryview(ref)[off * FRAME:], dec, FRAME * n_dec)
        if best is None or sn.db() > best[1]:
            best = (off, sn.db())
        yield
    off, db = best
    yield
    assert 25 - n_pre <= off <= 25 + 4 - n_pre + 2, best
    assert db >= 20, best


def test_tap_to_talk_streams_between_start_and_stop():
    plan = [(200, "speech")]
    s, world, cap, pb, mic, spk, src, led, sent = rig(plan, mode=MODE_TAP)
    world.at = [(400, cap.start), (1400, cap.stop)]
    yield from run_for(s, world, 2000)
    yield
    pkts = [p for _, p in sent]
    assert cap.utterances == 1
    # 1 s of speech between the taps: 50 frames (+ pre-roll frames before the start)
    assert 50 <= len(pkts) - cap.preroll <= 52, len(pkts)
    assert P.flags(pkts[0]) & P.F_START and P.flags(pkts[-1]) & P.F_END
    assert [on for _, on in led] == [True, False]
    assert 400 <= led[0][0] <= 440 and 1400 <= led[1][0] <= 1440, led
    assert cap.last_end == END_STOP


def test_a_starved_processor_loses_the_oldest_frames_and_counts_them():
    clock = VirtualClock(2)
    world = AudioWorld(clock)
    s = S.Scheduler(clock=clock, idle=world.idle)
    mic = MicI2S(world, Source([(100, "speech")]))
    cap = Capture(mic, s, lambda p: None, lambda on: None, ring_frames=16,
                  preroll_frames=4, offline_bytes=4096)
    s.spawn(cap.reader, prio=S.PRIO_AUDIO)

    async def late_start():  # the processor only gets going after one second
        await S.sleep_ms(1000)
        s.spawn(cap.processor, prio=S.PRIO_LINK)

    s.spawn(late_start)
    yield from run_for(s, world, 1500)
    assert cap.frames_in == 75 and mic.dropped == 0
    assert cap.overruns == 50 - 16, cap.overruns  # 50 frames in the first second, 16 kept
    assert cap.ring.overruns >= cap.overruns
    assert cap.unseen == 0 and len(cap.ring) <= 4 + 1


def test_offline_query_is_kept_announced_and_handed_over():
    up = [True]
    plan = [(25, "quiet"), (50, "speech"), (100, "quiet")]
    s, world, cap, pb, mic, spk, src, led, sent = rig(plan, link=lambda: up[0],
                                                       with_phrase=True,
                                                       offline_bytes=32768)
    def link(on):
        def f():
            up[0] = on
        return f

    world.at = [(100, link(False)),  # the phone goes away
                (4500, link(True))]  # and comes back
    yield from run_for(s, world, 4000)  # utterance ends ~2.1 s; error chime + phrase till ~3.7 s
    yield
    assert sent == [] and cap.utterances == 1
    assert cap.store.state == HELD and cap.store.packets > 50
    kept = cap.store.packets
    # error chime + "phone not reachable" instead of the end chime
    assert pb.errors == 0 and pb.state == IDLE
    loud = [lv for lv, _ in spk.out if lv > 300]
    phrase_frames = len(pb.phrase) // 163
    assert len(loud) >= chimes.length(chimes.ERROR) // FRAME // 2 + phrase_frames // 2
    yield from run_for(s, world, 1000)
    yield
    pkts = [p for _, p in sent]
    assert len(pkts) == kept and cap.store.state == ST_IDLE
    assert cap.store.handed_over == 1
    assert [P.seq(p) for p in pkts] == list(range(kept))
    assert P.flags(pkts[0]) & P.F_START and P.flags(pkts[-1]) & P.F_END
    assert sent[0][0] >= 4500 and sent[-1][0] - sent[0][0] <= kept * 20 // 4 + 40
    # on while recording, then again while the held query streams to the phone
    assert [on for _, on in led] == [True, False, True, False]
    assert led[2][0] <= sent[0][0] and led[3][0] >= sent[-1][0]


def test_offline_query_expires():
    plan = [(25, "quiet"), (40, "speech"), (100, "quiet")]
    s, world, cap, pb, mic, spk, src, led, sent = rig(plan, link=lambda: False,
                                                       with_playback=False,
                                                       offline_keep_ms=2000,
                                                       offline_bytes=4096)
    yield from run_for(s, world, 2500)
    assert cap.store.state == HELD and cap.store.truncated
    assert cap.store.used <= 4096 and cap.store.packets == 4096 // 168
    yield
    yield from run_for(s, world, 2500)
    assert cap.store.state == ST_IDLE and cap.store.expired == 1 and sent == []


def _adpcm_packets(n, seed=9):
    sp = Speech(seed=seed, level=7000)
    st = adpcm.State()
    pkts = []
    for k in range(n):
        pcm = frame_buf()
        sp.fill(pcm)
        b = bytearray(166)
        P.put_header(b, P.CODEC_ADPCM, (P.F_START if k == 0 else 0)
                     | (P.F_END if k == n - 1 else 0), 100 + k)
        adpcm.encode(st, pcm, FRAME, b, 3)
        pkts.append(bytes(b))
    return pkts


def test_playback_orders_packets_fills_gaps_and_refuses_unknown_codecs():
    clock = VirtualClock(8)
    world = AudioWorld(clock)
    s = S.Scheduler(clock=clock, idle=world.idle)
    spk = SpeakerI2S(world)
    pb = Playback(spk, s)
    s.spawn(pb.run, prio=S.PRIO_AUDIO)
    pkts = _adpcm_packets(12)
    want = [checksum(f) for f in decode_all(pkts)]
    order = [0, 2, 1, 3, 3, 4, 5, 7, 8, 9, 10, 11]  # 1 late but in time, 3 twice, 6 lost

    async def link():  # the phone sends faster than real time (TTS is), in a burst
        for i in order:
            assert pb.push(pkts[i])
            await S.sleep_ms(5)
        await S.sleep_ms(400)
        bad = bytearray(pkts[0])
        bad[0] = (bad[0] & 0xF0) | 7  # codec id 7
        assert not pb.push(bad)
        assert "unknown audio codec id 7" in pb.last_error
        assert not pb.push(b"\x01\x00")
        assert "too short" in pb.last_error
        pb.play_chime(chimes.NOTIFICATION)

    s.spawn(link, prio=S.PRIO_LINK)
    yield from run_for(s, world, 1200)
    yield
    got = [ck for _, ck in spk.out]
    silent = checksum(frame_buf())
    expect = want[0:6] + [silent] + want[7:12]
    assert got[0:12] == expect, (got[0:12], expect)
    assert pb.jitter.duplicates + pb.jitter.late == 1 and pb.jitter.lost == 1  # 3 twice
    assert pb.errors == 2 and pb.state == IDLE
    n_chime = chimes.length(chimes.NOTIFICATION) // FRAME
    assert len(got) == 12 + n_chime, len(got)  # the chime still plays after the errors
    assert all(lv > 0 for lv, _ in spk.out[12:12 + n_chime])
    raises(ValueError, pb.play_chime, 42)
    raises(ValueError, pb.play_phrase)  # this Playback has no phrase


def _interrupted(plan, at_ms, end_by, run_ms):
    # a wake-mode capture of plan; at at_ms its stream ends by cap.<end_by>() (the phone's
    # word). Returns (cap, times of the packets that started a stream, sent, led).
    s, world, cap, pb, mic, spk, src, led, sent = rig(plan, wake=True)
    world.at = [(at_ms, getattr(cap, end_by))]
    yield from run_for(s, world, run_ms)
    yield
    return cap, [t for t, p in sent if P.flags(p) & P.F_START], sent, led


def test_speech_right_after_a_dropped_stream_is_a_new_utterance():
    # wake mode: the phone drops a stream at a pause with no wake word (abort()); speech
    # resuming 0.4 s later, inside the VAD's 600 ms hangover, starts a new stream with
    # its pre-roll instead of being taken for the dropped utterance going on
    plan = [(50, "quiet"), (40, "speech"), (20, "quiet"), (60, "speech"), (60, "quiet")]
    cap, starts, sent, led = yield from _interrupted(plan, 2100, "abort", 5000)
    assert cap.utterances == 2 and len(starts) == 2, (cap.utterances, starts)
    assert 2100 < starts[1] <= 2200 + 3 * 20 + 40, starts  # the speech's 3rd frame
    assert P.flags(sent[-1][1]) & P.F_END and not cap.streaming
    assert [on for _, on in led] == [True, False, True, False], led


def test_speech_going_on_after_a_stop_is_a_new_utterance():
    # the phone said the command was whole (stop()) while sound goes on without a pause
    # (the wearer talking on, or the glasses' own answer starting): the next stream starts
    # on it, instead of the VAD holding it as the ended utterance (where a wake word said
    # over the answer was never streamed)
    plan = [(50, "quiet"), (100, "speech"), (60, "quiet")]
    cap, starts, sent, led = yield from _interrupted(plan, 1600, "stop", 4000)
    assert cap.utterances == 2 and len(starts) == 2, (cap.utterances, starts)
    assert 1600 < starts[1] <= 1600 + 3 * 20 + 40, starts


def test_a_pause_after_the_wake_word_streams_on_for_the_phones_verdict():
    # "hey jarvis" (0.8 s), 0.9 s of quiet (longer than the VAD's 600 ms hangover: at
    # 10 dB SNR the word's quiet end counts as pause too), "what time is it" (1.2 s). The
    # phone's verdict comes 0.2 s after the VAD heard the pause: the stream went on
    # meanwhile, so the query is in the same utterance (it ended as ambient speech, and
    # the query, a new one awaiting a wake word, was dropped)
    plan = [(50, "quiet"), (40, "speech"), (45, "quiet"), (60, "speech"), (60, "quiet")]
    vad_end = (50 + 40) * 20 + 600
    cap, starts, sent, led = yield from _interrupted(plan, vad_end + 200, "confirm_wake",
                                                     6000)
    assert cap.utterances == 1 and len(starts) == 1, (cap.utterances, starts)
    query_end = (50 + 40 + 45 + 60) * 20
    t_end = [t for t, p in sent if P.flags(p) & P.F_END]
    assert len(t_end) == 1 and query_end + 500 <= t_end[0] <= query_end + 700, t_end
    assert not cap.awaiting_wake and not cap.streaming
    assert [on for _, on in led] == [True, False], led


def test_the_wake_word_confirmed_in_the_pause_after_it_waits_for_the_question():
    # the phone's verdict comes during the VAD's hangover after "hey jarvis" (0.3 s into
    # a 2 s pause): the rest of the hangover is not the question; the stream goes on until
    # the question said after the pause has ended (the hangover's frames counted as speech
    # heard after the word and ended the query before it was said)
    plan = [(50, "quiet"), (40, "speech"), (100, "quiet"), (60, "speech"), (60, "quiet")]
    cap, starts, sent, led = yield from _interrupted(plan, (50 + 40) * 20 + 300,
                                                     "confirm_wake", 8000)
    assert cap.utterances == 1 and len(starts) == 1, (cap.utterances, starts)
    query_end = (50 + 40 + 100 + 60) * 20
    t_end = [t for t, p in sent if P.flags(p) & P.F_END]
    assert len(t_end) == 1 and query_end + 500 <= t_end[0] <= query_end + 700, t_end


def test_with_no_verdict_the_paused_stream_ends_after_its_grace():
    # the same with 2 s of quiet and no word from the phone (away, or slow): the stream
    # ends the grace (1 s) after the VAD heard the pause, as ambient speech; the speech
    # after it is a new utterance
    plan = [(50, "quiet"), (40, "speech"), (100, "quiet"), (60, "speech"), (60, "quiet")]
    vad_end = (50 + 40) * 20 + 600
    cap, starts, sent, led = yield from _interrupted(plan, 9000, "confirm_wake", 6000)
    assert len(starts) == 2, starts
    t_end = [t for t, p in sent if P.flags(p) & P.F_END]
    assert vad_end + 1000 - 40 <= t_end[0] <= vad_end + 1000 + 60, (t_end, vad_end)
    assert starts[1] >= (50 + 40 + 100) * 20, starts
    assert cap.awaiting_wake  # the second: no wake word either


def test_capture_refuses_a_ring_smaller_than_the_preroll():
    clock = VirtualClock(1)
    world = AudioWorld(clock)
    s = S.Scheduler(clock=clock, idle=world.idle)
    mic = MicI2S(world, Source([]))
    e = raises(ValueError, Capture, mic, s, None, None, ring_frames=8, preroll_frames=8)
    assert "ring_frames" in str(e)
