"""Qualifiers for clusters that share a business name: what separates them, in words.

Each cluster's profile is where its median R, F, M (and the scheme's extras) sit in the population, as
percentiles (recency inverted: high = recent), so a difference in spend and one in frequency are measured alike:
the share of customers between the two medians. Within a group sharing a name, each cluster is described by the
feature on which it differs most from the others' mean: what it has more of (``high spend``, ``frequent``,
``recent``) unless what it has less of is more than twice as pronounced (``low spend``, ``occasional``,
``lapsed``). Clusters whose words still coincide are told apart by a second word from the remaining features,
and so on; when no feature separates them, by their share of customers (``larger`` / ``smaller``); as a last
resort (identical medians and sizes) by spelled ordinals. Never by a bare number.
"""

from __future__ import annotations

SIZE = "_size"  # profile key: the cluster's share of customers
_TOL = 1e-9
_PREFER_MORE = 2.0  # "has more of" wins unless "has less of" is more than this many times as large

WORDS = {  # feature -> (more of it, less of it, in between)
    "recency": ("recent", "lapsed", "mid recency"),
    "frequency": ("frequent", "occasional", "mid frequency"),
    "monetary": ("high spend", "low spend", "mid spend"),
    "return_rate": ("high returns", "low returns", "mid returns"),
    "tenure_days": ("long-standing", "new", "mid tenure"),
    "avg_order_value": ("big baskets", "small baskets", "mid baskets"),
    SIZE: ("larger", "smaller", "mid-sized"),
}
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
             "eighteenth", "nineteenth")  # fmt: skip
_TENS = ("twent", "thirt", "fort", "fift", "sixt", "sevent", "eight", "ninet")  # + "y" / "ieth"


def qualify(base: dict[int, str], profile: dict[int, dict[str, float]], *, order: list[int]) -> dict[int, str]:
    """``base`` (cluster -> name) with every name that several clusters share qualified: ``Champions: high
    spend``. ``profile``: cluster -> feature -> population percentile of its median (high = more of it; recency
    inverted) and ``SIZE``; ``order`` ranks the clusters for the last-resort ordinals."""
    groups: dict[str, list[int]] = {}
    for c in order:
        if c in base:
            groups.setdefault(base[c], []).append(c)
    out = {}
    for name, members in groups.items():
        if len(members) == 1:
            out[members[0]] = name
            continue
        features = [f for f in next(iter(profile.values())) if f != SIZE] + [SIZE]
        for c, words in _words(members, features=features, profile=profile).items():
            out[c] = f"{name}: {', '.join(words)}"
    return out


def _words(members: list[int], *, features: list[str], profile: dict) -> dict[int, list[str]]:
    """The words telling ``members`` apart, using each of ``features`` at most once along a chain."""
    data = [f for f in features if f != SIZE and _spread(members, f, profile) > _TOL]
    if not data and SIZE in features and _spread(members, SIZE, profile) > _TOL:
        data = [SIZE]
    if not data:
        return {c: [ordinal(i + 1)] for i, c in enumerate(members)}
    picked = {c: _word(c, members, features=data, profile=profile) for c in members}
    out = {c: [_text(*picked[c])] for c in members}
    for word in set(picked.values()):
        same = [c for c in members if picked[c] == word]
        if len(same) > 1:
            rest = [f for f in features if f != word[0]]
            for c, more in _words(same, features=rest, profile=profile).items():
                out[c] += more
    return out


def _word(c: int, members: list[int], *, features: list[str], profile: dict) -> tuple[str, int]:
    """(feature, 0 more / 1 less / 2 in between): where cluster ``c`` differs most from the other members' mean."""
    others = [o for o in members if o != c]
    dev = {f: profile[c][f] - sum(profile[o][f] for o in others) / len(others) for f in features}
    up = max(features, key=lambda f: dev[f])
    down = min(features, key=lambda f: dev[f])
    if dev[up] > _TOL and _PREFER_MORE * dev[up] >= -dev[down]:
        return up, 0
    if dev[down] < -_TOL:
        return down, 1
    return max(features, key=lambda f: _spread(members, f, profile)), 2


def _spread(members: list[int], feature: str, profile: dict) -> float:
    values = [profile[c][feature] for c in members]
    return max(values) - min(values)


def _text(feature: str, kind: int) -> str:
    label = feature.replace("_", " ")
    return WORDS.get(feature, (f"high {label}", f"low {label}", f"mid {label}"))[kind]


def ordinal(n: int) -> str:
    """``n`` (1..99) as a spelled ordinal: first, second, ..., twenty-first."""
    if n < 20:
        return _ORDINALS[n - 1]
    tens, ones = divmod(n, 10)
    return f"{_TENS[tens - 2]}ieth" if ones == 0 else f"{_TENS[tens - 2]}y-{_ORDINALS[ones - 1]}"
