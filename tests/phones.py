"""Two bonded phones taking turns with the glasses, messages in flight both ways while
each walks out of range (the simulated radio fades its connection): the scenario the
per-phone-session test and `make bench`'s cross_phone_leaks share.

Each phone numbers what it sends ("from", [name, n]); the glasses number what they send
to whichever phone is linked ("to", [name, n]) and record what reaches them by the bond
of the phone on the link. Afterwards each side must hold exactly the other side's
numbers for it, in order, none missing, none repeated, nothing of the other phone's.
"""
import asyncio
import random

from firmware.protocol import kinds
from firmware.protocol.channels import EVENTS
from host_tools.phone.link import Phone
from host_tools.radio import open_radio


class Turns:
    def __init__(self, rig, tmp, seed=0):
        self.rig = rig
        self.tmp = tmp
        self.rng = random.Random(seed)
        self.phones = {}  # name -> Phone
        self.ctrl = {}  # name -> its host controller (to walk it away)
        self.sent_to = {}  # name -> numbers the glasses queued for it
        self.sent_from = {}  # name -> numbers the phone queued
        self.got_phone = {}  # name -> numbers it received
        self.got_glasses = {}  # bond key -> [(name, n)] received from the linked phone
        self.key_of = {}  # name -> bond key

    def add_phone(self, name, phone=None):
        if phone is None:
            radio = open_radio(radio=self.rig.world.radio,
                               config_dir_path=str(self.tmp / name))
            phone = Phone(radio, clock=self.rig.world.fw_clock, phone_name=name,
                          announce=lambda text: None, backoff_s=(0.2, 2.0))
            self.rig._tasks.append(self.rig.loop.create_task(phone.run()))
        self.phones[name] = phone
        self.ctrl[name] = phone.radio.adapter.controller
        for d in (self.sent_to, self.sent_from, self.got_phone):
            d[name] = []
        phone.on("event", lambda topic, p, _n=name: self._at_phone(_n, topic, p))
        return phone

    def wire_glasses(self):
        link = self.rig.glasses.app.link
        link.route(kinds.EVENT, lambda m: self.got_glasses.setdefault(
            link.owner, []).append(tuple(m.get(2))))

    def _at_phone(self, name, topic, payload):
        if topic == "to":
            self.got_phone[name].append(tuple(payload))

    def away(self, name, seconds):
        self.rig.world.radio.link.walk_away(self.ctrl[name], seconds)

    def burst(self, name, n):
        """The glasses queue up to n for the linked phone, it queues n for them."""
        link = self.rig.glasses.app.link
        p = self.phones[name]
        self.key_of[name] = link.owner
        for _ in range(n):
            k = len(self.sent_to[name])
            if link.send(EVENTS, kinds.event("to", [name, k])):
                self.sent_to[name].append(k)
            k = len(self.sent_from[name])
            if p.send(EVENTS, kinds.event("from", [name, k])):
                self.sent_from[name].append(k)

    async def settle(self, timeout_s=120):
        """Until everything queued has arrived (or timeout)."""
        end = self.rig.loop.time() + timeout_s
        while self.rig.loop.time() < end:
            if self.complete():
                return True
            await asyncio.sleep(0.2)
        return self.complete()

    def complete(self):
        for name in self.phones:
            if [n for _, n in self.got_phone[name]] != self.sent_to[name]:
                return False
            if [n for _, n in self.got_glasses.get(self.key_of.get(name), [])] != \
                    self.sent_from[name]:
                return False
        return True

    def leaks(self):
        """(messages that reached the wrong phone or the wrong session, messages in all)."""
        bad = 0
        total = 0
        for name in self.phones:
            got = self.got_phone[name]
            bad += sum(1 for who, _ in got if who != name)
            total += len(got)
            at = self.got_glasses.get(self.key_of.get(name), [])
            bad += sum(1 for who, _ in at if who != name)
            total += len(at)
        return bad, total
