"""The ledger's columns (Chinese headers, one row per person) and the Chinese values each accepts."""

from dataclasses import dataclass

from shared.schemas.registry import (
    AreaClass,
    HouseholdAttribute,
    LabourCapacity,
    MigrantStatus,
    PovertyStatus,
    Relation,
)

REQUIRED = "必填"
ONCE_PER_HOUSEHOLD = "每户至少一行填写"
OPTIONAL = "选填"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    need: str  # REQUIRED, ONCE_PER_HOUSEHOLD (a household column: blank rows take the household's value) or OPTIONAL
    note: str
    choices: dict[str, str | bool] | None = None  # Chinese value → stored value
    household: bool = False  # the same for every row of a household

    @property
    def allowed(self) -> str:
        """The values to show an official: the canonical ones, not every spelling accepted."""
        return "、".join(dict.fromkeys(CANONICAL.get(self.key, list(self.choices or ()))))


RELATIONS: dict[str, str | bool] = {
    "户主": Relation.head,
    "配偶": Relation.spouse,
    "子女": Relation.child,
    "儿媳/女婿": Relation.child_in_law,
    "儿媳": Relation.child_in_law,
    "女婿": Relation.child_in_law,
    "孙子女": Relation.grandchild,
    "父母": Relation.parent,
    "祖父母": Relation.grandparent,
    "兄弟姐妹": Relation.sibling,
    "其他": Relation.other,
}
STATUSES: dict[str, str | bool] = {
    "未脱贫": PovertyStatus.not_lifted,
    "已脱贫": PovertyStatus.lifted,
    "已脱贫（享受政策）": PovertyStatus.lifted,
    "返贫": PovertyStatus.returned,
    "已脱贫（不再享受政策）": PovertyStatus.lifted_no_policy,
}
ATTRIBUTES: dict[str, str | bool] = {
    "一般贫困户": HouseholdAttribute.ordinary,
    "低保贫困户": HouseholdAttribute.dibao,
    "特困供养贫困户": HouseholdAttribute.destitute,
}
YES_NO: dict[str, str | bool] = {"是": True, "否": False}
AREAS: dict[str, str | bool] = {"农村": AreaClass.rural, "城镇": AreaClass.urban}
LABOUR: dict[str, str | bool] = {
    "技能劳动力": LabourCapacity.skilled,
    "普通劳动力": LabourCapacity.ordinary,
    "弱劳动力或半劳动力": LabourCapacity.weak,
    "弱劳动力": LabourCapacity.weak,
    "半劳动力": LabourCapacity.weak,
    "丧失劳动力": LabourCapacity.lost,
    "无劳动力": LabourCapacity.none,
}
MIGRANT: dict[str, str | bool] = {
    "未务工": MigrantStatus.not_working,
    "乡镇内务工": MigrantStatus.local,
    "县内乡外": MigrantStatus.in_county,
    "市内县外": MigrantStatus.in_city,
    "市外": MigrantStatus.out_of_city,
    "因疫情暂不能外出务工": MigrantStatus.stranded,
}
CANONICAL = {
    "relation": ["户主", "配偶", "子女", "儿媳/女婿", "孙子女", "父母", "祖父母", "兄弟姐妹", "其他"],
    "status": ["未脱贫", "已脱贫", "返贫", "已脱贫（不再享受政策）"],
    "labour_capacity": ["技能劳动力", "普通劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"],
}

COLUMNS: tuple[Column, ...] = (
    Column("household_no", "户编号", REQUIRED, "6至32位数字、字母或连字符；同一户的各行填写同一户编号"),
    Column(
        "village_code", "村（社区）代码", ONCE_PER_HOUSEHOLD, "12位行政区划代码，须是已登记的村（社区）", household=True
    ),
    Column("name", "姓名", REQUIRED, "不超过50个字"),
    Column("id_number", "身份证号码", REQUIRED, "18位居民身份证号码（末位可为X）；请将单元格设为文本格式"),
    Column("relation", "与户主关系", REQUIRED, "每户有且只有一行为“户主”", RELATIONS),
    Column("status", "贫困状态", ONCE_PER_HOUSEHOLD, "", STATUSES, household=True),
    Column("attribute", "贫困户属性", ONCE_PER_HOUSEHOLD, "", ATTRIBUTES, household=True),
    Column("dibao", "是否享受低保", OPTIONAL, "不填为“否”", YES_NO, household=True),
    Column("area_class", "城乡", OPTIONAL, "不填为“农村”", AREAS, household=True),
    Column("phone", "联系电话", OPTIONAL, "手机或固定电话；户主的电话作为该户的联系电话"),
    Column("labour_capacity", "劳动能力", OPTIONAL, "不填为“普通劳动力”", LABOUR),
    Column("migrant_status", "务工状态", OPTIONAL, "不填为“未务工”", MIGRANT),
    Column("address", "住址", OPTIONAL, "不超过200个字", household=True),
)
HEADERS = tuple(c.header for c in COLUMNS)
INDEX = {c.key: i for i, c in enumerate(COLUMNS)}
BY_KEY = {c.key: c for c in COLUMNS}
HOUSEHOLD_COLUMNS = tuple(c for c in COLUMNS if c.household)
# Required for the file to be read at all; optional columns may be left out of the file.
REQUIRED_HEADERS = tuple(c.header for c in COLUMNS if c.need != OPTIONAL)
DEFAULTS: dict[str, str | bool] = {
    "dibao": False,
    "area_class": AreaClass.rural,
    "labour_capacity": LabourCapacity.ordinary,
    "migrant_status": MigrantStatus.not_working,
}

_WIDTH = str.maketrans("()", "（）")


def canonical_header(text: str) -> str:
    """A header as typed, reduced to the form in HEADERS: blanks dropped, ASCII parentheses made full-width."""
    return "".join(text.split()).translate(_WIDTH)


def canonical_value(text: str) -> str:
    """A choice as typed, ASCII parentheses made full-width (已脱贫(不再享受政策) is the same value)."""
    return text.translate(_WIDTH)
