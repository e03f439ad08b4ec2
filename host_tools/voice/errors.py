"""The voice feature's errors on the host. None leaves the feature: host.py turns them
into the link's typed RPC errors for the glasses (firmware/protocol/rpc.py)."""


class SpeechError(RuntimeError):
    """A speech job failed; the message says which service and why."""


class Unavailable(SpeechError):
    """A speech service cannot run here: 'unavailable: <why>' (the setting to change and
    the package that provides what is missing)."""

    def __init__(self, why):
        super().__init__(why if why.startswith("unavailable: ") else "unavailable: " + why)


class WorkerDied(SpeechError):
    """The worker process went away in the middle of a job (it is restarted)."""
