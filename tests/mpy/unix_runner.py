# Runs one firmware test file on MicroPython's unix port at the fixed heap the command
# line gives (tests/mpy/run.py starts it: micropython -X heapsize=N unix_runner.py ROOT
# TESTFILE [TEST_NAME...]); the unix twin of runner.mjs. Each test_* function of the file
# runs in definition order, a generator test one step per next() with a collection
# between steps. The heap is fixed, so a test (its imports included: they are made in
# this heap too) that does not fit fails with MemoryError where it ran out. Output: one
# JSON object per line, {"event": "start"|"result", ...}, with "peak": the largest live
# heap after a step, counted from before the test file's imports (64-bit objects: it is
# reported, not checked against the file's 32-bit budgets; the fixed heap is the check).
import gc
import json
import sys

STEP_LIMIT = 100000


def _emit(**kw):
    print(json.dumps(kw))


def _error(e):
    import io
    buf = io.StringIO()
    sys.print_exception(e, buf)
    return buf.getvalue()


def _names(path):
    out = []
    with open(path) as f:
        for line in f:
            if line.startswith("def test_") and "(" in line:
                out.append(line[4:line.index("(")].strip())
    return out


def _run(mod, name, base, peak):
    """(error text or None, peak)"""
    gc.collect()
    r = getattr(mod, name)()
    if not hasattr(r, "send"):
        gc.collect()
        return None, max(peak, gc.mem_alloc() - base)
    for _ in range(STEP_LIMIT):
        try:
            next(r)
        except StopIteration:
            return None, peak
        gc.collect()
        a = gc.mem_alloc() - base
        if a > peak:
            peak = a
    return "generator test did not finish", peak


def main(root, path, only):
    sys.path.insert(0, root + "/tests/fw")
    sys.path.insert(0, root)
    name = path.split("/")[-1][:-3]
    sys.path.insert(0, path[:-len(name) - 4])
    gc.collect()
    base = gc.mem_alloc()
    try:
        import fwtest
        fwtest.IMPL = "micropython"
        mod = __import__(name)
    except BaseException as e:  # MemoryError and SyntaxError included
        _emit(event="result", test="<import>", ok=False, error=_error(e))
        return 1
    failures = 0
    for test in _names(path):
        if only and test not in only:
            continue
        _emit(event="start", test=test)
        gc.collect()
        peak = gc.mem_alloc() - base
        try:
            err, peak = _run(mod, test, base, peak)
        except BaseException as e:
            err = _error(e)
        failures += err is not None
        _emit(event="result", test=test, ok=err is None, error=err, peak=peak)
    return 1 if failures else 0


sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
