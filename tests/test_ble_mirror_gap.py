"""The `bluetooth` mirror's GAP: pairing and bond keys through the application's IRQs,
advertising limits, disconnects, MTU exchange, deactivation; on bumble, with a bleak host on
the same simulated radio (virtual time)."""
import asyncio
import errno

import pytest
from bleak import BleakScanner

from ble_mirror_util import (connect as _client, last_conn as _conn,
                             readvertise as _readvertise, run)
from ble_util import until
from host_tools.errors import PairingRefused


def test_bond_keys_go_through_the_secret_irqs(tmp_path):
    async def body(env):
        c = await _client(env)
        await c.pair()
        await until(env, lambda: any(e == 28 for e, _ in env.events))
        enc = [d for e, d in env.events if e == 28]
        await _readvertise(env, c)
        c2 = await _client(env)  # re-encrypts with the keys the application kept
        await until(env, lambda: len([1 for e, _ in env.events if e == 28]) == 2)
        enc2 = [d for e, d in env.events if e == 28][-1]
        await c2.disconnect()
        return enc, enc2, dict(env.store)

    enc, enc2, store = run(tmp_path, body)
    (conn, encrypted, authenticated, bonded, key_size), = enc
    assert encrypted and bonded and not authenticated and key_size == 16
    assert enc2[1:4] == (True, False, True)
    assert len(store) == 1 and list(store)[0][0] == 2  # one peer record (NimBLE type 2)


def test_without_secret_storage_nothing_is_bonded(tmp_path):
    async def body(env):
        c = await _client(env)
        await c.pair()
        await until(env, lambda: any(e == 28 for e, _ in env.events))
        await _readvertise(env, c)
        c2 = await _client(env)  # the host has keys, the glasses kept none
        await until(env, lambda: len([1 for e, _ in env.events if e == 28]) == 2)
        await c2.disconnect()
        return [d for e, d in env.events if e == 28], c2._backend.bond_lost

    (first, second), bond_lost = run(tmp_path, body, secrets=False)
    assert first[1:4] == (True, False, False)  # encrypted, but not bonded
    assert second[1:4] == (False, False, False) and bond_lost  # no key: not encrypted


def test_le_secure_refuses_legacy_pairing(tmp_path):
    async def body(env):
        c = await _client(env)
        with pytest.raises(PairingRefused) as e:
            await c.pair(secure=False)
        await c.disconnect()
        return str(e.value)

    assert "AUTHENTICATION_REQUIREMENTS" in run(tmp_path, body)


def test_numeric_comparison_goes_to_the_application(tmp_path):
    def body_for(answer):
        async def body(env):
            env.ble.config(io=1, mitm=True)  # display + yes/no
            c = await _client(env)
            pairing = asyncio.ensure_future(c.pair())
            await until(env, lambda: any(e == 31 for e, _ in env.events))
            (conn, action, number), = [d for e, d in env.events if e == 31]
            env.ble.gap_passkey(conn, action, answer)
            with pytest.raises(OSError) as again:  # answered already
                env.ble.gap_passkey(conn, action, answer)
            try:
                await pairing
                result = "paired"
            except PairingRefused:
                result = "refused"
            enc = [d for e, d in env.events if e == 28]
            await c.disconnect()
            return action, number, result, enc, again.value.errno
        return body

    action, number, result, enc, err = run(tmp_path / "yes", body_for(1))
    assert action == 4 and 0 <= number <= 999999 and result == "paired"
    assert enc[-1][1:4] == (True, True, True)  # MITM-protected this time
    assert err == errno.EINVAL
    assert run(tmp_path / "no", body_for(0))[2] == "refused"


def test_advertising_payload_limits(tmp_path):
    async def body(env):
        errs = []
        for call in (lambda: env.ble.gap_advertise(100000, bytes(32)),
                     lambda: env.ble.gap_advertise(10000),  # below 20 ms
                     lambda: env.ble.gap_advertise(100000, resp_data=bytes(40))):
            with pytest.raises(OSError) as e:
                call()
            errs.append(e.value.errno)
        return errs

    assert run(tmp_path, body) == [errno.EINVAL] * 3


def test_gap_disconnect_and_mtu_exchange(tmp_path):
    async def body(env):
        c = await _client(env)
        conn = _conn(env)
        env.ble.gattc_exchange_mtu(conn)
        await until(env, lambda: any(e == 21 for e, _ in env.events))
        assert env.ble.gap_disconnect(conn) is True
        await until(env, lambda: not c.is_connected)
        with pytest.raises(OSError) as e:
            env.ble.gattc_exchange_mtu(conn)
        return env.ble.gap_disconnect(conn), e.value.errno, \
            [d for ev, d in env.events if ev == 21]

    again, err, mtus = run(tmp_path, body)
    assert again is False and err == errno.ENOTCONN and mtus[0][1] == 247


def test_deactivating_drops_connections_and_advertising(tmp_path):
    async def body(env):
        lost = []
        c = await _client(env, disconnected_callback=lambda cl: lost.append(1))
        assert env.ble.active(False) is False
        await until(env, lambda: lost)
        seen = await BleakScanner.discover(timeout=1, backend=env.host.scanner)
        with pytest.raises(OSError) as e:
            env.ble.gap_advertise(100000)
        return lost, seen, c.is_connected, e.value.errno

    lost, seen, connected, err = run(tmp_path, body)
    assert lost == [1] and seen == [] and not connected and err == errno.ENODEV
