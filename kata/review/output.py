"""What the learner reads: the whole review (`kata review`), or a line per note (`kata check`)."""

from __future__ import annotations

import textwrap

import click

from kata.review.comments import Review, count

COLOURS = {"essential": "red", "actionable": "yellow", "informative": "cyan", "celebratory": "green"}
WIDTH = 88
FOOTER = "(The review never changes your files; the tests alone decide when a stage is done.)"


def _styled(kind: str) -> str:
    return click.style(kind, fg=COLOURS[kind], bold=kind == "essential")


def review_lines(review: Review, shown_as: str) -> list[str]:
    """The whole review: every comment with where, what, why and what to read."""
    heading = f"Review of {review.stage} ({shown_as}): "
    if not review.directory.is_dir():
        return [heading + "there is no such package to read."]
    notes = review.notes
    if not review.comments:
        return [heading + "nothing to point out.", FOOTER]
    lines = [heading + (f"{count(len(notes), 'note')}." if notes else "nothing to change."), ""]
    for comment in review.comments:
        lines.append(f"{_styled(comment.type)}  {comment.where}  {comment.title}")
        lines += textwrap.wrap(comment.rule.why, WIDTH, initial_indent="  ", subsequent_indent="  ")
        lines += [f"  Read: {comment.rule.read}", ""]
    if review.ruff_missing:
        lines += ["ruff did not run (is it installed? pip install ruff), so the general checks (except, timeouts, logging) were skipped.", ""]
    return [*lines, review.summary, FOOTER]


def note_lines(review: Review, number: str) -> list[str]:
    """What `kata check` adds once a stage passes: one line per comment, and where to read more."""
    notes, praise = review.notes, review.of_type("celebratory")
    if not notes:
        return [f"Well done: {comment.title[0].lower()}{comment.title[1:]}." for comment in praise]
    lines = [f"{count(len(notes), 'note').capitalize()} on your approach ({_command(f'kata review {number}')} says why):"]
    width = max(len(comment.where) for comment in notes)
    lines += [f"  {_styled(c.type)}{' ' * (13 - len(c.type))}{c.where:<{width}}  {c.title}" for c in notes]
    return [*lines, ""]


def _command(text: str) -> str:
    return click.style(text, fg="cyan")
