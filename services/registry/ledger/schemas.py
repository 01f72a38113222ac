"""A household's ledger (台账) entry as the API shows it."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class LedgerEntryOut(BaseModel):
    id: str
    household_id: str
    occurred_at: datetime
    source: str
    event_type: str
    summary: str
    details: dict[str, Any]
