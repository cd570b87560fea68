"""How masking passwords in text grows with the text's length: the masker against the
single regular expression it replaced, side by side.

The old pattern, ``[a-zA-Z][\\w+.-]*://[^:/@\\s]*:[^@\\s]+@``, is tried at every position of the
text and each try can scan to the end: a long run of word characters (a 60,000-character URL
pasted into a setting, a long driver message) costs time that grows with the square of the
length. The masker reads the text once. For each length the script times both on the same
adversarial inputs and prints the times and their ratio; doubling the length should roughly
double the masker's time and quadruple the old one's.

Usage:
  .venv/bin/python -m bench.url_masking [--lengths 1000 4000 16000 60000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable

from fastapi_alembic.urls import mask_text, mask_url

_OLD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)@")


def old_mask(text: str) -> str:
    return _OLD.sub(lambda m: f"{m['head']}***@", text)


def new_mask(text: str) -> str:
    return mask_text(mask_url(text))


def inputs(length: int) -> dict[str, str]:
    return {
        "letters": "a" * length,
        "scheme, then colons": "postgresql://" + "a:" * (length // 2),
        "user info without @": "postgresql://user:" + "s" * length,
    }


def best_of(function: Callable[[str], str], text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1000, 4000, 16000, 60000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'input':<22}{'length':>8}{'old (s)':>12}{'masker (s)':>12}{'old / masker':>14}")
    for length in args.lengths:
        for name, text in inputs(length).items():
            old = best_of(old_mask, text, 1 if length > 20000 else args.repeat)
            new = best_of(new_mask, text, args.repeat)
            print(f"{name:<22}{length:>8}{old:>12.4f}{new:>12.5f}{old / new:>14.0f}")


if __name__ == "__main__":
    main()
