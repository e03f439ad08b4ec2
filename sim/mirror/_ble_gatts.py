"""The GATT server half of the `bluetooth` mirror: MicroPython's attribute database
(value buffers, write IRQs, read requests) on bumble's GATT server, and notifications
and indications with NimBLE's buffer limit. Mixed into bluetooth.BLE."""
from __future__ import annotations

import errno

from bumble import att, gatt, gatt_server
from bumble.core import UUID as _BUUID

FLAG_BROADCAST = 0x0001
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020
FLAG_AUTHENTICATED_SIGNED_WRITE = 0x0040
FLAG_AUX_WRITE = 0x0100
FLAG_READ_ENCRYPTED = 0x0200
FLAG_READ_AUTHENTICATED = 0x0400
FLAG_READ_AUTHORIZED = 0x0800
FLAG_WRITE_ENCRYPTED = 0x1000
FLAG_WRITE_AUTHENTICATED = 0x2000
FLAG_WRITE_AUTHORIZED = 0x4000

_IRQ_GATTS_WRITE = 3
_IRQ_GATTS_READ_REQUEST = 4
_IRQ_GATTS_INDICATE_DONE = 20
_DEFAULT_BUFFER = 20  # MicroPython's default attribute buffer
_ENC_FLAGS = FLAG_READ_ENCRYPTED | FLAG_WRITE_ENCRYPTED
_P = att.Attribute.Permissions


class QuietServer(gatt_server.Server):
    """bumble's GATT server, but a write command (no response) that the link's security
    does not allow is dropped without a word, as NimBLE drops it (bumble would log a
    traceback for each). Counted in `refused_writes`."""

    refused_writes = 0

    def on_att_write_command(self, bearer, request):
        # bumble's handler runs itself in a task (AsyncRunner); this check runs first
        a = self.get_attribute(request.attribute_handle)
        conn = bearer.connection if att.is_enhanced_bearer(bearer) else bearer
        if a is not None and conn is not None and (
                (a.permissions & _P.WRITE_REQUIRES_ENCRYPTION and not conn.encryption) or
                (a.permissions & _P.WRITE_REQUIRES_AUTHENTICATION and
                 not conn.authenticated)):
            self.refused_writes += 1
            return None
        return super().on_att_write_command(bearer, request)


class UUID:
    """bluetooth.UUID: a 16-bit int, a 128-bit string, or 2/4/16 little-endian bytes."""

    def __init__(self, value):
        if isinstance(value, UUID):
            b = value._b
        elif isinstance(value, int):
            if 0 <= value <= 0xFFFF:
                b = value.to_bytes(2, "little")
            elif 0 <= value <= 0xFFFFFFFF:
                b = value.to_bytes(4, "little")
            else:
                raise ValueError("invalid UUID")
        elif isinstance(value, str):
            h = value.replace("-", "")
            if len(h) != 32:
                raise ValueError("invalid UUID")
            try:
                b = bytes.fromhex(h)[::-1]
            except ValueError:
                raise ValueError("invalid UUID") from None
        elif isinstance(value, (bytes, bytearray, memoryview)):
            b = bytes(value)
            if len(b) not in (2, 4, 16):
                raise ValueError("invalid UUID")
        else:
            raise TypeError("UUID needs an int, a str or a buffer")
        self._b = b

    def __bytes__(self):
        return self._b

    def __eq__(self, other):
        return isinstance(other, UUID) and other._b == self._b

    def __hash__(self):
        return hash(self._b)

    def __repr__(self):
        if len(self._b) != 16:
            return "UUID(0x%x)" % int.from_bytes(self._b, "little")
        h = self._b[::-1].hex()
        return "UUID('%s-%s-%s-%s-%s')" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])

    def _bumble(self):
        return _BUUID.from_bytes(self._b)


class _Attr:
    def __init__(self, handle, flags, is_descriptor):
        self.handle = handle
        self.flags = flags
        self.value = b""
        self.cap = _DEFAULT_BUFFER
        self.append = False
        self.is_descriptor = is_descriptor
        self.obj = None  # the bumble attribute


