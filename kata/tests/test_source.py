"""kata/source.py: the one source of every stage's workit, and the trees made from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kata.source import (
    Chain,
    SourceError,
    Task,
    agreement_problems,
    drift_problems,
    generate,
    parse,
    tasks,
    write_partial,
)

ROOT = Path(__file__).resolve().parents[2]
CHAIN = Chain(("01_sync", "02_redis", "03_worker"))


def trees_of(text: str) -> list[str]:
    source = parse(Path("x.py"), text, CHAIN, Path("x.py"))
    return [source.text_for(tree) for tree in range(len(CHAIN))]


def test_a_range_names_whole_stages_or_one_tree() -> None:
    assert CHAIN.parse_range("02-") == {2, 3, 4, 5}
    assert CHAIN.parse_range("-02") == {0, 1, 2, 3}
    assert CHAIN.parse_range("02") == {2, 3}
    assert CHAIN.parse_range("02:stage") == {2}
    assert CHAIN.parse_range("02:solution-") == {3, 4, 5}
    assert CHAIN.parse_range("-02:stage") == {0, 1, 2}
    for trees in ({2}, {3}, {0, 1, 2}, {3, 4, 5}, {2, 3}, {1, 2, 3, 4}):
        assert CHAIN.parse_range(CHAIN.name_range(frozenset(trees))) == trees


def test_blocks_alternatives_tasks_and_stubs_make_each_tree() -> None:
    text = (
        "a\n"
        "#> -01\n"
        "old\n"
        "#> or task 02.1\n"
        "new\n"
        "#> stub\n"
        "raise NotImplementedError\n"
        "#> end\n"
        "#> todo 03\n"
        "# TODO(03): task 1\n"
        "#> end\n"
        "z\n"
    )
    assert trees_of(text) == [
        "a\nold\nz\n",  # 01 skeleton
        "a\nold\nz\n",  # 01 solution
        "a\nraise NotImplementedError\nz\n",  # 02 skeleton: the stub
        "a\nnew\nz\n",  # 02 solution
        "a\nnew\n# TODO(03): task 1\nz\n",
        "a\nnew\nz\n",
    ]


def test_nested_blocks_hold_the_trees_of_every_block_around_them() -> None:
    text = "#> 02-\nx\n#> -02\ny\n#> end\n#> end\n"
    assert trees_of(text) == ["", "", "x\ny\n", "x\ny\n", "x\n", "x\n"]


def test_a_file_marker_limits_the_file_to_its_stages() -> None:
    source = parse(Path("x.py"), "#> file 02-\nx\n", CHAIN, Path("x.py"))
    assert source.trees == {2, 3, 4, 5}
    assert source.text_for(2) == "x\n"


def test_jinja_markers_work_like_python_ones() -> None:
    assert trees_of("{#> 03- #}\n<p>\n{#> end #}\n<b>\n")[4] == "<p>\n<b>\n"
    assert trees_of("{#> 03- #}\n<p>\n{#> end #}\n<b>\n")[3] == "<b>\n"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("#> 02-\nx\n", "no `#> end` closes"),
        ("x\n#> end\n", "`end` with no block open"),
        ("#> -01\nx\n#> stub\ny\n#> end\n", "`stub` follows a `task` or `extra` block"),
        ("#> 7-\nx\n#> end\n", "not a range"),
        ("#> 03-01\nx\n#> end\n", "an empty range"),
        ("x\n#> file 02-\n", "first line"),
    ],
)
def test_a_bad_marker_names_its_file_and_line(text: str, complaint: str) -> None:
    with pytest.raises(SourceError, match=complaint) as caught:
        parse(Path("src/x.py"), text, CHAIN, Path("x.py"))
    assert str(caught.value).startswith("src/x.py:")


def test_the_committed_trees_are_what_the_source_makes() -> None:
    assert drift_problems(ROOT) == []


def test_a_hand_edit_to_a_generated_file_is_caught_with_the_source_to_edit(tmp_path: Path) -> None:
    for part in ("stages", "solutions", "source"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", "instance"))
    edited = tmp_path / "stages/03_worker/workit/tasks.py"
    edited.write_text(edited.read_text() + "# a hand edit\n")
    stray = tmp_path / "solutions/01_sync/workit/stray.py"
    stray.write_text("")
    problems = drift_problems(tmp_path)
    assert problems == [
        "solutions/01_sync/workit/stray.py is not made by the source: add it under source/workit/ or delete it",
        (
            "stages/03_worker/workit/tasks.py differs from what source/workit/tasks.py makes: "
            "edit source/workit/tasks.py, then run `python -m kata generate`"
        ),
    ]
    generate(tmp_path)
    assert drift_problems(tmp_path) == []
    assert not stray.exists()


def test_a_difference_outside_the_learners_regions_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "stages/01_sync").mkdir(parents=True)
    (tmp_path / "stages/02_redis").mkdir(parents=True)
    (tmp_path / "source/workit").mkdir(parents=True)
    (tmp_path / "source/workit/x.py").write_text("#> 02:solution-\nx = 1\n#> end\n#> todo 02\n# TODO\n#> end\n")
    assert [p.split(": ", 1)[0] for p in agreement_problems(tmp_path)] == ["source/workit/x.py:2"]


def test_a_partial_skeleton_shows_the_done_tasks_solved(tmp_path: Path) -> None:
    for name in ("01_sync", "02_redis"):
        (tmp_path / "stages" / name).mkdir(parents=True)
    (tmp_path / "source/workit").mkdir(parents=True)
    (tmp_path / "source/workit/x.py").write_text(
        "#> task 02.1\none\n#> stub\nstub one\n#> end\n#> task 02.2\ntwo\n#> stub\nstub two\n#> end\n"
    )
    assert tasks(tmp_path) == {"02": [Task("02", 1), Task("02", 2)]}
    parent = write_partial(tmp_path, "02_redis", [Task("02", 1)], tmp_path / "partial")
    assert (parent / "workit/x.py").read_text() == "one\nstub two\n"


def test_a_standalone_stub_names_its_task_and_may_start_earlier() -> None:
    text = "#> task 02.1\nnew\n#> end\n#> stub 02.1 -02:stage\nold\n#> end\n"
    assert trees_of(text) == ["old\n", "old\n", "old\n", "new\n", "new\n", "new\n"]
    source = parse(Path("x.py"), text, CHAIN, Path("x.py"))
    assert source.text_for(2, frozenset({Task("02", 1)})) == "new\n"


def test_the_task_order_plan_pairs_each_task_with_the_tasks_before_it() -> None:
    from kata.taskorder import plan

    jobs = {(stage.name, number): done for stage, number, done in plan(ROOT, ["02_redis"])}
    assert sorted(jobs) == [("02_redis", n) for n in range(1, 7)]
    assert all(task.number <= number for (_, number), done in jobs.items() for task in done)
    assert {task.number for task in jobs[("02_redis", 6)]} >= {task.number for task in jobs[("02_redis", 1)]}


def test_a_copy_without_source_generates_nothing_and_deletes_nothing(tmp_path: Path) -> None:
    (tmp_path / "stages/01_sync/workit").mkdir(parents=True)
    kept = tmp_path / "stages/01_sync/workit/views.py"
    kept.write_text("x = 1\n")
    with pytest.raises(SourceError, match="no source"):
        generate(tmp_path)
    assert kept.read_text() == "x = 1\n"
    assert drift_problems(tmp_path) == []
    assert agreement_problems(tmp_path) == []
