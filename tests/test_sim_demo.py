"""`glasses sim` (sim/runner.py): the firmware boots on the simulated board, scenarios
replay exactly from their seed, resets (watchdog, deepsleep, machine.reset) reboot it."""
import os
import re

import machine
from firmware.runtime import sched as S
from host_tools import cli
from sim import runner
from sim.runner import SimGlasses

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "sim", "scenarios", "demo.txt")


def run_cli(capsys, *args):
    rc = cli.main(["sim", *args])
    return rc, capsys.readouterr().out


def test_scenario_replays_byte_for_byte_from_its_seed(tmp_path, capsys):
    logs = []
    for seed in (42, 42, 43):
        path = str(tmp_path / ("log%d.txt" % len(logs)))
        rc, out = run_cli(capsys, "--fast", "--seed", str(seed), "--scenario", DEMO,
                          "--log", path)
        assert rc == 0, out
        assert "seed %d" % seed in out.splitlines()[0] and out.rstrip().endswith(
            "seed %d" % seed)
        with open(path, "rb") as f:
            logs.append(f.read())
    assert logs[0] == logs[1]
    assert logs[0] != logs[2]
    text = logs[0].decode()
    # the firmware really ran the scenario: taps through the IMU's INT1, the fault and
    # the recovery, touch pads, the haptic acknowledging input
    for needle in ("INFO  tap single", "INFO  tap double", "imu is faulty: ",
                   "imu recovered after ", "touch pad 0 down", "touch pad 1 down",
                   "out  haptic 60%", "part prox: glasses put on"):
        assert needle in text, needle


def test_fast_run_summary(capsys):
    rc, out = run_cli(capsys, "--fast", "--seconds", "20", "--seed", "5", "--no-host")
    assert rc == 0
    for needle in ("board xiao_esp32s3_sense, seed 5, 20.0 simulated s", "boots 1",
                   "power: average", "link: no radio", "imu-tap", "heartbeat",
                   "sensors: gauge ok, imu ok, prox ok, touch ok"):
        assert needle in out, needle


def test_fast_run_pairs_with_its_host_by_default(capsys):
    rc, out = run_cli(capsys, "--fast", "--seconds", "20", "--seed", "5")
    assert rc == 0
    assert "with its host" in out.splitlines()[0]
    assert "INFO  link up" in out and "host link open: xiao_esp32s3_sense 0.1.0" in out
    assert "link: up: host 0.1.0, mtu 247, bonded" in out
    assert "host: link open: xiao_esp32s3_sense 0.1.0, connects 1" in out


def test_bad_input_gets_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 put_on\n2 tapp\n")
    rc, out = run_cli(capsys, "--fast", "--scenario", str(bad))
    assert rc == 2 and "bad.txt line 2: unknown event 'tapp'" in out
    bad.write_text("x put_on\n")
    rc, out = run_cli(capsys, "--fast", "--scenario", str(bad))
    assert rc == 2 and "bad.txt line 1: 'x' is not a number" in out
    bad.write_text("1 speak missing.wav\n")
    rc, out = run_cli(capsys, "--fast", "--scenario", str(bad))
    assert rc == 2 and "no such WAV file" in out
    rc, out = run_cli(capsys, "--fast", "--board", "nope")
    assert rc == 2 and "unknown board 'nope' (boards: pico2w_dev, xiao_esp32s3_sense)" in out
    rc, out = run_cli(capsys, "--fast", "--scenario", str(tmp_path / "none.txt"))
    assert rc == 2 and "cannot read scenario" in out


def test_json_scenario_and_events_a_board_lacks(tmp_path):
    sc = tmp_path / "s.json"
    sc.write_text('[{"t": 1, "event": "touch", "args": ["front"]}, {"t": 2, "event": "tap"}]')
    from sim import scenario
    g = SimGlasses("pico2w_dev", seed=3)
    g.run_for(4, scenario=scenario.load(str(sc)))
    text = g.log_text()
    assert "skipped touch: this board has no touch0" in text
    assert "tap single" in text
    g.close()


