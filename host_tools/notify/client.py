"""The phone side of notifications: forward the phone's notifications to the glasses and
receive what the wearer did with them.

The session (the lead's link layer) needs only this interface::

    class Session(Protocol):
        def send_event(self, obj) -> None: ...   # one CBOR-able message, events channel

and the link calls ``NotificationClient.handle_event(obj)`` with each message from the
glasses' events channel (it returns False for messages that are not about notifications).

Validation is the firmware's own code (``firmware.notify.model``): a notification the
glasses would refuse is refused here, before anything is sent, with the same reason.

Actions come back at least once (the glasses resend until acknowledged, also after a
reset); ``ActionReceiver`` acknowledges every copy and hands each action id to the app
exactly once. With ``state_path`` the ids seen survive a restart of the host too (a host
crash inside the app's callback, before the id is saved, gets the action again).
"""
from __future__ import annotations

import json
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.notify import model, rules, wire
from firmware.notify.model import Notification, NotificationError

__all__ = ["Session", "Reply", "Action", "NotificationClient", "ActionReceiver", "build",
           "NotificationError", "new_id"]


class Session(Protocol):
    def send_event(self, obj: Any) -> None: ...


@dataclass
class Reply:
    """The glasses' answer about one notification (or about the rules / DND)."""

    id: Optional[str]
    outcome: str  # accepted / cut / duplicate / dropped / rejected
    detail: Any = None
    cuts: list = field(default_factory=list)  # what the phone cut before sending

    def as_dict(self) -> dict:
        return {"id": self.id, "outcome": self.outcome, "detail": self.detail,
                "cuts": list(self.cuts)}

    @property
    def delivered(self) -> bool:
        """The notification is (or was) on the glasses."""
        return self.outcome in (wire.ACCEPTED, wire.CUT, wire.DUPLICATE)


@dataclass
class Action:
    aid: str
    kind: str  # read / action / answer / dismiss_all
    notification_id: Optional[str]
    value: Any


def new_id(prefix: str = "h") -> str:
    """A notification id unique enough for one phone (time-based)."""
    return "%s%x" % (prefix, time.time_ns() // 1000)


def build(app: str, title: str, body: str = "", priority: str = "normal",
          category: str = "other", actions: Optional[list] = None, asks: Optional[str] = None,
          id: Optional[str] = None, ts: Optional[int] = None,
          limits: Optional[dict] = None) -> tuple[Notification, list[str]]:
    """A validated notification and the list of what had to be cut; raises
    NotificationError with the glasses' reason for anything they would refuse."""
    fields: dict[str, Any] = {
        "id": id if id is not None else new_id(), "app": app, "title": title, "body": body,
        "priority": priority, "category": category, "actions": actions or [],
        "ts": int(time.time()) if ts is None else ts}
    if asks is not None:
        fields["asks"] = asks
    return model.check(fields, limits)


class ActionReceiver:
    """Acknowledges every action message and delivers each action id once."""

    def __init__(self, session: Session, on_action: Callable[[Action], None],
                 remember: int = 4096, state_path: Optional[str] = None):
        self.session = session
        self.on_action = on_action
        self.remember = remember
        self.state_path = state_path
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.duplicates = 0
        self.acks_lost = 0
        if state_path and os.path.exists(state_path):
            with open(state_path, encoding="utf-8") as f:
                for aid in json.load(f).get("seen", []):
                    self.seen[aid] = None

    def _save(self) -> None:
        if not self.state_path:
            return
        tmp = self.state_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"seen": list(self.seen)}, f)
        os.replace(tmp, self.state_path)

    def handle(self, msg: dict) -> bool:
        """One ACTION message; True if it was new. The app gets it first, then the id is
        remembered, then acknowledged: if the app's callback raises, nothing is
        acknowledged and the glasses' next resend retries it."""
        aid = msg.get(wire.A_AID)
        if not isinstance(aid, str):
            raise ValueError("action message without an action id: %r" % (msg,))
        new = aid not in self.seen
        if new:
            self.on_action(Action(aid, msg.get(wire.A_KIND), msg.get(wire.A_NID),
                                  msg.get(wire.A_VALUE)))
            self.seen[aid] = None
            while len(self.seen) > self.remember:
                self.seen.popitem(last=False)
            self._save()
        else:
            self.duplicates += 1
        try:
            self.session.send_event(wire.ack([aid]))
        except OSError:
            self.acks_lost += 1  # harmless: the glasses send it again, it is acked then
        return new


@dataclass
class _Sent:
    note: Notification
    replies: list = field(default_factory=list)


class NotificationClient:
    """Send notifications, rules and DND to the glasses; route what comes back."""

    def __init__(self, session: Session, on_action: Optional[Callable[[Action], None]] = None,
                 on_reply: Optional[Callable[[Reply], None]] = None,
                 limits: Optional[dict] = None, state_path: Optional[str] = None):
        self.session = session
        self.on_reply = on_reply
        self.limits = limits
        self.actions: list[Action] = []
        self.receiver = ActionReceiver(session, on_action or self.actions.append,
                                       state_path=state_path)
        self.sent: dict[str, _Sent] = {}  # id -> what was sent and the replies about it
        self.other_replies: list[Reply] = []  # rules / dnd / bad messages

    # ---- sending ------------------------------------------------------------------------
    def send(self, note: Notification | dict) -> tuple[Notification, list[str]]:
        """Validate (a Notification or a map of fields) and send. Raises NotificationError
        before sending anything the glasses would refuse."""
        if isinstance(note, Notification):
            note, cuts = model.from_wire(note.to_wire(), self.limits)
        else:
            note, cuts = model.check(note, self.limits)
        self.sent[note.id] = _Sent(note)
        self.session.send_event(wire.notify(note.to_wire()))
        return note, cuts

    def set_rules(self, r: dict) -> dict:
        checked = rules.check_rules(r)  # RulesError before sending
        self.session.send_event(wire.rules(checked))
        return checked

    def set_dnd(self, on: bool) -> None:
        self.session.send_event(wire.dnd(on))

    def unanswered(self) -> list[str]:
        return [i for i, s in self.sent.items() if not s.replies]

    def resend_unanswered(self) -> int:
        """After a reconnect: send again what got no reply (the glasses answer "duplicate"
        for what they already had)."""
        ids = self.unanswered()
        for i in ids:
            self.session.send_event(wire.notify(self.sent[i].note.to_wire()))
        return len(ids)

    # ---- receiving ----------------------------------------------------------------------
    def handle_event(self, msg: Any) -> bool:
        t = wire.msg_type(msg)
        if t == wire.T_REPLY:
            r = Reply(msg.get(wire.R_ID), msg.get(wire.R_OUTCOME), msg.get(wire.R_DETAIL))
            s = self.sent.get(r.id) if isinstance(r.id, str) else None
            if s is not None:
                s.replies.append(r)
            else:
                self.other_replies.append(r)
            if self.on_reply is not None:
                self.on_reply(r)
            return True
        if t == wire.T_ACTION:
            self.receiver.handle(msg)
            return True
        return False

    def outcome(self, nid: str) -> Optional[Reply]:
        """The latest reply about a notification (None while unanswered)."""
        s = self.sent.get(nid)
        return s.replies[-1] if s and s.replies else None
