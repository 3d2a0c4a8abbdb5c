"""The `kata` command."""

from __future__ import annotations

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
