"""The MicroPython gate itself: it must fail tests that fail, hang, or exceed their budget
(a test's own, or the whole heap's with the file's imports), under the WebAssembly build
and again on the unix port at the file's fixed heap."""
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_gate(tmp_path, body):
    f = tmp_path / "test_gate_probe.py"
    f.write_text(textwrap.dedent(body))
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "mpy", "run.py"), str(f)],
                       capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout


def test_gate_reports_pass_fail_and_heap_budget(tmp_path):
    rc, out = run_gate(tmp_path, """
        import sys
        HEAP_BUDGET = {"test_over_budget": 4096}

        def test_passes():
            assert sys.implementation.name == "micropython"

        def test_fails():
            assert 1 + 1 == 3, "arithmetic"

        def test_over_budget():
            keep = [bytearray(1024) for _ in range(8)]
            assert len(keep) == 8

        def test_generator_steps_free_garbage():
            for _ in range(20):
                junk = bytearray(16 * 1024)
                yield
    """)
    assert rc == 1, out
    assert "PASS  " in out and "::test_passes" in out
    assert "FAIL  " in out and "arithmetic" in out
    assert "::test_over_budget" in out and "exceeds the budget of 4096" in out
    # 20 x 16 KB allocated, but the GC runs between steps: peak stays under 64 KB
    line = [x for x in out.splitlines() if "test_generator_steps_free_garbage" in x][0]
    assert line.startswith("PASS"), out
    # then the unix port, at the file's fixed heap: the failing test fails there too (the
    # per-test budget is the WebAssembly pass's: 64-bit sizes are not compared with it)
    assert "::test_fails [unix]  unix at 131072w" in out
    assert "8 MicroPython tests, 3 failed" in out


def test_the_whole_heap_counts_the_file_s_imports(tmp_path):
    rc, out = run_gate(tmp_path, """
        FILE_HEAP_BUDGET = 48 * 1024
        BIG = bytearray(40 * 1024)  # made at import: in the whole heap, not the test's

        def test_small():
            keep = bytearray(16 * 1024)
            assert len(keep) and len(BIG)
    """)
    assert rc == 1, out
    line = [x for x in out.splitlines() if "::test_small " in x and "[unix]" not in x][0]
    assert line.startswith("FAIL") and "whole" in line, out
    assert "over the file's budget of 49152 bytes (FILE_HEAP_BUDGET)" in out


def test_the_unix_port_runs_the_file_at_its_fixed_heap(tmp_path):
    rc, out = run_gate(tmp_path, """
        FILE_HEAP_BUDGET = 48 * 1024

        def test_grows():
            keep = []
            for _ in range(8):
                keep.append(bytearray(16 * 1024))  # 128 KB live: no 96 KB heap holds it
                yield
    """)
    assert rc == 1, out
    line = [x for x in out.splitlines() if "::test_grows [unix]" in x][0]
    assert line.startswith("FAIL") and "unix at 49152w" in line, out
    assert "MemoryError" in out.split("::test_grows [unix]")[1], out


def test_gate_fails_on_import_error(tmp_path):
    rc, out = run_gate(tmp_path, """
        import no_such_module_here
        def test_x():
            pass
    """)
    assert rc == 1 and "no_such_module_here" in out, out
