# The phone at the other end of the stand-in radio (bluetooth.py), for the whole-firmware
# boot: the firmware's own Endpoint (firmware/protocol/) in the host's role, in the same
# interpreter and heap as the glasses. It serves the offload calls the glasses make
# ("ask": the text answer, then ANSWER_PACKETS of audio; "tts": audio only) with the
# firmware's RpcServer, hears the wake word at the start of every utterance that waits
# for one, and records what the glasses said. What it sends (a notification,
# a status request) is the scenario's (fwboot.py). Photos (kinds 56..59 on FILE) it takes
# as host_tools/camera/host.py does, minimally: PHOTO_WANT from 0 on the offer, the pieces
# kept only as a running SHA-256 and a count (in order; one out of order asks again from
# what it holds), PHOTO_DONE ok once the bytes and the hash are the offer's (the glasses
# then delete the photo), not ok if the hash differs.
import array
import hashlib

from firmware.protocol import kinds
from firmware.protocol.channels import CONTROL, EVENTS, FILE
from firmware.protocol.endpoint import Endpoint
from firmware.protocol.rpc_server import RpcServer
from firmware.runtime.clock import RealClock
from firmware.voice import codec
from firmware.voice import packet as P

ANSWER_PACKETS = 25  # 0.5 s of answer audio
_WRITES = 12  # frames waiting for the radio at the most (the rest wait in the session)
_SAMPLES = 320
_ANSWER = {"text": "what time is it", "answer": "It is twelve o'clock.", "intent": "time",
           "actions": []}


class _Rpc:
    """The Endpoint's rpc hook over the RpcServer."""

    def __init__(self, phone):
        self.phone = phone

    def handle(self, msg):
        return self.phone.server.handle(msg)

    def room(self):
        self.phone.server.flush()

    def peer_reset(self):
        self.phone.server.cancel_all(notify_client=False)


