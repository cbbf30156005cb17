from __future__ import annotations

import re

from persona_rec.demo import SECTIONS
from persona_rec.demo.social import social_section


def test_demo_section_reports_the_planted_truth():
    text = social_section(0)
    assert "all planted influencers: True" in text
    auc = float(re.search(r"AUC (\d\.\d+)", text).group(1))
    assert auc >= 0.9
    assert "Social graph and feedback (synthetic)" in [title for title, _ in SECTIONS]
