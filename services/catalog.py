"""Every service the launcher starts and the gateway routes to. A new service joins by adding one entry."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    port: int
    app: str  # uvicorn factory import path
    routed: bool = True  # reached through the gateway under /api/v1/<name>/


GATEWAY = ServiceEntry("gateway", 8000, "services.gateway.app:create_app", routed=False)
SERVICES: tuple[ServiceEntry, ...] = (ServiceEntry("registry", 8001, "services.registry.app:create_app"),)
ALL = (GATEWAY, *SERVICES)


def entry(name: str) -> ServiceEntry:
    for item in ALL:
        if item.name == name:
            return item
    raise KeyError(name)