class GattsMixin:
    """Uses the BLE object's _device, _loop, _conns, _advertising, tx_buffers, _fire,
    _conn, _need_active and _install_ltk_hook."""

    # ---- GATT server -------------------------------------------------------------------
    def _new_gatt_server(self):
        d = self._device
        d.gatt_server = QuietServer(d)
        d.add_default_services()
        gap = d.gatt_server.get_characteristic_attributes(
            gatt.GATT_GENERIC_ACCESS_SERVICE, gatt.GATT_APPEARANCE_CHARACTERISTIC)
        if gap is not None:  # a build setting on the board, not an API (attach())
            gap[1].value = self.gap_appearance.to_bytes(2, "little")
        d.gatt_server.max_mtu = self._mtu
        self._install_ltk_hook()

    def gatts_register_services(self, services_definition):
        if self._advertising or self._conns:
            raise OSError(errno.EBUSY, "stop advertising and disconnect before registering "
                                       "services")
        self._install_ltk_hook()
        self._new_gatt_server()
        self._attrs = {}
        built = []
        plan = []
        for svc in services_definition:
            if not isinstance(svc, (tuple, list)) or len(svc) != 2:
                raise TypeError("a service is (UUID, (characteristic, ...))")
            suuid, chars = svc
            chrs = []
            entries = []
            for ch in chars:
                if not isinstance(ch, (tuple, list)) or len(ch) not in (2, 3):
                    raise TypeError("a characteristic is (UUID, flags[, descriptors])")
                cuuid, cflags = ch[0], ch[1]
                a = _Attr(0, cflags, False)
                descs = []
                dattrs = []
                for dsc in (ch[2] if len(ch) == 3 else ()):
                    if not isinstance(dsc, (tuple, list)) or len(dsc) != 2:
                        raise TypeError("a descriptor is (UUID, flags)")
                    da = _Attr(0, dsc[1], True)
                    da.obj = gatt.Descriptor(_uuid(dsc[0])._bumble(), _perms(dsc[1]),
                                             self._value(da))
                    descs.append(da.obj)
                    dattrs.append(da)
                a.obj = obj = gatt.Characteristic(
                    _uuid(cuuid)._bumble(), gatt.Characteristic.Properties(cflags & 0x7F),
                    _perms(cflags), self._value(a), descs)
                if cflags & (FLAG_NOTIFY | FLAG_INDICATE) and cflags & _ENC_FLAGS:
                    obj.descriptors = descs + [self._secure_cccd(obj)]
                chrs.append(obj)
                entries.append(a)
                entries.extend(dattrs)
            built.append(gatt.Service(_uuid(suuid)._bumble(), chrs))
            plan.append(entries)
        self._device.add_services(built)
        out = []
        for entries in plan:
            hs = []
            for a in entries:
                a.handle = a.obj.handle
                self._attrs[a.handle] = a
                hs.append(a.handle)
            out.append(tuple(hs))
        return tuple(out)

    def _secure_cccd(self, characteristic):
        srv = self._device.gatt_server
        return gatt.Descriptor(
            gatt.GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR,
            _P.READABLE | _P.WRITEABLE | _P.WRITE_REQUIRES_ENCRYPTION,
            att.AttributeValueV2(
                read=lambda bearer: srv.read_cccd(bearer, characteristic),
                write=lambda bearer, v: srv.write_cccd(bearer, characteristic, v)))

    def _value(self, a):
        def read(connection):
            if not a.flags & FLAG_READ:
                raise att.ATT_Error(att.ATT_READ_NOT_PERMITTED_ERROR, a.handle)
            r = self._fire(_IRQ_GATTS_READ_REQUEST, (connection.handle, a.handle))
            if r:
                raise att.ATT_Error(int(r), a.handle)
            return bytes(a.value)

        def write(connection, value):
            if not a.flags & (FLAG_WRITE | FLAG_WRITE_NO_RESPONSE | FLAG_AUX_WRITE):
                raise att.ATT_Error(att.ATT_WRITE_NOT_PERMITTED_ERROR, a.handle)
            v = bytes(value)
            a.value = (a.value + v)[:a.cap] if a.append else v[:a.cap]
            self._fire(_IRQ_GATTS_WRITE, (connection.handle, a.handle))
        return gatt.CharacteristicValue(read=read, write=write)

    def _attr(self, value_handle):
        a = self._attrs.get(value_handle)
        if a is None:
            raise OSError(errno.EINVAL, "no attribute with handle %r" % (value_handle,))
        return a

    def gatts_read(self, value_handle):
        self._need_active()
        a = self._attr(value_handle)
        v = a.value
        if a.append:
            a.value = b""
        return bytes(v)

    def gatts_write(self, value_handle, data, send_update=False):
        self._need_active()
        a = self._attr(value_handle)
        a.value = bytes(data)
        if len(a.value) > a.cap:
            a.cap = len(a.value)
        if send_update and not a.is_descriptor:
            for st in list(self._conns.values()):
                cccd = self._device.gatt_server.read_cccd(st.c, a.obj)
                try:
                    if cccd[0] & 1 and a.flags & FLAG_NOTIFY:
                        self._notify(st.c, a, a.value)
                    elif cccd[0] & 2 and a.flags & FLAG_INDICATE:
                        self.gatts_indicate(st.c.handle, value_handle)
                except OSError:
                    pass  # NimBLE drops updates it has no buffer for

    def gatts_set_buffer(self, value_handle, length, append=False):
        self._need_active()
        a = self._attr(value_handle)
        a.cap = int(length)
        a.append = bool(append)
        a.value = b""  # MicroPython reallocates the buffer empty

    def _tx_pending(self):
        q = self._device.host.le_acl_packet_queue
        return q.pending if q is not None else 0

    def _notify(self, c, a, value):
        if self._tx_pending() >= self.tx_buffers:
            raise OSError(errno.ENOMEM, "no buffer for the notification")
        v = bytes(value)
        room = c.att_mtu - 3
        if len(v) > room:
            v = v[:room]
            self.notify_truncated += 1
        pdu = att.ATT_Handle_Value_Notification(attribute_handle=a.handle, attribute_value=v)
        self._device.send_l2cap_pdu(c.handle, att.ATT_CID, bytes(pdu))

    def gatts_notify(self, conn_handle, value_handle, data=None):
        self._need_active()
        c = self._conn(conn_handle)
        a = self._attr(value_handle)
        self._notify(c, a, a.value if data is None else data)

    def gatts_indicate(self, conn_handle, value_handle, data=None):
        self._need_active()
        c = self._conn(conn_handle)
        a = self._attr(value_handle)
        if self._tx_pending() >= self.tx_buffers:
            raise OSError(errno.ENOMEM, "no buffer for the indication")
        value = bytes(a.value if data is None else data)[:c.att_mtu - 3]
        srv = self._device.gatt_server

        async def indicate():
            status = 0
            try:
                await srv.indicate_subscriber(c, a.obj, value, force=True)
            except Exception:
                status = 0x0E  # ATT "unlikely error": no confirmation came
            if c.handle in self._conns:
                self._fire(_IRQ_GATTS_INDICATE_DONE, (conn_handle, value_handle, status))
        self._loop.create_task(indicate())


def _uuid(u):
    if not isinstance(u, UUID):
        raise TypeError("expected a bluetooth.UUID, got %r" % (u,))
    return u


def _perms(flags):
    p = _P(0)
    if flags & FLAG_READ:
        p |= _P.READABLE
        if flags & FLAG_READ_ENCRYPTED:
            p |= _P.READ_REQUIRES_ENCRYPTION
        if flags & FLAG_READ_AUTHENTICATED:
            p |= _P.READ_REQUIRES_AUTHENTICATION
        if flags & FLAG_READ_AUTHORIZED:
            p |= _P.READ_REQUIRES_AUTHORIZATION
    if flags & (FLAG_WRITE | FLAG_WRITE_NO_RESPONSE | FLAG_AUX_WRITE):
        p |= _P.WRITEABLE
        if flags & FLAG_WRITE_ENCRYPTED:
            p |= _P.WRITE_REQUIRES_ENCRYPTION
        if flags & FLAG_WRITE_AUTHENTICATED:
            p |= _P.WRITE_REQUIRES_AUTHENTICATION
        if flags & FLAG_WRITE_AUTHORIZED:
            p |= _P.WRITE_REQUIRES_AUTHORIZATION
    return p
