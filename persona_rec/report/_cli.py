"""``persona-rec report``: the whole pipeline on a Dataset, written as one HTML page."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._plotting import require_matplotlib
from .._progress import get_logger
from .._validation import check_instance, check_int
from ..exceptions import InvalidDtypeError, InvalidParameterError, PersonaRecError

if TYPE_CHECKING:  # pragma: no cover
    from ..dataset import Dataset

__all__ = ["MODEL_CHOICES", "report_from_dataset", "main_cli", "build_parser"]

logger = get_logger(__name__)

#: Models ``--models`` can compare: name -> label in the report.
MODEL_CHOICES: dict[str, str] = {
    "repurchase": "Repurchase (buy again)",
    "ease": "EASE",
    "popular": "Popular (30 days)",
    "persona": "PersonaRecommender",
}


def _make_model(name: str, random_state: int) -> Any:
    from ..models import EASERecommender, PopularRecommender, RepurchaseRecommender

    if name == "repurchase":
        return RepurchaseRecommender()
    if name == "ease":
        return EASERecommender()
    if name == "popular":
        return PopularRecommender(window_days=30)
    from ..models.persona import PersonaRecommender

    return PersonaRecommender(random_state=random_state)


def _check_models(models: Sequence[str], name: str) -> list[str]:
    if isinstance(models, str) or not all(isinstance(m, str) for m in models):
        raise InvalidDtypeError(f"The '{name}' parameter must be a sequence of model names, got {models!r}.")
    unknown = [m for m in models if m not in MODEL_CHOICES]
    if unknown:
        raise InvalidParameterError(
            f"The '{name}' parameter names unknown model(s) {unknown}; choose from {sorted(MODEL_CHOICES)}."
        )
    return list(dict.fromkeys(models))


def report_from_dataset(
    dataset: Dataset,
    *,
    models: Sequence[str] = ("repurchase", "ease", "popular"),
    campaign_model: str | None = "ease",
    title: str = "persona_rec report",
    include_sensitive: bool = False,
    min_size: int | None = 10,
    random_state: int = 0,
) -> str:
    """Run profiles, tags, RFM segments, a model comparison and a campaign plan; return the report.

    The same steps as ``persona-rec demo``: default profiles and taxonomy,
    :func:`~persona_rec.segments.rfm_segments`; ``models`` compared on a
    next-30-days split (repeats allowed; split at 2011-11-09 for Online
    Retail data, else 30 days before the last event) with NDCG@10,
    Recall@10 and HitRate@10; and the demo's campaign (audience by category
    propensity, default playbook, items from ``campaign_model`` fitted on
    the whole dataset).

    Parameters
    ----------
    dataset : Dataset
        The data.
    models : sequence of str, default ("repurchase", "ease", "popular")
        Keys of :data:`MODEL_CHOICES` to compare; empty skips the comparison.
        ``"persona"`` (the flagship) takes about half a minute on the sample.
    campaign_model : str or None, default "ease"
        Model giving the campaign's items (a key of :data:`MODEL_CHOICES`);
        None skips the campaign section.
    title : str, default "persona_rec report"
        Page title.
    include_sensitive : bool, default False
        Passed to :func:`~persona_rec.report.build_report`.
    min_size : int or None, default 10
        Passed to :func:`~persona_rec.report.build_report`.
    random_state : int, default 0
        Seed of every stochastic step.

    Returns
    -------
    str
        The HTML page.
    """
    from ..dataset import Dataset  # noqa: F811 - the runtime class for the check below
    from ..demo import DemoContext, split_time
    from ..demo.marketing import marketing_section
    from ..evaluation import NDCG, HitRate, Recall, compare, next_period_split
    from ..profiles import ProfileBuilder
    from ..segments import rfm_segments
    from ..tags import Tagger, Taxonomy
    from ._build import build_report
    from ._charts import check_min_size

    check_instance(dataset, Dataset, "dataset must be a persona_rec.Dataset")
    require_matplotlib("report_from_dataset")
    models = _check_models(models, "models")
    if campaign_model is not None:
        _check_models([campaign_model], "campaign_model")
    random_state = check_int(random_state, "random_state", minimum=0, owner="report_from_dataset")
    check_min_size(min_size, "report_from_dataset")

    start = time.perf_counter()
    profiles = ProfileBuilder.default().build(dataset)
    tags = Tagger(Taxonomy.default(profiles)).assign(profiles)
    segments = rfm_segments(profiles)
    logger.info("profiles, tags and segments in %.1fs", time.perf_counter() - start)

    evaluation = None
    if models:
        at = split_time(dataset)
        split = next_period_split(dataset, at, "30D", filter_already_seen=False)
        logger.info("comparing %s on a next-30-days split at %s", models, at.date())
        evaluation = compare({MODEL_CHOICES[m]: _make_model(m, random_state) for m in models}, split,
                             [NDCG(10), Recall(10), HitRate(10)], filter_seen=False)

    campaign = audience = None
    if campaign_model is not None:
        ctx = DemoContext(dataset=dataset, random_state=random_state)
        ctx.results.update(profiles=profiles, user_tags=tags,
                           model=_make_model(campaign_model, random_state).fit(dataset))
        text = marketing_section(ctx)
        campaign, audience = ctx.results.get("plan"), ctx.results.get("audience")
        if campaign is None:
            logger.warning("no campaign section: %s", text)
    return build_report(profiles, tags, segments, evaluation, campaign, audience=audience, title=title,
                        include_sensitive=include_sensitive, min_size=min_size)


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Add the ``report`` options to ``parser`` (a new one when None).

    Parameters
    ----------
    parser : argparse.ArgumentParser, optional
        E.g. the ``report`` sub-parser of the ``persona-rec`` command.

    Returns
    -------
    argparse.ArgumentParser
    """
    standalone = parser is None
    if parser is None:
        parser = argparse.ArgumentParser(
            prog="persona-rec report",
            description="Write one self-contained HTML report (profiles, tags, segments, models, campaign).",
        )
    parser.add_argument("--out", default="report.html", metavar="HTML",
                        help="output file (.html; default report.html)")
    parser.add_argument("--online-retail", metavar="CSV",
                        help="use the full UCI Online Retail CSV (.csv or .csv.gz) instead of the bundled sample")
    parser.add_argument("--title", default=None, help="page title")
    parser.add_argument("--models", default="repurchase,ease,popular",
                        help=f"comma-separated models to compare, of {','.join(MODEL_CHOICES)} "
                             "('none' to skip; default repurchase,ease,popular)")
    parser.add_argument("--campaign-model", default="ease",
                        help=f"model giving the campaign's items, one of {','.join(MODEL_CHOICES)} "
                             "('none' to skip; default ease)")
    parser.add_argument("--min-size", type=int, default=10,
                        help="suppress groups smaller than this many users (default 10)")
    parser.add_argument("--include-sensitive", action="store_true",
                        help="show sensitive attributes and tags (age, gender, ...)")
    parser.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    if standalone:  # the persona-rec command adds its shared --debug itself
        parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def main_cli(argv: Sequence[str] | None = None, *, args: argparse.Namespace | None = None) -> int:
    """Run ``persona-rec report``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after ``report`` (default ``sys.argv[1:]``).
    args : argparse.Namespace, optional
        Already parsed arguments (from :func:`build_parser` options); then
        ``argv`` is ignored.

    Returns
    -------
    int
        0 on success, 2 on bad input (one-line message on stderr; the
        traceback with ``--debug``).
    """
    if args is None:
        args = build_parser().parse_args(argv)
    from ._charts import check_min_size

    try:
        out = Path(args.out)
        if out.suffix.lower() not in (".html", ".htm"):
            raise InvalidParameterError(f"--out must end in .html or .htm, got {str(out)!r}.")
        if not out.parent.is_dir():
            raise InvalidParameterError(f"--out points into a missing folder: {str(out.parent)!r}.")
        models = [] if args.models.strip().lower() == "none" else [
            m.strip() for m in args.models.split(",") if m.strip()]
        campaign_model = None if args.campaign_model.strip().lower() == "none" else args.campaign_model.strip()
        require_matplotlib("persona-rec report")
        check_min_size(args.min_size, "persona-rec report")
        _check_models(models, "--models")
        if campaign_model is not None:
            _check_models([campaign_model], "--campaign-model")
        start = time.perf_counter()
        if args.online_retail:
            from ..sample_data import load_online_retail

            dataset = load_online_retail(args.online_retail)
            source = f"UCI Online Retail ({Path(args.online_retail).name})"
        else:
            from ..sample_data import load_sample

            dataset = load_sample()
            source = "bundled Online Retail sample"
        title = args.title or f"persona_rec report: {source}"
        page = report_from_dataset(
            dataset, models=models, campaign_model=campaign_model, title=title,
            include_sensitive=args.include_sensitive, min_size=args.min_size, random_state=args.random_state,
        )
        out.write_text(page, encoding="utf-8")
    except (PersonaRecError, OSError) as err:
        if args.debug:
            raise
        print(f"persona-rec report: error: {err}", file=sys.stderr)
        return 2
    n_charts = page.count('<figure class="chart"')
    print(f"wrote {out} ({len(page.encode('utf-8')) / 1024:,.0f} KB, {n_charts} charts, "
          f"{dataset.n_users:,} users) in {time.perf_counter() - start:.1f}s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_cli())

