"""What already works when this step starts: a job sends its email, with its GIF, once."""

from __future__ import annotations

import pytest

from kata.inbox import image_sources

EMAIL = "buster@example.com"
THOUGHT = "I'm a monster"
GIF = "https://media.giphy.com/media/kataMonster/200.gif"


def gifs_in(message) -> list[str | None]:
    html = message.get_body(("html",))
    return image_sources(html.get_content()) if html is not None else []


@pytest.mark.given
def test_a_job_sends_its_email_with_the_gif(run_job, giphy, inbox):
    giphy.search_finds(GIF)

    job = run_job(EMAIL, THOUGHT)

    assert job.state == "SUCCESS", f"the job ended {job.state} ({job.error!r}); expected SUCCESS."
    assert [d.rcpt_tos for d in inbox.deliveries] == [(EMAIL,)], (
        f"one job delivered {len(inbox.deliveries)} email(s); expected exactly one, to {EMAIL!r}."
    )
    assert gifs_in(inbox.messages[0]) == [GIF], "the email should show the GIF Giphy found."


@pytest.mark.given
def test_two_jobs_for_the_same_thought_send_two_emails(run_job, giphy, inbox):
    giphy.search_finds(GIF)

    first, second = run_job(EMAIL, THOUGHT), run_job(EMAIL, THOUGHT)

    assert (first.state, second.state, len(inbox.deliveries)) == ("SUCCESS", "SUCCESS", 2), (
        f"two jobs (two .delay() calls, two task ids) for the same email and thought ended "
        f"{first.state} and {second.state} and delivered {len(inbox.deliveries)} email(s); "
        "expected two emails. Someone who sends the form twice wants two GIFs: what must not "
        "send twice is one job delivered twice, so tell jobs apart by their task id, never "
        "by their arguments."
    )
