"""Reading a body whole, but never more than a limit: `StreamReader.read(n)` returns as
soon as *some* bytes have come (one TCP segment, often), so a single call truncates any
answer longer than what arrived first; this reads until the end or past the limit."""

from __future__ import annotations

from aiohttp import StreamReader

CHUNK = 64 * 1024


async def read_at_most(stream: StreamReader, limit: int) -> bytes:
    """Everything up to the end, or the first `limit + 1` bytes: more than `limit` bytes
    back means the body was longer than allowed."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
