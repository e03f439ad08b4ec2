# Link channels: numbers, priorities, limits. Shared by the glasses and the host, so both
# ends agree on them without negotiation (they are part of PROTOCOL_VERSION).
#
#   ch  name     kind      priority  max message  window  outbox
#   0   CONTROL  reliable  1 (first) 512 B        4       8 / 2 KB
#   1   EVENTS   reliable  2         1024 B       8       16 / 4 KB   notifications, gestures, RPC
#   2   AUDIO    lossy     3         512 B        -       8           numbered, drop-oldest
#   3   FILE     reliable  4         2048 B       16      16 / 8 KB   file transfer, OTA
#   4   LOG      reliable  5 (last)  512 B        4       8 / 2 KB
#   15  LINK     session   0         512 B        -       -           hello, bye, keepalive
#
# window: credits in messages the receiver grants by default; outbox: messages / bytes the
# sender queues (unsent + sent-but-unacknowledged) before send() returns False (one
# message is always accepted into an empty outbox).
from micropython import const

PROTOCOL_VERSION = const(2)  # 2: per-phone sessions, forget this phone or all, the phone's name

CONTROL = const(0)
EVENTS = const(1)
AUDIO = const(2)
FILE = const(3)
LOG = const(4)
LINK = const(15)

NAMES = ("control", "events", "audio", "file", "log")
N_DATA = const(5)  # data channels are 0..N_DATA-1

# Reliable channels in priority order (highest first); also the order of the per-channel
# lists in the hello. AUDIO sits between EVENTS and FILE in the send order (SEND_ORDER).
RELIABLE = (CONTROL, EVENTS, FILE, LOG)
SEND_ORDER = (CONTROL, EVENTS, AUDIO, FILE, LOG)

# Per channel (index = channel number, 0..4): largest message (encoded bytes) a receiver
# accepts, default credit window (messages), default outbox size (messages).
MAX_MESSAGE = (512, 1024, 512, 2048, 512)
LINK_MAX_MESSAGE = const(512)
WINDOW = (4, 8, 0, 16, 4)
OUTBOX = (8, 16, 8, 16, 8)
OUTBOX_BYTES = (2048, 4096, 0, 8192, 2048)
MAX_WINDOW = const(255)  # a credit travels in one byte

# Session states (Session.state).
DOWN = const(0)  # no link
HELLO = const(1)  # link up, waiting for the peer's hello
OPEN = const(2)
CLOSED = const(3)  # refused (version, role, bad hello) or closed by the peer; until link_down
STATE_NAMES = ("down", "hello", "open", "closed")

# Events: on_event(kind, detail).
EV_OPEN = "open"  # detail: dict describing the peer (role, version, board, caps, resumed,
#                   peer_reset)
EV_CLOSED = "closed"  # detail: the reason (text); sent to the peer too
EV_DEAD = "dead"  # detail: the reason (text); the transport should disconnect
EV_AUDIO_GAP = "audio_gap"  # detail: (first missing packet number, count)
EV_ROOM = "room"  # detail: channel whose full outbox has room again
EV_APP_ERROR = "app_error"  # detail: text; on_message raised (the message counts as delivered)

# Sequence numbers are 16 bits and compared with seq_diff (wraparound-safe).
SEQ_MASK = const(0xFFFF)
_SEQ_HALF = const(0x8000)


def seq_diff(a, b):
    """a - b for 16-bit sequence numbers, in -32768..32767."""
    return ((a - b + _SEQ_HALF) & SEQ_MASK) - _SEQ_HALF


def seq_add(a, n):
    return (a + n) & SEQ_MASK


def name(ch):
    if 0 <= ch < N_DATA:
        return NAMES[ch]
    if ch == LINK:
        return "link"
    return "channel %d" % ch


class LinkError(Exception):
    """Base of the session's errors (bad arguments from the application)."""


class MessageTooLarge(LinkError):
    pass


class BadChannel(LinkError):
    pass
