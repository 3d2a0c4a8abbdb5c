"""The kata's pytest wiring lives in the `kata` package; this file only loads it."""

pytest_plugins = ["kata.plugin"]
