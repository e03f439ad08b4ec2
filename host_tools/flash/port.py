"""The serial port for flashing: opened exclusively (pyserial), and when that cannot be
done, an error that says why: the port is missing, another process holds it (found by
scanning /proc on Linux), or it cannot be opened."""
import os

import serial

from host_tools.flash import errors as E


def port_holders(port):
    """Other processes that hold `port` open ("pid name"), by scanning /proc (Linux)."""
    try:
        rdev = os.stat(port).st_rdev
    except OSError:
        return []
    out = []
    me = str(os.getpid())
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit() and p != me]
    except OSError:
        return []
    for pid in pids:
        fd_dir = "/proc/%s/fd" % pid
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if st.st_rdev == rdev and (st.st_mode & 0o170000) == 0o020000:
                try:
                    with open("/proc/%s/comm" % pid) as f:
                        name = f.read().strip()
                except OSError:
                    name = "?"
                out.append("pid %s %s" % (pid, name))
                break
    return out


def open_port(port, baudrate=115200):
    """An exclusive pyserial port, or PortMissing / PortBusy / PortError."""
    if "://" not in port and not os.path.exists(port):
        raise E.PortMissing(port)
    holders = port_holders(port) if "://" not in port else []
    if holders:
        raise E.PortBusy(port, ", ".join(holders))
    try:
        ser = serial.serial_for_url(port, baudrate=baudrate, timeout=0.05, exclusive=True,
                                    do_not_open=True)
        ser.open()
    except serial.SerialException as e:
        text = str(e)
        if "exclusively lock" in text or "Resource temporarily unavailable" in text:
            raise E.PortBusy(port, "a process holding its lock") from e
        if "No such file" in text:
            raise E.PortMissing(port) from e
        raise E.PortError("cannot open %s: %s" % (port, text)) from e
    return ser
