"""Bad input on the voice path, end to end over the rig: audio lost, duplicated or out of
order between the glasses and the phone, unknown codec ids both ways, a TTS stream that
stops half way, an ASR that raises or hangs. Each one either is answered with what was
lost reported (a little loss, duplicates, reordering) or gives the error chime and the
cached phrase on the glasses and a message on the phone; then the glasses are idle and
nothing is left over on either side."""
import asyncio

import pytest

from host_tools.voice.parse import normalise

from firmware.voice import chimes
from firmware.voice import packet as P
from firmware.voice.playback import PHRASE
from voice_e2e_util import VoiceRig, assert_nothing_left, spoken_time, transcribe, tts


@pytest.fixture
def vr():
    r = VoiceRig(seed=8)
    yield r
    r.close()


def error_sounds(v):
    return v.playback.started[chimes.ERROR], v.playback.started[PHRASE]


async def answered(vr, text, timeout_s=20.0):
    v = vr.voice
    n = v.answers
    errors = v.errors
    mark = vr.tap.mark()
    vr.say_to_mic(text)
    await vr.until(lambda: v.answers > n or v.errors > errors, timeout_s)
    await vr.idle()
    assert v.answers == n + 1, v.status()
    return transcribe(vr.tap.stream(mark)[1])


async def failed(vr, text, timeout_s=30.0):
    """Speak text; wait until the glasses gave up and went idle; returns the glasses'
    error and the phone's messages since."""
    v = vr.voice
    errors = v.errors
    sounds = error_sounds(v)
    n = len(vr.host.messages)
    vr.say_to_mic(text)
    await vr.until(lambda: v.errors > errors, timeout_s)
    await vr.idle()
    assert v.errors == errors + 1
    assert error_sounds(v) == (sounds[0] + 1, sounds[1] + 1)  # chime + "phone not reachable"
    return v.last_error, list(vr.host.messages)[n:]


def time_ok(heard, before, after):
    return spoken_time(heard or "") in {(d.hour, d.minute) for d in (before, after)}


def test_lost_audio_is_filled_reported_and_too_much_loss_is_an_error(vr):
    async def scenario():
        await vr.start()
        phone = vr.rig.phone
        delivers = phone.listeners("audio")
        for fn in delivers:
            phone.off("audio", fn)
        every = [12]

        def lossy(pkt):  # packets lost between the glasses and the phone
            if P.seq(pkt) % every[0] != every[0] - 1:
                for fn in delivers:
                    fn(pkt)
        phone.on("audio", lossy)
        before = vr.phone_now()
        heard = await answered(vr, "what time is it")
        assert time_ok(heard, before, vr.phone_now()), heard
        msg = [m for m in vr.host.messages if "heard" in m][-1]
        assert "packets lost, filled with silence" in msg, msg
        assert normalise(vr.voice.heard) == "what time is it"
        assert_nothing_left(vr)
        # most of it lost: refused, said so on both sides
        every[0] = 2
        err, msgs = await failed(vr, "what time is it")
        assert "packets were lost" in err and "too little to understand" in err, err
        assert any("packets were lost" in m and "failed" in m for m in msgs), msgs
        assert_nothing_left(vr)
    vr.run(scenario())


def test_duplicated_and_reordered_packets_are_counted_and_answered(vr):
    async def scenario():
        await vr.start()
        link = vr.app.link
        send = link.send_audio
        held = []

        def shuffle(pkt):  # on the glasses' side: every 7th twice, pairs swapped
            pkt = bytes(pkt)
            if P.seq(pkt) % 7 == 3:
                send(pkt)
            if P.flags(pkt) & P.F_END or held:
                send(pkt)
                while held:
                    send(held.pop())
            else:
                held.append(pkt)
            return True
        link.send_audio = shuffle
        heard = await answered(vr, "set a timer for five minutes")
        assert heard == "timer set for five minutes", heard
        msg = [m for m in vr.host.messages if "heard" in m][-1]
        assert "duplicates" in msg and "out of order" in msg, msg
        dups = int(msg.split("(")[-1].split(" duplicates")[0])
        assert dups >= 5, msg
        assert_nothing_left(vr)
    vr.run(scenario())


