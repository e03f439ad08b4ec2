"""Helpers for the simulator tests: a world for a board, activated, closed afterwards."""
import asyncio
import contextlib

from sim import boards
from sim.world import World


@contextlib.contextmanager
def world(board=boards.DEFAULT, seed=1, virtual=True, populate=True, skip=(), **kw):
    w = World(boards.load(board), seed=seed, virtual=virtual, keep_log=True, **kw).activate()
    if populate:
        w.populate(skip=skip)
    try:
        yield w
    finally:
        w.close()


def run_for(w, seconds):
    """Let the world's loop run for `seconds` of its time."""
    w.loop.run_until_complete(asyncio.sleep(seconds))
