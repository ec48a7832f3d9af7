"""Letting a burst in, in the order it came."""

from __future__ import annotations

import asyncio
from collections import deque


class FairGate:
    """At most `capacity` holders at once, the others let in strictly in the order they came.

    The pool's own wait is not fair: a connection given back wakes a waiter, but a message
    that arrives before that waiter runs takes the connection, and the waiter goes to the
    back of the line. With hundreds pressing at once, a few waited seconds while most took
    milliseconds. Here a freed place is handed to the first waiter directly.
    """

    def __init__(self, capacity: int) -> None:
        self._free = capacity
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        place = asyncio.get_running_loop().create_future()
        self._waiters.append(place)
        try:
            await place
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self._release()  # handed a place just as it was cancelled: pass it on
            elif place in self._waiters:  # still in line (a release may have dropped it)
                self._waiters.remove(place)
            raise

    async def __aexit__(self, *_exc: object) -> None:
        self._release()

    def _release(self) -> None:
        while self._waiters:
            place = self._waiters.popleft()
            if not place.done():
                place.set_result(None)
                return
        self._free += 1
