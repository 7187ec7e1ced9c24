"""Reference knees from kneed (KneeLocator) for the rfmlab test suite; writes values/kneed.json.

kneed is not a dependency of rfmlab, so this runs in a throwaway virtualenv:

    python3 -m venv /tmp/kneedenv
    /tmp/kneedenv/bin/pip install kneed==0.8.5 numpy scikit-learn
    python tests/reference/kneed_values.py   # re-runs itself under $KNEED_PYTHON
                                             # (default /tmp/kneedenv/bin/python) if kneed is missing

Curves (all: curve="convex", direction="decreasing", S=1.0, interp_method="interp1d", online=False):
  line          x = 2..12, y = 100 - 5x
  uci_inertia   k = 2..12, sklearn KMeans(n_clusters=k, n_init=10, random_state=0).inertia_
                on inputs/uci_customers.csv
  blobs_inertia the same on inputs/blobs.csv
  inverse       x = 1..10, y = 1/x
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

try:
    import kneed
except ImportError:
    alt = os.environ.get("KNEED_PYTHON", "/tmp/kneedenv/bin/python")
    if Path(alt).exists() and not os.environ.get("_KNEED_REEXEC"):
        os.environ["_KNEED_REEXEC"] = "1"  # re-exec once, never loop
        os.execv(alt, [alt, __file__, *sys.argv[1:]])
    sys.exit(
        "kneed is not installed: python3 -m venv /tmp/kneedenv && "
        "/tmp/kneedenv/bin/pip install kneed==0.8.5 numpy scikit-learn"
    )

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from kneed import KneeLocator  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

S = 1.0
SETTINGS = dict(curve="convex", direction="decreasing", S=S, interp_method="interp1d", online=False)


def knee(x, y):
    k = KneeLocator(list(x), list(y), **SETTINGS).knee
    return None if k is None else float(k) if not float(k).is_integer() else int(k)


def inertia_curve(name: str) -> tuple[list[int], list[float]]:
    data = np.loadtxt(HERE / "inputs" / f"{name}.csv", delimiter=",", skiprows=1)
    ks = list(range(2, 13))
    ys = [float(KMeans(n_clusters=k, n_init=10, random_state=0).fit(data).inertia_) for k in ks]
    return ks, ys


def main() -> None:
    curves: dict[str, dict] = {}

    x = list(range(2, 13))
    curves["line"] = {"description": "straight line y = 100 - 5x", "x": x, "y": [100.0 - 5 * v for v in x]}

    for name in ("uci_customers", "blobs"):
        ks, ys = inertia_curve(name)
        curves[f"{name.split('_')[0]}_inertia"] = {
            "description": f"sklearn KMeans(n_clusters=k, n_init=10, random_state=0).inertia_ on inputs/{name}.csv",
            "x": ks,
            "y": ys,
        }

    x = list(range(1, 11))
    curves["inverse"] = {"description": "y = 1/x", "x": x, "y": [1.0 / v for v in x]}

    for c in curves.values():
        c["S"] = S
        c["knee"] = knee(c["x"], c["y"])

    out = {
        "generated": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
        "versions": {
            "python": sys.version.split()[0],
            "kneed": kneed.__version__,
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "settings": {**SETTINGS, "call": "kneed.KneeLocator(x, y, **settings).knee"},
        "curves": curves,
    }
    path = HERE / "values" / "kneed.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    for name, c in curves.items():
        print(f"{name:14s} knee={c['knee']}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
