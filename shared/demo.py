"""What `fupin demo-data` and `fupin up` ask of each service's `demo.py`: an `async def load(session, request) ->
list[str]` that adds the service's demo data in the caller's transaction and returns what to tell the operator."""

from dataclasses import dataclass

from shared.pii import PiiCipher


@dataclass(frozen=True)
class DemoRequest:
    households: int  # demo households to make (the registry)
    seed: int  # the same seed gives the same data
    only_if_empty: bool  # `fupin up`: leave a service that has data as it is
    cipher: PiiCipher  # for the ID numbers and phones a service keeps encrypted
