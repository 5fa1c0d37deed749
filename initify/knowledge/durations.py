"""Go-style duration strings (`1m30s`, `10s`, `500ms`, `2h`) as used by compose and Docker.

Compose parses `stop_grace_period` (and healthcheck timings) with Go's `time.ParseDuration`, so
this follows the same grammar: an optional sign, then one or more `<number><unit>` pairs, where a
number may have a fraction and the unit is one of ns, us, µs, ms, s, m, h. A bare `0` is allowed.
"""

from __future__ import annotations

import re

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # U+00B5 micro sign
    "μs": 1e-6,  # U+03BC Greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Return the duration `text` in seconds; raise ValueError with a short reason if invalid.

    Units are mandatory (Go rejects `10`), except for the single value `0`.
    """
    value = text.strip()
    sign = 1.0
    if value[:1] in ("+", "-"):
        sign = -1.0 if value[0] == "-" else 1.0
        value = value[1:]
    if value == "0":
        return 0.0
    if not value:
        raise ValueError(f"invalid duration {text!r}: empty")
    total = 0.0
    position = 0
    while position < len(value):
        match = _PART.match(value, position)
        if match is None:
            raise ValueError(
                f"invalid duration {text!r}: expected a number followed by a unit "
                "(ns, us, ms, s, m, h), e.g. 1m30s"
            )
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    return sign * total