def test_watchdog_reset_reboots_the_firmware():
    def on_boot(g):
        if g.boots == 1:  # a critical task that stops checking in after 1 s
            async def stuck():
                S.checkin()
                await S.sleep_ms(1000)
                while True:
                    await S.sleep_ms(1000)
            g.sched.spawn(stuck, name="stuck", critical_ms=500)

    g = SimGlasses(seed=11, config={"wdt_ms": 2000}, on_boot=on_boot)
    g.run_for(10)
    assert g.boots == 2 and [c for _t, c in g.resets] == ["watchdog"]
    t_reset = g.resets[0][0]
    assert 2.0 < t_reset <= 3.5, t_reset  # not fed after ~1.5 s, 2 s timeout
    assert machine.reset_cause() == machine.WDT_RESET
    text = g.log_text()
    assert "watchdog not fed: critical task stuck is late" in text
    assert "boot: xiao_esp32s3_sense, reset cause 3" in text
    assert g.world.wdt_resets == 1
    g.close()


def test_deepsleep_and_machine_reset_reboot_with_their_cause():
    def on_boot(g):
        async def sleeper():
            await S.sleep_ms(2000)
            machine.deepsleep(3000)

        async def resetter():
            await S.sleep_ms(1000)
            machine.reset()

        if g.boots == 1:
            g.sched.spawn(sleeper)
        elif g.boots == 2:
            g.sched.spawn(resetter)

    g = SimGlasses(seed=12, on_boot=on_boot)
    g.run_for(10)
    assert [c for _t, c in g.resets] == ["deepsleep wake", "soft reset"]
    assert [round(t, 3) for t, _c in g.resets] == [2.0, 6.0]  # 2 s + 3 s asleep + 1 s
    rep = g.world.power.report()
    assert abs(rep["state_seconds"]["deepsleep"] - 3.0) < 1e-6
    text = g.log_text()
    assert "reset cause 4" in text and "reset cause 5" in text
    g.close()


def test_runner_main_reports_the_seed_it_picked():
    lines = []
    assert runner.main(seconds=2, fast=True, out=lines.append) == 0
    seed = lines[0].split("seed ")[1].split(",")[0]
    assert lines[-1].endswith("\nseed %s" % seed)


def test_the_demo_asks_out_loud_and_the_phone_answers(capsys):
    rc, out = run_cli(capsys, "--fast", "--seed", "7", "--scenario", DEMO)
    assert rc == 0, out
    # speech in the test voice, heard by the simulated mic, the wake word and the query
    # recognised on the phone; the phone's clock in virtual time is 09:00 plus the
    # simulated time
    assert "part mic: hears speech 'hey jarvis, what time is it'" in out
    assert out.count("host voice: wake word hey_jarvis at ") == 3
    assert re.search(r"heard 'What time is it[.?]' -> \"It's 9:00 AM.\"", out), out
    assert "heard 'What is my battery level.' -> 'Your glasses battery is at 11 percent.'" \
        in out
    assert "host voice: say 'Your 1 minute timer is done.'" in out
    assert "INFO  voice: heard Set a timer for 1 minute." in out
    assert "speaker audio: " in out
    # every utterance's packets reached the phone, its pre-roll burst too
    summary = [ln for ln in out.splitlines() if "host: link open:" in ln][-1]
    assert "0 retransmits, 0 bad frames, 0 audio lost" in summary, summary


def test_say_needs_words(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 put_on\n2 say\n")
    rc, out = run_cli(capsys, "--fast", "--scenario", str(bad))
    assert rc == 2 and "bad.txt line 2: say needs the words to speak" in out


def test_say_without_a_speech_engine_is_a_clear_error_before_the_run(tmp_path, capsys,
                                                                      monkeypatch):
    from host_tools.voice.tts import TtsUnavailable
    from sim import scenario

    def no_engine(text):
        raise TtsUnavailable("tts: cannot load libespeak-ng from /nowhere")
    monkeypatch.setattr(scenario, "_speech", no_engine)
    sc = tmp_path / "s.txt"
    sc.write_text("1 put_on\n3 say hello there\n")
    rc, out = run_cli(capsys, "--fast", "--scenario", str(sc))
    assert rc == 2 and "s.txt line 2: cannot speak 'hello there': tts: cannot load" in out
