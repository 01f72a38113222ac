"""Believable demo data: households across several counties (万盛经开区 included), cadres and pairings.

The same seed gives the same data (names, ID numbers, codes; encryption nonces differ). Every value is invented:
ID numbers are valid by checksum but belong to nobody.
"""

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.fiveones import upkeep
from services.registry.models import Cadre, Household, Pairing, Person, Region
from shared.demo import DemoRequest
from shared.ids import uuid7
from shared.pii import PiiCipher, check_character, mask_id_number, mask_phone
from shared.regions import WANSHENG_TOWNSHIPS

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林谭冉向彭秦邓田冯唐"
GIVEN = "秀华明建国英兰芳军平勇伟丽强敏静洪林春梅德福成贵玉珍云海燕红霞志文光荣兴顺"
# Counties with demo villages: 万州 and 丰都 (the demo county officers), 酉阳, 巫溪, and 万盛经开区.
DEMO_COUNTIES = ("500101", "500230", "500242", "500238")
VILLAGE_NAMES = ("新建村", "红岩村", "龙泉村", "桂花村", "石坝村", "团结村", "长岭村", "青龙村", "双河村", "大坪村")
BATCH = 2000

CADRE_USERNAME = "cadre"
CADRE_VILLAGE = "500230101201"  # 丰都县虎威镇 first demo village: the demo cadre's households are here


@dataclass
class DemoSummary:
    villages: int
    households: int
    persons: int
    cadres: int
    pairings: int


def _name(rng: random.Random, surname: str | None = None) -> str:
    return (surname or rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _id_number(rng: random.Random, address: str, birth: date, male: bool, used: set[str]) -> str:
    """A checksum-valid number, unique in this data set (another sequence number when one is taken)."""
    while True:
        sequence = rng.randrange(500) * 2 + (1 if male else 0)
        first17 = f"{address}{birth:%Y%m%d}{sequence:03d}"
        if first17 not in used:
            used.add(first17)
            return first17 + check_character(first17)


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "151", "177", "185")) + f"{rng.randrange(10**8):08d}"


async def demo_villages(session: AsyncSession, rng: random.Random) -> list[Region]:
    townships = (
        await session.scalars(
            sa.select(Region)
            .where(Region.level == "township", Region.county_code.in_(DEMO_COUNTIES))
            .order_by(Region.code)
        )
    ).all()
    wansheng = (await session.scalars(sa.select(Region).where(Region.code.in_(WANSHENG_TOWNSHIPS)))).all()
    chosen = [t for t in townships if t.code == CADRE_VILLAGE[:9]]
    chosen += rng.sample([t for t in townships if t.code != CADRE_VILLAGE[:9]], 11) + rng.sample(list(wansheng), 3)
    villages = []
    for township in chosen:
        for index in range(3):
            code = f"{township.code}{201 + index:03d}"
            villages.append(
                Region(
                    code=code,
                    name=VILLAGE_NAMES[(index + int(township.code[-3:])) % len(VILLAGE_NAMES)],
                    level="village",
                    parent_code=township.code,
                    county_code=township.county_code,
                )
            )
    existing = set((await session.scalars(sa.select(Region.code).where(Region.level == "village"))).all())
    session.add_all([v for v in villages if v.code not in existing])
    await session.flush()
    return villages


def _household_rows(
    rng: random.Random, cipher: PiiCipher, village: Region, serial: int, now: datetime, used: set[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    household_id = uuid7()
    surname = rng.choice(SURNAMES)
    # ID numbers keep the address code of their issue: older ones may carry 500222 (綦江县) and so on.
    address = village.county_code if rng.random() < 0.9 else rng.choice(("500222", "500234", "500228", "510231"))
    head_male = rng.random() < 0.8
    head_birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 40))
    members = [("head", _name(rng, surname), head_birth, head_male)]
    if rng.random() < 0.8:
        members.append(("spouse", _name(rng), head_birth + timedelta(days=rng.randrange(-1500, 1500)), not head_male))
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
        members.append(
            ("child", _name(rng, surname), head_birth + timedelta(days=365 * rng.randrange(20, 32)), rng.random() < 0.5)
        )
    if rng.random() < 0.3:
        members.append(
            (
                "parent",
                _name(rng, surname),
                head_birth - timedelta(days=365 * rng.randrange(20, 30)),
                rng.random() < 0.5,
            )
        )
    status = rng.choices(("not_lifted", "lifted", "returned", "lifted_no_policy"), (25, 65, 3, 7))[0]
    attribute = rng.choices(("ordinary", "dibao", "destitute"), (60, 32, 8))[0]
    phone = _phone(rng)
    household = {
        "id": household_id,
        "household_no": f"{village.code}{serial:06d}",
        "village_code": village.code,
        "township_code": village.code[:9],
        "county_code": village.county_code,
        "status": status,
        "attribute": attribute,
        "dibao": attribute == "dibao" or rng.random() < 0.1,
        "area_class": "rural" if rng.random() < 0.92 else "urban",
        "address": f"{village.name}{rng.randrange(1, 12)}组{rng.randrange(1, 80)}号",
        "head_name": members[0][1],
        "member_count": len(members),
        "phone_enc": cipher.encrypt(phone),
        "phone_masked": mask_phone(phone),
        "created_at": now,
        "updated_at": now,
    }
    persons = []
    for relation, name, birth, male in members:
        number = _id_number(rng, address, min(birth, date(2019, 12, 31)), male, used)
        age = 2020 - birth.year
        labour = (
            "none" if age < 16 else ("lost" if age > 70 else rng.choice(("ordinary", "ordinary", "skilled", "weak")))
        )
        persons.append(
            {
                "id": uuid7(),
                "household_id": household_id,
                "county_code": village.county_code,
                "township_code": village.code[:9],
                "name": name,
                "id_number_enc": cipher.encrypt(number),
                "id_number_hash": cipher.blind_index(number),
                "id_number_masked": mask_id_number(number),
                "gender": "male" if int(number[16]) % 2 else "female",
                "birth_date": min(birth, date(2019, 12, 31)),
                "relation": relation,
                "labour_capacity": labour,
                "migrant_status": rng.choice(
                    ("not_working", "local", "in_county", "in_city", "out_of_city", "stranded")
                )
                if labour in ("ordinary", "skilled")
                else "not_working",
                "phone_enc": None,
                "phone_masked": None,
                "created_at": now,
                "updated_at": now,
            }
        )
    return household, persons


