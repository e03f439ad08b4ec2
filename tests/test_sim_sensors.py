"""The sensor service in the booted firmware, against the virtual parts: a part that stops
answering mid-run is marked faulty, retried with backoff, recovered when it returns, and
the rest of the firmware keeps running meanwhile."""
from sim.runner import SimGlasses


def record(g, topics):
    seen = {t: [] for t in topics}

    def on_boot(glasses):
        for t in topics:
            glasses.app.on(t, lambda *a, _t=t: seen[_t].append((g.world.now_s(),) + a))
    return seen, on_boot


def test_imu_fault_mid_run_backoff_and_recovery():
    g = SimGlasses(seed=41, config={"gyro_hz": 26})
    seen, hook = record(g, ("gyro", "prox", "battery", "fault", "tap"))
    g.on_boot = hook
    g.world.part("prox").put_on()
    w = g.world
    g.run_for(5)
    w.part("imu").disconnect()
    g.run_for(10)
    w.part("imu").reconnect()
    g.run_for(20)
    faults = seen["fault"]
    assert [(f[1], f[2]) for f in faults] == [("imu", "I/O error ENODEV"), ("imu", None)]
    t_fault, t_back = faults[0][0], faults[1][0]
    assert 5.0 <= t_fault < 5.05  # the next gyro read (26 Hz) finds it gone
    # retries after 0.25, 0.5, 1, 2, 4, 8 s: the first one after the part returns at 15 s
    assert abs(t_back - (t_fault + 15.75)) < 1e-6, t_back
    svc = g.app.services["sensors"]
    assert svc.retries == 6 and svc.status["imu"] == "ok"
    gyro_t = [s[0] for s in seen["gyro"]]
    assert not [t for t in gyro_t if t_fault < t < t_back]
    assert len([t for t in gyro_t if t_back <= t < t_back + 10]) in (259, 260, 261)
    # the rest kept running during the fault
    assert len([s for s in seen["prox"] if t_fault < s[0] < t_back]) >= 15
    assert [s for s in seen["battery"] if t_fault < s[0] < t_back]
    assert all(s[1] > 1000 for s in seen["prox"])  # worn
    # and taps work again after recovery (the part lost its registers: the service
    # re-ran the IMU's setup)
    w.part("imu").tap(g=2.5)
    g.run_for(1)
    assert [s[1] for s in seen["tap"]] == ["single"]
    g.close()


def test_transient_bus_error_on_the_gauge():
    g = SimGlasses(seed=42, config={"gauge_ms": 1000})
    seen, hook = record(g, ("battery", "fault"))
    g.on_boot = hook
    g.run_for(3)
    g.world.part("gauge").inject_bus_error(1)
    g.run_for(5)
    assert [(f[1], f[2]) for f in seen["fault"]] == [("gauge", "I/O error EIO"),
                                                     ("gauge", None)]
    assert seen["fault"][1][0] - seen["fault"][0][0] == 0.25  # back at the first retry
    assert len(seen["battery"]) >= 7
    g.close()


def test_a_part_missing_at_boot_leaves_the_rest_running():
    g = SimGlasses(seed=43, skip=("imu",))
    seen, hook = record(g, ("prox", "touch"))
    g.on_boot = hook
    g.run_for(1)
    g.world.parts["touch1"].touch(0.3)
    g.run_for(4)
    b = g.board
    assert b.imu is None and "LSM6DSOX not found at 0x6A" in b.missing["imu"]
    assert g.part_status()["imu"] == "absent"
    assert len(seen["prox"]) == 6  # at 0, 1, ... 5 s
    assert [(s[1], s[2]) for s in seen["touch"]] == [(1, True), (1, False)]
    assert "imu missing: " in g.log_text()
    g.close()
