"""Notifications on the phone's side of the link: `attach(phone)` joins the notification
API (host_tools/notify/client.py: NotificationClient, ActionReceiver) to a running Phone
(host_tools/phone/link.py), answers the glasses' time requests, and keeps the events they send
(gestures, wear, battery, faults).

    phone = Phone(radio)
    notes = attach(phone, on_action=print)           # before or after phone.run() starts
    reply = await notes.send(app="Chat", title="Ana", body="Running late")
    reply.outcome                                     # accepted / cut / duplicate / ...
    reply = await send_notification(phone, app="Mail", title="Invoice")   # the same

Wiring on the Phone: the REPLY and ACTION kinds (firmware/notify/wire.py) and TIME_REQ
(firmware/protocol/kinds.py) are routed here; the Phone's `on_event` is chained (a handler
already there still gets every event). Nothing in phone.py changes.

Time: the glasses ask (TIME_REQ) at every link open until they have the time, and every
6 hours; the answer is TIME {1: unix seconds, 2: UTC offset minutes} from `local_time()`
(the computer's clock by default). `send_time()` pushes it unasked, e.g. after the phone's
time zone changed.
"""
from __future__ import annotations

import asyncio
import collections
import time
from typing import Any, Callable, Optional

import host_tools  # noqa: F401  (MicroPython mirrors for the shared firmware code)
from firmware.protocol import kinds
from firmware.protocol.channels import CONTROL, EVENTS
from firmware.notify import model, wire
from host_tools.errors import OutboxFull
from host_tools.notify.client import Action, NotificationClient, NotificationError, Reply, new_id
from host_tools.phone.link import system_local_time

__all__ = ["NotifyHost", "attach", "send_notification", "system_local_time",
           "NotificationError"]


def note_fields(**fields) -> dict:
    """A notification's fields with the phone's defaults: a fresh id, the time now, body
    "", priority normal, category other. A field given as None counts as left out (then
    the model says it is missing, if it is required)."""
    f = {"id": new_id(), "ts": int(time.time()), "body": "", "priority": "normal",
         "category": "other"}
    for k, v in fields.items():
        if v is None:
            f.pop(k, None)
        else:
            f[k] = v
    return f


class _PhoneEvents:
    """NotificationClient's session: one message on the events channel."""

    def __init__(self, phone):
        self.phone = phone

    def send_event(self, obj):
        if not self.phone.send(EVENTS, obj):
            raise OutboxFull("the events outbox to the glasses is full")


class NotifyHost:
    def __init__(self, phone, on_action: Optional[Callable[[Action], None]] = None,
                 on_reply: Optional[Callable[[Reply], None]] = None,
                 on_event: Optional[Callable[[str, Any], None]] = None,
                 state_path: Optional[str] = None,
                 local_time: Optional[Callable[[], tuple]] = None, keep: int = 1024):
        self.phone = phone
        self.user_action = on_action
        self.user_reply = on_reply
        self.user_event = on_event
        self.local_time = local_time or getattr(phone, "local_time", system_local_time)
        self.client = NotificationClient(_PhoneEvents(phone), on_action=self._on_action,
                                         on_reply=self._on_reply, state_path=state_path)
        self.actions: collections.deque = collections.deque(maxlen=keep)  # each action once
        self.replies: collections.deque = collections.deque(maxlen=keep)  # every reply
        self.events: collections.deque = collections.deque(maxlen=keep)  # (topic, payload)
        self.time_sent = 0
        self._waiters: dict = {}  # notification id -> [futures], first reply each
        phone.route(wire.T_REPLY, self.client.handle_event)
        phone.route(wire.T_ACTION, self.client.handle_event)
        phone.route(kinds.TIME_REQ, lambda _msg: self.send_time())
        phone.on("event", self._on_event)
        phone.notify = self

    # ---- from the glasses ----------------------------------------------------------------
    def _on_action(self, action: Action) -> None:
        self.actions.append(action)
        if self.user_action is not None:
            self.user_action(action)

    def _on_reply(self, reply: Reply) -> None:
        self.replies.append(reply)
        futs = self._waiters.get(reply.id)
        if futs:
            fut = futs.pop(0)
            if not futs:
                del self._waiters[reply.id]
            if not fut.done():
                fut.set_result(reply)
        if self.user_reply is not None:
            self.user_reply(reply)

    def _on_event(self, topic, payload) -> None:
        self.events.append((topic, payload))
        if self.user_event is not None:
            self.user_event(topic, payload)

    def events_of(self, topic: str) -> list:
        return [p for t, p in self.events if t == topic]

    # ---- to the glasses --------------------------------------------------------------------
    def send_time(self) -> bool:
        unix_s, offset_min = self.local_time()
        self.time_sent += 1
        return self.phone.send(CONTROL, {kinds.K: kinds.TIME, 1: int(unix_s),
                                         2: int(offset_min)})

    async def send(self, note: Any = None, timeout_s: float = 10.0, **fields) -> Reply:
        """Validate and send one notification (a Notification, a map of fields, or the
        fields as keywords: app, title, body, priority, category, actions, asks, id, ts,
        defaults as note_fields()); return the glasses' first
        reply about it, with `.cuts` saying what was cut here before sending. Raises
        NotificationError (nothing sent) for what the glasses would refuse, OutboxFull,
        asyncio.TimeoutError when no reply came."""
        cut_here: list = []
        if note is None:
            note, cut_here = model.check(note_fields(**fields))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            try:
                sent, cuts = self.client.send(note)
                cuts = list(cut_here) + list(cuts)
                break
            except OutboxFull:
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(0.05)  # the outbox drains as the glasses acknowledge
        fut = loop.create_future()
        self._waiters.setdefault(sent.id, []).append(fut)
        try:
            reply = await asyncio.wait_for(fut, max(0.0, deadline - loop.time()))
        finally:
            futs = self._waiters.get(sent.id)
            if futs and fut in futs:
                futs.remove(fut)
                if not futs:
                    del self._waiters[sent.id]
        if cuts:
            reply = Reply(reply.id, reply.outcome, reply.detail, list(cuts))
        return reply

    def set_rules(self, rules: dict) -> dict:
        return self.client.set_rules(rules)

    def set_dnd(self, on: bool) -> None:
        self.client.set_dnd(on)


def attach(phone, **kw) -> NotifyHost:
    """Notifications on this Phone (see NotifyHost for the keywords)."""
    return NotifyHost(phone, **kw)


async def send_notification(phone, timeout_s: float = 10.0, **fields) -> Reply:
    """Send one notification through a running Phone and return the glasses' reply.
    fields: app, title, body, priority, category, actions, asks, id, ts (see
    note_fields). The CLI's "through the running host" plumbing calls
    this; it attaches the notification feature to the Phone if nothing did yet."""
    host = getattr(phone, "notify", None)
    if not isinstance(host, NotifyHost):
        host = attach(phone)
    return await host.send(timeout_s=timeout_s, **fields)
