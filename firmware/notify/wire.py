# The notification messages on the events channel (CBOR maps, key 0 = message type).
# Shared by the glasses and the host tools.
#
#   host -> glasses
#     NOTIFY  {0: 1, 1: notification (model.to_wire)}
#     ACK     {0: 4, 1: [action id, ...]}            the host has these actions, for good
#     RULES   {0: 5, 1: rules (rules.check)}         replaces the rules; answered by a REPLY
#     DND     {0: 6, 1: true | false}                do-not-disturb on / off
#   glasses -> host
#     REPLY   {0: 2, 1: id | null, 2: outcome, 3: detail}
#             one per outcome of a received notification: accepted / duplicate / cut /
#             dropped (also for an older one evicted to make room) / rejected
#     ACTION  {0: 3, 1: action id, 2: kind, 3: notification id | null, 4: value}
#             sent until acknowledged (again after a reset or a reconnect)
from micropython import const

T = const(0)
T_NOTIFY = const(1)
T_REPLY = const(2)
T_ACTION = const(3)
T_ACK = const(4)
T_RULES = const(5)
T_DND = const(6)
TYPE_NAMES = {T_NOTIFY: "notify", T_REPLY: "reply", T_ACTION: "action", T_ACK: "ack",
              T_RULES: "rules", T_DND: "dnd"}

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
CUT = "cut"
DROPPED = "dropped"
REJECTED = "rejected"
OUTCOMES = (ACCEPTED, DUPLICATE, CUT, DROPPED, REJECTED)

# Action kinds.
A_READ = "read"  # tap: the notification was read out
A_ACTION = "action"  # double tap: its first action; value = the label
A_ANSWER = "answer"  # nod / shake on a notification that asks; value = "yes" | "no"
A_DISMISS_ALL = "dismiss_all"  # long press; value = the ids dismissed
ACTION_KINDS = (A_READ, A_ACTION, A_ANSWER, A_DISMISS_ALL)

# Reply and action fields.
R_ID = const(1)
R_OUTCOME = const(2)
R_DETAIL = const(3)
A_AID = const(1)
A_KIND = const(2)
A_NID = const(3)
A_VALUE = const(4)


def notify(note_wire):
    return {T: T_NOTIFY, 1: note_wire}


def reply(nid, outcome, detail=None):
    m = {T: T_REPLY, R_ID: nid, R_OUTCOME: outcome}
    if detail is not None:
        m[R_DETAIL] = detail
    return m


def action(aid, kind, nid, value):
    return {T: T_ACTION, A_AID: aid, A_KIND: kind, A_NID: nid, A_VALUE: value}


def ack(aids):
    return {T: T_ACK, 1: list(aids)}


def rules(r):
    return {T: T_RULES, 1: r}


def dnd(on):
    return {T: T_DND, 1: bool(on)}


def msg_type(m):
    """The message type, or None for something that is not one of these messages."""
    if isinstance(m, dict):
        t = m.get(T)
        if t in TYPE_NAMES:
            return t
    return None
