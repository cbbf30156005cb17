"""Tests for Tagger / UserTags / diff, the default taxonomy, and real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from persona_rec.exceptions import (
    InvalidParameterError,
    InvalidValueError,
    RuleSyntaxError,
    TaxonomyError,
    UnknownIdError,
)
from persona_rec.tags import Tagger, Taxonomy, UserTags, diff, diff_users
from persona_rec.tags.default import AGE_BAND_TAGS

CONTRACT_TAGS = [
    "basic", "behaviour", "interest", "preference", "value", "lifecycle",
    "new_user", "high_value", "churn_risk", "churned", "price_sensitive", "brand_loyal",
    "novelty_seeker", "active_hours/morning", "active_hours/afternoon", "active_hours/evening",
    "active_hours/night", *[f"lifecycle/{s}" for s in
                            ("prospect", "new", "active", "at_risk", "churned", "reactivated")],
]


def users(ut: UserTags, tag: str) -> list[str]:
    return sorted(ut.users_with(tag, allow_sensitive=True).tolist())


def test_default_taxonomy_on_hand_built_profiles(profiles) -> None:
    tax = Taxonomy.default(profiles)
    for t in CONTRACT_TAGS:
        assert t in tax, t
    assert tax.roots == ["basic", "behaviour", "interest", "preference", "value", "lifecycle"]
    assert {"interest/home", "interest/toys", "interest/books", "interest/home/kitchen",
            "interest/home/decor", "interest/toys/games", "interest/books/fiction"} <= set(tax.tag_ids)
    assert tax.parent_of("interest/home/kitchen") == "interest/home"
    assert {"basic/gender/f", "basic/gender/m", "basic/country/uk"} <= set(tax.tag_ids)
    assert {"basic/age", "basic/gender", "basic/age/65_plus", "basic/gender/f"} <= tax.sensitive_ids
    assert "basic/country/uk" not in tax.sensitive_ids

    ut = Tagger(tax).assign(profiles)
    assert users(ut, "price_sensitive") == ["u1", "u3", "u6"]
    assert users(ut, "novelty_seeker") == ["u2", "u4"]           # novelty_seeking >= 0.3
    assert users(ut, "high_value") == ["u4"]
    assert users(ut, "brand_loyal") == ["u1", "u4"]              # loyalty >= 0.6 and 2+ orders
    assert users(ut, "new_user") == ["u2", "u5"]
    assert users(ut, "churned") == ["u3"]
    assert users(ut, "lifecycle/at_risk") == ["u6"]
    # churn_risk: at_risk (u6) or active/reactivated past the expected interval (u4: 10 > 8)
    assert users(ut, "churn_risk") == ["u4", "u6"]
    assert users(ut, "active_hours/morning") == ["u1"]
    assert users(ut, "active_hours/night") == ["u4", "u5"]
    assert users(ut, "interest/home") == ["u1", "u3", "u6"]      # affinity >= 0.2
    assert users(ut, "interest/home/decor") == ["u3", "u6"]
    assert users(ut, "preference/price/high") == ["u2", "u4"]
    assert users(ut, "basic/age/under_18") == ["u1"]
    assert users(ut, "basic/gender/f") == ["u1", "u3", "u6"]
    # confidences: interest = affinity, price_sensitive = price_sensitivity; parents = max of children
    conf = ut.to_frame().set_index(["user_id", "tag_id"])["confidence"]
    assert conf[("u1", "interest/home")] == pytest.approx(0.7)
    assert conf[("u3", "interest/home")] == pytest.approx(1.0)   # own l1 affinity 1.0
    assert conf[("u1", "price_sensitive")] == pytest.approx(0.9)
    assert conf[("u1", "behaviour")] == pytest.approx(1.0)       # max over its children
    # churn_risk confidence = recency / (1.5 * expected) clipped: u4 10 / 12
    assert conf[("u4", "churn_risk")] == pytest.approx(10 / 12, rel=1e-5)
    # sensitive tags do not roll up into the non-sensitive 'basic' root
    assert users(ut, "basic") == ["u1", "u2", "u3", "u4", "u5"]  # country only; u6 has none


def test_export_counts_and_privacy(profiles) -> None:
    ut = Tagger(Taxonomy.default(profiles)).assign(profiles)
    exported = ut.export()
    assert list(exported.columns) == ["user_id", "tag_id", "confidence"]
    assert not exported["tag_id"].str.startswith(("basic/age", "basic/gender")).any()
    full = ut.export(include_sensitive=True)
    assert full["tag_id"].str.startswith("basic/gender/").sum() == 5
    assert len(full) == ut.matrix.nnz == len(ut.to_frame())
    with pytest.raises(TaxonomyError, match=r"sensitive tag\(s\) \['basic/gender/f'\]"):
        ut.users_with("basic/gender/f & interest/home")
    assert ut.users_with("basic/gender/f & interest/home", allow_sensitive=True).tolist() == ["u1", "u3", "u6"]
    assert "basic/gender/f" not in ut.without_sensitive().tag_ids

    counts = ut.counts()
    row = counts.set_index("tag_id").loc["price_sensitive"]
    assert row["n_users"] == 3 and row["layer"] == "behaviour" and row["share"] == pytest.approx(0.5)
    assert row["mean_confidence"] == pytest.approx((0.9 + 0.6 + 0.65) / 3, rel=1e-5)
    assert "basic/gender/f" not in ut.counts(include_sensitive=False)["tag_id"].tolist()
    layers = ut.counts("layer").set_index("layer")
    assert list(layers.index) == ["basic", "behaviour", "interest", "preference", "value", "lifecycle"]
    assert layers.loc["lifecycle", "n_users"] == 6
    m = ut.matrix.toarray()
    interest_cols = [j for j, t in enumerate(ut.tag_ids) if ut.layer_of(t) == "interest"]
    assert layers.loc["interest", "n_assignments"] == (m[:, interest_cols] > 0).sum()
    with pytest.raises(InvalidParameterError, match="'by' parameter"):
        ut.counts("segment")
    tags_u1 = ut.tags_of("u1")
    assert tags_u1["price_sensitive"] == pytest.approx(0.9)
    with pytest.raises(UnknownIdError, match="Unknown user id 'zz'"):
        ut.tags_of("zz")


def test_users_with_expressions(profiles) -> None:
    ut = Tagger(Taxonomy.default(profiles)).assign(profiles)
    assert ut.users_with("interest/home & price_sensitive & !churned").tolist() == ["u1", "u6"]
    assert ut.users_with("(high_value | new_user) and not lifecycle/prospect").tolist() == ["u2", "u4"]
    assert ut.users_with("interest/home", min_confidence=0.6).tolist() == ["u1", "u3"]
    with pytest.raises(UnknownIdError, match="unknown tag"):
        ut.users_with("interest/garden")
    with pytest.raises(RuleSyntaxError, match="position 15"):
        ut.users_with("interest/home &")


def test_tagger_errors(profiles) -> None:
    tax = Taxonomy.from_dict({"tags": [{"id": "v", "layer": "value"},
                                       {"id": "x", "parent": "v", "rule": "spend > 1"}]})
    with pytest.raises(TaxonomyError, match=r"Tag 'x': rule 'spend > 1' references unknown profile column 'spend'"):
        Tagger(tax).assign(profiles)
    with pytest.raises(InvalidParameterError, match="confidence_floor"):
        Tagger(tax, confidence_floor=0)
    with pytest.raises(Exception, match="must be a Taxonomy"):
        Tagger({"tags": []})  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"one row per user; duplicated user ids: \['u1'"):
        Tagger(tax).assign(pd.concat([profiles.frame, profiles.frame]))
    empty = Tagger(Taxonomy.default()).assign(profiles.frame.iloc[:0].drop(columns=["gender"]))
    assert empty.n_users == 0 and len(empty.to_frame()) == 0 and (empty.counts()["n_users"] == 0).all()
    with pytest.raises(InvalidValueError, match="shape"):
        UserTags(np.zeros((2, 2)), ["a"], ["x", "y"])
    with pytest.raises(InvalidValueError, match=r"in \[0, 1\]"):
        UserTags(np.array([[2.0]]), ["a"], ["x"])


def test_diff_and_diff_users(profiles) -> None:
    tax = Taxonomy.default(profiles)
    old = Tagger(tax).assign(profiles)
    # refresh: u1 stops being price sensitive, u2 becomes; u6 leaves, u7 arrives
    frame = profiles.frame.copy()
    frame.loc["u1", "price_sensitivity"] = 0.1
    frame.loc["u2", "price_sensitivity"] = 0.95
    new_frame = pd.concat([frame.drop(index="u6"), frame.loc[["u6"]].rename(index={"u6": "u7"})])
    new_frame.index.name = "user_id"
    keep = np.r_[0:5, 5]
    aff = {k: (sp.csr_matrix(m)[keep], names) for k, (m, names) in profiles.affinities.items()}
    new_profiles = type(profiles)(new_frame, aff, profiles.sensitive_columns)
    new = Tagger(tax).assign(new_profiles)

    d = diff(old, new).set_index("tag_id")
    ps = d.loc["price_sensitive"]
    # old {u1, u3, u6}, new {u2, u3, u7}
    assert (ps.n_old, ps.n_new, ps.gained, ps.lost, ps.kept, ps.net) == (3, 3, 2, 2, 1, 0)
    assert "basic/gender/f" not in d.index
    assert "basic/gender/f" in diff(old, new, include_sensitive=True)["tag_id"].tolist()
    # identical runs: nothing gained or lost
    same = diff(old, old)
    assert (same.gained == 0).all() and (same.lost == 0).all() and (same.kept == same.n_old).all()

    per_user = diff_users(old, new)
    ps_rows = per_user[per_user.tag_id == "price_sensitive"]
    assert sorted(map(tuple, ps_rows[["user_id", "change"]].to_numpy())) == [
        ("u1", "lost"), ("u2", "gained"), ("u6", "lost"), ("u7", "gained")]
    got = ps_rows.set_index("user_id")
    assert got.loc["u2", "new_confidence"] == pytest.approx(0.95) and np.isnan(got.loc["u2", "old_confidence"])
    # per-user changes agree with the per-tag summary
    summary = per_user.groupby(["tag_id", "change"]).size().unstack(fill_value=0)
    d2 = diff(old, new).set_index("tag_id")
    for tag in summary.index:
        assert summary.loc[tag].get("gained", 0) == d2.loc[tag, "gained"]
        assert summary.loc[tag].get("lost", 0) == d2.loc[tag, "lost"]
    assert set(per_user.change) <= {"gained", "lost"}


def test_default_without_profiles_and_options() -> None:
    tax = Taxonomy.default()
    assert [f"basic/age/{s}" for s in AGE_BAND_TAGS.values()] == tax.children("basic/age")
    assert not any(t.startswith("interest/") for t in tax.tag_ids)
    assert tax.version == "default-1"
    t2 = Taxonomy.default(price_sensitive_threshold=0.8)
    assert t2["price_sensitive"].rule == "price_sensitivity >= 0.8"
    with pytest.raises(InvalidParameterError, match="interest_levels"):
        Taxonomy.default(interest_levels=4)
    with pytest.raises(InvalidParameterError, match="interest_threshold"):
        Taxonomy.default(interest_threshold=0)


def test_interest_top_n(profiles) -> None:
    ut = Tagger(Taxonomy.default(profiles, interest_top_n=1)).assign(profiles)
    # u1 has home 0.7, toys 0.3: only the top one survives top_n=1; u6 ties 0.5/0.5 keeps both
    assert ut.users_with("interest/toys").tolist() == ["u2", "u6"]


def test_planted_price_sensitive_users_on_synthetic_data() -> None:
    from persona_rec.sample_data.synthetic import synthetic
    from persona_rec.profiles import ProfileBuilder

    syn = synthetic(random_state=0)
    prof = ProfileBuilder.default().build(syn.dataset)
    ut = Tagger(Taxonomy.default(prof)).assign(prof)
    truth = syn.user_truth.reindex(ut.user_ids)
    buyers = prof.frame["frequency"].reindex(ut.user_ids).fillna(0).to_numpy() > 0
    pred = ut.mask("price_sensitive")[buyers]
    true = truth["price_sensitive"].to_numpy(bool)[buyers]
    precision = (pred & true).sum() / pred.sum()
    recall = (pred & true).sum() / true.sum()
    # among users with purchases (price sensitivity is undefined without any)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)


def test_online_retail_sample_tags_match_independent_pandas() -> None:
    from persona_rec.sample_data.sample import load_sample
    from persona_rec.profiles import ProfileBuilder

    prof = ProfileBuilder.default().build(load_sample())
    tax = Taxonomy.default(prof)
    ut = Tagger(tax).assign(prof)
    f = prof.frame.reindex(ut.user_ids)
    counts = ut.counts().set_index("tag_id")["n_users"]
    # lifecycle stage tags = value counts of the stage column
    for stage, n in f["lifecycle_stage"].value_counts().items():
        assert counts[f"lifecycle/{stage}"] == n
    # country tags = users per country
    for country, n in f["country"].value_counts().items():
        assert counts["basic/country/" + country.lower().replace(" ", "_")] == n
    # interest tags = users with affinity >= 0.2 for the category or one of its sub-categories
    # (l2 rows are normalised over items that have an l2 level, so l2 can exceed l1)
    m1, names1 = prof.affinities["category_l1"]
    m2, names2 = prof.affinities["category_l2"]
    d1, d2 = m1.toarray() >= 0.2, m2.toarray() >= 0.2
    for j, name in enumerate(names2):
        assert counts[f"interest/{name}"] == d2[:, j].sum()
    for j, name in enumerate(names1):
        sub = [k for k, n2 in enumerate(names2) if n2.split("/")[0] == name]
        assert counts[f"interest/{name}"] == (d1[:, j] | d2[:, sub].any(axis=1)).sum()
    assert counts["price_sensitive"] == (f["price_sensitivity"] >= 0.6).sum()
    assert counts["high_value"] == (f["m_score"] >= 5).sum()
    hour = f["preferred_hour"]
    assert counts["active_hours/night"] == ((hour >= 22) | (hour < 6)).sum()
    assert counts["active_hours/afternoon"] == ((hour >= 12) & (hour < 18)).sum()
    assert counts["churned"] == (f["lifecycle_stage"] == "churned").sum()
    # roll-up: every interest/<l1>/<l2> user also has interest/<l1>
    for t in tax.tag_ids:
        if t.count("/") == 2 and t.startswith("interest/"):
            assert set(ut.users_with(t)) <= set(ut.users_with(tax.parent_of(t)))


def test_full_online_retail(online_retail_csv) -> None:
    from persona_rec.sample_data.online_retail import load_online_retail
    from persona_rec.profiles import ProfileBuilder

    ds = load_online_retail(online_retail_csv)
    prof = ProfileBuilder.default().build(ds, as_of="2011-11-09")
    ut = Tagger(Taxonomy.default(prof)).assign(prof)
    f = prof.frame.reindex(ut.user_ids)
    counts = ut.counts().set_index("tag_id")["n_users"]
    assert ut.n_users == len(f) > 4000
    # every user known at as_of gets a lifecycle tag; users first seen later get none
    known = f["known_at_as_of"].to_numpy()
    assert 0 < (~known).sum() < 0.2 * len(f)
    assert counts["lifecycle"] == known.sum()
    assert ut.matrix[np.flatnonzero(~known)].nnz == 0
    assert counts["high_value"] == (f["m_score"] >= 5).sum() > 0
    assert counts["churn_risk"] == (
        (f["lifecycle_stage"] == "at_risk")
        | (f["lifecycle_stage"].isin(["active", "reactivated"]) & (f["recency_days"] > f["expected_interval_days"]))
    ).sum()
    # no tag leaks a user id that is not in the profiles
    assert set(ut.export()["user_id"]) <= set(f.index)


def test_save_load_round_trip(profiles, tmp_path) -> None:
    from persona_rec.exceptions import CorruptFileError

    ut = Tagger(Taxonomy.default(profiles)).assign(profiles)
    path = ut.save(tmp_path / "tags.npz")
    back = UserTags.load(path)
    assert (back.matrix != ut.matrix).nnz == 0
    assert back.user_ids.tolist() == ut.user_ids.tolist() and back.tag_ids == ut.tag_ids
    assert back.taxonomy == ut.taxonomy and back.sensitive_ids == ut.sensitive_ids
    assert back.as_of == pd.Timestamp("2024-01-01")
    assert diff(ut, back)[["gained", "lost"]].to_numpy().sum() == 0
    ints = UserTags(np.eye(2), np.array([7, 9]), ["a", "b"])
    assert UserTags.load(ints.save(tmp_path / "ints.npz")).user_ids.tolist() == [7, 9]
    with pytest.raises(Exception, match="all integers or all strings"):
        UserTags(np.eye(2), np.array([1, "x"], dtype=object), ["a", "b"]).save(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(CorruptFileError, match="not a readable persona_rec UserTags file"):
        UserTags.load(tmp_path / "junk.npz")
    other = ut.taxonomy.save(tmp_path / "other.npz")
    with pytest.raises(CorruptFileError, match="holds a 'taxonomy' file, not a UserTags"):
        UserTags.load(other)
    np.savez(tmp_path / "old.npz", meta=np.frombuffer(b'{"kind": "x"}', dtype=np.uint8))
    with pytest.raises(CorruptFileError, match="written by persona_rec 0.1"):
        UserTags.load(tmp_path / "old.npz")