async def load_demo(session: AsyncSession, cipher: PiiCipher, *, households: int, seed: int = 2020) -> DemoSummary:
    """Add `households` demo households (and their villages, cadres and pairings) to an empty registry."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    villages = await demo_villages(session, rng)
    serial_base = await session.scalar(sa.select(sa.func.count()).select_from(Household)) or 0
    household_rows: list[dict[str, Any]] = []
    person_rows: list[dict[str, Any]] = []
    persons_total = 0
    used: set[str] = set()
    for serial in range(households):
        village = villages[serial % len(villages)]
        household, persons = _household_rows(rng, cipher, village, serial_base + serial + 1, now, used)
        household_rows.append(household)
        person_rows.extend(persons)
        if len(household_rows) >= BATCH:
            persons_total += await _flush(session, household_rows, person_rows)
    persons_total += await _flush(session, household_rows, person_rows)
    cadres, pairings = await _demo_cadres(session, rng, cipher, villages, now)
    await upkeep.forget(session)  # pairings written here, not through the service: the five ones build anew
    return DemoSummary(len(villages), households, persons_total, cadres, pairings)


async def _flush(session: AsyncSession, household_rows: list[dict], person_rows: list[dict]) -> int:
    count = len(person_rows)
    if household_rows:
        await session.execute(sa.insert(Household), household_rows)
        await session.execute(sa.insert(Person), person_rows)
    household_rows.clear()
    person_rows.clear()
    return count


async def _demo_cadres(
    session: AsyncSession, rng: random.Random, cipher: PiiCipher, villages: list[Region], now: datetime
) -> tuple[int, int]:
    cadres = 0
    pairings = 0
    for village in villages:
        login = CADRE_USERNAME if village.code == CADRE_VILLAGE else None
        if login and await session.scalar(sa.select(sa.exists().where(Cadre.username == login))):
            login = None
        phone = _phone(rng)
        cadre = Cadre(
            id=uuid7(),
            name=_name(rng),
            unit=f"{village.name}驻村工作队",
            position="第一书记" if login else "驻村工作队员",
            phone_enc=cipher.encrypt(phone),
            phone_masked=mask_phone(phone),
            region_code=village.code,
            county_code=village.county_code,
            township_code=village.code[:9],
            username=login,
            created_at=now,
            updated_at=now,
        )
        session.add(cadre)
        await session.flush()
        cadres += 1
        household_ids = (
            await session.scalars(
                sa.select(Household.id).where(Household.village_code == village.code).order_by(Household.id).limit(12)
            )
        ).all()
        rows = [
            {
                "id": uuid7(),
                "cadre_id": cadre.id,
                "household_id": hid,
                "county_code": village.county_code,
                "township_code": village.code[:9],
                "start_date": date(2020, 2, 9),
                "end_date": None,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for hid in household_ids
        ]
        if rows:
            await session.execute(sa.insert(Pairing), rows)
        pairings += len(rows)
    return cadres, pairings


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(sa.select(sa.exists().select_from(Household)))


async def load(session: AsyncSession, request: DemoRequest) -> list[str]:
    """The demo households, villages, cadres and pairings (shared.demo); none when the registry has data and only an
    empty one is to be filled."""
    if request.only_if_empty and not await is_empty(session):
        return ["registry has data: no demo data loaded"]
    started = time.perf_counter()
    summary = await load_demo(session, request.cipher, households=request.households, seed=request.seed)
    return [
        f"demo data: {summary.households} households, {summary.persons} persons, {summary.villages} villages, "
        f"{summary.cadres} cadres, {summary.pairings} pairings in {time.perf_counter() - started:.1f} s"
    ]
