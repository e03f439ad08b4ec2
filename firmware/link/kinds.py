# Every application message on the link is a CBOR map whose key 0 is its kind. The kinds
# of all channels are listed here, so no two features pick the same number.
#
#   1..6    notifications (firmware/notify/wire.py)                   EVENTS
#           1 NOTIFY, 4 ACK, 5 RULES, 6 DND       host -> glasses
#           2 REPLY, 3 ACTION                     glasses -> host
#   7       EVENT {0:7, 1: topic, 2: payload}  glasses -> host        EVENTS
#           topics: "gesture", "wear", "battery", "fault", "link", "voice", ...
#           (firmware/services/senses.py, docs/notifications.md)
#   8       TIME_REQ {0:8}: what time is it?   glasses -> host        CONTROL
#   9       TIME {0:9, 1: unix seconds, 2: UTC offset minutes}  host -> glasses  CONTROL
#           the phone's local time (quiet hours); sent on request and on a change
#   16..22  offload RPC (firmware/link/rpc.py)                        EVENTS
#   24      VOICE_ENDPOINT (firmware/services/voice.py)               EVENTS
#   32..39  commands and their answers                                CONTROL
#   40..47  updates (OTA)                                             CONTROL / FILE
#   48      LOG {0:48, 1: seq, 2: tick_ms, 3: level, 4: text}  glasses -> host   LOG
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
FORGET = const(34)  # {0:34}: forget every bonded phone            host -> glasses
RESULT = const(35)  # {0:35, 1: request kind, 2: ok, 3: detail}    glasses -> host
LOGS = const(36)  # {0:36, 1: on, 2: min level}: stream the log    host -> glasses

OTA_BEGIN = const(40)  # {0:40, 1: package envelope}               host -> glasses
OTA_STATE = const(41)  # {0:41, 1: [held bytes per file] | None, 2: error | None}
OTA_CHUNK = const(42)  # {0:42, 1: file index, 2: offset, 3: bytes}   FILE channel
OTA_ACK = const(43)  # {0:43, 1: file index, 2: bytes held, 3: error | None}  FILE
OTA_FINISH = const(44)  # {0:44}                                   host -> glasses
OTA_DONE = const(45)  # {0:45, 1: ok, 2: detail}                   glasses -> host

LOG = const(48)


def kind(msg):
    """The kind of a message, or -1 if it is not a map with an int key 0."""
    if isinstance(msg, dict):
        k = msg.get(K)
        if isinstance(k, int):
            return k
    return -1


def event(topic, payload=None):
    return {K: EVENT, 1: topic, 2: payload}
