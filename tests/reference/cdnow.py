"""Writes inputs/cdnow_summary.csv: the CDNOW sample's per-customer summary (2,357 customers, 39 weeks) as shipped
by lifetimes 0.11.3 (lifetimes/datasets/cdnow_customers_summary_with_transactions.csv: ID, x, t_x, T, zbar), the
data of Fader, Hardie & Lee (2005) "Counting your customers the easy way" and "RFM and CLV". Nothing here imports
rfmlab or lifetimes: the wheel is downloaded (pip download, no install) and the file copied byte for byte.

    python tests/reference/cdnow.py
"""

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MEMBER = "lifetimes/datasets/cdnow_customers_summary_with_transactions.csv"
OUT = Path(__file__).parent / "inputs" / "cdnow_summary.csv"

with tempfile.TemporaryDirectory() as tmp:
    cmd = [sys.executable, "-m", "pip", "download", "lifetimes==0.11.3", "--no-deps", "-q", "-d", tmp]
    subprocess.run(cmd, check=True)
    wheel = next(Path(tmp).glob("*.whl"))
    with zipfile.ZipFile(wheel) as z, z.open(MEMBER) as src, OUT.open("wb") as dst:
        shutil.copyfileobj(src, dst)
print(f"wrote {OUT}")
