# IMA ADPCM: round trips, resync from a packet header, errors, and the viper twin giving
# the same bytes as the portable codec wherever both run. Runs under CPython and
# MicroPython (where the WebAssembly build has no native emitter: the viper module must
# refuse to import and codec.py must pick the portable twin).
import array
import sys

from fwtest import raises
from audio_signals import FRAME, Rng, Snr, Speech, frame_buf, noise, snr_db

from firmware.voice import adpcm, codec, packet as P

# Peak heap per test under MicroPython (measured about half of each).
HEAP_BUDGET = {
    "test_round_trip_snr_on_speech_is_at_least_20_db": 16000,
    "test_every_block_decodes_on_its_own_after_a_loss": 24000,
    "test_extremes_stay_in_range_and_track": 28000,
    "test_bad_blocks_and_arguments_are_refused_clearly": 8000,
    "test_encode_and_decode_allocate_nothing": 8000,
    "test_viper_twin_is_byte_identical_or_cleanly_absent": 8000,
    "test_packet_header_and_checks": 4000,
}


def _signals():
    """(name, fill(out)) pairs covering speech, noise, silence and the extremes."""
    sp = Speech(seed=3, level=12000)
    rng = Rng(5)

    def square(out):
        for i in range(FRAME):
            out[i] = 32767 if (i // 9) & 1 else -32768

    def ramp(out):
        for i in range(FRAME):
            out[i] = i * 205 - 32768

    def hiss(out):
        noise(out, rng, 30000)

    def zero(out):
        for i in range(FRAME):
            out[i] = 0

    return (("speech", sp.fill), ("square", square), ("ramp", ramp), ("noise", hiss),
            ("zero", zero))


def _encode_stream(mod, fill, frames, st=None):
    st = st or mod.State()
    pcm = frame_buf()
    out = bytearray(adpcm.encoded_size(FRAME))
    blocks = []
    for _ in range(frames):
        fill(pcm)
        n = mod.encode(st, pcm, FRAME, out, 0)
        blocks.append(bytes(out[0:n]))
    return blocks, st


def test_round_trip_snr_on_speech_is_at_least_20_db():
    sp = Speech(seed=11, level=9000)
    st = adpcm.State()
    ds = adpcm.State()
    pcm = frame_buf()
    dec = frame_buf()
    out = bytearray(adpcm.encoded_size(FRAME))
    snr = Snr()
    for k in range(50):  # one second
        sp.fill(pcm)
        n = adpcm.encode(st, pcm, FRAME, out, 0)
        assert n == 163
        assert adpcm.decode(ds, out, 0, n, dec) == FRAME
        snr.add(pcm, dec, FRAME)
        assert (ds.predictor, ds.index) == (st.predictor, st.index)
        if k % 5 == 4:
            yield
    assert snr.db() >= 20, snr.db()


def test_every_block_decodes_on_its_own_after_a_loss():
    blocks, _ = _encode_stream(adpcm, Speech(seed=2).fill, 6)
    cont = adpcm.State()
    full = []
    for b in blocks:
        pcm = frame_buf()
        adpcm.decode(cont, b, 0, len(b), pcm)
        full.append(pcm)
    fresh = adpcm.State(1234, 40)  # a receiver that lost blocks 0..3
    pcm = frame_buf()
    adpcm.decode(fresh, blocks[4], 0, len(blocks[4]), pcm)
    assert pcm == full[4]


def test_extremes_stay_in_range_and_track():
    for name, fill in _signals():
        pcm = frame_buf()
        fill(pcm)
        st = adpcm.State()
        out = bytearray(200)
        for _ in range(3):  # let the step size adapt, then compare
            n = adpcm.encode(st, pcm, FRAME, out, 0)
        dec = frame_buf()
        adpcm.decode(adpcm.State(), out, 0, n, dec)
        for i in range(FRAME):
            assert -32768 <= dec[i] <= 32767
        if name == "speech":
            assert snr_db(pcm, dec, FRAME) > 18, name
        if name == "zero":
            assert max(dec) - min(dec) < 16, name  # settles to near-silence


def test_bad_blocks_and_arguments_are_refused_clearly():
    pcm = frame_buf()
    out = bytearray(200)
    e = raises(adpcm.AdpcmError, adpcm.encode, adpcm.State(), pcm, 319, out, 0)
    assert "even" in str(e)
    e = raises(adpcm.AdpcmError, adpcm.decode, adpcm.State(), b"\x00\x00", 0, 2, pcm)
    assert "too short" in str(e)
    e = raises(adpcm.AdpcmError, adpcm.decode, adpcm.State(), b"\x00\x00\x59\x00", 0, 4, pcm)
    assert "step index 89" in str(e)
    big = bytes(3 + 200)
    e = raises(adpcm.AdpcmError, adpcm.decode, adpcm.State(), big, 0, len(big), pcm)
    assert "does not fit" in str(e)
    assert adpcm.encoded_size(320) == 163
    assert isinstance(e, ValueError)  # one family with the other bad-input errors


def test_encode_and_decode_allocate_nothing():
    import micropython
    pcm = frame_buf()
    Speech(seed=4).fill(pcm)
    out = bytearray(200)
    st = adpcm.State()
    dec = frame_buf()
    micropython.heap_lock()  # MicroPython raises MemoryError on any allocation
    try:
        for _ in range(5):
            n = codec.encode(st, pcm, FRAME, out, 0)
            codec.decode(st, out, 0, n, dec)
    finally:
        micropython.heap_unlock()
    assert n == 163


def test_viper_twin_is_byte_identical_or_cleanly_absent():
    if sys.implementation.name == "micropython":
        # This build has no native emitter: the viper module must fail at compile time,
        # and codec.py must have fallen back to the portable twin.
        try:
            import firmware.voice.adpcm_viper  # noqa: F401
            have_viper = True
        except SyntaxError as e:
            have_viper = False
            assert "micropython decorator" in str(e), e
        if not have_viper:
            assert codec.NAME == "portable" and codec.encode is adpcm.encode
            return
    from firmware.voice import adpcm_viper as V
    starts = ((0, 0), (-32768, 88), (32767, 0), (100, 45), (-2000, 17))
    for k, (name, fill) in enumerate(_signals()):  # each signal through both codecs
        st0 = starts[k]
        a, sa = _encode_stream(adpcm, fill, 4, adpcm.State(st0[0], st0[1]))
        name2, fill2 = _signals()[k]
        b, sb = _encode_stream(V, fill2, 4, V.State(st0[0], st0[1]))
        assert a == b, name
        assert (sa.predictor, sa.index) == (sb.predictor, sb.index), name
        for blk in a:
            d1 = frame_buf()
            d2 = frame_buf()
            s1 = adpcm.State()
            s2 = V.State()
            assert adpcm.decode(s1, blk, 0, len(blk), d1) == V.decode(s2, blk, 0, len(blk), d2)
            assert d1 == d2, name
            assert (s1.predictor, s1.index) == (s2.predictor, s2.index)
    e = raises(adpcm.AdpcmError, V.decode, V.State(), bytes(10), 5, 8, frame_buf())
    assert "past the buffer" in str(e)


def test_packet_header_and_checks():
    pkt = bytearray(P.HEADER_BYTES + adpcm.encoded_size(FRAME))
    P.put_header(pkt, P.CODEC_ADPCM, P.F_START, 65535)
    assert P.codec(pkt) == P.CODEC_ADPCM and P.flags(pkt) == P.F_START
    assert P.seq(pkt) == 65535
    P.check(pkt)
    assert P.samples_in(pkt) == FRAME
    assert P.seq_diff(0, 65535) == 1 and P.seq_diff(65535, 0) == -1
    e = raises(P.PacketError, P.check, b"\x07\x00\x00abc")
    assert "unknown audio codec id 7" in str(e)
    assert "too short" in str(raises(P.PacketError, P.check, b"\x01\x00"))
    assert "too short" in str(raises(P.PacketError, P.check, b"\x01\x00\x00\x00"))
    assert "odd" in str(raises(P.PacketError, P.check, b"\x00\x00\x00\x01\x02\x03"))
    pcm_pkt = bytes([P.CODEC_PCM16, 1, 0]) + bytes(array.array("h", [1, 2, 3]))
    P.check(pcm_pkt)
    assert P.samples_in(pcm_pkt) == 3
