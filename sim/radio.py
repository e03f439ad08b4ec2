"""The simulator's radio: a bumble LocalLink with a link model, the glasses' virtual
controller, and controllers for hosts (in-process, or over TCP for another process).

    radio = Radio(LinkSettings(), seed=7)        # inside the running loop
    ble = radio.glasses_ble(kick=driver.kick)    # what bluetooth.BLE() returns now
    ctrl = radio.host_controller("phone")        # an in-process host (see host_tools)
    host, port = await radio.serve_tcp()         # hosts in other processes

What bumble's LocalLink does not model, this module adds (see sim/linkmodel.py): ACL data
waits for connection events and takes air time; a controller completes an HCI data packet
only once it went on air (so a host that sends faster than the link sees its buffers fill,
as on a board); fades, walk-aways and drops end connections with a supervision timeout.
Two fixes to bumble's virtual controller: the legacy advertising interval is counted in
0.625 ms units, and an active scan reports the advertiser's real scan response.

A real controller instead of the virtual one (so a real phone sees the simulated
glasses): `Radio.glasses_ble(transport="usb:0")` opens it with bumble's USB transport. No
link model applies there (the air is real). It needs the hardware and is not tested here.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import random

from bumble import hci, ll
from bumble.controller import Controller, LegacyAdvertiser
from bumble.core import PhysicalTransport
from bumble.link import LocalLink

from sim import linkmodel
from sim.linkmodel import DEFAULT as DEFAULT_SETTINGS

log = logging.getLogger(__name__)

DEFAULT_TCP_PORT = 7101
_ADV_UNIT_S = 0.000625
_EV = hci.HCI_LE_Advertising_Report_Event.EventType
_ADV_TYPE = hci.HCI_LE_Set_Advertising_Parameters_Command.AdvertisingType
REASON_SUPERVISION_TIMEOUT = 0x08


@dataclasses.dataclass
class SimAdvInd(ll.AdvInd):
    """A legacy advertising event as a scanner nearby receives it: the advertising data,
    the scan response it would get by asking, and whether it may connect."""

    scan_response: bytes = b""
    connectable: bool = True
    scannable: bool = True


@dataclasses.dataclass
class _Advertiser(LegacyAdvertiser):
    def _on_timer_fired(self):
        self.send_advertising_data()
        units = max(self.advertising_interval_min, 0x20)
        self.timer_handle = asyncio.get_running_loop().call_later(
            units * _ADV_UNIT_S, self._on_timer_fired)

    def send_advertising_data(self):
        if not self.enabled:
            return
        t = self.advertising_type
        if t not in (_ADV_TYPE.ADV_IND, _ADV_TYPE.ADV_SCAN_IND, _ADV_TYPE.ADV_NONCONN_IND):
            return  # directed advertising is not simulated
        scannable = t != _ADV_TYPE.ADV_NONCONN_IND
        self.controller.send_advertising_pdu(SimAdvInd(
            advertiser_address=self.address, data=self.advertising_data,
            scan_response=self.scan_response_data if scannable else b"",
            connectable=t == _ADV_TYPE.ADV_IND, scannable=scannable))


class SimController(Controller):
    """bumble's virtual controller with LE data length 251, legacy advertising only (as
    MicroPython's NimBLE uses it), a bounded number of ACL buffers that free up only when
    their data went on air, and real scan responses."""

    le_features = Controller.le_features & ~hci.LeFeatureMask.LE_EXTENDED_ADVERTISING
    le_acl_data_packet_length = 251
    supported_max_tx_octets = 251
    supported_max_rx_octets = 251
    suggested_max_tx_octets = 251

    def __init__(self, name, link, acl_buffers=12):
        super().__init__(name, link=link)
        self.total_num_le_acl_data_packets = acl_buffers
        self.le_legacy_advertiser = _Advertiser(self)
        self._hci_in = {}  # connection handle -> HCI packets of the PDU being assembled

    # ---- ACL: complete packets when they went on air --------------------------------
    def on_hci_acl_data_packet(self, packet):
        connection = self.find_connection_by_handle(packet.connection_handle)
        if connection is None:
            log.warning("%s: ACL data for unknown handle 0x%04X", self.name,
                        packet.connection_handle)
            return
        h = connection.handle
        self._hci_in[h] = self._hci_in.get(h, 0) + 1
        connection.assembler.feed_packet(packet)  # whole PDU -> link.send_acl_data

    def take_hci_count(self, handle):
        return self._hci_in.pop(handle, 0)

    def complete_packets(self, handle, count):
        if count and self.find_connection_by_handle(handle) is not None:
            self.send_hci_packet(hci.HCI_Number_Of_Completed_Packets_Event(
                connection_handles=[handle], num_completed_packets=[count]))

    def on_le_disconnected(self, connection, reason):
        self._hci_in.pop(connection.handle, None)
        super().on_le_disconnected(connection, reason)

    def on_hci_le_create_connection_cancel_command(self, command):
        # bumble's controller forgets to end the pending connection (Core Vol 4, Part E
        # 7.8.13: the cancelled connection completes with Unknown Connection Identifier).
        pending = self.pending_le_connection
        if pending is not None:
            self.pending_le_connection = None
            self.send_hci_packet(hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                connection_handle=0, role=hci.Role.CENTRAL,
                peer_address_type=pending.peer_address_type,
                peer_address=pending.peer_address, connection_interval=0,
                peripheral_latency=0, supervision_timeout=0, central_clock_accuracy=0))
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    # ---- advertising reports with the real scan response ----------------------------
    def on_ll_advertising_pdu(self, packet):
        if isinstance(packet, SimAdvInd):
            self._on_sim_adv(packet)
        else:
            super().on_ll_advertising_pdu(packet)

    def _on_sim_adv(self, pdu):
        if self.le_scan_enable:
            ev = _EV.ADV_IND if pdu.connectable else (
                _EV.ADV_SCAN_IND if pdu.scannable else _EV.ADV_NONCONN_IND)
            reports = [hci.HCI_LE_Advertising_Report_Event.Report(
                event_type=ev, address_type=pdu.advertiser_address.address_type,
                address=pdu.advertiser_address, data=pdu.data, rssi=-50)]
            active = self.le_scan_type == hci.HCI_LE_Set_Scan_Parameters_Command.ACTIVE_SCANNING
            if active and pdu.scannable:
                reports.append(hci.HCI_LE_Advertising_Report_Event.Report(
                    event_type=_EV.SCAN_RSP, address_type=pdu.advertiser_address.address_type,
                    address=pdu.advertiser_address, data=pdu.scan_response, rssi=-50))
            for r in reports:
                self.send_hci_packet(hci.HCI_LE_Advertising_Report_Event([r]))
        pending = self.pending_le_connection
        if pdu.connectable and pending is not None and \
                pending.peer_address == pdu.advertiser_address:
            self.create_le_connection(pdu.advertiser_address)


class PacedLink(LocalLink):
    """bumble's LocalLink with the link model (sim/linkmodel.py) on every LE connection."""

    def __init__(self, settings=DEFAULT_SETTINGS, seed=0, loop=None):
        super().__init__()
        self.loop = loop or asyncio.get_running_loop()
        self.settings = settings
        self.rng = random.Random(seed)
        self.connections = {}  # address pair -> linkmodel.Connection
        self.away = {}  # controller -> loop time until which it is out of range
        self.fades = 0
        self.drops = 0
        self.on_drop = []  # callbacks(connection model, reason)

    def is_away(self, controller):
        until = self.away.get(controller)
        return until is not None and self.loop.time() < until

    # ---- advertising and connection set-up -------------------------------------------
    def send_advertising_pdu(self, sender_controller, packet):
        if self.is_away(sender_controller):
            return
        if isinstance(packet, ll.ConnectInd):
            self._on_connect_ind(sender_controller, packet)
        for c in self.controllers:
            if c is not sender_controller and not self.is_away(c):
                self.loop.call_soon(c.on_ll_advertising_pdu, packet)

    def _on_connect_ind(self, central, packet):
        peripheral = self.find_le_controller(packet.advertiser_address)
        if peripheral is None:
            return
        key = linkmodel._key(packet.initiator_address, packet.advertiser_address)
        old = self.connections.pop(key, None)
        if old is not None:
            old.close()
        self.connections[key] = linkmodel.Connection(
            self, central, packet.initiator_address, peripheral, packet.advertiser_address,
            packet.interval, packet.timeout, random.Random(self.rng.random()))

    def model_for(self, controller, peer_address):
        """The link model of `controller`'s LE connection to `peer_address`, or None."""
        conn = controller.le_connections.get(peer_address)
        if conn is None:
            return None
        return self.connections.get(linkmodel._key(conn.self_address, peer_address))

    # ---- data ------------------------------------------------------------------------
    def send_acl_data(self, sender_controller, destination_address, transport, data):
        conn = None
        model = None
        if transport == PhysicalTransport.LE:
            conn = sender_controller.le_connections.get(destination_address)
            if conn is not None:
                model = self.connections.get(
                    linkmodel._key(conn.self_address, destination_address))
        if model is None:  # not a modelled connection: bumble's own immediate delivery
            super().send_acl_data(sender_controller, destination_address, transport, data)
            if conn is not None and isinstance(sender_controller, SimController):
                sender_controller.complete_packets(
                    conn.handle, sender_controller.take_hci_count(conn.handle))
            return
        n = sender_controller.take_hci_count(conn.handle) \
            if isinstance(sender_controller, SimController) else 0
        model.submit(sender_controller, conn.handle, data, n)

    def deliver(self, model, sdu):
        sdu.dest.on_link_acl_data(sdu.src_addr, PhysicalTransport.LE, sdu.data)
        if isinstance(sdu.sender, SimController):
            sdu.sender.complete_packets(sdu.handle, sdu.hci_packets)

    def send_ll_control_pdu(self, sender_address, receiver_address, packet):
        model = self.connections.get(linkmodel._key(sender_address, receiver_address))
        if model is not None:
            if self.loop.time() < model.faded_until:
                # Out of range: nothing arrives. A side that already let go leaves the
                # other to its supervision timeout.
                if isinstance(packet, ll.TerminateInd):
                    model.fade(float("inf"))
                return
            if isinstance(packet, ll.TerminateInd):
                model.close()
                self.connections.pop(model.key(), None)
            elif isinstance(packet, ll.ConnectionUpdateInd):
                model.set_parameters(packet.interval, packet.timeout)
            elif isinstance(packet, ll.StartEncRsp):
                model.encrypted = True
        super().send_ll_control_pdu(sender_address, receiver_address, packet)

    # ---- faults ----------------------------------------------------------------------
    def drop(self, model, reason=REASON_SUPERVISION_TIMEOUT):
        """End a connection on both sides at once (as a supervision timeout does)."""
        if self.connections.get(model.key()) is model:
            del self.connections[model.key()]
        if not model.alive:
            return
        model.close()
        self.drops += 1
        for ctrl, peer in ((model.central, model.peripheral_addr),
                           (model.peripheral, model.central_addr)):
            c = ctrl.le_connections.get(peer)
            if c is not None:
                ctrl.on_le_disconnected(c, reason)
        for cb in list(self.on_drop):
            cb(model, reason)

    def walk_away(self, controller, seconds):
        """`controller` is out of range for `seconds`: its connections fade (and time
        out if that lasts the supervision timeout), its advertising is not heard."""
        self.away[controller] = self.loop.time() + seconds
        for model in list(self.connections.values()):
            if controller in (model.central, model.peripheral):
                model.fade(seconds)


