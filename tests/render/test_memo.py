"""The render context's kept results (dossier/render/memo.py): taken only for equal inputs,
equal to what the step makes, and never a value JSON would change."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dossier.render.memo import Memo


def _store(memo: Memo) -> Memo:
    """A memo of a later build that finds what ``memo`` kept."""
    kept = dict(memo.kept)
    return Memo(kept.get)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"patient": ["a", "b"], "days": [10.5, np.nan]}, index=[3, 7])


def test_equal_inputs_take_the_kept_result_equal_and_in_its_order() -> None:
    first = Memo()
    made = first.value("figure", (_frame(), "title", 2), lambda: {"z": "svg", "a": [1, 2.5]})
    later = _store(first)
    taken = later.value("figure", (_frame(), "title", 2), lambda: pytest.fail("made again"))
    assert taken == made and list(taken) == ["z", "a"]
    assert later.reused == ["figure"] and later.made == []
    assert later.kept == first.kept  # kept again for the next build


@pytest.mark.parametrize("inputs", [
    (_frame().assign(days=[10.5, 11.0]), "title", 2),  # one cell
    (_frame().set_axis([3, 8]), "title", 2),  # the rows' positions
    (_frame().astype({"days": "float32"}), "title", 2),  # a column's type
    (_frame(), "title!", 2),
    (_frame(), "title", 3),
])
def test_any_changed_input_makes_the_result_again(inputs) -> None:
    first = Memo()
    first.value("figure", (_frame(), "title", 2), lambda: "old")
    later = _store(first)
    assert later.value("figure", inputs, lambda: "new") == "new"
    assert later.made == ["figure"]


def test_the_step_name_is_part_of_the_key() -> None:
    first = Memo()
    first.value("swimmer plot", ("x",), lambda: "swimmer")
    assert _store(first).value("km figures", ("x",), lambda: "km") == "km"


@pytest.mark.parametrize("result", [("a", "b"), {1: "int key"}, [np.int64(3)], {"a": {"b"}}])
def test_a_result_json_would_change_is_not_kept(result) -> None:
    memo = Memo()
    assert memo.value("step", ("x",), lambda: result) is result
    assert memo.kept == {}


def test_a_kept_result_comes_back_a_new_object() -> None:
    first = Memo()
    first.value("step", ("x",), lambda: {"rows": [1]})
    later = _store(first)
    taken = later.value("step", ("x",), lambda: None)
    taken["rows"].append(2)  # the context adds to what it is given
    assert json.loads(later.kept[later.key("step", ("x",))]) == {"rows": [1]}


def test_an_input_that_cannot_be_keyed_is_refused() -> None:
    with pytest.raises(TypeError, match="memo key"):
        Memo().key("step", (object(),))


@pytest.mark.parametrize("other", [
    pd.DataFrame({"a": ["1", "x"], "b": [1.0, 2.0]}),  # text "1", not the number 1
    pd.DataFrame({"a": [1, "x"], "b": [1.0, 2.5]}),
    pd.DataFrame({"b": [1.0, 2.0], "a": [1, "x"]}),  # the columns' order
    pd.DataFrame({"a": [1, "x"], "c": [1.0, 2.0]}),  # a column's name
    pd.DataFrame({"a": [1, None], "b": [1.0, 2.0]}),
    pd.DataFrame({"a": [1, "x"], "b": [1.0, 2.0]}, index=[1, 2]),
])
def test_a_table_digest_tells_any_difference(other) -> None:
    from dossier.render.memo import frame_digest

    one = pd.DataFrame({"a": [1, "x"], "b": [1.0, 2.0]})
    assert frame_digest(one) == frame_digest(one.copy())
    assert frame_digest(one) != frame_digest(other)
