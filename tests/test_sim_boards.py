"""Every board file boots in the simulator, and its data is consistent."""
import pytest

from sim import boards, devices
from sim.power import STATES
from sim.runner import SimGlasses

BOARDS = boards.names()


def test_there_are_two_boards():
    assert BOARDS == ["pico2w_dev", "xiao_esp32s3_sense"]


@pytest.mark.parametrize("name", BOARDS)
def test_board_data_is_consistent(name):
    d = boards.load(name).DATA
    assert d["name"] == name
    for s in STATES:
        if s != "off":  # browned out: the MCU draws nothing (sim/power.py _OPTIONAL)
            assert d["currents_ma"][s] > 0
    assert "viper_" + d["arch"] in d["caps"]
    wired = set(d["gpios"]) | set(d.get("pin_names", {}).values())
    for part, spec in devices._specs(d):
        devices.part_class(spec["part"])  # a virtual part exists for every kind
        for key in _PIN_KEYS:
            if key in spec:
                assert spec[key] in wired, (part, key, spec[key])
        for gpio in spec.get("data", ()):
            assert gpio in wired, (part, "data", gpio)
    assert d["i2c"]["scl"] in d["gpios"] and d["i2c"]["sda"] in d["gpios"]
    assert ("touch" in d["caps"]) == bool(d.get("touch_gpios"))
    assert ("camera" in d["caps"]) == ("camera" in d["parts"])


_PIN_KEYS = ("pin", "int1", "sck", "ws", "sd", "sd_mode", "xclk", "pclk", "vsync", "href")


@pytest.mark.parametrize("name", BOARDS)
def test_no_gpio_carries_two_signals(name):
    """Every GPIO drives one signal; the only shared lines are the I2C bus's, and the
    camera's SCCB is that bus (micropython-camera-API takes the machine.I2C)."""
    d = boards.load(name).DATA
    bus = {d["i2c"]["scl"], d["i2c"]["sda"]}
    used = {g: "i2c" for g in bus}
    for part, spec in devices._specs(d):
        pins = [(k, spec[k]) for k in _PIN_KEYS if k in spec]
        pins += [("data", g) for g in spec.get("data", ())]
        for key in ("sda", "scl"):
            if key in spec:
                assert spec[key] in bus, (part, key, "SCCB off the I2C bus")
        for key, gpio in pins:
            assert gpio not in used, (part, key, gpio, "already", used.get(gpio))
            used[gpio] = "%s.%s" % (part, key)


def test_the_xiao_camera_sits_on_the_senses_fixed_pins():
    # micropython-camera-API src/camera_pins.h, MICROPY_CAMERA_MODEL_XIAO_ESP32S3
    cam = boards.load("xiao_esp32s3_sense").DATA["parts"]["camera"]
    assert (cam["xclk"], cam["sda"], cam["scl"], cam["vsync"], cam["href"], cam["pclk"]) == \
        (10, 40, 39, 38, 47, 13)
    assert tuple(cam["data"]) == (15, 17, 18, 16, 14, 12, 11, 48)


@pytest.mark.parametrize("name", BOARDS)
def test_board_boots_and_runs_its_firmware(name):
    # tap-to-talk: always-on listening would keep the CPU awake
    g = SimGlasses(name, seed=21, config={"voice_vad": False})
    g.world.part("prox").put_on()
    g.run_for(30)
    b = g.board
    assert b.name == name and list(b.missing) == ["ble"], b.missing
    assert "no Bluetooth radio" in b.missing["ble"]  # this world has no radio
    assert b.imu and b.prox and b.gauge and b.led and b.privacy_led and b.haptic
    assert b.mic is not None and b.speaker is not None and b.store is not None
    assert (b.camera is not None) == ("camera" in b.caps)
    assert b.ble is None
    assert g.link_state() == "no radio"
    status = g.part_status()
    expect_touch = "touch" in b.caps
    assert len(b.touch) == (2 if expect_touch else 0)
    assert status == {"imu": "ok", "prox": "ok", "gauge": "ok",
                      "touch": "ok" if expect_touch else "absent"}
    assert "prox" in g.app.latest and "battery" in g.app.latest
    text = g.log_text()
    assert "ERROR" not in text and "task failed" not in text
    rep = g.world.power.report()
    assert rep["state_fraction"]["lightsleep"] > 0.9  # it sleeps between wakes
    # the store lives in the board's flash folder
    b.store.write("probe", b"x")
    assert b.store.read("probe") == b"x"
    g.close()


def test_capabilities_differ_where_the_hardware_does():
    xiao = boards.load("xiao_esp32s3_sense").DATA["caps"]
    pico = boards.load("pico2w_dev").DATA["caps"]
    assert "touch" in xiao and "swipe" in xiao and "touch" not in pico
    assert "viper_xtensawin" in xiao and "viper_armv7emsp" in pico
    # neither can keep a BLE connection through lightsleep with stock MicroPython
    assert "lightsleep_connected" not in xiao and "lightsleep_connected" not in pico


def test_a_board_held_awake_does_not_lightsleep():
    g = SimGlasses(seed=22)
    g.run_for(1)
    b = g.board
    sleeps, waits = b.sleeps, b.waits
    assert sleeps > 0 and waits == 0
    b.stay_awake("audio")
    idle_before = g.world.power.state_us["idle"]
    g.run_for(3)
    assert b.sleeps == sleeps and b.waits >= 30  # 10 Hz touch polling: waits, no sleep
    assert g.world.power.state_us["idle"] - idle_before > 2500000
    b.stay_awake("audio", False)
    g.run_for(2)
    assert b.sleeps > sleeps
    g.close()


@pytest.mark.parametrize("name", BOARDS)
def test_board_with_a_radio_advertises(name):
    g = SimGlasses(name, seed=22, radio=True)
    g.run_for(5)
    try:
        assert not g.board.missing, g.board.missing
        assert g.board.ble is not None and g.link_state() == "advertising"
    finally:
        g.close()
