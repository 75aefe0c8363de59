"""Where the workplace's shared material (provider specs, sample invoices) lies.

The repository normally sits beside `shared/`; a clone elsewhere (e.g. /tmp) finds it through
VENLIG_SHARED_DIR or at the workplace's fixed place.
"""

from __future__ import annotations

import os
from pathlib import Path

_CANDIDATES = (
    os.environ.get("VENLIG_SHARED_DIR", ""),
    str(Path(__file__).resolve().parents[1].parent / "shared"),
    "/work/shared",
)
SHARED = next(
    (Path(c) for c in _CANDIDATES if c and Path(c, "specs").is_dir()),
    Path(_CANDIDATES[1]),
)
SPECS = SHARED / "specs"
SAMPLES = SHARED / "samples"
