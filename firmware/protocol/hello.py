# The hello and bye messages of the LINK channel (CBOR maps with small integer keys).
#
# Key 0 (kind) and key 1 (protocol version) keep their meaning in every protocol version,
# so any two versions can at least tell each other apart and refuse with a clear reason.
from micropython import const

from firmware.protocol.channels import MAX_WINDOW, RELIABLE

KIND_HELLO = const(1)
KIND_BYE = const(2)

K_KIND = const(0)
K_PROTO = const(1)
K_ROLE = const(2)
K_SW = const(3)  # firmware / host software version
K_BOARD = const(4)
K_CAPS = const(5)
K_SID = const(6)  # this side's session id
K_PEER = const(7)  # the peer's session id this side remembers (None: none)
K_RX = const(8)  # per reliable channel: next seq this side expects
K_TX = const(9)  # per reliable channel: oldest seq this side has not had acknowledged
K_CREDIT = const(10)  # per reliable channel: messages the peer may send from K_RX
K_GOT = const(11)  # True: this side already has the peer's hello on this connection
K_REASON = const(1)  # bye: why (text)

ROLES = ("glasses", "host")
SID_MASK = const(0x3FFFFFFF)  # session ids stay small ints on MicroPython (30 bits)


class HelloError(ValueError):
    pass


def build(proto, role, sw, board, caps, sid, peer, rx, tx, credit, got):
    return {K_KIND: KIND_HELLO, K_PROTO: proto, K_ROLE: role, K_SW: sw,
            K_BOARD: board, K_CAPS: caps, K_SID: sid, K_PEER: peer, K_RX: rx, K_TX: tx,
            K_CREDIT: credit, K_GOT: got}


def bye(reason):
    return {K_KIND: KIND_BYE, K_REASON: reason}


def kind(msg):
    if not isinstance(msg, dict):
        raise HelloError("link message is a %s, not a map" % type(msg).__name__)
    k = msg.get(K_KIND)
    if k != KIND_HELLO and k != KIND_BYE:
        raise HelloError("unknown link message kind %r" % (k,))
    return k


def version_mismatch(msg, mine, role, sw):
    """A reason naming both versions if the peer's hello is not of our protocol version
    `mine`, else None. Reads only keys whose meaning never changes."""
    proto = msg.get(K_PROTO)
    if proto == mine:
        return None
    peer_role = msg.get(K_ROLE)
    peer_sw = msg.get(K_SW)
    return ("link protocol version mismatch: this %s (%s) speaks version %d, the peer "
            "%s (%s) speaks version %s" %
            (role, sw, mine, peer_role if isinstance(peer_role, str) else "?",
             peer_sw if isinstance(peer_sw, str) else "?", proto))


def _text(msg, key, what):
    v = msg.get(key)
    if not isinstance(v, str):
        raise HelloError("hello: %s is missing or not text" % what)
    return v


def _seq_list(msg, key, what, top):
    v = msg.get(key)
    if not isinstance(v, list) or len(v) != len(RELIABLE):
        raise HelloError("hello: %s must list %d numbers" % (what, len(RELIABLE)))
    for x in v:
        if not isinstance(x, int) or isinstance(x, bool) or not 0 <= x <= top:
            raise HelloError("hello: %s value %r out of range" % (what, x))
    return v


def check(msg, role):
    """Validate a peer's hello of our protocol version. Returns nothing; raises
    HelloError with the reason."""
    peer_role = _text(msg, K_ROLE, "role")
    if peer_role not in ROLES:
        raise HelloError("hello: unknown role %r" % peer_role)
    if peer_role == role:
        raise HelloError("hello: both sides say they are the %s" % role)
    _text(msg, K_SW, "software version")
    _text(msg, K_BOARD, "board")
    caps = msg.get(K_CAPS)
    if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
        raise HelloError("hello: capabilities must be a list of text")
    sid = msg.get(K_SID)
    if not isinstance(sid, int) or isinstance(sid, bool) or not 0 <= sid <= SID_MASK:
        raise HelloError("hello: session id missing or out of range")
    peer = msg.get(K_PEER)
    if peer is not None and (not isinstance(peer, int) or isinstance(peer, bool)):
        raise HelloError("hello: peer session id must be a number or null")
    _seq_list(msg, K_RX, "rx", 0xFFFF)
    _seq_list(msg, K_TX, "tx", 0xFFFF)
    _seq_list(msg, K_CREDIT, "credit", MAX_WINDOW)
    if not isinstance(msg.get(K_GOT), bool):
        raise HelloError("hello: 'got' must be true or false")
