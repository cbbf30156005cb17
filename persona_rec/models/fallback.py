"""Cold-start fallback chain: explicit composition of recommenders by what is known about a user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import check_bool, example_values
from ..columns import Columns
from ..dataset import Dataset
from ..exceptions import (
    InvalidDtypeError,
    InvalidParameterError,
    NotFittedError,
    UnknownIdError,
)
from ..persistence import Learned
from ._request import RecommendRequest
from .base import Recommender, fill_down, recommendation_frame
from .persistence import registered_models

if TYPE_CHECKING:
    from ..profiles import Profiles

__all__ = ["FallbackChain"]


def _normalise_links(models: Any) -> list[tuple[str, Recommender]]:
    if isinstance(models, Recommender) or not isinstance(models, Sequence) or not models:
        raise InvalidParameterError(
            f"The 'models' parameter of FallbackChain must be a non-empty list of "
            f"Recommender objects or (name, Recommender) pairs, got {models!r}."
        )
    links: list[tuple[str, Recommender]] = []
    for i, entry in enumerate(models):
        if isinstance(entry, Recommender):
            name, model = entry.name, entry
        elif (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)
              and isinstance(entry[1], Recommender)):
            name, model = entry
        else:
            raise InvalidDtypeError(
                f"FallbackChain models[{i}] must be a Recommender or a (name, Recommender) "
                f"pair, got {type(entry).__name__}."
            )
        links.append((name, model))
    names = [n for n, _ in links]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidParameterError(
            f"FallbackChain link names must be unique (they label the 'source' column); "
            f"duplicated: {dup}. Pass (name, model) pairs to rename."
        )
    return links


class FallbackChain(Recommender):
    """Serve each user with the strongest model that can, fill the rest down the chain.

    Links are tried in order -- typically interaction model -> attribute /
    profile model -> segment popularity -> global popularity. Each link is
    asked only for the users the stronger links left short of ``k`` rows
    (users whose state they do not serve, users they could not score, and
    users with fewer than ``k`` eligible items); its rows are appended below
    the stronger links' rows, skipping items the user already received.
    The ``source`` column records which link served each row (the link's name
    or the name given in a ``(name, model)`` pair). Scores of different links
    are not comparable; ``rank`` follows link order, then each link's rank.

    Parameters
    ----------
    models : list of Recommender or (name, Recommender)
        The links, strongest first. Names must be unique.
    fit_links : bool, default True
        If True, ``fit`` trains an unfitted copy of every link on the same
        data (the passed objects are not modified). If False the links must
        already be fitted and are used as they are (``fit`` only records the
        id maps).

    Attributes
    ----------
    links_ : list of Recommender
        The fitted links, in order.
    link_names_ : list of str

    Examples
    --------
    >>> import pandas as pd
    >>> from persona_rec import Dataset
    >>> from persona_rec.models import ItemKNNRecommender, PopularRecommender
    >>> inter = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 4], "item_id": list("ababac"),
    ...                       "timestamp": pd.date_range("2024-01-01", periods=6)})
    >>> chain = FallbackChain([ItemKNNRecommender("cosine"), PopularRecommender()])
    >>> chain.fit(Dataset.from_frames(inter)).recommend([3, "new"], k=2).drop(columns="score")
      user_id item_id  rank    source
    0       3       b     1  item_knn
    1       3       c     2   popular
    2     new       a     1   popular
    3     new       b     2   popular
    """

    learned_state = {
        "links_": Learned.models(),
        "link_names_": Learned.value(list),
    }

    default_name = "fallback_chain"
    folds_recent_events = True

    def __init__(self, models: Sequence[Recommender | tuple[str, Recommender]],
                 fit_links: bool = True) -> None:
        links = _normalise_links(models)
        check_bool(fit_links, "fit_links", owner="FallbackChain")
        # a list is kept as given (scikit-learn's clone checks identity)
        self.models = models if isinstance(models, list) else list(models)
        self.fit_links = fit_links
        self.serves_hot = any(m.serves_hot for _, m in links)
        self.serves_warm = any(m.serves_warm for _, m in links)
        self.serves_cold = any(m.serves_cold for _, m in links)

    # config: links as nested configs
    def _json_params(self) -> dict[str, Any]:
        entries = []
        for name, model in _normalise_links(self.models):
            entries.append({"name": name, "class": type(model).__qualname__,
                            "params": model._json_params()})
        return {"models": entries, "fit_links": self.fit_links}

    @classmethod
    def _from_json_params(cls, params: dict[str, Any]) -> FallbackChain:
        models: list[tuple[str, Recommender]] = []
        for entry in params["models"]:
            klass = registered_models().get(entry["class"])
            if klass is None:
                raise InvalidParameterError(f"unknown link class {entry['class']!r}.")
            models.append((entry["name"], klass._from_json_params(entry["params"])))
        return cls(models, fit_links=params.get("fit_links", True))

    def clone(self) -> FallbackChain:
        return FallbackChain(
            [(n, m.clone()) for n, m in _normalise_links(self.models)], fit_links=self.fit_links
        )

    def _fit(self, dataset: Dataset, profiles: Profiles | None) -> None:
        links = _normalise_links(self.models)
        fitted = []
        for name, model in links:
            if self.fit_links:
                fitted.append(model.clone().fit(dataset, profiles))
            else:
                if not model.is_fitted:
                    raise NotFittedError(
                        f"FallbackChain(fit_links=False): link {name!r} is not fitted."
                    )
                fitted.append(model)
        self.links_ = fitted
        self.link_names_ = [n for n, _ in links]

    def _recommend(self, ids: np.ndarray, request: RecommendRequest,
                   on_unknown: str) -> pd.DataFrame:
        """Serve the users down the chain (the call was validated by ``recommend``).

        Each link is asked, through its public ``recommend`` with the call's
        arguments, for the users the stronger links left short of ``k``
        rows; :func:`~persona_rec.models.base.fill_down` merges the rows.
        ``recent_events`` reach every link and make the users who have them
        hot for the chain. ``on_unknown`` applies to users no link can serve
        at all (by state): ``"raise"`` raises, ``"skip"`` lists them in
        ``frame.attrs["unserved"]``, ``"fallback"`` additionally fills every
        user still short of ``k`` rows with fit-time global popularity
        (``source="fallback_popular"``).
        """
        k = request.k
        idx, state = self._user_states(ids, request.dataset, request.recent)
        servable = np.zeros(len(ids), dtype=bool)
        for model in self.links_:
            servable |= model._served_states()[state]
        if (~servable).any() and on_unknown == "raise":
            raise UnknownIdError(
                f"no link of the FallbackChain serves {int((~servable).sum())} user(s), e.g. "
                f"{example_values(ids[~servable])}; add a link with serves_cold=True (e.g. "
                f"PopularRecommender) or pass on_unknown='skip'/'fallback'."
            )
        kwargs = {"filter_seen": request.filter_seen, "dataset": request.dataset,
                  **request.arguments}  # the call's arguments, as given to recommend
        if kwargs.get("recent_events") is None:
            kwargs.pop("recent_events", None)
        parts: list[tuple[Any, ...]] = []
        merged, counts = fill_down(parts, len(ids), k)
        pos_index = pd.Index(ids)
        for name, model in zip(self.link_names_, self.links_):
            needy = np.flatnonzero(counts < k)
            if len(needy) == 0:
                break
            rec = model.recommend(ids[needy], k=k, on_unknown="skip", **kwargs)
            source = rec[Columns.SOURCE].to_numpy(dtype=object)
            if model.name != name:
                source = np.where(source == model.name, name, source)
            parts.append((pos_index.get_indexer(rec[Columns.USER].to_numpy()),
                          rec[Columns.ITEM].to_numpy(), rec[Columns.SCORE].to_numpy(), source))
            merged, counts = fill_down(parts, len(ids), k)
        if on_unknown == "fallback" and len(ids) and (counts < k).any():
            needy = np.flatnonzero(counts < k)
            pos, item, score, source = self._popularity_part(needy, idx[needy], request)
            parts.append((pos, self.item_map_.to_external(item), score, source))
            merged, counts = fill_down(parts, len(ids), k)
        pos, items, scores, sources = merged
        if not parts:  # typed empty columns
            items = self.item_map_.to_external(np.empty(0, dtype=np.int64))
        frame = recommendation_frame(ids, pos, items, scores, sources)
        if on_unknown == "skip":
            frame.attrs["unserved"] = ids[counts == 0].tolist()
        return frame

    def similar_items(self, item_ids: Any, k: int = 10, **kwargs: Any) -> pd.DataFrame:
        """Item similarities from the first link that supports them.

        Raises
        ------
        NotImplementedError
            No link supports :meth:`Recommender.similar_items`.
        """
        self._check_fitted()
        for model in self.links_:
            if type(model)._similar is not Recommender._similar:
                return model.similar_items(item_ids, k, **kwargs)
        raise NotImplementedError("no link of the FallbackChain supports similar_items.")
