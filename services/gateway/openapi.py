"""One OpenAPI document for the whole system: the gateway's own routes and every running service's.

Services serve their routes at the paths a client uses (`/api/v1/<service>/...`), so paths merge as they are.
A component schema whose name two documents use for different meanings is renamed with the service's prefix.
"""

import asyncio
import copy
import logging
import time
from typing import Any

import httpx

from shared.clients import ServiceClient

log = logging.getLogger("fupin.gateway.openapi")


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[1]
                out[key] = f"#/components/schemas/{renames.get(name, name)}"
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def _collisions(service: str, ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, str]:
    """Their schema names to rename: those that differ from ours, once refs to renamed ones are rewritten too.

    A schema that reads the same but points at a renamed one means something else, so renaming repeats until no
    shared name changes meaning.
    """
    renames: dict[str, str] = {}
    while True:
        found = {
            name: f"{service.capitalize()}{name}"
            for name, schema in theirs.items()
            if name in ours and name not in renames and _rename_refs(schema, renames) != ours[name]
        }
        if not found:
            return renames
        renames.update(found)


def merge(base: dict[str, Any], documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    paths = merged.setdefault("paths", {})
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    security_schemes = merged["components"].setdefault("securitySchemes", {})
    tags = {t["name"]: t for t in merged.get("tags", [])}
    for service, document in documents.items():
        renames = _collisions(service, schemas, document.get("components", {}).get("schemas", {}))
        document = _rename_refs(document, renames)
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        for name, scheme in document.get("components", {}).get("securitySchemes", {}).items():
            security_schemes.setdefault(name, scheme)
        for path, item in document.get("paths", {}).items():
            if path in ("/healthz", "/readyz", "/metrics"):
                continue
            paths[path] = item
        for tag in document.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        merged["tags"] = list(tags.values())
    return merged


class MergedOpenAPI:
    """Fetches the services' documents (cached briefly) and merges them with the gateway's own."""

    TTL_S = 30.0

    def __init__(self, clients: dict[str, ServiceClient]):
        self.clients = clients
        self._cache: dict[str, Any] | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self, service: str) -> dict[str, Any] | None:
        try:
            return await self.clients[service].get_json("/openapi.json")
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("no OpenAPI document from %s: %s", service, type(exc).__name__)
            return None

    async def document(self, base: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            if self._cache is not None and time.monotonic() - self._at < self.TTL_S:
                return self._cache
            names = list(self.clients)
            fetched = await asyncio.gather(*(self._fetch(name) for name in names))
            documents = {name: doc for name, doc in zip(names, fetched, strict=True) if doc is not None}
            merged = merge(base, documents)
            missing = [name for name in names if name not in documents]
            if missing:
                merged["x-unavailable-services"] = missing
            else:
                self._cache, self._at = merged, time.monotonic()
            return merged
