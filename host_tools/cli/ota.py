"""`glasses ota`: build, sign and send firmware updates (docs/ota.md).

    glasses ota keygen [PATH]                       an Ed25519 signing key (prints the
                                                    board option for the public key)
    glasses ota build [--board B] [--sign [KEY]] [--version V] -o FILE
    glasses ota send FILE [--radio R] [--name N]    to the glasses, with a progress bar

`send` goes through the running host (`glasses host`, `make sim`) when its control
endpoint answers (host_tools/phone/control.py, op "ota": the host holds the BLE link); otherwise
(or with --direct) it links over BLE itself as the phone (host_tools.phone.link.Phone), which
reconnects across the glasses' restart into the new firmware. Exit codes:
host_tools/errors.py (0 ok; 1 refused, rolled back, failed; 2 bad file or arguments;
3 no adapter; 7 no link in time).
"""
from __future__ import annotations

import asyncio
import os

from rich.console import Console

from host_tools import errors as exits
from host_tools.cli import linking, options


def register(sub):
    s = sub.add_parser("ota", help="build, sign and send firmware updates over the air")
    osub = s.add_subparsers(dest="ota_cmd", required=True, metavar="ACTION")
    k = osub.add_parser("keygen", help="create the Ed25519 key that signs update packages")
    k.add_argument("path", nargs="?", default=None,
                   help="where to write it (default: the host config dir's "
                        "ota_signing_key.pem)")
    k.set_defaults(fn=run_keygen)
    b = osub.add_parser("build", help="package the firmware tree (and a board's board.py)")
    b.add_argument("--board", default=None,
                   help="include boards/BOARD/board.py; the glasses refuse a package made "
                        "for another board")
    b.add_argument("--sign", nargs="?", const="", default=None, metavar="KEY",
                   help="sign with this key (default key if no path is given)")
    b.add_argument("--version", default=None,
                   help="version to stamp (default: firmware/version.py's)")
    b.add_argument("--security", type=int, default=None, metavar="N",
                   help="security counter to stamp (default: firmware/version.py's SECURITY;"
                        " glasses refuse a package below the one they run unless the wearer "
                        "allows it)")
    b.add_argument("-o", "--output", required=True, metavar="FILE")
    b.set_defaults(fn=run_build)
    d = osub.add_parser("send", help="send a package to the glasses and see it installed")
    d.add_argument("package", metavar="FILE")
    options.radio(d)
    options.name(d)
    options.timeout(d, 30.0, "seconds to wait for the glasses to connect")
    options.direct(d)
    d.add_argument("--wait", type=float, default=600.0,
                   help="seconds to wait for the glasses to confirm the new firmware "
                        "(0: return once they switched)")
    d.set_defaults(fn=run_send)


def run_keygen(args, console=None):
    from host_tools.ota import package as P
    console = console or Console()
    try:
        path, pub = P.keygen(args.path)
    except (exits.PackageError, OSError) as e:
        linking.error(console, e)
        return exits.USAGE
    console.print("signing key written to %s (keep it private)" % path)
    console.print("public key: %s" % pub.hex())
    console.print("to make a board accept only packages signed with it, add to its "
                  "boards/<name>/board.py DATA:")
    console.print('    "options": {"ota_public_key": "%s"},' % pub.hex(), highlight=False)
    return 0


def run_build(args, console=None):
    from host_tools.ota import package as P
    console = console or Console()
    key = None
    if args.sign is not None:
        key = args.sign or os.path.join(P.config_dir(), "ota_signing_key.pem")
    try:
        files = P.collect(board=args.board)
        version = args.version or P.firmware_version()
        if args.version:
            files = P.with_version(files, version)
        if args.security is not None and args.security < 0:
            raise ValueError("--security must be >= 0")
        data = P.build_file(files, version, key, board=args.board, security=args.security)
        with open(args.output, "wb") as f:
            f.write(data)
    except (exits.PackageError, OSError, ValueError) as e:
        linking.error(console, e)
        return exits.USAGE
    console.print("%s: firmware %s, %d files, %d bytes%s%s" % (
        args.output, version, len(files), sum(len(d) for _, d in files),
        ", for board %s" % args.board if args.board else "",
        ", signed" if key else ", unsigned"))
    return 0


