"""ML-100K cold-user benchmark: persona_rec models next to raw peers (issue #5, item 6).

Protocol: ratings >= 4 are positives; ``cold_user_split(positives, 0.2,
random_state=0)`` holds out 20% of the users entirely. They stay in the train
Dataset as attribute-only ("warm") users: only their demographics (age,
gender, occupation, zip code) are known. Relevant items = their ratings >= 4
(the split runs on the positives). Every item ranked; metrics @10.

MovieLens marks ``age``, ``gender`` and ``zip_code`` as sensitive, so
persona_rec's default privacy mode (``use_sensitive=False``) uses only
``occupation`` for attribute-only users; ``use_sensitive=True`` is the
explicit opt-in that lets it use age and gender like the peers do.

Usage::

    python benchmarks/bench_ml100k_cold.py [--out FILE]
"""

from __future__ import annotations

import _peers  # noqa: F401  (sets the BLAS thread variables before numpy loads)

import time

import pandas as pd

from _peers import (
    DATA,
    LightFMPeer,
    PopularityPeer,
    SegmentPopularityPeer,
    age_bucket,
    emit,
    gender_age_segments,
    markdown,
    parse_args,
    run_table,
    split_info_text,
)
from persona_rec import Columns
from persona_rec.sample_data import load_movielens_100k
from persona_rec.evaluation import cold_user_split
from persona_rec.models import (
    LightFMRecommender,
    PopularRecommender,
    SegmentPopularRecommender,
)
from persona_rec.models.persona import PersonaRecommender

SEEDS = (0, 1, 2, 3, 4)


def demographic_features(dataset) -> pd.DataFrame:
    """``user_id -> gender x age bucket, occupation`` (categorical) for the LightFM peer."""
    users = dataset.users.set_index(Columns.USER)
    return pd.DataFrame({
        "gender_age": users["gender"].astype(str) + "|" + age_bucket(users["age"]),
        "occupation": users["occupation"].astype(str),
    })


def models(segments: pd.Series) -> dict:
    pr = "persona_rec"
    peer = "raw peer"
    return {
        "PersonaRecommender": (pr, "defaults (use_sensitive=False: occupation only)",
                               PersonaRecommender(random_state=0)),
        "PersonaRecommender (use_sensitive)": (pr, "use_sensitive=True (age, gender, "
                                               "occupation, zip)",
                                               PersonaRecommender(random_state=0,
                                                                  use_sensitive=True)),
        "SegmentPopularRecommender": (pr, "gender x age bucket, shrinkage=10",
                                      SegmentPopularRecommender(segments)),
        "LightFMRecommender": (pr, "defaults (non-sensitive features)", LightFMRecommender()),
        "LightFMRecommender (sensitive)": (pr, "include_sensitive=True",
                                           LightFMRecommender(include_sensitive=True)),
        "PopularRecommender": (pr, "defaults", PopularRecommender()),
        "popularity": (peer, "", PopularityPeer()),
        "segment popularity": (peer, "", SegmentPopularityPeer(
            gender_age_segments, "gender x age bucket, no shrinkage, ties by global")),
        "lightfm WARP + user features": (peer, "", LightFMPeer(
            no_components=64, epochs=30, user_features=demographic_features,
            feature_note="one-hot gender x age bucket + occupation, identity, rows sum 1")),
    }


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    t0 = time.perf_counter()
    ds = load_movielens_100k(DATA / "ml-100k")
    pos = ds.filter_interactions(ds.internal_interactions["weight"].to_numpy() >= 4)
    split = cold_user_split(pos, 0.2, random_state=0)
    print(split)
    states = pd.Series(split.train.user_state(split.test_users)).value_counts().to_dict()
    kwargs = {name: {"on_unknown": "fallback"} for name, (kind, _, _) in
              models(gender_age_segments(ds)).items() if kind == "persona_rec"}
    table = run_table(models(gender_age_segments(ds)), split, recommend_kwargs=kwargs)
    # 188 held-out users make one draw noisy: repeat the split with other seeds
    seed_rows = []
    for seed in SEEDS:
        s = cold_user_split(pos, 0.2, random_state=seed)
        t = run_table(models(gender_age_segments(ds)), s, recommend_kwargs=kwargs)
        seed_rows.append(t.set_index("model")["NDCG@10"].rename(seed))
    by_seed = pd.concat(seed_rows, axis=1)
    summary = pd.DataFrame({"model": by_seed.index,
                            **{f"seed {c}": by_seed[c].to_numpy() for c in by_seed.columns},
                            "mean": by_seed.mean(axis=1).to_numpy(),
                            "std": by_seed.std(axis=1, ddof=1).to_numpy()})
    emit([
        "### ML-100K cold users (20% of users held out, demographics only)",
        markdown(table),
        "Split info:\n" + split_info_text(split) + f"\n- test user states in train: {states}",
        "### ML-100K cold users: NDCG@10 over five user draws (cold_user_split random_state "
        "0-4)",
        markdown(summary),
        f"Total run time {time.perf_counter() - t0:.0f} s.",
    ], args.out)


if __name__ == "__main__":
    main()
