"""The per-row personal-data work of an import, a chunk of rows at a time: an ID number checked, blind-indexed and
encrypted, a phone checked and encrypted. It depends on nothing but the cells' text.

Sealing in a worker process was measured and dropped: on 2 cores the process's start (about 1 s) and a third busy
process slowed PostgreSQL's COPY more than the event loop gained (100,000 rows: 7.4–9.1 s against 7.2–7.9 s).
"""

from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import NamedTuple

from shared.pii import InvalidIdNumber, PiiCipher, normalize_id_number, normalize_phone


class Sealed(NamedTuple):
    """A row's ID number and phone as the import stores them; '' / None where the cell was blank or wrong."""

    id_number: str  # normalised
    id_reason: str  # why the ID number is wrong (an ID_NUMBER_REASONS key), '' when right or blank
    id_hash: str
    id_enc: str
    phone: str | None
    phone_bad: bool
    phone_enc: str | None


_sealed = partial(tuple.__new__, Sealed)  # Sealed from a tuple, without Sealed()'s argument handling: once a row


def seal(cipher: PiiCipher, today: date, cells: Sequence[tuple[str, str]]) -> list[Sealed]:
    """Each (ID number text, phone text) checked and sealed."""
    blind_index = cipher.blind_index
    checked = []
    plaintexts = []  # the right ID numbers and phones, in order, encrypted together
    for id_text, phone_text in cells:
        number = reason = id_hash = ""
        if id_text:
            try:
                number = normalize_id_number(id_text, today=today)
            except InvalidIdNumber as exc:
                reason = exc.reason
            else:
                id_hash = blind_index(number)
                plaintexts.append(number)
        phone = None
        phone_bad = False
        if phone_text:
            try:
                phone = normalize_phone(phone_text)
            except ValueError:
                phone_bad = True
            else:
                plaintexts.append(phone)
        checked.append((number, reason, id_hash, phone, phone_bad))
    sealed = iter(cipher.encrypt_many(plaintexts))
    return [
        _sealed((number, reason, id_hash, next(sealed) if id_hash else "", phone, phone_bad,
                 None if phone is None else next(sealed)))
        for number, reason, id_hash, phone, phone_bad in checked
    ]  # fmt: skip
