"""Running the `unionbot` CLI in-process, the way an operator would, against a test database."""

from __future__ import annotations

from click.testing import CliRunner, Result

from bot.cli import main


def unionbot(url: str, *args: str, input: str | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(
        main,
        ["--env-file", "/nonexistent", "--db", url, *args],
        input=input,
        catch_exceptions=False,
    )


async def unionbot_async(url: str, *args: str, input: str | None = None) -> Result:
    """The CLI runs its own event loop: from an async test it goes to a thread."""
    import asyncio

    return await asyncio.to_thread(unionbot, url, *args, input=input)
