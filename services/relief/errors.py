"""The relief service's refusals shared by its domains, each with its stable code."""

from shared.errors import domain_error

RegistryUnavailable = domain_error(
    "RegistryUnavailable", 503, "registry_unavailable", "监测登记服务暂不可用，请稍后重试",
    "The registry cannot be reached; try again later",
)  # fmt: skip
