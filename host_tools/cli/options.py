"""The options several `glasses` commands share, each defined once here; a command adds
the ones it takes to its parser:

    options.radio(p)              --radio (else $GLASSES_RADIO, else the system's Bluetooth)
    options.name(p)               --name: which glasses (default: the first found)
    options.timeout(p, 30.0, ...) --timeout in seconds (its default and meaning vary)
    options.direct(p)             --direct: over BLE even if a host is running
    options.link(p)               all four, as the commands that go through the running
                                  host else over BLE take them (host_tools/cli/linking.py)
"""
RADIO = "system (default), virtual, or virtual:HOST:PORT (also $GLASSES_RADIO)"


def radio(p, when=""):
    """--radio; `when` says when it is used (appended to the help)."""
    p.add_argument("--radio", default=None, help=RADIO + when)


def name(p):
    p.add_argument("--name", default=None, help="the glasses' name (default: the first found)")


def timeout(p, default=5.0, help="seconds to look for the glasses"):
    p.add_argument("--timeout", type=float, default=default, help=help)


def direct(p):
    p.add_argument("--direct", action="store_true",
                   help="link over BLE even if a host is running (it must let go first)")


def link(p):
    radio(p, when="; used when no host is running")
    name(p)
    timeout(p, help="seconds to find the glasses / wait for an answer (default 5)")
    direct(p)
