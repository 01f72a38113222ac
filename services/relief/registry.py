"""The registry as relief's routes reach it: the typed client the app opened (`app.state.registry`)."""

from typing import Annotated

from fastapi import Depends, Request

from shared.clients import RegistryClient


async def registry_client(request: Request) -> RegistryClient:
    return request.app.state.registry


Registry = Annotated[RegistryClient, Depends(registry_client)]
