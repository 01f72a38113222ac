from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReliefSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RELIEF_", extra="ignore")

    port: int = 8002
    # Where the registry is reached (its own address, not the gateway's); empty: the catalog's local port.
    registry_url: str = ""
    # Seconds between reconciliations of the cases with the registry's health timelines; 0: only by hand.
    reconcile_s: float = 3600.0


@lru_cache
def relief_settings() -> ReliefSettings:
    return ReliefSettings()
