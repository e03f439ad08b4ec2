"""`glasses sim` (the firmware core in virtual time) runs and is reproducible from its seed."""
from host_tools import cli


def run(capsys, *args):
    assert cli.main(["sim", *args]) == 0
    return capsys.readouterr().out


def test_same_seed_same_output(capsys):
    a = run(capsys, "--seconds", "15", "--seed", "42")
    b = run(capsys, "--seconds", "15", "--seed", "42")
    assert a == b
    assert "seed 42" in a and "host got event #0" in a
    assert "task failed flaky" in a and "restarting" in a  # supervision is visible


def test_other_seed_other_run(capsys):
    a = run(capsys, "--seconds", "15", "--seed", "1")
    b = run(capsys, "--seconds", "15", "--seed", "2")
    assert a != b
