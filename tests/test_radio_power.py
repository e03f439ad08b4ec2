"""The radio's current on the simulated board (sim/radiopower.py) and what a BLE
connection does to sleep: advertising and connection events priced from the board's data,
data exchanges as lumps, the stock board held awake while connected (micropython#6396),
a board with `lightsleep_connected` sleeping through it with the BLE sleep clock."""
import asyncio

import pytest

from sim import boards
from sim.linked import Linked
from sim.power import PowerMeter
from sim.radiopower import ADV_REF_MS, BLE_SLEEP_CLOCK_MA, CONN_REF_MS, RXTX_MA

XIAO = boards.load("xiao_esp32s3_sense").DATA["currents_ma"]


def test_meter_hooks_and_charge_lumps():
    t = [0]
    m = PowerMeter({"active": 40.0, "idle": 18.0, "lightsleep": 0.25, "deepsleep": 0.01},
                   lambda: t[0])
    seen = []
    m.hooks.append(lambda: seen.append(m.state))
    m.set_state("idle")
    t[0] = 1000
    m.add_charge("radio_data", 500.0)  # mA * us
    m.wake()
    assert seen == ["idle", "active"]
    assert m.report()["adder_mah"]["radio_data"] == pytest.approx(500.0 / 3.6e9)
    assert m.charge_mas() == pytest.approx((40.0 * 0 + 18.0 * 1000 + 500.0) / 1e6)
    with pytest.raises(ValueError):
        m.add_charge("x", -1)


def _run(rig, body, phone=True):
    async def scenario():
        await rig.start(phone=phone)
        return await body()
    try:
        return rig.run(scenario())
    finally:
        rig.close()


def test_advertising_then_connected_on_the_stock_board():
    # tap-to-talk: always-on listening would keep the CPU awake
    rig = Linked(seed=51, notify=False, config={"voice_vad": False})
    p = rig.world.power
    got = {}

    async def body():
        await asyncio.sleep(1.0)  # advertising fast (20 ms) after boot; no phone yet ...
        got["adv"] = p.adders_ma["radio"]
        rig.phone = rig.make_phone()  # ... then the phone comes
        rig._tasks.append(rig.loop.create_task(rig.phone.run()))
        await rig.phone.wait_open(30)
        await asyncio.sleep(2)
        got["conn"] = p.adders_ma["radio"]
        got["awake"] = rig.glasses.board.awake_reasons()
        s0 = dict(p.state_us)
        d0 = p.adder_charge.get("radio_data", 0.0)
        await asyncio.sleep(60)
        got["states"] = {k: p.state_us[k] - s0[k] for k in s0}
        got["data"] = p.adder_charge["radio_data"] - d0
        rig.world.radio.drop()
        await asyncio.sleep(0.2)
        got["dropped_awake"] = rig.glasses.board.awake_reasons()
        return got

    got = _run(rig, body, phone=False)
    assert got["adv"] == pytest.approx(XIAO["radio_adv"] * ADV_REF_MS / 20.0)
    assert got["conn"] == pytest.approx(XIAO["radio_connected"] * CONN_REF_MS / 15.0)
    assert got["awake"] == ("ble",) and got["dropped_awake"] == ()
    st = got["states"]
    assert st["lightsleep"] == 0 and st["idle"] > 0.95 * 60e6  # modem sleep while connected
    # keepalives both ways (about 2 exchanges a second, ~0.4 ms of radio each): a small,
    # real data cost on average
    avg_ma = got["data"] / 60e6
    assert 0.2 * 2 * 0.4e-3 * RXTX_MA < avg_ma < 5 * 2 * 0.4e-3 * RXTX_MA, avg_ma


def test_a_board_that_keeps_ble_in_lightsleep_sleeps_while_connected():
    mod = boards.load("xiao_esp32s3_sense")
    saved = mod.DATA
    d = dict(saved)
    d["caps"] = tuple(saved["caps"]) + ("lightsleep_connected",)
    mod.DATA = d
    try:
        # tap-to-talk: always-on listening would keep the CPU awake
        rig = Linked(seed=52, notify=False, config={"voice_vad": False})
        p = rig.world.power

        async def body():
            await rig.phone.wait_open(30)
            await asyncio.sleep(2)
            s0 = dict(p.state_us)
            c0 = dict(p.adder_charge)
            w0 = p.wakes
            await asyncio.sleep(60)
            woken = (p.wakes - w0) * p.active_us_per_wake
            return (dict({k: p.state_us[k] - s0[k] for k in s0}, woken=woken),
                    {k: p.adder_charge.get(k, 0.0) - c0.get(k, 0.0) for k in p.adder_charge},
                    rig.glasses.board.awake_reasons())

        states, charge, awake = _run(rig, body)
    finally:
        mod.DATA = saved
    assert awake == ()
    assert states["lightsleep"] > 0.9 * 60e6 and states["idle"] == 0
    # the main crystal clocks BLE through light sleep (no 32 kHz crystal on the XIAO);
    # the wake-ups (active_us_per_wake each, counted as active: 3 ms at the idle clock of
    # 80 MHz) are in the adder's time too
    assert charge["ble_sleep_clock"] == pytest.approx(
        BLE_SLEEP_CLOCK_MA * (states["lightsleep"] + states["woken"]), rel=0.005)
    assert charge["ble_wakes"] > 0
