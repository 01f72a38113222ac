"""Roles, permissions and region scope (shared/auth.py, shared/regions.py)."""

import pytest
import sqlalchemy as sa

from shared.auth import ROLE_PERMISSIONS, Principal, permissions_of, region_clause, scope_prefix
from shared.regions import WANSHENG_CODE, WANSHENG_TOWNSHIPS, scope_codes


def principal(roles: tuple[str, ...], regions: tuple[str, ...]) -> Principal:
    return Principal(subject="p", kind="user", roles=roles, regions=regions, permissions=permissions_of(roles))


# --- scope_prefix and covers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("500000", "50"),  # the city covers every code starting 50
        ("110000", "11"),
        ("510100", "5101"),  # a prefecture-level city
        ("500101", "500101"),  # a county covers only itself
        ("500230", "500230"),
        ("500230101", "500230101"),  # a township
        ("500230101201", "500230101201"),  # a village
    ],
)
def test_scope_prefix(code, prefix):
    assert scope_prefix(code) == prefix


def test_city_covers_every_chongqing_code():
    city = principal(("city_admin",), ("500000",))
    for code in ("500101", "500230", "500230101", "500230101201", "500110004201", "500243"):
        assert city.covers(code), code
    assert not city.covers("510101")
    assert not city.covers("110105")
    assert not city.covers(None)


def test_county_covers_only_its_county():
    wanzhou = principal(("county_officer",), ("500101",))
    assert wanzhou.covers("500101")
    assert wanzhou.covers("500101001")
    assert wanzhou.covers("500101001201")
    for code in ("500102", "500110", "500230101201", "500100", "50010", "500000"):
        assert not wanzhou.covers(code), code


def test_township_covers_only_its_township():
    huwei = principal(("township_officer",), ("500230101",))
    assert huwei.covers("500230101201")
    assert not huwei.covers("500230102201")
    assert not huwei.covers("500230")


def test_several_regions_cover_their_union():
    both = principal(("county_officer",), ("500101", "500230"))
    assert both.covers("500101001201") and both.covers("500230101201")
    assert not both.covers("500102001201")


def test_no_regions_cover_nothing():
    nobody = principal(("county_officer",), ())
    assert not nobody.covers("500101")
    assert nobody.prefixes == ()


# --- roles and permissions -----------------------------------------------------------------------------------------


def test_permissions_are_the_union_of_the_roles():
    granted = permissions_of(["auditor", "human_resources"])
    assert granted == {"registry:read", "audit:read", "relief:read", "insurance:read"}
    civil_and_cadre = permissions_of(["civil_affairs", "village_cadre"])
    assert civil_and_cadre >= {"registry:read", "pii:read", "dibao:decide", "registry:update", "health:record",
                               "contacts:record", "relief:pay", "relief:approve", "insurance:manage"}  # fmt: skip
    assert not civil_and_cadre & {"registry:create", "audit:read", "users:manage"}


def test_only_civil_affairs_make_and_approve_relief_payments():
    makers = {role for role in ROLE_PERMISSIONS if "relief:pay" in ROLE_PERMISSIONS[role]}
    approvers = {role for role in ROLE_PERMISSIONS if "relief:approve" in ROLE_PERMISSIONS[role]}
    assert makers == approvers == {"civil_affairs"}
    bank = {role for role in ROLE_PERMISSIONS if "relief:bank" in ROLE_PERMISSIONS[role]}
    assert bank == {"civil_affairs", "bank_officer"}


def test_unknown_roles_grant_nothing():
    assert permissions_of(["root", "superuser"]) == frozenset()
    assert permissions_of([]) == frozenset()


@pytest.mark.parametrize(
    ("role", "reveals_pii"),
    [
        ("city_admin", True),
        ("county_officer", True),
        ("civil_affairs", True),
        ("bank_officer", True),
        ("township_officer", False),
        ("village_cadre", False),
        ("human_resources", False),
        ("auditor", False),
        ("supplies_officer", False),
    ],
)
def test_who_may_read_personal_data(role, reveals_pii):
    assert ("pii:read" in ROLE_PERMISSIONS[role]) is reveals_pii


def test_only_city_admin_and_officers_write():
    writers = {role for role, granted in ROLE_PERMISSIONS.items() if "registry:create" in granted}
    assert writers == {"city_admin", "county_officer", "township_officer"}
    assert "registry:update" in ROLE_PERMISSIONS["village_cadre"]
    assert "registry:create" not in ROLE_PERMISSIONS["village_cadre"]
    assert "audit:read" in ROLE_PERMISSIONS["auditor"]
    assert not ROLE_PERMISSIONS["auditor"] & {"registry:create", "registry:update", "cadres:manage"}


