from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    port: int = 8001
    # seconds between two sweeps of import jobs whose process died (imports/sweep.py); 0: no sweep
    import_sweep_s: float = 60.0
    # seconds between two looks at the window in force, whose five ones' rows are built in the background if new
    # (fiveones/upkeep.py), the first at the start; 0: never, the first report builds them
    five_ones_build_s: float = 60.0


@lru_cache
def registry_settings() -> RegistrySettings:
    return RegistrySettings()
