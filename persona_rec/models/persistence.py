"""Model persistence: re-exported from :mod:`persona_rec.persistence`.

persona_rec has one file format for every object it saves; it lives on the
ground floor of the package (:mod:`persona_rec.persistence`) so that the
Dataset does not depend on the models package. These names stay importable
from here for code written against persona_rec 0.1.
"""

from __future__ import annotations

from ..persistence import (
    FORMAT,
    FORMAT_VERSION,
    Learned,
    SignatureError,
    decode_ids,
    encode_ids,
    learned_spec,
    load_model,
    read_header,
    register_model,
    registered_models,
    save_model,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Learned",
    "SignatureError",
    "register_model",
    "registered_models",
    "learned_spec",
    "save_model",
    "load_model",
    "read_header",
    "encode_ids",
    "decode_ids",
]
