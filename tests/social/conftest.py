"""Planted social data shared by the social tests."""

from __future__ import annotations

import pytest

from persona_rec.sample_data.social import SocialData, synthetic_social


@pytest.fixture(scope="session")
def social_data() -> SocialData:
    """2000 users, 8 planted communities, 20 planted influencers."""
    return synthetic_social(2000, 300, 30_000, random_state=0)