class Phone:
    def __init__(self):
        self.clock = RealClock()  # over the time stand-in: the world's virtual time
        self.writes = []
        self.ep = Endpoint("host", self.clock, "host-1.0", ["rpc", "notify", "voice", "ota",
                                                           "logs"],
                           self._send_frame, self._wake, board="phone", rpc=_Rpc(self))
        self.server = RpcServer(self._send_event, self._on_request,
                                on_credit=self._on_credit)
        self.jobs = []  # [job, packets sent] being answered
        self.calls = []  # methods the glasses called
        self.answered = 0
        self.audio_in = 0  # audio packets from the glasses
        self.wakes = 0  # utterances it confirmed the wake word of (the glasses' default)
        self.replies = []  # notification outcomes
        self.status = None  # the last STATUS the glasses sent
        self.ota_reports = 0
        self.opened = 0
        self.photo = None  # [id, bytes, sha256 offered, bytes held, running sha256]
        self.photos = []  # (id, bytes, metadata) of the photos saved whole
        self.photo_pieces = 0
        self.photo_bad = 0
        self._pcm = array.array("h", bytes(2 * _SAMPLES))  # a 400 Hz square wave
        for k in range(_SAMPLES):
            self._pcm[k] = 0x0F00 if (k // 20) & 1 else -0x0F00
        ep = self.ep
        ep.on("up", self._on_up)
        ep.on("audio", self._on_audio)
        ep.route(kinds.STATUS, self._on_status)
        ep.route(kinds.OTA_REPORT, self._on_ota_report)
        ep.route(2, self._on_reply)  # notify's REPLY (firmware/notify/wire.py)
        ep.route(kinds.PHOTO_OFFER, self._on_photo_offer)
        ep.route(kinds.PHOTO_DATA, self._on_photo_data)

    # ---- the radio's side ---------------------------------------------------------------
    def link_up(self, mtu):
        self.ep.session.link_up(mtu)

    def link_down(self):
        self.ep.session.link_down()
        self.ep.set_up(False)

    def feed(self, frame):
        self.ep.session.feed(frame)

    def next_write(self):
        return self.writes.pop(0) if self.writes else None

    def poll(self):
        s = self.ep.session
        s.writable()
        s.poll()
        self._pump()

    def _send_frame(self, frame):
        if len(self.writes) >= _WRITES:
            return False
        self.writes.append(bytes(frame))
        return True

    def _wake(self):
        pass

    def _send_event(self, msg):
        return self.ep.send(EVENTS, msg)

    # ---- what the phone says -------------------------------------------------------------
    def notify(self, nid, title):
        return self.ep.send(EVENTS, {0: 1, 1: {1: nid, 2: "Chat", 3: title, 5: "normal",
                                               6: "message", 9: 1767268800}})

    def ask_status(self):
        return self.ep.send(CONTROL, {kinds.K: kinds.STATUS_REQ})

    # ---- what the glasses say ------------------------------------------------------------
    def _on_up(self, up):
        if up:
            self.opened += 1

    def _on_audio(self, pkt):
        self.audio_in += 1
        if P.flags(pkt) & P.F_WAKE:  # an utterance waiting for the wake word: heard it
            self.wakes += 1
            self.ep.send(EVENTS, {kinds.K: kinds.VOICE_ENDPOINT, 1: P.seq(pkt), 2: P.seq(pkt),
                                  3: 2})

    def _on_status(self, msg):
        self.status = msg.get(1)

    def _on_ota_report(self, msg):
        self.ota_reports += 1

    def _on_reply(self, msg):
        self.replies.append(msg.get(2))

    def _on_photo_offer(self, msg):
        pid, size, sha = msg.get(1), msg.get(2), msg.get(3)
        if not isinstance(pid, int) or not isinstance(size, int) or not isinstance(sha, bytes):
            return
        self.photo = [pid, size, sha, 0, hashlib.sha256(), msg.get(4) or {}]
        self.ep.send(FILE, {kinds.K: kinds.PHOTO_WANT, 1: pid, 2: 0})

    def _on_photo_data(self, msg):
        ph = self.photo
        pid, off, data = msg.get(1), msg.get(2), msg.get(3)
        if ph is None or pid != ph[0] or not isinstance(data, bytes):
            return
        if off != ph[3]:  # not where it holds to: from there again
            self.ep.send(FILE, {kinds.K: kinds.PHOTO_WANT, 1: pid, 2: ph[3]})
            return
        self.photo_pieces += 1
        ph[3] += len(data)
        ph[4].update(data)
        if ph[3] < ph[1]:
            return
        self.photo = None
        ok = ph[3] == ph[1] and ph[4].digest() == ph[2]
        if ok:
            self.photos.append((pid, ph[1], ph[5]))
        else:
            self.photo_bad += 1
        self.ep.send(FILE, {kinds.K: kinds.PHOTO_DONE, 1: pid, 2: ok,
                            3: None if ok else "the photo's SHA-256 differs"})

    def _on_request(self, job):
        self.calls.append(job.method)
        if job.method in ("ask", "tts"):
            self.jobs.append([job, -1 if job.method == "ask" else 0, codec.State()])
        else:
            self.server.fail(job, ValueError("no handler for %s" % job.method))

    def _on_credit(self, job):
        self._pump()

    def _pump(self):
        for entry in list(self.jobs):
            job, sent, st = entry
            while sent < ANSWER_PACKETS:
                chunk = _ANSWER if sent < 0 else self._packet(st, sent)
                if not self.server.chunk(job, chunk):
                    break
                sent += 1
            entry[1] = sent
            if sent >= ANSWER_PACKETS and self.server.end(job):
                self.jobs.remove(entry)
                self.answered += 1

    def _packet(self, st, i):
        pkt = bytearray(P.HEADER_BYTES + codec.encoded_size(_SAMPLES))
        fl = (P.F_START if i == 0 else 0) | (P.F_END if i == ANSWER_PACKETS - 1 else 0)
        P.put_header(pkt, P.CODEC_ADPCM, fl, 1000 + i)
        codec.encode(st, self._pcm, _SAMPLES, pkt, P.HEADER_BYTES)
        return bytes(pkt)
