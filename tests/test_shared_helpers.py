"""The small shared helpers that replaced repeated code: fill_doc, check_instance."""

from __future__ import annotations

import pytest

from persona_rec import Dataset
from persona_rec._text import LOAD_PARAMETERS, SAVE_PARAMETERS, fill_doc
from persona_rec._validation import check_instance
from persona_rec.exceptions import InvalidDtypeError
from persona_rec.models import ALSRecommender, Recommender


def test_fill_doc_indents_the_fragment_like_its_placeholder() -> None:
    @fill_doc(params="x : int\n    The value.\n")
    def f() -> None:
        """Do.

        Parameters
        ----------
        {params}

        Examples
        --------
        >>> {"a": 1}["a"]
        1
        """

    lines = f.__doc__.split("\n")
    assert lines[4:6] == ["        x : int", "            The value."]
    assert '        >>> {"a": 1}["a"]' in lines  # braces that are not a placeholder stay


def test_fill_doc_refuses_a_placeholder_without_fragment() -> None:
    def f() -> None:
        """Do.

        {missing}
        """

    with pytest.raises(KeyError, match="missing"):
        fill_doc(other="text")(f)


@pytest.mark.parametrize("method, fragment", [
    (Dataset.save, SAVE_PARAMETERS), (Dataset.load, LOAD_PARAMETERS),
    (Recommender.save, SAVE_PARAMETERS), (ALSRecommender.load, LOAD_PARAMETERS),
])
def test_save_and_load_show_the_shared_parameter_text(method, fragment) -> None:
    doc = method.__doc__
    assert "{" not in doc
    for line in fragment.strip().split("\n"):
        assert ("        " + line).rstrip() in doc.split("\n")


def test_check_instance_names_what_and_the_type_received() -> None:
    assert check_instance([1], list, "values must be a list") == [1]
    with pytest.raises(InvalidDtypeError, match=r"^values must be a list, got tuple\.$"):
        check_instance((1,), list, "values must be a list")
    with pytest.raises(TypeError):  # InvalidDtypeError refines TypeError
        check_instance(None, (list, dict), "values must be a list or dict")