def run_send(args, console=None):
    from host_tools.phone import control
    from host_tools.ota import package as P
    console = console or Console()
    try:
        with open(args.package, "rb") as f:
            data = f.read()
        P.open_package(data)
    except (OSError, exits.PackageError) as e:
        linking.error(console, e)
        return exits.USAGE

    async def main():
        if not args.direct and await control.find() is not None:
            return await send_via_host(control.socket_path(), os.path.abspath(args.package),
                                       console, args.wait, args.timeout)
        radio = linking.open_radio(args.radio, console)
        if radio is None:
            return exits.USAGE
        return await _send_ble(radio, data, args, console)

    return asyncio.run(main())


async def send_via_host(path, package_path, console, wait_s, timeout_s):
    """Through the running host's control endpoint (op "ota"), with a progress bar."""
    from host_tools.phone import control
    done = None
    with _bar(console) as (progress, status):
        status("sending through the running host")
        try:
            async for item in control.stream(path, "ota", package=package_path, wait_s=wait_s,
                                             timeout_s=timeout_s):
                if "progress" in item:
                    progress(*item["progress"])
                elif "status" in item:
                    status(item["status"])
                elif "done" in item:
                    done = item["done"]
        except exits.GlassesError as e:
            linking.error(console, e.message)
            return e.exit_code
    if done is None:
        linking.error(console, "the host ended the update without a result")
        return exits.FAILED
    return _outcome(console, done)


async def _send_ble(radio, data, args, console):
    from host_tools.phone.link import Phone
    phone = Phone(radio, name=args.name, announce=lambda text: None)
    task = asyncio.get_running_loop().create_task(phone.run())
    try:
        with console.status("Connecting to %s..." % (args.name or "the glasses")):
            try:
                await phone.wait_open(args.timeout)
            except asyncio.TimeoutError:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    e = exits.classify(task.exception(), radio)  # e.g. a version mismatch
                    linking.error(console, e.message)
                    return e.exit_code
                linking.error(console, "no link to %s within %.0f s (%s)" % (
                    args.name or "the glasses", args.timeout,
                    phone.last_error or "are they on, near, and paired?"))
                return exits.LINK_TIMEOUT
        return await send_with_progress(phone, data, console, args.wait)
    finally:
        phone.stop()
        task.cancel()
        try:
            await task
        except BaseException:
            pass
        await radio.close()


class _bar:
    """Progress of the upload (host_tools/cli/progress.py): yields (progress(done, total),
    status(text))."""

    def __init__(self, console):
        from host_tools.cli.progress import Transfer
        self.t = Transfer(console, "sending")

    def __enter__(self):
        t = self.t.__enter__()
        return t.update, t.describe

    def __exit__(self, *exc):
        return self.t.__exit__(*exc)


async def send_with_progress(phone, data, console, wait_s=600.0):
    """Send a package file over a phone whose link is up, with a progress bar; prints
    the outcome and returns the exit code."""
    from host_tools.ota.host import result_dict, send_update
    with _bar(console) as (progress, status):
        try:
            res = await send_update(phone, data, progress=progress, on_status=status,
                                    wait_healthy_s=wait_s)
        except exits.UpdateRefused as e:
            linking.error(console, "the glasses refused the update: %s" % e.reason)
            return exits.FAILED
        except exits.RolledBack as e:
            linking.error(console, "the new firmware did not get healthy and was rolled "
                          "back: %s" % e.reason)
            return exits.FAILED
        except (exits.OtaFailed, exits.PackageError) as e:
            linking.error(console, e)
            return exits.FAILED
    return _outcome(console, result_dict(res))


def _outcome(console, res):
    if res["outcome"] == "healthy":
        console.print("[green]updated[/green] to %s: %s" % (res["version"], res["detail"]))
    elif res["outcome"] == "installed":
        console.print("%s was already installed: %s" % (res["version"], res["detail"]))
    else:
        console.print("switched to %s (%s); not yet confirmed healthy by the glasses"
                      % (res["version"], res["detail"]))
    if res["resent_bytes"] or res["glasses_restarts"]:
        console.print("  %d bytes sent again, %d restarts of the glasses on the way" % (
            res["resent_bytes"], res["glasses_restarts"]))
    return 0
