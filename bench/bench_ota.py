"""Update figures (run by bench/run.py; CPython, virtual time, one run).

A signed package of the real tree (firmware/ + the board's board.py, version changed) goes
from the in-process phone (host_tools.ota.host) to the simulated glasses over the real
bumble stack and the paced radio model (LE 2M, 251-byte LL PDUs, ATT MTU 247, 15 ms).

- ota_goodput_ratio: file bytes per second while the files move (from the glasses' "ready"
  to the acknowledgement of the last chunk) / the link model's ceiling at the connection's
  own settings (sim/linkmodel.ceiling_bytes_per_s). Target >= 0.8.
- ota_goodput_kBps, ota_ceiling_kBps: the two sides of that ratio.
- ota_chunk_bytes: data per OTA_CHUNK (sized so a message fills whole frames).
- ota_package_kB: file bytes in the package; ota_envelope_bytes: the manifest + signature
  sent first.
- ota_send_s: from the first OTA_BEGIN piece to OTA_DONE (switched), virtual seconds.
- ota_to_healthy_s: from the first piece to the glasses' report that the new firmware is
  confirmed (restart, reconnection, ota_healthy_s = 10 s of running linked).

What the simulator does not charge: flash writes and CPU time (hashing, the Ed25519 check)
take no virtual time, so the figure is the protocol's and the link's efficiency; on a
board, littlefs writes (NOR sector erases of ~45 ms per 4 KB) can be the limit instead.
"""
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sim import mirror  # noqa: E402

mirror.install()

from host_tools.ota import package as P  # noqa: E402
from host_tools.ota.host import chunk_size, send_update  # noqa: E402
from sim.linked import Linked  # noqa: E402
from sim.linkmodel import DEFAULT, ceiling_bytes_per_s  # noqa: E402

BOARD = "xiao_esp32s3_sense"


def run():
    tmp = tempfile.mkdtemp(prefix="bench_ota_")
    try:
        key, pub = P.keygen(os.path.join(tmp, "key.pem"))
        files = P.with_version(P.collect(board=BOARD), "0.2.0")
        pkg = P.build_file(files, "0.2.0", key, board=BOARD)
        rig = Linked(board=BOARD, seed=31, flash_dir=os.path.join(tmp, "flash"),
                     config_dir=os.path.join(tmp, "host"), radio=DEFAULT,
                     board_options={"ota_public_key": pub.hex()})
        marks = []
        out = {}

        async def scenario():
            await rig.start()
            await rig.phone.wait_open(30)
            loop = rig.loop
            (model,) = rig.world.radio.glasses_connections()
            out["interval_ms"] = model.interval_s * 1000
            t0 = loop.time()

            def progress(done, total):
                marks.append((loop.time(), done, total))

            def status(text):
                if text.startswith("switched"):
                    out["switched_at"] = loop.time()

            res = await send_update(rig.phone, pkg, progress=progress, on_status=status,
                                    wait_healthy_s=120)
            out["res"] = res
            out["send_s"] = out["switched_at"] - t0
            out["healthy_s"] = loop.time() - t0

        try:
            rig.run(scenario())
        finally:
            rig.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res = out["res"]
    start = next(t for t, d, _ in marks)  # the glasses' "ready": nothing held yet
    end = next(t for t, d, total in marks if d == total)
    goodput = res.payload_bytes / (end - start)
    settings = DEFAULT.replace(interval_ms=round(out["interval_ms"], 2))
    ceiling = ceiling_bytes_per_s(settings)
    return {
        "ota_goodput_ratio": round(goodput / ceiling, 4),
        "ota_goodput_kBps": round(goodput / 1000, 1),
        "ota_ceiling_kBps": round(ceiling / 1000, 1),
        "ota_chunk_bytes": chunk_size(247, 0, 0),  # 8 full frames at MTU 247
        "ota_package_kB": round(res.payload_bytes / 1000, 1),
        "ota_envelope_bytes": res.envelope_bytes_sent,
        "ota_send_s": round(out["send_s"], 3),
        "ota_to_healthy_s": round(out["healthy_s"], 3),
        "ota_outcome_healthy": res.outcome == "healthy",
    }


if __name__ == "__main__":
    print(run())
