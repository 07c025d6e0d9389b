"""Number formats shared by the forecast, the report and the end-of-run summary, so one count reads the same
everywhere it is shown."""

from __future__ import annotations

import math
import numbers
from typing import Any

# Report style: B for billion, as token counts are quoted.
_SCALES = ((1e15, "P"), (1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
# Brief style (forecast.json text, terminal summary): SI letters.
_SI_SCALES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def si(value: Any, unit: str = "") -> str:
    """Compact number for labels: 1,234 / 12.3K / 4.56M / 7.8B / 1.2T / 1.7P, "–" for what is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return "–"
    v = float(value)
    suffix = f" {unit}" if unit else ""
    if abs(v) < 10_000:
        return (f"{v:,.0f}" if v == int(v) or abs(v) >= 100 else f"{v:.3g}") + suffix
    div, letter = next((d, s) for d, s in _SCALES if abs(v) >= d)
    return f"{v / div:.3g}{letter}{suffix}"


def si_brief(x: float) -> str:
    """Two significant digits, three above 100, SI letters: 510e12 -> '510T', 3.14e12 -> '3.1T'."""
    for scale, suffix in _SI_SCALES:
        if abs(x) >= scale:
            v = x / scale
            return f"{v:.0f}{suffix}" if v >= 100 else f"{v:.2g}{suffix}"
    return f"{x:.2g}"
