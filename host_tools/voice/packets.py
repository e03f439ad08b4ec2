"""16 kHz int16 PCM (the TTS's chunks) -> the glasses' audio packets, as it comes: 20 ms
IMA ADPCM packets in the firmware's own format (firmware/voice/packet.py), encoded by the
firmware's own codec. START on the first packet of a stream, END on the last: the last
packet is held back until finish() says the stream is over.

    enc = PacketEncoder(seq=100)
    for chunk in tts_chunks:
        for pkt in enc.feed(chunk): send(pkt)
    for pkt in enc.finish(): send(pkt)
"""
import array

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.voice import adpcm, packet as P

FRAME = 320


class PacketEncoder:
    def __init__(self, seq=0):
        self.seq = seq & 0xFFFF
        self.state = adpcm.State()
        self._pcm = array.array("h")
        self._held = None  # the newest packet: it may turn out to be the last
        self._first = True
        self.packets = 0

    def _packet(self, frame):
        flags = 0
        if self._first:
            flags = P.F_START
            self._first = False
        pkt = bytearray(P.HEADER_BYTES + adpcm.encoded_size(FRAME))
        P.put_header(pkt, P.CODEC_ADPCM, flags, self.seq)
        adpcm.encode(self.state, frame, FRAME, pkt, P.HEADER_BYTES)
        self.seq = (self.seq + 1) & 0xFFFF
        self.packets += 1
        return pkt

    def feed(self, pcm):
        """Take PCM bytes; returns the packets that are sure not to be the last."""
        a = array.array("h")
        a.frombytes(bytes(pcm))
        self._pcm.extend(a)
        out = []
        while len(self._pcm) >= FRAME:
            pkt = self._packet(self._pcm[:FRAME])
            del self._pcm[:FRAME]
            if self._held is not None:
                out.append(bytes(self._held))
            self._held = pkt
        return out

    def finish(self):
        """The stream is over: the rest (padded with silence), the last one flagged END."""
        if len(self._pcm):
            self._pcm.extend([0] * (FRAME - len(self._pcm)))
            pkt = self._packet(self._pcm)
            self._pcm = array.array("h")
            out = [bytes(self._held)] if self._held is not None else []
            self._held = pkt
        else:
            out = []
        if self._held is not None:
            self._held[0] |= P.F_END
            out.append(bytes(self._held))
            self._held = None
        return out
