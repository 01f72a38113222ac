"""UUIDv7 identifiers (RFC 9562): time-ordered, so the newest rows sort last by id.

The random bits make ids unique, not secret (nothing is authorised by knowing an id), so they come from the
process's PRNG (seeded from the OS and reseeded after fork) rather than a system call per id.
"""

import random
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_seq = 0


def uuid7() -> str:
    """A UUIDv7 string; ids made in one process are strictly increasing."""
    global _last_ms, _seq
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _seq += 1
            if _seq > 0xFFF:
                _last_ms += 1
                _seq = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _seq = random.getrandbits(10)
        seq = _seq
    rand = random.getrandbits(62)
    value = (ms << 80) | (0x7 << 76) | (seq << 64) | (0b10 << 62) | rand
    return str(uuid.UUID(int=value))
