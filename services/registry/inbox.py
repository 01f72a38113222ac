"""What the registry takes from the other services: their events about a household, each written into the
household's ledger (台账) once, posted signed to the inbox by their dispatchers (many at a time)."""

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.events import ledger_entry
from services.registry.models import events
from shared.events import Intake, inbox_router
from shared.schemas.events import EventEnvelope


async def _into_ledger(session: AsyncSession, taken: list[EventEnvelope]) -> None:
    """The events about a household, each into its ledger: written with the transaction's commit, in one statement
    for the POST."""
    session.add_all(
        [ledger_entry(event, str(event.data.get("summary") or event.type)) for event in taken if event.household_id]
    )


async def receive(request: Request, new: list[EventEnvelope]) -> Intake:
    """Nothing to read first: every event into the ledger of its household, at once (nothing refuses one)."""
    return Intake(take_all=_into_ledger)


router = inbox_router("registry", events, receive, "registry: ledger 台账")
