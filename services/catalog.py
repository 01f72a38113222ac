"""Every service the launcher starts and the gateway routes to. A new service joins by adding one entry."""

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    port: int
    app: str  # uvicorn factory import path
    routed: bool = True  # reached through the gateway under /api/v1/<name>/
    # The event types it takes from the other services ("*": all), posted to its inbox by their dispatchers
    consumes: tuple[str, ...] = ()
    # The event types it publishes
    produces: tuple[str, ...] = ()
    # It calls other services with its own token (a gateway client `svc-<name>`, role "service")
    calls_services: bool = False
    # It has something to do before anything starts (`services/<name>/setup.py`, `async def prepare() -> list[str]`)
    prepares: bool = False

    # Every service folder has the same shape (README, "Adding a service"): the launcher finds its tables and its
    # demo data by name.
    @property
    def tables(self) -> str:
        """Its database's plumbing tables (shared.db.PlumbingTables), `module:attribute`."""
        return f"services.{self.name}.models:plumbing"

    @property
    def setup(self) -> str:
        """What it does before anything starts (when it `prepares`), `module:attribute`."""
        return f"services.{self.name}.setup:prepare"

    @property
    def demo(self) -> str:
        """Its demo data loader (shared.demo), `module:attribute`."""
        return f"services.{self.name}.demo:load"

    @property
    def inbox_path(self) -> str:
        """Where the other services' dispatchers post its events, many at a time (shared.events.inbox_router)."""
        return f"/api/v1/{self.name}/events/inbox/batch"


GATEWAY = ServiceEntry("gateway", 8000, "services.gateway.app:create_app", routed=False, prepares=True)
SERVICES: tuple[ServiceEntry, ...] = (
    # the household ledger (台账) keeps every other service's events about a household
    ServiceEntry(
        "registry", 8001, "services.registry.app:create_app", consumes=("*",),
        produces=("person.health_changed", "household.status_changed", "household.monitoring_changed",
                  "village.case_flag_changed", "contact.recorded"),
    ),
    ServiceEntry(
        "relief", 8002, "services.relief.app:create_app", consumes=("person.health_changed",),
        produces=("relief.case_opened", "relief.case_closed", "relief.period_paid", "insurance.claim_opened",
                  "insurance.claim_paid"),
        calls_services=True,
    ),
)  # fmt: skip
ALL = (GATEWAY, *SERVICES)


def load(target: str) -> Any:
    """The object a `module:attribute` path names (ServiceEntry.tables, .demo)."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def entry(name: str) -> ServiceEntry:
    for item in ALL:
        if item.name == name:
            return item
    raise KeyError(name)


def internal_subscriptions(producer: str) -> list[tuple[str, str, list[str]]]:
    """(name, inbox URL, event types) of every other service that takes events `producer` publishes: the
    subscriptions its dispatcher keeps (shared.events.ensure_internal_subscriptions)."""
    from shared.settings import common_settings

    produced = set(entry(producer).produces)
    wanted = []
    for consumer in SERVICES:
        if consumer.name == producer:
            continue
        types = ["*"] if "*" in consumer.consumes else [t for t in consumer.consumes if t in produced]
        if types:
            url = common_settings().service_url(consumer.name, consumer.port) + consumer.inbox_path
            wanted.append((f"internal:{consumer.name}", url, types))
    return wanted
