"""The link end to end over the real bumble stack (sim/linked.py, virtual time): pairing
and bonding, what a central that skips them gets (nothing), and a version mismatch."""
import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from firmware.protocol import kinds, uuids
from firmware.protocol.channels import EVENTS
from host_tools.errors import VersionMismatch
from host_tools.radio import open_radio
from sim.linked import Linked


@pytest.fixture
def rig(tmp_path):
    r = Linked(seed=21, flash_dir=str(tmp_path / "flash"), config_dir=str(tmp_path / "host"))
    yield r
    r.close()


def test_pairs_and_bonds_on_both_sides(rig, tmp_path):
    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        gatt = rig.glasses.app.gatt
        assert gatt.encrypted and gatt.bonded and gatt.bonds.count() == 1
        keys = await rig.radio_choice.adapter.bonds()
        assert len(keys) == 1  # the host kept the glasses' keys
        rig.world.radio.drop()
        while rig.phone.is_open():
            await asyncio.sleep(0.01)
        await rig.phone.wait_open(30)
        # the second time the bond is reused: re-encryption, no new pairing
        assert gatt.bonds.count() == 1 and len(await rig.radio_choice.adapter.bonds()) == 1
        assert rig.phone.peer["resumed"] and not rig.phone.peer["peer_reset"]
    rig.run(scenario())


@pytest.mark.parametrize("pairing", ["none", "no-bond"])
def test_a_central_that_skips_pairing_or_bonding_gets_nothing(rig, tmp_path, pairing):
    """A raw bleak central: unencrypted, or encrypted without a bond. The link service
    refuses it: unencrypted, it cannot subscribe and its writes are dropped; encrypted
    without a bond (no consent: docs/security.md), it is dropped at once. No session
    starts, and nothing queued for the phone is notified to it."""
    async def scenario():
        await rig.start(phone=False)
        link = rig.glasses.app.link
        gatt = rig.glasses.app.gatt
        assert link.send(EVENTS, kinds.event("secret", 42))  # queued for a phone
        radio = open_radio(radio=rig.world.radio, config_dir_path=str(tmp_path / "evil"))
        dev = await BleakScanner.find_device_by_filter(
            lambda d, ad: uuids.SERVICE in ad.service_uuids, timeout=5,
            backend=radio.scanner)
        client = BleakClient(dev, backend=radio.client)
        await client.connect()
        got = []
        refused = None
        battery = None
        try:
            if pairing == "no-bond":
                try:
                    await client.pair(bond=False)
                except BleakError:
                    pass  # the drop may beat the end of the pairing
                t_end = asyncio.get_running_loop().time() + 5
                while client.is_connected and asyncio.get_running_loop().time() < t_end:
                    await asyncio.sleep(0.05)
                refused = "dropped" if not client.is_connected else None
            else:
                try:
                    await client.start_notify(uuids.TX, lambda _c, d: got.append(bytes(d)))
                except BleakError as e:
                    refused = e
                hello = bytes.fromhex("f30000")  # even a frame header that looks right
                for _ in range(3):
                    await client.write_gatt_char(uuids.RX, hello + b"\xa0", response=False)
                battery = await client.read_gatt_char(uuids.uuid16_full(uuids.BATTERY_LEVEL))
            await asyncio.sleep(3)  # keepalives, hellos, the queued event: none may come
        finally:
            await client.disconnect()
            await radio.close()
        return got, refused, battery, gatt, link

    got, refused, battery, gatt, link = rig.run(scenario())
    assert got == []
    if pairing == "none":
        assert refused is not None and "encryption" in str(refused).lower()
        assert not gatt.encrypted
        assert len(battery) == 1  # Battery and Device Information stay readable
    else:
        assert refused == "dropped" and gatt.bonds.count() == 0  # encrypted, no bond
        assert gatt.access.consent.counts["pairing"] == 1
    assert gatt.rx_frames == 0 and gatt.tx_frames == 0 and gatt.rx_refused == 0
    assert link.session.stats()["connects"] == 0 and not link.up  # never started


def test_version_mismatch_both_sides_name_both_versions(rig):
    async def scenario():
        await rig.start()
        rig.phone.session.protocol = 1  # a phone on the link protocol before this one
        task = rig._tasks[-1]  # Phone.run(): retrying cannot help, so it ends
        with pytest.raises(VersionMismatch) as err:
            await asyncio.wait_for(asyncio.shield(task), 30)
        return str(err.value), rig.phone.connects

    reason, connects = rig.run(scenario())
    assert connects == 1  # no retry loop
    assert "link protocol version mismatch" in reason
    assert "speaks version 2" in reason and "speaks version 1" in reason
    text = rig.glasses.log_text()
    assert ("this glasses (0.1.0) speaks version 2, the peer host (0.1.0) speaks version 1"
            in text)
    assert not rig.glasses.app.link.up and rig.glasses.app.link.peer is None  # never open
