"""The stored calibration (reports/calibration.json): `sysgate calibrate`'s detection
limits, one entry per host fingerprint, saved by calibrate and looked up by compare."""

import json
import math
import os
from pathlib import Path

from ..core.errors import UserError
from .connection import REPO_ROOT
from .identity import host_fingerprint

DEFAULT_FILE = REPO_ROOT / "reports" / "calibration.json"


def save(result, path=DEFAULT_FILE):
    path = Path(path)
    try:
        data = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        data = {}
    data.setdefault("hosts", {})[result["host_fingerprint"]] = result
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_finite(data), indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)
    return path


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def limits_for(context, path=None):
    """The stored calibration of the host a run's context describes, or None."""
    path = Path(path) if path else DEFAULT_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        if path != DEFAULT_FILE:
            raise UserError(f"{path}: not a calibration file written by sysgate calibrate") \
                from None
        return None
    return data.get("hosts", {}).get(host_fingerprint(context))
