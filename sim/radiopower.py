"""The BLE radio's current on a simulated board (docs/power.md).

The link model (sim/linkmodel.py) schedules nothing while a connection is idle, so the
radio's cost is modelled here from what the radio is doing, re-evaluated at every power
state change of the board (PowerMeter.hooks):

- advertising: one advertising event (three channels, scan response window) per
  advertising interval. The board's `radio_adv` current is quoted at ADV_REF_MS, so one
  event costs radio_adv x ADV_REF_MS (mA x ms = uC); the adder is that over the interval
  the firmware chose (gap_advertise);
- connected: one connection event per connection interval, which the central chose (the
  model follows the real negotiated interval; peripheral latency is not used: MicroPython
  cannot ask for it and the rig's central grants none). The board's `radio_connected` is
  quoted at CONN_REF_MS; one event (anchor exchange of empty PDUs, radio wake-up) costs
  radio_connected x CONN_REF_MS;
- data: every exchange beyond the anchor one (what the link model really ran: keepalives,
  acks, notifications, audio) keeps the radio on for its air time plus the two inter-frame
  spaces, at RXTX_MA; charged as a lump when it is seen;
- sleeping with BLE alive: a board that light-sleeps while the radio keeps advertising or
  a connection (ESP-IDF automatic light sleep; not stock MicroPython, which drops the
  connection: micropython#6396) needs a sleep clock for the BLE timing. Without a 32 kHz
  crystal (the XIAO has none; DATA "rtc_xtal_32k") the 40 MHz crystal stays on:
  BLE_SLEEP_CLOCK_MA (DESIGN.md: ESP32-S3 light sleep 230 uA with the crystal, 3.3 mA
  without). And each connection event wakes the CPU from light sleep (the ESP32's BLE
  controller runs on it): BLE_WAKE_US of the active current per event.

The constants are estimates from the datasheets' orders of magnitude, not measurements;
the figures they give (bench/bench_power.py) say so.
"""
from sim import linkmodel

ADV_REF_MS = 500.0  # boards' radio_adv is "advertising every 500 ms"
CONN_REF_MS = 30.0  # boards' radio_connected is "connection events at 30 ms"
RXTX_MA = 100.0  # the radio receiving or transmitting (ESP32-S3 class, 0 dBm)
BLE_SLEEP_CLOCK_MA = 3.06  # 3.3 mA - 0.24 mA: the main crystal kept on in light sleep
BLE_WAKE_US = 400  # CPU awake per connection event out of light sleep
_PDU_OVERHEAD = 15  # preamble 2 (2M), access address 4, header 2, MIC 4, CRC 3


class RadioPower:
    def __init__(self, world, radio):
        self.world = world
        self.radio = radio
        d = world.data
        c = d["currents_ma"]
        self.adv_uc = c.get("radio_adv", 0.0) * ADV_REF_MS
        self.event_uc = c.get("radio_connected", 0.0) * CONN_REF_MS
        self.active_ma = c["active"]
        self.crystal_32k = bool(d.get("rtc_xtal_32k"))
        self._seen = {}  # connection model -> (exchanges, bytes) already charged
        self.data_uc = 0.0
        self.interval_ms = 0.0  # of the connection, while there is one
        world.power.hooks.append(self.update)

    def close(self):
        hooks = self.world.power.hooks
        if self.update in hooks:
            hooks.remove(self.update)

    def _charge_data(self, m):
        ex0, b0 = self._seen.get(m, (0, 0))
        ex = m.exchanges
        b = m.bytes[0] + m.bytes[1]
        self._seen[m] = (ex, b)
        if ex <= ex0 and b <= b0:
            return
        phy = self.radio.settings.phy
        us_per_byte = 1.0 / linkmodel._BITRATE_BYTES_PER_US[phy]
        # each exchange: two PDUs' overhead and two T_IFS; the payload bytes on top
        us = (ex - ex0) * (2 * _PDU_OVERHEAD * us_per_byte + 2 * linkmodel.T_IFS_US) \
            + (b - b0) * us_per_byte
        ma_us = us * RXTX_MA
        self.data_uc += ma_us / 1000.0
        self.world.power.add_charge("radio_data", ma_us)

    def update(self):
        p = self.world.power
        ble = self.radio.ble
        adv_ma = 0.0
        if ble is not None and getattr(ble, "adv_interval_us", 0):
            adv_ma = self.adv_uc * 1000.0 / ble.adv_interval_us
        down = p.state in ("deepsleep", "off")  # the chip's radio is powered down
        if down:
            adv_ma = 0.0
        conn_ma = 0.0
        self.interval_ms = 0.0
        live = self.radio.glasses_connections()
        for m in live:
            if m.alive and not down:
                self.interval_ms = m.interval_ms
                conn_ma += self.event_uc / m.interval_ms
        for m in set(self._seen) | set(live):
            self._charge_data(m)
            if m not in live or not m.alive:
                del self._seen[m]  # gone: its last exchanges are charged
        p.set_adder("radio", adv_ma + conn_ma)
        asleep = p.state == "lightsleep"
        ble_alive = adv_ma > 0 or conn_ma > 0
        p.set_adder("ble_sleep_clock", BLE_SLEEP_CLOCK_MA
                    if asleep and ble_alive and not self.crystal_32k else 0.0)
        wakes = 0.0
        if asleep and self.interval_ms:
            wakes = self.active_ma * BLE_WAKE_US / (self.interval_ms * 1000.0)
        p.set_adder("ble_wakes", wakes)
