"""How a `glasses` command reaches the glasses: through the running host's control
endpoint when one serves this config dir (`glasses host`, `make sim`: they hold the BLE
link), else over BLE itself (`--radio`). Both give the same calls:

    link = await open_link(radio_spec, name, timeout_s, direct=False)
    print(link.via)
    st = await link.status(5)            # also connect(t), notify(fields, t), forget(t)
    async for rec in link.logs(level): ...
    await link.close()
"""
from host_tools.phone import control
from host_tools import errors as exits
from host_tools.phone.ops import DirectLink


class RemoteLink:
    """The running host, through its control endpoint."""

    def __init__(self, path, hello):
        self.path = path
        self.host = hello

    @property
    def via(self):
        return "through the running host (pid %s, %s radio)" % (self.host.get("pid"),
                                                                 self.host.get("radio"))

    async def status(self, timeout_s):
        return await control.request(self.path, "status", timeout_s)

    async def connect(self, timeout_s):
        return await control.request(self.path, "connect", timeout_s)

    async def notify(self, fields, timeout_s):
        return await control.request(self.path, "notify", timeout_s, fields=fields)

    async def forget(self, timeout_s, every=False):
        r = await control.request(self.path, "forget", timeout_s, every=bool(every))
        return r["ok"], r["detail"], r["host_keys_removed"]

    async def logs(self, level):
        async for item in control.stream(self.path, "logs", level=level):
            yield item["log"]

    async def close(self):
        pass


async def open_link(radio_spec=None, name=None, timeout_s=5.0, direct=False):
    """A RemoteLink if a host runs (and not direct), else an open DirectLink. Raises
    GlassesError (no adapter, not found, pairing refused, version mismatch, timeout)."""
    from host_tools.radio import open_radio
    if not direct:
        hello = await control.find()
        if hello is not None:
            return RemoteLink(control.socket_path(), hello)
    try:
        radio = open_radio(radio_spec)
    except exits.RadioSpecError as e:
        raise exits.GlassesError("bad_request", str(e)) from None
    link = DirectLink(radio, name=name, timeout_s=timeout_s)
    try:
        await link.open()
    except BaseException:
        await link.close()
        raise
    return link
