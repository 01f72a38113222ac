"""The relief service's refusals shared by its domains, each with its stable code."""

import logging
from collections.abc import Awaitable
from typing import TypeVar

import httpx

from shared.errors import domain_error

log = logging.getLogger("fupin.relief")
T = TypeVar("T")

RegistryUnavailable = domain_error(
    "RegistryUnavailable", 503, "registry_unavailable", "监测登记服务暂不可用，请稍后重试",
    "The registry cannot be reached; try again later",
)  # fmt: skip


async def from_registry(call: Awaitable[T]) -> T:
    """The registry's answer to `call`; RegistryUnavailable (503, so an event is delivered again later) when the
    registry cannot be reached or fails."""
    try:
        return await call
    except httpx.HTTPError as exc:
        log.warning("registry unreachable: %s", exc)
        raise RegistryUnavailable() from exc
