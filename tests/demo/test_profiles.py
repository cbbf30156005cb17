"""The demo section builds profiles of the shipped sample and prints a summary."""

from __future__ import annotations

import pytest

import persona_rec.profiles
from persona_rec.demo.profiles import profiles_section
from persona_rec.profiles import Profiles
from persona_rec.sample_data import load_sample


def test_profiles_section_on_the_shipped_sample():
    ds = load_sample()
    prof, text = profiles_section(ds)
    assert isinstance(prof, Profiles) and len(prof.frame) == ds.n_users
    assert text.startswith(f"User profiles: {ds.n_users:,} users")
    assert "lifecycle: prospect" in text and "example profiles:" in text
    assert "top spender" in text
    top = prof.frame["monetary"].idxmax()
    assert f"user {top} (top spender)" in text


def test_the_old_name_in_profiles_still_works_and_warns():
    with pytest.warns(DeprecationWarning, match=r"persona_rec\.profiles\.demo_section is deprecated"):
        from persona_rec.profiles import demo_section
    assert demo_section is profiles_section
    assert "demo_section" not in persona_rec.profiles.__all__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        persona_rec.profiles.nope  # noqa: B018
