"""Stage 07's tests share the fixtures of the stages with two chained jobs (kata/chained_fixtures.py):
a Celery broker, a database per test, real workers per queue, a Giphy that can be held.
"""

from kata.chained_fixtures import *  # noqa: F403 (the fixtures, for this stage only)
