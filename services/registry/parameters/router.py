"""Configurable policy values (参数): the care-overdue days, the five-ones window, ..."""

from services.registry.parameters.service import PARAMETERS
from shared.parameters import parameters_router

router = parameters_router(
    service="registry",
    prefix="/api/v1/registry/parameters",
    tag="registry: parameters 参数",
    store=PARAMETERS,
    read_permission="registry:read",
    manage_permission="parameters:manage",
)
