# Every application message on the link is a CBOR map whose key 0 is its kind. The kinds
# of all channels are listed here, so no two features pick the same number.
#
#   1..6    notifications (firmware/notify/wire.py)                   EVENTS
#           1 NOTIFY, 4 ACK, 5 RULES, 6 DND       host -> glasses
#           2 REPLY, 3 ACTION                     glasses -> host
#   7       EVENT {0:7, 1: topic, 2: payload}  glasses -> host        EVENTS
#           topics: "gesture", "wear", "battery", "fault", "link", "voice", ...
#           (firmware/sense/service.py, docs/notifications.md)
#   8       TIME_REQ {0:8}: what time is it?   glasses -> host        CONTROL
#   9       TIME {0:9, 1: unix seconds, 2: UTC offset minutes}  host -> glasses  CONTROL
#           the phone's local time (quiet hours); sent on request and on a change
#   16..22  offload RPC (firmware/protocol/rpc.py)                        EVENTS
#   24      VOICE_ENDPOINT (firmware/voice/service.py)               EVENTS
#   32..39  commands and their answers                                CONTROL
#   40..47  updates (OTA)                                             FILE / CONTROL
#   48      LOG {0:48, 1: seq, 2: tick_ms, 3: level, 4: text}  glasses -> host   LOG
#   56..59  photos (docs/camera.md)                                   FILE
from micropython import const

K = const(0)

EVENT = const(7)
TIME_REQ = const(8)
TIME = const(9)

# {0:24, 1: first packet seq, 2: last packet seq heard}   host -> glasses: the phone
# recognised a whole command in the utterance that began with packet 1; stop listening.
VOICE_ENDPOINT = const(24)

STATUS_REQ = const(32)  # {0:32}                                  host -> glasses
STATUS = const(33)  # {0:33, 1: {name: value}}                     glasses -> host
FORGET = const(34)  # {0:34, 1: "all" | absent}: forget this phone (or every phone)
FORGET_ALL = "all"
RESULT = const(35)  # {0:35, 1: request kind, 2: ok, 3: detail}    glasses -> host
LOGS = const(36)  # {0:36, 1: on, 2: min level}: stream the log    host -> glasses

# Updates (docs/ota.md). Everything but OTA_REPORT goes on the FILE channel, both ways,
# so the glasses' answers keep the order of the phone's messages.
OTA_BEGIN = const(40)  # {0:40, 1: package bytes in all, 2: offset, 3: bytes, 4: tag}
#   host -> glasses: a piece of the package envelope (firmware/ota/manifest.py); offset 0
#   starts over; tag: the sender's attempt number. After the last piece the glasses check
#   the package and answer OTA_STATE (and after a bad piece at once).
OTA_STATE = const(41)  # {0:41, 1: [bytes held per file] | None, 2: reason | None, 3: code,
#   4: tag of the piece answered}  glasses -> host. code: "ready" (1: send each file from
#   there), "refused" (2: why; nothing changed), "installed" (the device runs this package
#   already), "error" (2: a bad piece or a flash error: send the package again from 0).
OTA_CHUNK = const(42)  # {0:42, 1: file index, 2: offset, 3: bytes}          host -> glasses
OTA_ACK = const(43)  # {0:43, 1: file index, 2: bytes held, 3: error | None} glasses -> host
#   one per chunk, after it is on flash (and, for a file's last chunk, after its SHA-256
#   check). With an error, 2 is where to resend that file from.
OTA_FINISH = const(44)  # {0:44}: verify every file, switch to the slot   host -> glasses
OTA_DONE = const(45)  # {0:45, 1: ok, 2: detail}                         glasses -> host
#   ok: switched (on trial); the glasses restart into it at once.
OTA_REPORT = const(46)  # {0:46, 1: {copy, version, on_trial, trial_boots, previous, event,
#   phase}}  glasses -> host, CONTROL: at every link up and when a trial ends (confirmed
#   or rolled back: "event" says why).

LOG = const(48)

# Photos (docs/camera.md, firmware/camera/sync.py): one photo at a time, on FILE both ways.
PHOTO_OFFER = const(56)  # {0:56, 1: id, 2: bytes, 3: sha256, 4: {metadata}} glasses -> host
PHOTO_WANT = const(57)  # {0:57, 1: id, 2: offset}: send that photo from offset  host -> gl.
PHOTO_DATA = const(58)  # {0:58, 1: id, 2: offset, 3: bytes}                glasses -> host
PHOTO_DONE = const(59)  # {0:59, 1: id, 2: ok, 3: detail, 4: text to say}   host -> glasses
#   ok: saved in the phone's gallery (the glasses delete it); not ok: kept, offered again
#   later (detail says why, e.g. the phone's disk is full); 4: the answer about the photo


def kind(msg):
    """The kind of a message, or -1 if it is not a map with an int key 0."""
    if isinstance(msg, dict):
        k = msg.get(K)
        if isinstance(k, int):
            return k
    return -1


def event(topic, payload=None):
    return {K: EVENT, 1: topic, 2: payload}
