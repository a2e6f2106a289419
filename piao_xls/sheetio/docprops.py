"""Document properties shared by every workbook piao-xls writes (deterministic timestamps)."""

from __future__ import annotations

import os
from datetime import datetime, timezone

FIXED_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def document_time() -> datetime:
    """The document timestamp: SOURCE_DATE_EPOCH when set, else a fixed date (deterministic output)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return FIXED_EPOCH
