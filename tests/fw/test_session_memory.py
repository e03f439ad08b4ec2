# The glasses' session with its worst-case state held at once: every outbox full of the
# largest messages, the audio queue full, a partial message in every reassembly buffer,
# the transport refusing frames. Budget (docs/link.md, "Memory"): 36 KB live for the
# session and everything it holds; the runner's HEAP_BUDGET adds room for one step's garbage.
import gc

import fwtest
from firmware.protocol.channels import PROTOCOL_VERSION
from firmware.protocol import frame as F
from firmware.protocol import hello as H
from firmware.runtime.cbor import dumps
from firmware.protocol.channels import (AUDIO, CONTROL, EVENTS, FILE, LINK, LOG, MAX_MESSAGE,
                                    OUTBOX_BYTES, RELIABLE)
from firmware.protocol.session import OPEN, Session
from firmware.runtime.clock import VirtualClock

LIVE_BUDGET = 36 * 1024
HEAP_BUDGET = {"test_glasses_session_worst_case_fits_its_budget": 40 * 1024}


def test_glasses_session_worst_case_fits_its_budget():
    got = []
    yield
    base = gc.mem_alloc() if fwtest.IMPL == "micropython" else 0
    s = Session("glasses", VirtualClock(3), "fw-1.0", ["rpc"], lambda fr: False,
                lambda ch, m: got.append(m), lambda k, d: None, session_id=7)
    s.link_up(247)
    hello = H.build(PROTOCOL_VERSION, "host", "host-1.0", "pc", ["rpc"], 9, None, [0, 0, 0, 0],
                    [0, 0, 0, 0], [8, 8, 8, 8], False)
    for fr in F.split(LINK, 0, dumps(hello), 247):
        s.feed(fr)
    assert s.state == OPEN
    yield
    for ch in (CONTROL, EVENTS, AUDIO, FILE, LOG):  # half-received largest messages
        s.feed(F.split(ch, 0, bytes(MAX_MESSAGE[ch]), 247)[0])
        yield
    queued = 0
    for ch in RELIABLE:
        size = MAX_MESSAGE[ch] - 3  # bytes of this length encode to the channel's maximum
        while s.send(ch, bytes(size)):
            queued += size + 3
            yield
        assert s.outbox_room(ch)[1] < MAX_MESSAGE[ch]
    assert queued <= sum(OUTBOX_BYTES)
    for _ in range(12):
        s.send_audio(bytes(MAX_MESSAGE[AUDIO]))
    assert s.stats()["audio_dropped"] == 12 - 8
    yield
    assert got == [] and s.stats()["bad_frames"] == 0
    if fwtest.IMPL == "micropython":
        live = gc.mem_alloc() - base
        print("glasses session worst case: %d bytes live" % live)
        assert live <= LIVE_BUDGET, live
