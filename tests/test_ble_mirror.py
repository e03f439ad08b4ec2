"""The `bluetooth` mirror: MicroPython's BLE API and its errors, on bumble, with a bleak
host on the same simulated radio (virtual time): the BLE object, its configuration and IRQs,
and the GATT server (GAP, pairing and bonding: test_ble_mirror_gap.py)."""
import asyncio
import errno

import pytest
from bleak.exc import BleakGATTProtocolError

from ble_mirror_util import (CTL, CTL_S, IND_S, NAME, RX, RX_S, SERVICES, SVC, TX_S,
                             connect as _client, last_conn as _conn, run)
from ble_util import run_loop, until
from sim.kernel import new_loop
from sim.mirror import bluetooth
from sim.radio import Radio


def test_ble_without_a_radio_raises_enodev():
    bluetooth.detach()
    with pytest.raises(OSError) as e:
        bluetooth.BLE()
    assert e.value.errno == errno.ENODEV and "radio" in str(e.value)


def test_ble_is_a_singleton_and_inactive_calls_fail(tmp_path):
    loop, _ = new_loop(True, 1)

    async def main():
        ble = Radio().glasses_ble()
        assert bluetooth.BLE() is ble and not ble.active()
        for call in (lambda: ble.gap_advertise(100000), lambda: ble.gatts_read(1),
                     lambda: ble.config("mac")):
            with pytest.raises(OSError) as e:
                call()
            assert e.value.errno == errno.ENODEV
        assert ble.active(True) is True
        addr_type, mac = ble.config("mac")
        assert addr_type == 1 and len(mac) == 6 and mac[0] & 0xC0 == 0xC0  # random static

    run_loop(loop, main())


def test_uuid_forms_and_errors():
    U = bluetooth.UUID
    assert U(0x180A) == U(b"\x0a\x18") and bytes(U(0x180A)) == b"\x0a\x18"
    assert U("6E400001-B5A3-F393-E0A9-E50E24DCCA9E") == SVC
    assert repr(U(0x2a19)) == "UUID(0x2a19)"
    assert repr(SVC) == "UUID('6e400001-b5a3-f393-e0a9-e50e24dcca9e')"
    assert len({U(0x180A), U(0x180A), SVC}) == 2
    for bad in ("1234", "zz400001b5a3f393e0a9e50e24dcca9e", -1, 1 << 32, b"\x01\x02\x03"):
        with pytest.raises(ValueError):
            U(bad)
    with pytest.raises(TypeError):
        U(1.5)


def test_config_values_and_errors(tmp_path):
    async def body(env):
        ble = env.ble
        assert ble.config("gap_name") == NAME.encode()
        assert ble.config("mtu") == 247 and ble.config("bond") is True
        ble.config(io=1, mitm=False)
        assert ble.config("io") == 1
        errors = []
        for call in (lambda: ble.config("nope"), lambda: ble.config(nope=1),
                     lambda: ble.config(io=9)):
            with pytest.raises(ValueError):
                call()
        for call in (lambda: ble.config(mtu=10), lambda: ble.config(addr_mode=0)):
            with pytest.raises(OSError) as e:
                call()
            errors.append(e.value.errno)
        with pytest.raises(TypeError):
            ble.config("mtu", "io")
        return errors

    assert run(tmp_path, body) == [errno.EINVAL, errno.EINVAL]


def test_register_returns_value_handles_and_refuses_while_advertising(tmp_path):
    async def body(env):
        ((rx, tx, ctl, desc), (ind,)) = env.handles
        with pytest.raises(OSError) as e:
            env.ble.gatts_register_services(SERVICES)
        c = await _client(env)
        chars = {ch.uuid: ch.handle for s in c.services for ch in s.characteristics}
        d = c.services.get_characteristic(CTL_S).descriptors
        await c.disconnect()
        return (rx, tx, ctl, desc), e.value.errno, chars, [x.handle for x in d]

    (rx, tx, ctl, desc), err, chars, descs = run(tmp_path, body)
    assert err == errno.EBUSY
    assert chars["6e400002-b5a3-f393-e0a9-e50e24dcca9e"] == rx
    assert chars["6e400003-b5a3-f393-e0a9-e50e24dcca9e"] == tx
    assert chars["6e400004-b5a3-f393-e0a9-e50e24dcca9e"] == ctl
    assert desc in descs  # the user descriptor; the CCCD is the stack's own


def test_bad_service_definitions_are_refused(tmp_path):
    async def body(env):
        env.ble.gap_advertise(None)
        await asyncio.sleep(0.01)
        for bad in (((SVC,),), ((SVC, ((RX,),)),), ((SVC, ((0x1234, 2),)),),
                    ((SVC, ((RX, 2, ((CTL,),)),)),)):
            with pytest.raises(TypeError):
                env.ble.gatts_register_services(bad)
        return True

    assert run(tmp_path, body)


