from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    port: int = 8001
    # seconds between two sweeps of import jobs whose process died (imports/sweep.py); 0: no sweep
    import_sweep_s: float = 60.0
    # build the five ones' progress rows of the window in force at start, in the background (contacts/progress.py)
    five_ones_build_at_start: bool = True


@lru_cache
def registry_settings() -> RegistrySettings:
    return RegistrySettings()