def test_is_cadre_only_needs_the_village_cadre_role_alone():
    assert principal(("village_cadre",), ("500230101201",)).is_cadre_only
    assert not principal(("village_cadre", "township_officer"), ("500230101",)).is_cadre_only
    assert not principal(("county_officer",), ("500230",)).is_cadre_only
    assert not principal((), ()).is_cadre_only


def test_principal_can():
    auditor = principal(("auditor",), ("500000",))
    assert auditor.can("registry:read") and auditor.can("audit:read")
    assert not auditor.can("registry:update")
    assert not auditor.can("pii:read")


# --- region_clause, evaluated against real rows ----------------------------------------------------------------------

ROWS = [
    ("wz", "500101", "500101001", "500101001201"),
    ("hw", "500230", "500230101", "500230101201"),
    ("hw2", "500230", "500230101", "500230101202"),
    ("st", "500230", "500230102", "500230102201"),
    ("ws", "500110", "500110004", "500110004201"),
    ("ws2", "500110", "500110107", "500110107201"),
    ("gn", "500110", "500110001", "500110001201"),
    ("cd", "510104", "510104001", "510104001201"),  # 成都: outside Chongqing
]


@pytest.fixture(scope="module")
def places():
    metadata = sa.MetaData()
    table = sa.Table(
        "places",
        metadata,
        sa.Column("name", sa.String(10), primary_key=True),
        sa.Column("county_code", sa.String(6)),
        sa.Column("township_code", sa.String(9)),
        sa.Column("village_code", sa.String(12)),
    )
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            table.insert(),
            [dict(zip(("name", "county_code", "township_code", "village_code"), r, strict=True)) for r in ROWS],
        )
    yield engine, table
    engine.dispose()


def names_within(places, codes) -> set[str]:
    engine, table = places
    clause = region_clause(codes, table.c.county_code, table.c.township_code, table.c.village_code)
    with engine.connect() as conn:
        return set(conn.scalars(sa.select(table.c.name).where(clause)))


def test_city_clause_keeps_every_chongqing_row(places):
    assert names_within(places, ["500000"]) == {"wz", "hw", "hw2", "st", "ws", "ws2", "gn"}


def test_county_clause_keeps_only_its_county(places):
    assert names_within(places, ["500230"]) == {"hw", "hw2", "st"}
    assert names_within(places, ["500101"]) == {"wz"}


def test_township_clause_keeps_only_its_township(places):
    assert names_within(places, ["500230101"]) == {"hw", "hw2"}


def test_village_clause_keeps_only_its_village(places):
    assert names_within(places, ["500230101202"]) == {"hw2"}


def test_clause_of_several_codes_is_their_union(places):
    assert names_within(places, ["500101", "500230102"]) == {"wz", "st"}


def test_empty_scope_keeps_nothing(places):
    assert names_within(places, []) == set()


def test_wansheng_scope_is_its_ten_townships(places):
    assert names_within(places, scope_codes(WANSHENG_CODE)) == {"ws", "ws2"}


def test_clause_reads_the_narrowest_fitting_column(places):
    _, table = places
    columns = (table.c.county_code, table.c.township_code, table.c.village_code)

    def sql(codes):
        return str(region_clause(codes, *columns).compile(compile_kwargs={"literal_binds": True}))

    assert sql(["500230"]) == "places.county_code = '500230'"
    assert sql(["500230101"]) == "places.township_code = '500230101'"
    assert sql(["500230101201"]) == "places.village_code = '500230101201'"
    assert "places.county_code LIKE '50' || '%'" in sql(["500000"])


def test_principal_region_clause_uses_its_regions(places):
    engine, table = places
    officer = principal(("county_officer",), ("500230",))
    clause = officer.region_clause(table.c.county_code, table.c.township_code, table.c.village_code)
    with engine.connect() as conn:
        assert set(conn.scalars(sa.select(table.c.name).where(clause))) == {"hw", "hw2", "st"}


# --- 万盛经开区 --------------------------------------------------------------------------------------------------------


def test_wansheng_is_ten_townships_of_qijiang():
    assert len(WANSHENG_TOWNSHIPS) == 10
    assert all(code.startswith("500110") and len(code) == 9 for code in WANSHENG_TOWNSHIPS)
    assert {"500110004", "500110005", "500110100", "500110107"} <= WANSHENG_TOWNSHIPS
    assert not {"500110001", "500110108"} & WANSHENG_TOWNSHIPS


def test_scope_codes():
    assert scope_codes("wansheng") == sorted(WANSHENG_TOWNSHIPS)
    assert scope_codes("500110") == ["500110"]
    assert scope_codes("500230101") == ["500230101"]