def test_remote_writes_are_cut_to_the_buffer_and_append_mode(tmp_path):
    async def body(env):
        ((rx, tx, ctl, desc), (ind,)) = env.handles
        ble = env.ble
        c = await _client(env)
        await c.write_gatt_char(RX_S, bytes(range(30)), response=True)
        default = ble.gatts_read(rx)  # MicroPython's default buffer: 20 bytes
        ble.gatts_set_buffer(rx, 8, True)
        for part in (b"abc", b"def", b"ghijk"):
            await c.write_gatt_char(RX_S, part, response=True)
        appended = ble.gatts_read(rx)
        after = ble.gatts_read(rx)  # a read empties an append-mode buffer
        writes = [d for e, d in env.events if e == 3]
        ble.gatts_write(ctl, b"x" * 40)  # a local write makes room for itself
        read = await c.read_gatt_char(CTL_S)
        await c.disconnect()
        return default, appended, after, writes, bytes(read)

    default, appended, after, writes, read = run(tmp_path, body)
    assert default == bytes(range(20))
    assert appended == b"abcdefgh" and after == b""
    assert len(writes) == 4 and all(w[1] == writes[0][1] for w in writes)
    assert read == b"x" * 40


def test_notify_errors_truncation_and_buffers(tmp_path):
    async def body(env):
        ((rx, tx, ctl, desc), (ind,)) = env.handles
        ble = env.ble
        got = []
        c = await _client(env)
        await c.start_notify(TX_S, lambda ch, d: got.append(bytes(d)))
        conn = _conn(env)
        await until(env, lambda: any(e == 21 for e, _ in env.events))
        ble.gatts_notify(conn, tx, bytes(300))  # cut to ATT MTU 247 - 3
        ble.gatts_write(tx, b"local")
        ble.gatts_notify(conn, tx)  # no data: the local value
        errs = []
        sent = 0
        while True:  # fill the stack's buffers without giving it air time
            try:
                ble.gatts_notify(conn, tx, b"z" * 100)
                sent += 1
            except OSError as e:
                errs.append(e.errno)
                break
        with pytest.raises(OSError) as bad_handle:
            ble.gatts_notify(conn, 999, b"x")
        await until(env, lambda: len(got) == 2 + sent)
        await c.disconnect()
        await until(env, lambda: any(e == 2 for e, _ in env.events))
        with pytest.raises(OSError) as dead:
            ble.gatts_notify(conn, tx, b"late")
        return got, errs, sent, ble.notify_truncated, bad_handle.value.errno, dead.value.errno

    got, errs, sent, truncated, bad_handle, dead = run(tmp_path, body)
    assert len(got[0]) == 244 and truncated == 1 and got[1] == b"local"
    assert errs == [errno.ENOMEM] and 20 <= sent < 24  # 24 buffers, 2 already used
    assert bad_handle == errno.EINVAL and dead == errno.ENOTCONN


def test_irq_views_are_only_valid_during_the_handler(tmp_path):
    async def body(env):
        c = await _client(env)
        await c.disconnect()
        return env.kept

    kept = run(tmp_path, body)
    connect = kept[0]
    assert isinstance(connect[2], memoryview) and bytes(connect[2]) == bytes(6)


def test_read_request_irq_can_deny(tmp_path):
    async def body(env):
        env.answers[4] = 0x05  # _GATTS_ERROR_INSUFFICIENT_AUTHENTICATION
        c = await _client(env)
        try:
            await c.read_gatt_char(CTL_S)
            code = None
        except BleakGATTProtocolError as e:
            code = e.code
        await c.disconnect()
        return code, [d for e, d in env.events if e == 4]

    code, requests = run(tmp_path, body)
    assert code == 0x05 and len(requests) == 1


def test_indications_are_confirmed_with_an_irq(tmp_path):
    async def body(env):
        (_, (ind,)) = env.handles
        got = []
        c = await _client(env)
        await c.start_notify(IND_S, lambda ch, d: got.append(bytes(d)))
        conn = _conn(env)
        env.ble.gatts_indicate(conn, ind, b"first")
        await until(env, lambda: any(e == 20 for e, _ in env.events))
        env.ble.gatts_write(ind, b"second", True)  # to subscribers, as an indication
        await until(env, lambda: len(got) == 2)
        await until(env, lambda: len([1 for e, _ in env.events if e == 20]) == 2)
        await c.disconnect()
        return got, [d for e, d in env.events if e == 20], conn, ind

    got, done, conn, ind = run(tmp_path, body)
    assert got == [b"first", b"second"]
    assert done == [(conn, ind, 0), (conn, ind, 0)]


def test_an_exception_in_the_irq_handler_is_printed_and_the_stack_goes_on(tmp_path, capsys):
    async def body(env):
        env.answers[1] = RuntimeError("handler bug")
        c = await _client(env)
        value = await c.read_gatt_char(TX_S)  # the connection works regardless
        await c.disconnect()
        return bytes(value)

    assert run(tmp_path, body) == b""
    err = capsys.readouterr().err
    assert "exception in IRQ handler (event 1)" in err and "handler bug" in err
