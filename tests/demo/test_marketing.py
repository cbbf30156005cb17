"""The demo's campaign-plan section on the shipped sample."""

from __future__ import annotations

from persona_rec.demo import DemoContext
from persona_rec.demo.marketing import marketing_section
from persona_rec.sample_data import load_sample


def test_marketing_section_on_the_shipped_sample():
    ctx = DemoContext(dataset=load_sample())
    text = marketing_section(ctx)
    assert "funnel" in text and "tactics" in text and "send_at" in text
    plan = ctx.results["plan"]
    assert len(plan) == len(ctx.results["audience"]) and plan["items"].map(len).gt(0).all()
