"""Point-in-time correctness: events at or after as_of never change a profile."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona_rec import Dataset
from persona_rec.profiles import ProfileBuilder

START = pd.Timestamp("2024-01-01")
AS_OF = pd.Timestamp("2024-04-01")
ITEMS = pd.DataFrame({
    "item_id": [f"i{k}" for k in range(6)],
    "category": ["A > X", "A > Y", "B > Z", "B > Z", "C > W > V", None],
    "brand": ["p", "q", "p", None, "r", "q"],
    "price": [5.0, 10.0, 15.0, 20.0, 25.0, np.nan],
})
USERS = pd.DataFrame({"user_id": ["u0", "u1", "u2", "u9"], "age": [20, 40, 60, 33],
                      "gender": ["F", "M", "F", "M"]})
EVENTS = ["view", "cart", "purchase"]


def events(draw_minutes_low: int, draw_minutes_high: int, users: list[str]):
    """A strategy of event rows between START + low and START + high minutes."""
    row = st.tuples(
        st.sampled_from(users),
        st.sampled_from(list(ITEMS["item_id"])),
        st.integers(draw_minutes_low, draw_minutes_high),
        st.sampled_from(EVENTS),
        st.integers(1, 3),
        st.sampled_from([4.0, 5.0, 9.0, 10.0, 15.0, 20.0, 25.0]),
        st.integers(0, 30),
    )
    return st.lists(row, min_size=1, max_size=40)


def frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["user_id", "item_id", "minute", "event", "quantity",
                                     "price", "order"])
    df["timestamp"] = START + pd.to_timedelta(df.pop("minute"), unit="min")
    df["order_id"] = df["user_id"] + "-" + df.pop("order").astype(str)
    return df


def comparable(prof, users) -> pd.DataFrame:
    return prof.frame.loc[users].astype(object).where(prof.frame.loc[users].notna(), None)


HORIZON = int((AS_OF - START) / pd.Timedelta(minutes=1))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=events(0, HORIZON - 1, ["u0", "u1", "u2", "u3"]),
    after=events(HORIZON, HORIZON + 100_000, ["u0", "u1", "u2", "u3", "late_user"]),
)
def test_events_after_as_of_never_change_profiles(before, after):
    base = frame(before)
    more = pd.concat([base, frame(after)], ignore_index=True)
    builder = ProfileBuilder.default(half_life_days=7.0, price_band_min_items=2,
                                     min_item_sales=2)
    p1 = builder.build(Dataset.from_frames(base, users=USERS, items=ITEMS), as_of=AS_OF)
    p2 = builder.build(Dataset.from_frames(more, users=USERS, items=ITEMS), as_of=AS_OF)
    users = list(p1.frame.index)
    pd.testing.assert_frame_equal(comparable(p1, users), comparable(p2, users))
    for kind, (m1, names1) in p1.affinities.items():
        m2, names2 = p2.affinities[kind]
        idx2 = p2.frame.index.get_indexer(users)
        a = pd.DataFrame(m1.toarray(), columns=names1)
        b = pd.DataFrame(m2[idx2].toarray(), columns=names2).reindex(columns=names1, fill_value=0)
        assert set(names2) >= set(names1)
        extra = [c for c in names2 if c not in names1]
        assert np.all(m2[idx2][:, [names2.index(c) for c in extra]].toarray() == 0)
        np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-6, atol=1e-7)
    pd.testing.assert_frame_equal(
        p1.category_cycles.reset_index(drop=True),
        p2.category_cycles[p2.category_cycles.user_id.isin(users)].reset_index(drop=True),
    )
    # the user who only appears after as_of is a prospect without events
    if "late_user" in p2.frame.index and "late_user" not in users:
        assert p2.frame.loc["late_user", "lifecycle_stage"] == "prospect"
        assert p2.frame.loc["late_user", "n_events"] == 0


def test_as_of_equals_filtering_the_dataset_first(tiny_dataset):
    as_of = pd.Timestamp("2024-02-01")
    builder = ProfileBuilder.default()
    direct = builder.build(tiny_dataset, as_of=as_of)
    filtered = builder.build(tiny_dataset.filter_time(end=as_of), as_of=as_of)
    pd.testing.assert_frame_equal(direct.frame, filtered.frame)
    # b bought only after 2024-02-01: a prospect at that time
    assert direct.frame.loc["b", "lifecycle_stage"] == "prospect"
    assert direct.frame.loc["a", "frequency"] == 2
    assert direct.build_info["n_events_used"] == 9


def test_as_of_accepts_strings_and_aware_timestamps(tiny_dataset):
    a = ProfileBuilder.default().build(tiny_dataset, as_of="2024-03-01")
    b = ProfileBuilder.default().build(tiny_dataset,
                                       as_of=pd.Timestamp("2024-03-01 01:00", tz="Europe/Paris"))
    assert a.as_of == b.as_of == pd.Timestamp("2024-03-01")
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_as_of_before_every_event_gives_prospects(tiny_dataset, tmp_path):
    from persona_rec.profiles import Profiles

    prof = ProfileBuilder.default().build(tiny_dataset, as_of="2000-01-01")
    f = prof.frame
    assert (f["lifecycle_stage"] == "prospect").all()
    assert (f["n_events"] == 0).all() and f["recency_days"].isna().all()
    assert all(m.nnz == 0 for m, _ in prof.affinities.values())
    assert len(prof.category_cycles) == 0
    X, names = prof.features()
    assert X.shape[0] == len(f) and np.isfinite(X.toarray()).all()
    back = Profiles.load(prof.save(tmp_path / "empty.npz"))
    pd.testing.assert_frame_equal(back.frame, f)
