"""Tag validation on Online Retail: does each tag predict what it claims in the next 90 days?

Usage::

    PERSONA_REC_DATA=<datasets folder> python benchmarks/bench_tag_validation.py [--plot out.png]

Profiles at 2011-09-09 (default builders + ``PredictiveBuilder``), the default
taxonomy, ``validate_tags`` over the next 90 days on the customers with a
purchase before the cut-off (1,000 bootstrap replicates, ``random_state=0``);
then tag stability between profiles at 2011-06-11 and 2011-09-09 and the
agreement of rule-based and model-based tags. Prints markdown tables (recorded
in ``docs/predictive.md``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from persona_rec.sample_data import load_online_retail
from persona_rec.profiles import PredictiveBuilder, ProfileBuilder
from persona_rec.tags import Tagger, Taxonomy, tag_agreement, tag_stability, validate_tags


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("PERSONA_REC_DATA", ""))
    ap.add_argument("--as-of", default="2011-09-09")
    ap.add_argument("--plot", default="")
    args = ap.parse_args()
    ds = load_online_retail(Path(args.data) / "online-retail" / "online_retail.csv.gz")
    as_of = pd.Timestamp(args.as_of)
    builder = ProfileBuilder(ProfileBuilder.default().builders + [PredictiveBuilder()])

    def tags_at(t: pd.Timestamp):
        prof = builder.build(ds, t)
        return prof, Tagger(Taxonomy.default(prof)).assign(prof)

    prof, tags = tags_at(as_of)
    buyers = prof.frame.index[prof.frame["frequency"].notna()]
    t0 = time.perf_counter()
    res = validate_tags(tags, ds, as_of, window_days=90, users=buyers, n_boot=1000,
                        random_state=0)
    secs = time.perf_counter() - t0
    t = res.table.copy()
    print(f"{len(buyers)} customers with a purchase before {as_of.date()}; "
          f"validate_tags took {secs:.2f} s ({res.n_boot} bootstrap replicates)\n")
    print("| tag | claimed outcome | n tagged | coverage | mean tagged | mean all | lift "
          "| 95% CI | holds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in t.itertuples():
        print(f"| {r.tag_id} | {r.outcome} | {r.n_tagged} | {r.coverage:.3f} | "
              f"{r.mean_tagged:.3f} | {r.mean_all:.3f} | {r.lift:.2f} | "
              f"[{r.lift_low:.2f}, {r.lift_high:.2f}] | {'yes' if r.claim_holds else 'no'} |")

    earlier = as_of - pd.Timedelta(days=90)
    _, tags_before = tags_at(earlier)
    st = tag_stability(tags_before, tags).set_index("tag_id")
    keep = [x for x in t["tag_id"] if x in st.index and not x.startswith("interest/")]
    keep += [x for x in st.index if x.startswith("interest/") and x.count("/") == 1]
    print(f"\nStability {earlier.date()} -> {as_of.date()}:\n")
    print("| tag | n before | n after | kept | Jaccard | retention |")
    print("|---|---|---|---|---|---|")
    for tag in dict.fromkeys(keep):
        r = st.loc[tag]
        print(f"| {tag} | {int(r.n_old)} | {int(r.n_new)} | {int(r.kept)} | {r.jaccard:.2f} | "
              f"{r.retention:.2f} |")

    pairs = [("churn_risk", "lifecycle/likely_churned"), ("lifecycle/churned", "churn_risk"),
             ("high_value", "value/high_potential_clv"), ("value/rfm_high", "high_value")]
    pairs = [p for p in pairs if p[0] in tags.tag_index and p[1] in tags.tag_index]
    print("\nAgreement between tags from different sources:\n")
    print("| tag a | tag b | n a | n b | n both | Jaccard | kappa |")
    print("|---|---|---|---|---|---|---|")
    for r in tag_agreement(tags, pairs).itertuples():
        print(f"| {r.tag_a} | {r.tag_b} | {r.n_a} | {r.n_b} | {r.n_both} | {r.jaccard:.2f} | "
              f"{r.kappa:.2f} |")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        shown = [x for x in t["tag_id"] if not x.startswith("interest/") or x.count("/") == 1]
        ax = res.plot(tags=shown)
        ax.figure.savefig(args.plot, dpi=110)
        print(f"\nplot written to {args.plot}")


if __name__ == "__main__":
    main()
