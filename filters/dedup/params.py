"""Dedup parameters: one flat, frozen dataclass so a CLI can expose every field as a flag."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

UNICODE_FORMS = ("NFC", "NFKC", "NFD", "NFKD", "")

# Query parameters that identify a click or campaign, not a page (`*` = prefix match).
DEFAULT_TRACKING_PARAMS: tuple[str, ...] = (
    "utm_*",
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "sessionid",
    "phpsessid",
    "jsessionid",
    "sid",
)


@dataclass(frozen=True)
class DedupParams:
    """What counts as a duplicate, and how much memory finding them may use.

    The near-duplicate defaults (5-word shingles, 112 hashes as 16 bands x 7 rows, candidate pairs kept when
    their estimated Jaccard is >= 0.7) find pairs with Jaccard 0.8 with probability ~0.97 and link pairs with
    Jaccard 0.5 with probability < 1e-4; see docs/dedup.md for the curve.
    """

    # which kinds run
    exact: bool = True
    url: bool = True
    near: bool = True

    # exact: hash of the normalised text
    exact_lowercase: bool = True
    exact_unicode: str = "NFKC"
    exact_strip_punctuation: bool = True  # Unicode punctuation and symbols become spaces
    exact_digits_to_zero: bool = True  # every run of digits becomes "0"

    # url: normalised URL string
    url_ignore_scheme: bool = True  # http://x and https://x are the same page
    url_strip_www: bool = True
    url_drop_query: bool = False
    url_tracking_params: tuple[str, ...] = DEFAULT_TRACKING_PARAMS

    # near: MinHash-LSH over word shingles
    shingle_size: int = 5
    num_bands: int = 16
    rows_per_band: int = 7
    near_threshold: float | None = 0.7  # estimated Jaccard a candidate pair needs; None keeps every LSH pair
    split_cjk: bool = True  # each Han/Hiragana/Katakana character is a word (those scripts have no spaces)
    seed: int = 1

    # resources
    batch_size: int = 2_000  # documents read and hashed at a time (larger batches are no faster)
    hash_chunk: int = 1 << 13  # shingles permuted at a time: 8 * hashes * hash_chunk bytes of scratch
    lsh_memory_mb: int = 256  # LSH rows grouped at once; more rows split the band into hash ranges
    work_dir: Path | None = field(default=None)  # scratch space; default: a hidden folder in out_dir/dedup

    def __post_init__(self) -> None:
        if self.exact_unicode not in UNICODE_FORMS:
            raise ValueError(f"exact_unicode must be one of {UNICODE_FORMS}, got {self.exact_unicode!r}")
        for name in ("shingle_size", "num_bands", "rows_per_band", "batch_size", "hash_chunk", "lsh_memory_mb"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.near_threshold is not None and not 0.0 < self.near_threshold <= 1.0:
            raise ValueError("near_threshold must be in (0, 1] or None")

    @property
    def num_hashes(self) -> int:
        """Signature length: one band is `rows_per_band` consecutive hashes."""
        return self.num_bands * self.rows_per_band

    @property
    def lsh_threshold(self) -> float:
        """Jaccard at which a pair becomes an LSH candidate with probability ~1/2: (1/b)^(1/r)."""
        return (1.0 / self.num_bands) ** (1.0 / self.rows_per_band)

    def candidate_probability(self, jaccard: float) -> float:
        """Probability that a pair with this Jaccard shares at least one band bucket."""
        return 1.0 - (1.0 - jaccard**self.rows_per_band) ** self.num_bands

    def to_dict(self) -> dict:
        """JSON-ready copy for manifests."""
        out = asdict(self)
        out["url_tracking_params"] = list(self.url_tracking_params)
        out["work_dir"] = str(self.work_dir) if self.work_dir else None
        out["lsh_threshold"] = round(self.lsh_threshold, 4)
        return out
