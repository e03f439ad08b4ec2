"""The host's state for people: a rich panel (`glasses host` on a terminal, the link part
of `glasses sim`'s live view) and one-line summaries (logs, pipes, CI)."""
from rich.table import Table

_ROWS = (("rtt_ms", "rtt ms"), ("retransmits", "retransmits"), ("duplicates", "duplicates"),
         ("bad_frames", "bad frames"), ("goodput_in", "bytes in"), ("goodput_out", "bytes out"),
         ("audio_lost", "audio lost"), ("frames_in", "frames in"), ("frames_out", "frames out"))


def link_table(snap, glasses=None):
    """A table of the host's link (snap: HostService.snapshot()) and, if given, the
    glasses' side (their session stats dict)."""
    t = Table(box=None, padding=(0, 1), show_header=glasses is not None)
    t.add_column("link", style="cyan")
    if glasses is not None:
        t.add_column("glasses", justify="right")
    t.add_column("host", justify="right")
    h = snap.get("host_link") or {}

    def row(label, gv, hv):
        if glasses is not None:
            t.add_row(label, str(gv), str(hv))
        else:
            t.add_row(label, str(hv))

    peer = snap.get("peer") or {}
    row("host state", "", snap.get("state"))
    if peer:
        row("peer", "", "%s %s%s" % (peer.get("board"), peer.get("version"),
                                     ", resumed" if peer.get("resumed") else ""))
    g = glasses or {}
    row("session", g.get("state", ""), h.get("state", ""))
    row("connects", g.get("connects", ""), snap.get("connects", ""))
    for key, label in _ROWS:
        row(label, g.get(key, ""), h.get(key, ""))
    rpc = snap.get("rpc") or {}
    if rpc:
        running = rpc.get("running") or []
        row("offload jobs", "", "%s%d done, %d failed, %d timed out" % (
            "running: %s; " % ", ".join(running) if running else "",
            rpc.get("completed", 0), rpc.get("failed", 0), rpc.get("timed_out", 0)))
    plugins = snap.get("plugins") or {}
    if plugins:
        row("plugins", "", ", ".join("%s %s" % kv for kv in sorted(plugins.items())))
    return t


def one_line(snap):
    """'link open: xiao_esp32s3_sense 0.1.0, rtt 30 ms, 120 B in / 80 B out, ...'"""
    h = snap.get("host_link") or {}
    peer = snap.get("peer") or {}
    who = " %s %s," % (peer.get("board"), peer.get("version")) if peer else ""
    return ("link %s:%s connects %d, rtt %s ms, %s B in / %s B out, %s retransmits, "
            "%s bad frames, %s audio lost" % (
                snap.get("state"), who, snap.get("connects", 0), h.get("rtt_ms", "?"),
                h.get("goodput_in", 0), h.get("goodput_out", 0), h.get("retransmits", 0),
                h.get("bad_frames", 0), h.get("audio_lost", 0)))
