"""The simulated glasses and an in-process phone over the real bumble stack: the link
comes up encrypted and bonded, commands work, the phone reconnects after a drop."""
import asyncio

import pytest

from sim.linked import Linked


@pytest.fixture
def rig():
    r = Linked(seed=11)
    yield r
    r.close()


def test_phone_pairs_and_reads_status(rig):
    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        st = await rig.phone.status()
        gatt = rig.glasses.app.gatt
        assert gatt.bonded and gatt.encrypted
        assert st["board"] == "xiao_esp32s3_sense" and st["firmware"] == "0.1.0"
        assert 0 <= st["battery"] <= 100 and st["link"]["state"] == "open"
        assert st["link"]["bonds"] == 1 and st["link"]["mtu"] == 247
        return st
    rig.run(scenario())


def test_phone_reconnects_after_a_drop_and_resumes(rig):
    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        rig.world.radio.drop()
        await asyncio.sleep(0.5)
        assert not rig.phone.is_open()
        await rig.phone.wait_open(60)  # reconnected by itself, with backoff
        assert rig.phone.connects == 2
        assert rig.phone.peer["resumed"]
        st = await rig.phone.status()
        assert st["link"]["connects"] == 2
    rig.run(scenario())


def test_forget_drops_the_bond_and_the_link(rig):
    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        gatt = rig.glasses.app.gatt
        assert gatt.bonds.count() == 1
        ok, detail = await rig.phone.forget()
        assert ok and "forgotten" in detail
        for _ in range(20):  # the glasses forget and drop the phone ~100 ms later
            await asyncio.sleep(0.05)
            if gatt.disconnects:
                break
        assert gatt.disconnects == 1 and gatt.bonds.count() == 0
        assert "bonds forgotten" in rig.glasses.log_text()
    rig.run(scenario())
