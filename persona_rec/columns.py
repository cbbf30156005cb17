"""Column names used across the public API, kept in one place.

Every frame that goes in or comes out of persona_rec uses these names, so
downstream code can refer to ``Columns.USER`` instead of a string literal.
"""

from __future__ import annotations

__all__ = ["Columns", "PURCHASE_EVENTS", "DAY_NS", "REGISTRATION_COLUMNS", "DATE_ATTRIBUTES"]


class Columns:
    """Canonical column names.

    Attributes
    ----------
    USER, ITEM : str
        External user and item identifiers.
    TIMESTAMP : str
        Event time (``datetime64[ns]`` inside a Dataset).
    EVENT : str
        Event type such as ``"view"``, ``"cart"``, ``"purchase"``, ``"rating"``.
    WEIGHT : str
        Interaction strength used to build the users x items matrix.
    QUANTITY, PRICE : str
        Units and unit price of a purchase line.
    SCORE, RANK : str
        Recommendation score and 1-based rank.
    SOURCE : str
        Which component or fallback link produced a recommendation row.
    TAG : str
        Tag identifier in tag frames.
    SEGMENT : str
        Segment label.
    UTC_OFFSET : str
        Local time minus UTC in minutes (int16) per interaction; present
        when the input carried zone information (offsets or a users
        ``timezone`` column).
    TIMEZONE : str
        IANA time-zone name of a user (``"Asia/Shanghai"``) in the users frame.
    CATEGORY : str
        Item category path.
    USER_IDX, ITEM_IDX : str
        Internal contiguous user and item indices of
        :attr:`~persona_rec.Dataset.internal_interactions` (never in a public
        output frame).
    """

    USER = "user_id"
    ITEM = "item_id"
    TIMESTAMP = "timestamp"
    EVENT = "event"
    WEIGHT = "weight"
    QUANTITY = "quantity"
    PRICE = "price"
    SCORE = "score"
    RANK = "rank"
    SOURCE = "source"
    TAG = "tag_id"
    SEGMENT = "segment"
    UTC_OFFSET = "utc_offset_min"
    TIMEZONE = "timezone"
    CATEGORY = "category"
    USER_IDX = "user_idx"
    ITEM_IDX = "item_idx"

    #: Columns every recommendation frame has, in order.
    RECO = (USER, ITEM, SCORE, RANK)
    #: Columns every interaction frame must have.
    INTERACTIONS_REQUIRED = (USER, ITEM, TIMESTAMP)


#: Event names (lower case) that count as a purchase wherever purchases are
#: told apart from other events (profiles, repurchase, marketing outcomes).
PURCHASE_EVENTS: tuple[str, ...] = ("purchase", "order")

#: Nanoseconds in a day: turns ``datetime64[ns]`` integers into days.
DAY_NS: int = 86_400 * 10**9

#: User attributes read as the registration date (the first present one is used).
REGISTRATION_COLUMNS: tuple[str, ...] = ("registration_date", "signup_date", "registered_at")

#: Date attributes of the users and items frames: ``Dataset.from_frames`` reads them with the
#: parser and options of the interactions' ``timestamp`` (naive UTC ``datetime64[ns]``).
DATE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "users": REGISTRATION_COLUMNS,
    "items": ("first_seen",),
}
