"""Requests and answers of the contact log, needs surveys, income plans, clean-ups and impact surveys."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from services.registry.records.schemas import EARLIEST, Notes, unique

CadreRef = Annotated[
    str | None,
    Field(
        None,
        max_length=36,
        description="帮扶干部；不填时为登录人本人的干部记录（如有） The cadre; by default the caller's own cadre record",
    ),
]


class Channel(StrEnum):
    """联系方式"""

    phone = "phone"  # 电话
    sms = "sms"  # 短信
    qq = "qq"  # QQ
    wechat = "wechat"  # 微信
    letter = "letter"  # 慰问信
    visit = "visit"  # 入户走访


class ContactKind(StrEnum):
    """联系事项"""

    care = "care"  # 关心慰问
    counselling = "counselling"  # 心理疏导
    prevention_education = "prevention_education"  # 疫情防控知识宣传
    supplies_help = "supplies_help"  # 帮助购买或赠送防护用品
    needs_survey = "needs_survey"  # 脱贫需求调查
    income_plan = "income_plan"  # 制定脱贫增收计划
    agricultural_guidance = "agricultural_guidance"  # 春耕生产指导
    other = "other"  # 其他


class Need(StrEnum):
    """脱贫需求"""

    employment = "employment"  # 就业
    supplies = "supplies"  # 生活、防护物资
    medical = "medical"  # 医疗
    funds = "funds"  # 资金
    sales = "sales"  # 农产品销售
    training = "training"  # 培训
    housing = "housing"  # 住房
    other = "other"  # 其他


class IncomeMeasureKind(StrEnum):
    """增收措施"""

    employment = "employment"  # 务工就业
    industry = "industry"  # 产业发展
    public_post = "public_post"  # 公益性岗位
    microloan = "microloan"  # 扶贫小额信贷
    consumption = "consumption"  # 消费扶贫
    other = "other"  # 其他


class SurveyMethod(StrEnum):
    """调查方式"""

    phone = "phone"  # 电话了解
    online = "online"  # 网上问卷
    data_comparison = "data_comparison"  # 数据比对


class IncomeExpectation(StrEnum):
    """增收预期"""

    increase = "increase"  # 增加
    same = "same"  # 持平
    decrease = "decrease"  # 减少


class RollupLevel(StrEnum):
    """汇总层级：区县（万盛经开区单列）、乡镇、村 Roll-up level; 万盛经开区 is a county-level unit of its own"""

    county = "county"
    township = "township"
    village = "village"


# --- contacts (measure 5) ---------------------------------------------------------------------------------------


class ContactCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "household_id": "0193f0a2-...",
                    "channel": "phone",
                    "kind": "care",
                    "contacted_at": "2020-02-12T10:30:00+08:00",
                    "notes": "询问身体状况，家中口罩充足",
                }
            ]
        },
    )

    household_id: str = Field(max_length=36, description="贫困户 Household")
    cadre_id: CadreRef
    channel: Channel = Field(description="联系方式；有疫情的村社不得入户 Channel; no visits in villages with cases")
    kind: ContactKind = Field(description="联系事项 What the contact was for")
    contacted_at: AwareDatetime = Field(
        ge=EARLIEST,
        description="联系时间，须带时区，不能晚于当前 When, with offset; not in the future",
    )
    notes: Notes


class ContactOut(BaseModel):
    id: str
    household_id: str
    cadre_id: str | None
    cadre_name: str | None
    channel: Channel
    kind: ContactKind
    contacted_at: datetime
    notes: str | None
    recorded_by: str
    created_at: datetime


# --- needs surveys and income plans (measure 6) -------------------------------------------------------------------


class NeedsSurveyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"surveyed_on": "2020-02-20", "needs": ["employment", "sales"], "difficulties": "生猪滞销"}]
        },
    )

    surveyed_on: date = Field(description="调查日期 Survey date")
    needs: Annotated[list[Need], AfterValidator(unique)] = Field(
        min_length=1, max_length=16, description="脱贫需求 Needs"
    )
    difficulties: str | None = Field(None, max_length=2000, description="当前困难 Current difficulties")
    cadre_id: CadreRef


class NeedsSurveyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    household_id: str
    cadre_id: str | None
    surveyed_on: date
    needs: list[Need]
    difficulties: str | None
    recorded_by: str
    created_at: datetime


class IncomeMeasure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: IncomeMeasureKind = Field(description="增收措施 Measure")
    description: str = Field(min_length=1, max_length=500, description="说明 Description")
    expected_income_fen: int = Field(ge=0, le=10**10, description="预计增收（分） Expected income, fen")


class IncomePlanCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "planned_on": "2020-02-25",
                    "measures": [
                        {"kind": "public_post", "description": "村道保洁公益性岗位", "expected_income_fen": 360000},
                        {"kind": "industry", "description": "养殖生猪 3 头", "expected_income_fen": 450000},
                    ],
                }
            ]
        },
    )

    planned_on: date = Field(description="制定日期 Date of the plan")
    measures: list[IncomeMeasure] = Field(min_length=1, max_length=20, description="增收措施 Measures")
    cadre_id: CadreRef


class IncomePlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    household_id: str
    cadre_id: str | None
    planned_on: date
    measures: list[IncomeMeasure]
    expected_income_fen: int = Field(description="各项预计增收之和（分） Sum of the measures' expected income, fen")
    recorded_by: str
    created_at: datetime


# --- clean-ups (measure 8) ----------------------------------------------------------------------------------------

CAMPAIGN_PATTERN = r"^[0-9A-Za-z_-]{1,50}$"


class CleanupSet(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"done_on": "2020-03-01", "notes": "房前屋后已清理"}]}
    )

    done_on: date = Field(description="完成日期 Date done")
    notes: Notes


class CleanupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    household_id: str
    campaign: str
    done_on: date
    notes: str | None
    recorded_by: str
    created_at: datetime


class RegionCounts(BaseModel):
    code: str | None = Field(description="行政区划代码；合计行为空 Region code; null on the total", examples=["500230"])
    name: str | None = Field(examples=["丰都县"])


class CleanupCounts(RegionCounts):
    households: int = Field(description="贫困户数 Registered households")
    cleaned: int = Field(description="已完成大扫除的户数 Households done")
    cleaned_pct: float | None


class CleanupSummary(BaseModel):
    campaign: str
    level: RollupLevel
    total: CleanupCounts
    items: list[CleanupCounts]


# --- impact surveys (measure 19) ----------------------------------------------------------------------------------


class ImpactSurveyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "surveyed_on": "2020-03-05",
                    "method": "phone",
                    "exit_target_at_risk": True,
                    "income_expectation": "decrease",
                    "income_change_fen": -200000,
                    "patient_burden_fen": 0,
                    "notes": "外出务工推迟",
                }
            ]
        },
    )

    surveyed_on: date = Field(description="调查日期 Survey date")
    method: SurveyMethod
    exit_target_at_risk: bool = Field(description="脱贫目标任务完成是否受影响 Exit target at risk")
    income_expectation: IncomeExpectation = Field(description="增收预期 Income expectation")
    income_change_fen: int | None = Field(
        None, ge=-(10**10), le=10**10, description="预计收入变化（分，可为负） Expected change, fen, may be negative"
    )
    patient_burden_fen: int | None = Field(
        None, ge=0, le=10**10, description="患病人员经济负担（分） The patient's economic burden, fen"
    )
    notes: Notes


class ImpactSurveyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    household_id: str
    surveyed_on: date
    method: SurveyMethod
    exit_target_at_risk: bool
    income_expectation: IncomeExpectation
    income_change_fen: int | None
    patient_burden_fen: int | None
    notes: str | None
    recorded_by: str
    created_at: datetime


class ImpactCounts(RegionCounts):
    """Each household counted once, by its latest survey in the period."""

    households_surveyed: int
    at_risk: int = Field(description="脱贫目标有风险的户数 Households whose exit target is at risk")
    at_risk_pct: float | None = Field(description="占受访户（%） Share of those surveyed, %")
    expect_increase: int
    expect_same: int
    expect_decrease: int
    patient_burden_households: int = Field(description="填报患病负担的户数 Households reporting a burden")
    patient_burden_total_fen: int
    patient_burden_avg_fen: int | None = Field(
        description="户均负担（分，四舍五入） Average over households reporting one, fen, rounded half up"
    )


class ImpactSummary(BaseModel):
    level: RollupLevel
    total: ImpactCounts
    items: list[ImpactCounts]
