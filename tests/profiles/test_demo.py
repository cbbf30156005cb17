"""The demo section builds profiles of the shipped sample and prints a summary."""

from __future__ import annotations

from persona_rec.datasets import load_sample
from persona_rec.profiles import Profiles, demo_section


def test_demo_section_on_the_shipped_sample():
    ds = load_sample()
    prof, text = demo_section(ds)
    assert isinstance(prof, Profiles) and len(prof.frame) == ds.n_users
    assert text.startswith(f"User profiles: {ds.n_users:,} users")
    assert "lifecycle: prospect" in text and "example profiles:" in text
    assert "top spender" in text
    top = prof.frame["monetary"].idxmax()
    assert f"user {top} (top spender)" in text
