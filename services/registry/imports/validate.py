"""Checking a ledger's rows: each row alone, the rows of a household together, the file against the database.

Rows go through `Validator.feed` in chunks (plain Python, no model per row: this is the import's hot loop); after
each chunk `look_up` asks the database about the villages, ID numbers and household numbers first seen in it, and
`finish` reports everything once every row is in. A household is importable when none of its rows, nor the
household as a whole, has an error.

Ledgers list a household's rows together, so a household is complete once a row of another one comes: `feed`
hands back those closed households, and `writable` says whether one can be written before the file is done.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from operator import itemgetter
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.households.errors import HouseholdNoExists, IdNumberDuplicate
from services.registry.imports import repository
from services.registry.imports.columns import (
    BY_KEY,
    COLUMNS,
    DEFAULTS,
    HOUSEHOLD_COLUMNS,
    INDEX,
    ONCE_PER_HOUSEHOLD,
    Column,
)
from services.registry.imports.sealing import Sealed, seal
from services.registry.models import Household, Person, Region
from services.registry.regions.errors import VillageNotFound
from shared.auth import Principal
from shared.dates import today as business_today
from shared.errors import OutOfScope
from shared.pii import PiiCipher
from shared.schemas.common import ID_NUMBER_REASONS_ZH
from shared.schemas.registry import Relation

LOOKUP_BATCH = 5000
_HOUSEHOLD_NO = re.compile(r"^[0-9A-Za-z-]{6,32}$")
_INVALID = object()
NAME_MAX, ADDRESS_MAX = 50, 200


class RowError(NamedTuple):
    row: int
    column: str
    value: str
    code: str
    message: str


class Member(NamedTuple):
    """One person's row. Plain values only, so the garbage collector stops tracking it: with 100,000 tracked rows
    alive, collections took a quarter of the validation time (measured). Made with `_member` (0.4 µs, not 0.65)."""

    row: int
    household_no: str
    name: str
    id_number: str  # normalised; '' when the cell was not a valid number
    id_hash: str
    id_enc: str
    relation: str
    labour_capacity: str
    migrant_status: str
    phone: str | None
    phone_enc: str | None


_member = partial(tuple.__new__, Member)


@dataclass(slots=True)
class HouseholdDraft:
    household_no: str
    first_row: int
    # column key → (row it was first given on, the text as typed, the value stored)
    fields: dict[str, tuple[int, str, Any]] = field(default_factory=dict)
    members: list[Member] = field(default_factory=list)
    head: Member | None = None
    typed: int = 0  # bits of the household columns filled on some row, valid or not (an int: no container)
    agreed: tuple[str, ...] = ()  # the household columns of a row found right: rows alike need no check
    bad: bool = False
    county_code: str = ""
    written: bool = False

    def value(self, key: str, default: Any = None) -> Any:
        known = self.fields.get(key)
        return default if known is None else known[2]


def _accepting(column: Column) -> dict[str, Any]:
    """The column's choices, also under their ASCII-parenthesis spellings: one dict lookup a cell."""
    choices = column.choices or {}
    return {**choices, **{k.replace("（", "(").replace("）", ")"): v for k, v in choices.items()}}


_CHOICES = {c.key: _accepting(c) for c in COLUMNS if c.choices}
_RELATION, _LABOUR, _MIGRANT = _CHOICES["relation"], _CHOICES["labour_capacity"], _CHOICES["migrant_status"]
DEFAULT_LABOUR, DEFAULT_MIGRANT = DEFAULTS["labour_capacity"], DEFAULTS["migrant_status"]
_HEADER = {c.key: c.header for c in COLUMNS}
_personal_cells = itemgetter(INDEX["id_number"], INDEX["phone"])
_HOUSEHOLD_KEYS = tuple(c.key for c in HOUSEHOLD_COLUMNS)
_household_texts = itemgetter(*(INDEX[key] for key in _HOUSEHOLD_KEYS))
_BLANKS = ("",) * len(_HOUSEHOLD_KEYS)
_BIT = {key: 1 << i for i, key in enumerate(_HOUSEHOLD_KEYS)}
_ONCE_KEYS = tuple(c.key for c in HOUSEHOLD_COLUMNS if c.need == ONCE_PER_HOUSEHOLD)


