"""The profile section of ``persona-rec demo``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..dataset import Dataset
from ..profiles import LIFECYCLE_STAGES, ProfileBuilder, Profiles

__all__ = ["profiles_section"]

_EXAMPLE_COLUMNS = (
    "recency_days", "frequency", "monetary", "rfm_score", "active_days", "preferred_hour",
    "top_category", "top_category_l2", "top_price_band", "category_diversity",
    "price_sensitivity", "discount_share", "novelty_seeking", "lifecycle_stage",
    "expected_interval_days", "next_purchase_date", "days_to_next_purchase", "days_overdue",
)


def _fmt(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (float, np.floating)):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return str(value)


def profiles_section(dataset: Dataset, as_of: Any = None) -> tuple[Profiles, str]:
    """Build default profiles and a short printable summary of them.

    Parameters
    ----------
    dataset : Dataset
    as_of : datetime-like, optional
        Passed to :meth:`ProfileBuilder.build` (default: after the last event).

    Returns
    -------
    (Profiles, str)
        The profiles and the text block for the demo report.

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> inter = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [7, 8, 7],
    ...                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-20",
    ...                                                    "2024-01-10"])})
    >>> prof, text = profiles_section(Dataset.from_frames(inter))
    >>> print(text.splitlines()[0])
    User profiles: 2 users x 37 columns, as of 2024-01-20 00:00:01
    """
    prof = ProfileBuilder.default().build(dataset, as_of=as_of)
    f = prof.frame
    buyers = f["frequency"].notna()
    lines = [
        f"User profiles: {len(f):,} users x {f.shape[1]} columns, as of {prof.as_of}",
        f"  events used: {prof.build_info['n_events_used']:,}; build time "
        f"{sum(prof.build_info['seconds'].values()):.2f} s; "
        f"buyers: {int(buyers.sum()):,}",
    ]
    stage = f["lifecycle_stage"].value_counts().reindex(list(LIFECYCLE_STAGES), fill_value=0)
    lines.append("  lifecycle: " + ", ".join(f"{k} {v:,}" for k, v in stage.items()))
    if buyers.any():
        b = f.loc[buyers]
        lines.append(
            "  buyers' medians: recency {:.1f} days, {:.0f} orders, monetary {:,.2f}, "
            "order value {:,.2f}, expected interval {:.1f} days".format(
                b["recency_days"].median(), b["frequency"].median(), b["monetary"].median(),
                b["avg_order_value"].median(), b["expected_interval_days"].median()))
        shares = {
            "price_sensitivity >= 0.6": (b["price_sensitivity"] >= 0.6).mean(),
            "novelty_seeking >= 0.3": (b["novelty_seeking"] >= 0.3).mean(),
            "rfm_score >= 13": (b["rfm_score"] >= 13).mean(),
        }
        lines.append("  share of buyers with " + ", ".join(
            f"{k}: {v:.1%}" for k, v in shares.items()))
        overdue = b["days_overdue"] > 0 if "days_overdue" in b.columns else None
        if overdue is not None:
            lines.append(
                "  next order: {:,} buyers expected in a median {:.1f} days; {:,} overdue by a "
                "median {:.1f} days (no past 'next' date is shown)".format(
                    int((~overdue).sum()), b.loc[~overdue, "days_to_next_purchase"].median(),
                    int(overdue.sum()), b.loc[overdue, "days_overdue"].median()))
    top = f["top_category"].value_counts().head(5)
    if len(top):
        lines.append("  most common top category: " + ", ".join(
            f"{k} ({v:,})" for k, v in top.items()))
    X, names = prof.features()
    Xs, names_s = prof.features(include_sensitive=True)
    lines.append(
        f"  features(): {X.shape[1]} columns ({X.nnz / max(X.shape[0], 1):.1f} non-zeros/user); "
        f"sensitive columns {sorted(prof.sensitive_columns) or 'none'} excluded "
        f"({Xs.shape[1] - X.shape[1]} more features with include_sensitive=True)"
    )
    if buyers.any():
        best = f.loc[buyers, "monetary"].idxmax() if f.loc[buyers, "monetary"].notna().any() \
            else f.index[buyers][0]
        score = f.loc[buyers, "rfm_score"].fillna(0.0)
        example = (score - score.median()).abs().idxmin()
        cols = [c for c in _EXAMPLE_COLUMNS if c in f.columns]
        ex = prof.export().loc[[example, best], cols].T
        ex.columns = [f"user {example} (typical)", f"user {best} (top spender)"]
        # column-wise Series.map: DataFrame.map needs pandas >= 2.1
        table = ex.apply(lambda col: col.map(_fmt)).to_string()
        lines.append("  example profiles:")
        lines += ["    " + row for row in table.splitlines()]
    return prof, "\n".join(lines)
