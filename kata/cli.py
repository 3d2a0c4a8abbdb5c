"""The `kata` command."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import click

from kata.selfcheck import format_table, run_selfcheck

ROOT = Path(__file__).resolve().parent.parent


@click.group()
def main() -> None:
    """Work-It Kata: move a slow Flask email into a Celery background job, step by step."""


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def selfcheck(pytest_args: tuple[str, ...]) -> None:
    """Maintainers: prove every solution passes and every skeleton fails for the right reason.

    Extra arguments go to both pytest runs, e.g. `kata selfcheck --integration`.
    """
    started = time.monotonic()
    verdicts, problems = run_selfcheck(ROOT, list(pytest_args))
    click.echo(format_table(verdicts))
    for verdict in verdicts:
        problems += [f"{verdict.stage}: {p}" for p in verdict.problems]
    click.echo(f"\nself-check took {time.monotonic() - started:.1f} s")
    if problems:
        click.echo(f"\n{len(problems)} problem(s):", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1)
    click.echo("self-check passed: every solution passes, every skeleton fails as intended.")


@main.command("giphy-standin")
@click.option("--port", default=5100, show_default=True)
@click.option("--delay", default=2.0, show_default=True, help="seconds before each answer")
def giphy_standin(port: int, delay: float) -> None:
    """A local Giphy for offline runs: point GIPHY_API_URL at http://127.0.0.1:PORT/v1/gifs."""
    from kata.stack import GiphyStandIn

    with GiphyStandIn(delay=delay, port=port) as standin:
        click.echo(f"Giphy stand-in on {standin.api_url}, answering after {delay:.1f} s (Ctrl-C stops it)")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
