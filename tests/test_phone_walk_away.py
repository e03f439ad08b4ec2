"""The phone comes back after the wearer walked out of range: the session on both sides
declares the peer dead, the phone disconnects, and (bleak's contract, which the bumble
backend now keeps) its disconnected_callback runs for that requested disconnect too, so
the reconnect loop goes on."""
import asyncio

from ble_util import connect, run_sim, until
from sim.linked import Linked


def test_disconnected_callback_runs_for_a_requested_disconnect(tmp_path):
    async def body(env):
        lost = []
        c = await connect(env, pair=True, disconnected_callback=lambda cl: lost.append(1))
        await c.disconnect()
        await until(env, lambda: lost)
        return lost, c.is_connected

    lost, connected = run_sim(tmp_path, body)
    assert lost == [1] and not connected


def test_the_phone_reconnects_after_walking_out_of_range():
    rig = Linked(seed=21, notify=False)

    async def scenario():
        await rig.start()
        await rig.phone.wait_open(30)
        back = rig.world.now_s() + 20
        rig.world.radio.walk_away(20)
        await asyncio.sleep(5)
        gone = rig.phone.is_open()
        await rig.phone.wait_open(60)
        return gone, rig.phone.connects, back, rig.world.now_s()

    try:
        gone, connects, back, t = rig.run(scenario())
    finally:
        rig.close()
    # lost while away; linked again once back in range (within the backoff's reach)
    assert not gone and connects == 2 and back <= t < back + 35, (back, t)