class Radio:
    """One simulated radio neighbourhood: the glasses and the hosts around them. Create it
    inside the running loop (virtual-time or real-time)."""

    def __init__(self, settings=DEFAULT_SETTINGS, seed=0, glasses_acl_buffers=12):
        self.loop = asyncio.get_running_loop()
        self.seed = seed
        self.link = PacedLink(settings, seed, self.loop)
        self.glasses_controller = SimController("glasses", self.link, glasses_acl_buffers)
        self.host_controllers = []
        self.ble = None
        self._servers = []

    @property
    def settings(self):
        return self.link.settings

    # ---- the glasses -----------------------------------------------------------------
    def glasses_ble(self, kick=None, address=None, tx_buffers=24, transport=None,
                    gap_appearance=0):
        """Create the glasses' `bluetooth.BLE` (the mirror) on this radio and make it what
        `bluetooth.BLE()` returns. `kick` is called after every IRQ (the firmware driver's
        kick). `address`: the random static address (default: derived from the seed).
        `transport`: a bumble transport moniker (e.g. "usb:0") to use a real controller
        instead of the virtual one (call `await ble.open_transport()` before active())."""
        from sim.mirror import bluetooth
        if address is None:
            address = _static_address(random.Random("glasses-%d" % self.seed))
        sink_source = None if transport is not None else self.glasses_controller
        self.ble = bluetooth.attach(self.loop, sink_source, address, kick=kick,
                                    tx_buffers=tx_buffers, transport=transport,
                                    gap_appearance=gap_appearance)
        return self.ble

    # ---- hosts -----------------------------------------------------------------------
    def host_controller(self, name="host", acl_buffers=16):
        """A further virtual controller on this link, for an in-process host."""
        c = SimController(name, self.link, acl_buffers)
        self.host_controllers.append(c)
        return c

    async def serve_tcp(self, host="127.0.0.1", port=DEFAULT_TCP_PORT, announce=print):
        """Expose virtual host controllers on a TCP port (H4 framing, what bumble's
        `tcp-client:HOST:PORT` transport speaks): each client connection gets its own
        controller on this link. Needs a real-time loop (another process cannot follow
        virtual time). Returns (host, port)."""
        server = await asyncio.start_server(self._on_tcp_client, host, port)
        self._servers.append(server)
        h, p = server.sockets[0].getsockname()[:2]
        if announce is not None:
            announce("radio: hosts connect with `glasses scan --radio virtual:%s:%d` "
                     "(bumble transport tcp-client:%s:%d)" % (h, p, h, p))
        return h, p

    async def _on_tcp_client(self, reader, writer):
        from bumble.transport.common import PacketParser
        ctrl = self.host_controller("tcp-%d" % len(self.host_controllers))

        class _Sink:
            def on_packet(self, packet):
                if not writer.is_closing():
                    writer.write(packet)

        ctrl.host = _Sink()
        parser = PacketParser(ctrl)
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                parser.feed_data(data)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            ctrl.host = None
            for model in list(self.link.connections.values()):
                if ctrl in (model.central, model.peripheral):
                    self.link.drop(model, REASON_SUPERVISION_TIMEOUT)
            if ctrl in self.link.controllers:
                self.link.remove_controller(ctrl)
            writer.close()

    async def close(self):
        for s in self._servers:
            s.close()
            await s.wait_closed()
        self._servers.clear()

    # ---- faults and figures ----------------------------------------------------------
    def glasses_connections(self):
        g = self.glasses_controller
        return [m for m in self.link.connections.values() if g in (m.central, m.peripheral)]

    def drop(self, reason=REASON_SUPERVISION_TIMEOUT):
        """Drop every connection of the glasses now (both sides see `reason`)."""
        n = 0
        for model in self.glasses_connections():
            self.link.drop(model, reason)
            n += 1
        return n

    def walk_away(self, seconds):
        """The wearer walks out of range for `seconds`."""
        self.link.walk_away(self.glasses_controller, seconds)


def _static_address(rng):
    """A random static address: two top bits set (Core Vol 6, Part B 1.3.2.1)."""
    b = bytearray(rng.getrandbits(8) for _ in range(6))
    b[0] |= 0xC0
    return hci.Address(":".join("%02X" % x for x in b), hci.Address.RANDOM_DEVICE_ADDRESS)