def test_unknown_codec_ids_either_way_are_errors(vr):
    async def scenario():
        await vr.start()
        v = vr.voice
        link = vr.app.link
        send = link.send_audio

        def bad_codec(pkt):  # the 11th packet of the utterance claims codec 7
            pkt = bytearray(pkt)
            if P.seq(pkt) == v.capture.first_seq + 10:
                pkt[0] = (pkt[0] & 0xF0) | 7
            return send(pkt)
        link.send_audio = bad_codec
        err, msgs = await failed(vr, "what time is it")
        assert "unknown audio codec id 7 (known: 0 pcm16, 1 adpcm)" in err, err
        assert "packet 10 of the utterance" in err, err
        assert any("unknown audio codec id 7" in m for m in msgs), msgs
        assert_nothing_left(vr)
        link.send_audio = send
        # the phone's answer has a packet the glasses cannot play
        host = vr.host
        good = host._tts_packets

        async def bad_answer(text):
            n = 0
            async for pkt in good(text):
                n += 1
                if n == 6:
                    pkt = bytes([(pkt[0] & 0xF0) | 9]) + pkt[1:]
                yield pkt
        host._tts_packets = bad_answer
        err, msgs = await failed(vr, "what time is it")
        assert "answer audio refused: unknown audio codec id 9" in err, err
        # the phone's stream was cancelled, or (Piper sends a sentence at once) complete
        assert any("cancelled" in m or "heard" in m for m in msgs), msgs
        assert v.playback.errors >= 1
        assert_nothing_left(vr)
    vr.run(scenario())


def _chunks(text, n):
    pcm = tts().synthesize(text)
    return [pcm[i:i + 3200] for i in range(0, min(len(pcm), n * 3200), 3200)]


def test_a_tts_stream_that_stops_half_way_is_an_error(vr):
    async def scenario():
        await vr.start()
        host = vr.host

        async def crashing(text):
            for c in _chunks(text, 3):
                yield c
            raise RuntimeError("the speech engine crashed")
        host.tts = crashing
        err, msgs = await failed(vr, "what time is it")
        assert "tts: stream stopped after 3 chunks: RuntimeError: the speech engine crashed" \
            in err, err
        assert any("stream stopped after 3 chunks" in m for m in msgs), msgs
        assert_nothing_left(vr)

        async def stalling(text):
            for c in _chunks(text, 2):
                yield c
            await asyncio.sleep(3600)
        host.tts = stalling
        err, msgs = await failed(vr, "what time is it")
        assert "nothing from the phone for 3000 ms" in err, err
        assert any("cancelled" in m for m in msgs), msgs
        assert_nothing_left(vr)
    vr.run(scenario())


def test_an_asr_that_raises_or_hangs_is_an_error_and_the_next_query_works(vr):
    async def scenario():
        await vr.start()
        host = vr.host
        good = host.asr

        async def crashing(pcm, rate):
            raise RuntimeError("decoder crashed")
        host.asr = crashing
        err, msgs = await failed(vr, "what time is it")
        assert "asr failed: RuntimeError: decoder crashed" in err, err
        assert any("asr failed" in m for m in msgs), msgs
        assert_nothing_left(vr)

        async def hanging(pcm, rate):
            await asyncio.sleep(3600)
        host.asr = hanging
        host.asr_timeout_s = 2.0
        err, msgs = await failed(vr, "what time is it")
        assert "asr: timed out after 2 s" in err, err
        assert any("timed out" in m for m in msgs), msgs
        assert_nothing_left(vr)
        host.asr = good
        before = vr.phone_now()
        heard = await answered(vr, "what time is it")
        assert time_ok(heard, before, vr.phone_now()), heard
        assert_nothing_left(vr)
    vr.run(scenario())


def test_bad_ask_arguments_get_a_typed_error():
    """Straight to the phone's handlers: what the glasses would never send."""
    from firmware.protocol.rpc import BadRequest
    from host_tools.voice.host import VoiceHost

    class FakePhone:
        announce = None

        def on(self, name, fn):
            pass

    host = VoiceHost(FakePhone())

    async def run():
        for args, why in ((None, "args must be a map"), ({"first": 3}, "0..65535"),
                          ({"first": 0, "last": 4000}, "longer than the 1024")):
            with pytest.raises(BadRequest, match=why):
                async for _ in host.rpc_ask(args):
                    pass
        with pytest.raises(BadRequest, match="map with the text"):
            await host.rpc_assist({"txt": "x"})
    asyncio.run(run())
    assert host.failed == 4 and len(host.messages) == 4
