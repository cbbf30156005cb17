"""One function per ``persona-rec`` subcommand.

Each subcommand is a :class:`Command`: a name, a help line, a function that
adds its own arguments to an :class:`argparse.ArgumentParser` and a function
``run(args) -> int`` (the exit status). :data:`COMMANDS` lists them in the
order ``persona-rec --help`` shows; adding a subcommand is one entry.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._progress import get_logger
from ..columns import Columns
from ..exceptions import InvalidParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..dataset import Dataset
    from ..profiles import Profiles
    from ..tags import UserTags

# pandas, the Dataset and the models are imported inside the commands, so that
# ``persona-rec --help`` and ``--version`` answer at once

__all__ = ["Command", "COMMANDS", "MODEL_NAMES", "make_model"]

log = get_logger(__name__)


@dataclass(frozen=True)
class Command:
    """A subcommand: ``add_arguments(parser)`` then ``run(args) -> exit status``."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    #: whether the command reads EVENTS (gets the shared data options)
    reads_events: bool = True


# ------------------------------------------------------------------ shared options
def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every data command shares: input files and column/event mapping."""
    g = parser.add_argument_group("input")
    g.add_argument("events", metavar="EVENTS",
                   help="events file (.csv, .csv.gz or .parquet), one row per event")
    g.add_argument("--users", metavar="FILE", help="user attributes file (one row per user)")
    g.add_argument("--items", metavar="FILE", help="item attributes file (one row per item)")
    g.add_argument("--user-col", default=Columns.USER, metavar="NAME",
                   help="user id column in EVENTS and --users (default: user_id)")
    g.add_argument("--item-col", default=Columns.ITEM, metavar="NAME",
                   help="item id column in EVENTS and --items (default: item_id)")
    g.add_argument("--time-col", default=Columns.TIMESTAMP, metavar="NAME",
                   help="event time column in EVENTS (default: timestamp)")
    g.add_argument("--event-col", default=None, metavar="NAME",
                   help="event type column in EVENTS (default: event, if there is one; "
                        "without one every row is a purchase)")
    g.add_argument("--rename", action="append", metavar="SRC=DST",
                   help="rename another EVENTS column, e.g. UnitPrice=price (repeatable)")
    g.add_argument("--event-map", action="append", metavar="SRC=DST",
                   help="map event names, e.g. add_to_cart=cart (repeatable or comma-separated)")
    g.add_argument("--clean", action="store_true",
                   help="drop invalid rows (reported per reason on stderr) instead of failing")
    g.add_argument("--na-values", action="append", default=[], metavar="TEXT",
                   help="another CSV cell text to read as missing, e.g. NA (repeatable; "
                        "default: empty, #N/A, N/A, NULL, NaN, n/a, nan, null)")
    g.add_argument("--float-ids", action="store_true",
                   help="read CSV ids written as floats (17850.0) as 17850 instead of refusing "
                        "them")
    t = parser.add_argument_group("time and categories")
    order = t.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_true", default=None,
                       help="read numeric dates such as 05/03/2024 as day/month/year")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_false",
                       help="read numeric dates such as 05/03/2024 as month/day/year")
    t.add_argument("--time-format", metavar="FORMAT",
                   help="strftime format of the time column, e.g. '%%d/%%m/%%Y %%H:%%M'")
    t.add_argument("--epoch-unit", choices=("s", "ms", "us", "ns"),
                   help="unit of numeric (epoch) times (default: read from their magnitude)")
    cats = t.add_mutually_exclusive_group()
    cats.add_argument("--category-sep", action="append", metavar="SEP",
                      help="separator of category levels, e.g. '>' (repeatable; default: "
                           "'>' and '/')")
    cats.add_argument("--flat-categories", action="store_true",
                      help="categories have no levels ('CDs/DVDs' is one category)")


def _add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="output file: .parquet (needs persona-rec[parquet]) or .csv[.gz]")


def _add_as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", metavar="TIME",
                        help="profile cut-off: only events before it count "
                             "(default: after the last event)")


def _dataset(args: argparse.Namespace) -> Dataset:
    from ._io import load_dataset, parse_pairs

    rename = parse_pairs(args.rename, "--rename")
    event_map = parse_pairs(args.event_map, "--event-map")
    ds = load_dataset(
        args.events, users=args.users, items=args.items, user_col=args.user_col,
        item_col=args.item_col, time_col=args.time_col, event_col=args.event_col,
        rename=rename, event_map=event_map, clean=args.clean, float_ids=args.float_ids,
        na_values=args.na_values,
        dayfirst=args.dayfirst, time_format=args.time_format, epoch_unit=args.epoch_unit,
    )
    log.info("loaded %s: %s events, %s users, %s items", args.events, f"{ds.n_interactions:,}",
             f"{ds.n_users:,}", f"{ds.n_items:,}")
    return ds


def _time_option(text: str | None, option: str, args: argparse.Namespace) -> Any:
    """A ``--as-of``/``--at`` value; day/month dates read with ``--dayfirst``/``--monthfirst``."""
    if text is None or getattr(args, "dayfirst", None) is None:
        return text
    import pandas as pd

    from .._time import parse_times
    from ..exceptions import InvalidValueError

    parsed = parse_times(pd.Series([text], dtype=object), option, dayfirst=args.dayfirst)
    if parsed.missing[0] or parsed.out_of_range[0]:
        raise InvalidValueError(f"{option} must be a point in time, got {text!r}.")
    return pd.Timestamp(parsed.utc[0])


def _profiles(ds: Dataset, args: argparse.Namespace) -> Profiles:
    from ..profiles import ProfileBuilder

    as_of = _time_option(getattr(args, "as_of", None), "--as-of", args)
    return ProfileBuilder.default().build(ds, as_of=as_of)


def _user_tags(profiles: Profiles) -> UserTags:
    from ..tags import Tagger, Taxonomy

    return Tagger(Taxonomy.default(profiles)).assign(profiles)


def _written(frame: pd.DataFrame, path: str, what: str) -> int:
    from ._io import write_table

    out = write_table(frame, path)
    print(f"wrote {len(frame):,} {what} to {out}")
    return 0


# ------------------------------------------------------------------------ profiles
def _profiles_args(p: argparse.ArgumentParser) -> None:
    _add_as_of(p)
    p.add_argument("--include-sensitive", action="store_true",
                   help="also write sensitive columns (gender, age, zip code, ...); "
                        "off by default")
    _add_out(p)


def run_profiles(args: argparse.Namespace) -> int:
    """``persona-rec profiles``: one row per user with every profile column.

    Sensitive columns (flagged on the Dataset) are left out unless
    ``--include-sensitive`` is given, as in :meth:`Profiles.export`.
    """
    profiles = _profiles(_dataset(args), args)
    frame = profiles.export(include_sensitive=args.include_sensitive)
    left_out = sorted(c for c in profiles.sensitive_columns if c in profiles.frame.columns
                      and c not in frame.columns)
    if left_out:
        print(f"persona-rec: note: sensitive column(s) {left_out} left out "
              f"(pass --include-sensitive to write them)", file=sys.stderr)
    return _written(frame, args.out, "user profiles")


# ---------------------------------------------------------------------------- tags
def _tags_args(p: argparse.ArgumentParser) -> None:
    _add_as_of(p)
    p.add_argument("--include-sensitive", action="store_true",
                   help="also write sensitive tags (gender, age band, ...); off by default")
    _add_out(p)


def run_tags(args: argparse.Namespace) -> int:
    """``persona-rec tags``: ``user_id, tag_id, confidence`` with the default taxonomy."""
    tags = _user_tags(_profiles(_dataset(args), args))
    return _written(tags.export(include_sensitive=args.include_sensitive), args.out,
                    "tag assignments")


# ------------------------------------------------------------------------ segments
def _segments_args(p: argparse.ArgumentParser) -> None:
    _add_as_of(p)
    p.add_argument("--method", choices=("rfm", "kmeans"), default="rfm",
                   help="rfm: the default R x FM segment map; kmeans: k-means on category "
                        "affinities, k chosen by silhouette (default: rfm)")
    p.add_argument("--n-segments", type=int, metavar="K",
                   help="kmeans: fixed number of clusters (default: best k in 2..8)")
    p.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    _add_out(p)


def run_segments(args: argparse.Namespace) -> int:
    """``persona-rec segments``: ``user_id, segment``; prints the segment sizes."""
    from ..segments import KMeansSegmenter, rfm_segments

    ds = _dataset(args)
    profiles = _profiles(ds, args)
    if args.method == "rfm":
        if args.n_segments is not None:
            raise InvalidParameterError("--n-segments applies to --method kmeans only.")
        monetary = profiles.frame.get("monetary")
        if monetary is None or not monetary.notna().any():
            from ..exceptions import MissingColumnError

            raise MissingColumnError(
                f"--method rfm needs spending: EVENTS has no usable 'price' column (name yours "
                f"with --rename COLUMN=price), so no user has a monetary value; its columns are "
                f"{[c for c in ds.interactions.columns if c != 'weight']}. Use --method kmeans "
                f"otherwise."
            )
        seg = rfm_segments(profiles)
    else:
        seg = KMeansSegmenter(args.n_segments, k_range=(2, 8),
                              random_state=args.random_state).fit(profiles).segmentation_
    sizes = seg.sizes()
    print(sizes.rename("users").to_frame().to_string())
    frame = seg.labels.rename(Columns.SEGMENT).reset_index()
    return _written(frame, args.out, "segment labels")


# ----------------------------------------------------------------------- recommend
def _model_factories() -> dict[str, Callable[[int], Any]]:
    from .. import models as m
    from ..models.persona import PersonaRecommender

    return {
        "persona": lambda rs: PersonaRecommender(random_state=rs),
        "popular": lambda rs: m.PopularRecommender(),
        "popular-30d": lambda rs: m.PopularRecommender(window_days=30),
        "repurchase": lambda rs: m.RepurchaseRecommender(random_state=rs),
        "ease": lambda rs: m.EASERecommender(),
        "knn": lambda rs: m.ItemKNNRecommender(),
        "als": lambda rs: m.ALSRecommender(random_state=rs),
        "bpr": lambda rs: m.BPRRecommender(random_state=rs),
        "als-features": lambda rs: m.ALSFeaturesRecommender(random_state=rs),
        "content": lambda rs: m.ContentRecommender(),
        "copurchase": lambda rs: m.CoPurchaseRecommender(),
        "lightfm": lambda rs: m.LightFMRecommender(random_state=rs),
    }


#: Names accepted by ``--model``.
MODEL_NAMES = ("persona", "popular", "popular-30d", "repurchase", "ease", "knn", "als", "bpr",
               "als-features", "content", "copurchase", "lightfm")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def make_model(name: str, random_state: int = 0, params: dict[str, str] | None = None) -> Any:
    """Build the model named ``name`` (one of :data:`MODEL_NAMES`), with ``params`` set.

    Parameters
    ----------
    name : str
    random_state : int
    params : dict, optional
        ``parameter -> text``; text is read as JSON when it parses (``32``,
        ``0.5``, ``true``, ``null``, ``["a"]``), else kept as a string.

    Returns
    -------
    Recommender

    Examples
    --------
    >>> make_model("als", params={"factors": "16"})
    ALSRecommender(factors=16, ...)
    """
    factories = _model_factories()
    if name not in factories:
        raise InvalidParameterError(f"--model must be one of {list(MODEL_NAMES)}, got {name!r}.")
    model = factories[name](random_state)
    if params:
        model.set_params(**{k: _parse_value(v) for k, v in params.items()})
    return model


def _model_args(p: argparse.ArgumentParser, many: bool = False) -> None:
    if many:
        p.add_argument("--models", default="popular,als", metavar="NAMES",
                       help=f"comma-separated models among {', '.join(MODEL_NAMES)} "
                            f"(default: popular,als)")
    else:
        p.add_argument("--model", default="persona", choices=MODEL_NAMES,
                       help="recommender (default: persona)")
        p.add_argument("--param", action="append", metavar="NAME=VALUE",
                       help="set a model parameter, e.g. factors=32 (repeatable)")
    p.add_argument("--k", type=int, default=10, help="items per user (default 10)")
    p.add_argument("--keep-seen", action="store_true",
                   help="allow items the user already interacted with (repeat purchases)")
    p.add_argument("--random-state", type=int, default=0, help="seed (default 0)")


def _recommend_args(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--users-file", metavar="FILE",
                   help="users to serve: .txt (one id per line) or CSV/Parquet with a user id "
                        "column (default: every user with interactions)")
    p.add_argument("--on-unknown", choices=("fallback", "skip", "raise"), default="fallback",
                   help="users the model cannot serve: popular items (fallback, default), "
                        "leave out (skip) or fail (raise)")
    _add_out(p)


def run_recommend(args: argparse.Namespace) -> int:
    """``persona-rec recommend``: ``user_id, item_id, score, rank, source``."""
    from ._io import parse_pairs, read_user_ids

    model = make_model(args.model, args.random_state, parse_pairs(args.param, "--param"))
    ds = _dataset(args)  # after the model: a bad --param fails before reading the data
    if args.users_file:
        users = read_user_ids(args.users_file, args.user_col, ds, float_ids=args.float_ids)
        n_unknown = int((ds.user_map.to_internal(users, strict=False) < 0).sum())
        if n_unknown:
            log.info("%s of %s user(s) in --users-file have no data in EVENTS/--users "
                     "(--on-unknown %s)", f"{n_unknown:,}", f"{len(users):,}", args.on_unknown)
    else:
        users = ds.user_map.external_ids[ds.hot_user_mask()]
    model.fit(ds)
    log.info("recommending %d items to %d users", args.k, len(users))
    reco = model.recommend(users, k=args.k, filter_seen=not args.keep_seen,
                           on_unknown=args.on_unknown)
    skipped = reco.attrs.get("unserved", [])
    if skipped:
        print(f"persona-rec: note: {len(skipped)} user(s) could not be served and were skipped",
              file=sys.stderr)
    return _written(reco, args.out, "recommendations")


# ------------------------------------------------------------------------ audience
def _audience_args(p: argparse.ArgumentParser) -> None:
    _add_as_of(p)
    p.add_argument("--expression", required=True, metavar="EXPR",
                   help="tag expression, e.g. 'interest/home & price_sensitive & !churned'")
    p.add_argument("--budget", type=int, metavar="N", help="maximum audience size")
    p.add_argument("--min-audience-size", type=int, default=50, metavar="N",
                   help="privacy floor: fail when fewer users match (default 50)")
    p.add_argument("--random-state", type=int, default=0, help="tie-breaking seed (default 0)")
    _add_out(p)


def run_audience(args: argparse.Namespace) -> int:
    """``persona-rec audience``: users matching a tag expression, ranked, within a budget."""
    from ..marketing import select_audience

    tags = _user_tags(_profiles(_dataset(args), args))
    audience = select_audience(tags, expression=args.expression, budget=args.budget,
                               min_audience_size=args.min_audience_size,
                               random_state=args.random_state)
    funnel = audience.attrs.get("funnel")
    if funnel:
        print("funnel: " + " -> ".join(f"{k} {v:,}" for k, v in funnel.items()))
    return _written(audience, args.out, "audience rows")


# ------------------------------------------------------------------------ evaluate
def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--split", choices=("next-period",), default="next-period",
                   help="next-period: train before --at, test on the following --window")
    p.add_argument("--at", required=True, metavar="TIME", help="start of the test period")
    p.add_argument("--window", default="30D", metavar="SPAN",
                   help="length of the test period, e.g. 30D or 2W (default 30D)")
    _model_args(p, many=True)
    p.add_argument("--out", metavar="FILE", help="also write the table (.csv or .parquet)")


def run_evaluate(args: argparse.Namespace) -> int:
    """``persona-rec evaluate``: fit each model on the train period, score the test period."""
    import pandas as pd

    from ..evaluation import NDCG, HitRate, Precision, Recall, compare, next_period_split

    names = [n.strip() for n in args.models.split(",") if n.strip()]
    if not names:
        raise InvalidParameterError(f"--models must name at least one model, got {args.models!r}.")
    models = {n: make_model(n, args.random_state) for n in names}
    ds = _dataset(args)
    split = next_period_split(ds, _time_option(args.at, "--at", args), args.window,
                              filter_already_seen=not args.keep_seen)
    info = split.info
    print(f"next-period split at {args.at}, window {args.window}: "
          f"{info['n_test_users']:,} test users, {info['n_test_pairs']:,} test pairs")
    k = args.k
    table = compare(models, split, [NDCG(k), Recall(k), Precision(k), HitRate(k)], k=k,
                    filter_seen=not args.keep_seen)
    table.index.name = "model"
    with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 120):
        print(table.to_string())
    if args.out:
        return _written(table, args.out, "rows")
    return 0


# ---------------------------------------------------------------------------- demo
def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--online-retail", metavar="CSV",
                   help="run on the full UCI Online Retail CSV (.csv or .csv.gz) instead of "
                        "the sample")
    p.add_argument("--random-state", type=int, default=0, help="seed (default 0)")


def run_demo(args: argparse.Namespace) -> int:
    """``persona-rec demo``: the end-to-end demo on the bundled sample."""
    from ..demo import run_demo as _run

    dataset = None
    source = ""
    if args.online_retail:
        from ..sample_data import load_online_retail

        dataset = load_online_retail(args.online_retail)
        source = f"UCI Online Retail ({args.online_retail})"
    _run(dataset, source=source, random_state=args.random_state)
    return 0


def _report_args(parser: argparse.ArgumentParser) -> None:
    from ..report import build_parser

    build_parser(parser)  # --debug/--quiet are the CLI's shared options


def run_report(args: argparse.Namespace) -> int:
    """``persona-rec report``: the self-contained HTML report (see ``docs/report.md``)."""
    from ..report import main_cli

    return main_cli(args=args)


#: Every subcommand, in help order.
COMMANDS: list[Command] = [
    Command("demo", "run the end-to-end demo on the bundled sample data", _demo_args, run_demo,
            reads_events=False),
    Command("profiles", "build user profiles (one row per user)", _profiles_args, run_profiles),
    Command("tags", "tag users with the default taxonomy", _tags_args, run_tags),
    Command("segments", "assign users to RFM or k-means segments", _segments_args,
            run_segments),
    Command("recommend", "fit a recommender and write top-k items per user", _recommend_args,
            run_recommend),
    Command("audience", "select a campaign audience with a tag expression", _audience_args,
            run_audience),
    Command("evaluate", "compare recommenders on a next-period split", _evaluate_args,
            run_evaluate),
    Command("report", "write a self-contained HTML report (needs the plot extra)", _report_args,
            run_report, reads_events=False),
]
