"""`make bench`: the numbers behind the lesson, measured with real processes on loopback.

Four sections: the learner's feedback loop (pytest per stage beside its import floor), the
headline (POST /mailers, synchronous app vs background app), the cost of enqueueing, and
workers at scale. Benchmarks print numbers; nothing here is a test and nothing here fails
the test suite. See bench/README.md.
"""