def _not_allowed(key: str) -> str:
    return f"取值应为：{BY_KEY[key].allowed}"


class Found(NamedTuple):
    """What a chunk of rows brought: keys to look up, and the households it completed."""

    hashes: list[str]
    numbers: list[str]
    villages: list[str]
    closed: list[HouseholdDraft]


class Validator:
    """Collects households and errors over the rows fed to it; `finish` adds the database's verdict."""

    def __init__(self, cipher: PiiCipher, principal: Principal, *, today: date | None = None):
        self.cipher = cipher
        self.principal = principal
        self.today = today or business_today()
        self.households: dict[str, HouseholdDraft] = {}
        self.errors: list[RowError] = []
        self.rows = 0
        # False once a household's rows came apart (another household's rows between them)
        self.contiguous = True
        self._open: HouseholdDraft | None = None
        self._seen: dict[str, Member] = {}
        self._repeated: dict[str, list[Member]] = {}
        self._found = Found([], [], [], [])
        self._village_codes: set[str] = set()
        self._villages: dict[str, Region] = {}
        self._covered: dict[str, bool] = {}
        self._taken_hashes: set[str] = set()
        self._taken_numbers: set[str] = set()

    @property
    def clean(self) -> bool:
        """No error so far."""
        return not self.errors and not self._repeated

    def _error(self, row: int, key: str, value: str, code: str, message: str) -> None:
        self.errors.append(RowError(row, _HEADER[key], value, code, message))

    def feed(self, rows: Sequence[tuple[int, tuple[str, ...]]]) -> Found:
        """Check the rows; returns what they brought, for `look_up` and `writable`."""
        self.rows += len(rows)
        sealed = seal(self.cipher, self.today, [_personal_cells(values) for _, values in rows])
        for (number, values), personal in zip(rows, sealed, strict=True):
            self._row(number, values, personal)
        found, self._found = self._found, Found([], [], [], [])
        return found

    async def look_up(self, session: AsyncSession, found: Found) -> None:
        """What the registry has already of the keys found: villages, ID numbers, household numbers."""
        self._taken_hashes.update(await _existing(session, Person.id_number_hash, found.hashes))
        self._taken_numbers.update(await _existing(session, Household.household_no, found.numbers))
        for batch in _batches(found.villages):
            self._villages.update((r.code, r) for r in await repository.villages(session, batch))

    def writable(self, household: HouseholdDraft) -> bool:
        """Whether a complete household, looked up, is free of errors (and its county known); reports nothing."""
        if household.bad or household.head is None or any(k not in household.fields for k in _ONCE_KEYS):
            return False
        village = self._villages.get(household.fields["village_code"][2])
        if village is None or not self._covers(village.code) or household.household_no in self._taken_numbers:
            return False
        taken = self._taken_hashes
        if taken and any(m.id_hash in taken for m in household.members):
            return False
        household.county_code = village.county_code or village.code[:6]
        return True

    def _covers(self, village_code: str) -> bool:
        """Whether the importer's scope covers the village, asked once a village (a file has few, and many rows)."""
        covered = self._covered.get(village_code)
        if covered is None:
            covered = self._covered[village_code] = self.principal.covers(village_code)
        return covered

    def _row(self, number: int, values: tuple[str, ...], sealed: Sealed) -> None:
        (household_no, _village, name, id_text, relation_text, _status, _attribute, _dibao, _area, phone_text,
         labour_text, migrant_text, _address) = values  # fmt: skip
        errors_before = len(self.errors)
        household = self._household(number, household_no)
        if not name:
            self._error(number, "name", name, "required", "必填")
        elif len(name) > NAME_MAX:
            self._error(number, "name", name, "too_long", f"不能超过{NAME_MAX}个字")
        id_number, id_reason, id_hash, id_enc, phone, phone_bad, phone_enc = sealed
        if not id_text:
            self._error(number, "id_number", id_text, "required", "必填")
        elif id_reason:
            self._error(number, "id_number", id_text, "id_number_invalid", ID_NUMBER_REASONS_ZH[id_reason])
        # The dict lookup alone when the value is right; _choice reports a blank or wrong one.
        relation = _RELATION.get(relation_text) or self._choice(number, "relation", relation_text, required=True)
        labour = _LABOUR.get(labour_text) or self._choice(number, "labour_capacity", labour_text) or DEFAULT_LABOUR
        migrant = _MIGRANT.get(migrant_text) or self._choice(number, "migrant_status", migrant_text) or DEFAULT_MIGRANT
        if phone_bad:
            self._error(number, "phone", phone_text, "phone_invalid", "电话号码格式不正确")
        member = _member(
            (number, household_no, name, id_number, id_hash, id_enc, relation, labour, migrant, phone, phone_enc)
        )
        if id_hash:
            first = self._seen.get(id_hash)
            if first is None:
                self._seen[id_hash] = member
                self._found.hashes.append(id_hash)
            else:
                self._repeated.setdefault(id_hash, [first]).append(member)
        if household is None:
            self._household_fields(number, values, HouseholdDraft("", number))
            return
        self._household_fields(number, values, household)
        household.members.append(member)
        if relation == Relation.head:
            if household.head is None:
                household.head = member
            else:
                self._error(
                    number, "relation", relation_text, "several_heads", f"该户已有户主（第{household.head.row}行）"
                )
        if len(self.errors) > errors_before:
            household.bad = True

    def _household(self, number: int, household_no: str) -> HouseholdDraft | None:
        if not household_no:
            self._error(number, "household_no", household_no, "required", "必填")
            return None
        household = self.households.get(household_no)
        if household is not None and household is self._open:
            return household
        if household is None:
            household = self.households[household_no] = HouseholdDraft(household_no, number)
            if _HOUSEHOLD_NO.match(household_no):
                self._found.numbers.append(household_no)
            else:
                self._error(
                    number, "household_no", household_no, "household_no_invalid", "应为6至32位数字、字母或连字符"
                )
        else:
            self.contiguous = False
        if self._open is not None:
            self._found.closed.append(self._open)
        self._open = household
        return household

    def _choice(self, number: int, key: str, text: str, *, required: bool = False) -> str:
        if not text:
            if required:
                self._error(number, key, text, "required", "必填")
            return ""
        value = _CHOICES[key].get(text)
        if value is None:
            self._error(number, key, text, "not_allowed", _not_allowed(key))
            return ""
        return value

    def _household_fields(self, number: int, values: tuple[str, ...], household: HouseholdDraft) -> None:
        """Blank cells take the household's value; a filled cell must agree with the row that gave it first."""
        texts = _household_texts(values)
        if texts == household.agreed or texts == _BLANKS:  # most rows: as the household's first, or left blank
            return
        errors_before = len(self.errors)
        fields = household.fields
        for key, text in zip(_HOUSEHOLD_KEYS, texts, strict=True):
            if text:
                known = fields.get(key)
                if known is None or known[1] != text:
                    self._household_field(number, key, text, household, known)
        if not household.agreed and len(self.errors) == errors_before:
            household.agreed = texts

    def _household_field(
        self, number: int, key: str, text: str, household: HouseholdDraft, known: tuple[int, str, Any] | None
    ) -> None:
        household.typed |= _BIT[key]
        value = self._household_value(number, key, text)
        if value is _INVALID:
            return
        if known is None:
            household.fields[key] = (number, text, value)
        elif known[2] != value:
            message = f"同一户编号的各行{_HEADER[key]}不一致：第{known[0]}行为“{known[1]}”"
            self._error(number, key, text, "household_conflict", message)

    def _household_value(self, number: int, key: str, text: str) -> Any:
        if key == "village_code":
            if len(text) == 12 and text.isascii() and text.isdigit():
                if text not in self._village_codes:
                    self._village_codes.add(text)
                    self._found.villages.append(text)
                return text
            self._error(number, key, text, "village_code_invalid", "应为12位数字的村（社区）代码")
            return _INVALID
        if key == "address":
            if len(text) <= ADDRESS_MAX:
                return text
            self._error(number, key, text, "too_long", f"不能超过{ADDRESS_MAX}个字")
            return _INVALID
        value = _CHOICES[key].get(text)
        if value is None:
            self._error(number, key, text, "not_allowed", _not_allowed(key))
            return _INVALID
        return value

    async def finish(self, session: AsyncSession) -> None:
        """Every error, once every row is in: the rows', the households' own, the file's repeats, the database's."""
        self._open = None
        await self.look_up(session, self.feed(()))
        for household in self.households.values():
            for column in HOUSEHOLD_COLUMNS:
                if column.need == ONCE_PER_HOUSEHOLD and not household.typed & _BIT[column.key]:
                    self._flag(household, household.first_row, column.key, "", "required", "该户各行均未填写")
            if household.head is None:
                self._flag(household, household.first_row, "relation", "", "no_head", "该户没有户主")
        for occurrences in self._repeated.values():
            message = f"身份证号码在文件中重复出现（第{'、'.join(str(m.row) for m in occurrences)}行）"
            for member in occurrences:
                self._flag_member(member, "id_number_repeated", message)
        self._flag_villages()
        self._flag_taken()
        self.errors.sort(key=lambda e: (e.row, _ORDER.get(e.column, 99)))

    def _flag(self, household: HouseholdDraft | None, row: int, key: str, value: str, code: str, message: str) -> None:
        self._error(row, key, value, code, message)
        if household is not None:
            household.bad = True

    def _flag_member(self, member: Member, code: str, message: str) -> None:
        """An error on a person's ID number, which also bars the person's household."""
        self._flag(self.households.get(member.household_no), member.row, "id_number", member.id_number, code, message)

    def _flag_villages(self) -> None:
        for household in self.households.values():
            if "village_code" not in household.fields:
                continue
            row, text, code = household.fields["village_code"]
            village = self._villages.get(code)
            if village is None:
                self._flag(household, row, "village_code", text, "village_not_found", VillageNotFound.zh)
            elif not self._covers(code):
                self._flag(household, row, "village_code", text, "out_of_scope", OutOfScope.zh)
            else:
                household.county_code = village.county_code or code[:6]

    def _flag_taken(self) -> None:
        for id_hash in self._taken_hashes:
            self._flag_member(self._seen[id_hash], "id_number_duplicate", IdNumberDuplicate.zh)
        for number in self._taken_numbers:
            household = self.households[number]
            message = HouseholdNoExists.zh
            self._flag(household, household.first_row, "household_no", number, "household_no_duplicate", message)


_ORDER = {c.header: i for i, c in enumerate(COLUMNS)}


def _batches(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), LOOKUP_BATCH):
        yield items[start : start + LOOKUP_BATCH]


async def _existing(session: AsyncSession, column: sa.ColumnElement[str], values: list[str]) -> list[str]:
    """The values already in `column` (values without a comma: blind indexes, household numbers, region codes).

    PostgreSQL: all of them in one statement (repository.existing_joined says why that shape); SQLite: IN lists of
    LOOKUP_BATCH values.
    """
    if not values:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return await repository.existing_joined(session, column, values)
    found: list[str] = []
    for batch in _batches(values):
        found.extend(await repository.existing_in(session, column, batch))
    return found
