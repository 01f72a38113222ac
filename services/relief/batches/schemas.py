"""Requests and answers of payee accounts, payment batches, payments, bank results and reconciliation.

Money is integer fen (`*_fen`); every amount also comes as yuan text with two decimals (`*_yuan`), made from the fen
by integer arithmetic, never through a float.
"""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class BatchStatus(StrEnum):
    """批次状态"""

    draft = "draft"  # 草稿：已制单，待复核
    approved = "approved"  # 已复核，可生成银行文件，等待银行结果
    reconciled = "reconciled"  # 银行已回复每一笔（成功或失败），金额相符
    cancelled = "cancelled"  # 已撤销（仅草稿可撤销），所含救助期重新待发


class PaymentStatus(StrEnum):
    pending = "pending"  # 待银行回复
    paid = "paid"  # 已发放
    failed = "failed"  # 发放失败：所含救助期在下一批次重新发放


class LineKind(StrEnum):
    period = "period"  # 一期救助金
    adjustment = "adjustment"  # 已发救助期的差额调整（可为负：多发待扣回）


# --- payee accounts -----------------------------------------------------------------------------------------------


class PayeeAccountSet(BaseModel):
    """收款账户：人员的社会保障卡（一卡通）银行账户。"""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"household_id": "01900000-0000-7000-8000-0000000000aa", "county_code": "500230",
                 "holder_name": "张秀华", "bank_name": "重庆农村商业银行丰都支行",
                 "account_number": "6217 9961 0000 1234 567"},
            ]
        },
    )  # fmt: skip

    household_id: str = Field(
        min_length=1, max_length=36, description="贫困户编号 The person's household (registry id)"
    )
    county_code: str = Field(pattern=r"^\d{6}$", description="区县代码 The household's county", examples=["500230"])
    holder_name: str = Field(
        min_length=1,
        max_length=50,
        pattern=r"^[^=+\-@\t\r\n][^\t\r\n]*$",
        description="户名（与银行开户名一致） Account holder's name as the bank has it",
    )
    bank_name: str = Field(
        min_length=1, max_length=100, pattern=r"^[^=+\-@\t\r\n][^\t\r\n]*$", description="开户银行 Bank and branch"
    )
    account_number: str = Field(
        min_length=1,
        max_length=60,
        description="银行账号，12至30位数字，可用空格或短横线分组 Account number: 12 to 30 digits, groups may be "
        "separated by spaces or hyphens",
    )


class PayeeAccountOut(BaseModel):
    id: str
    person_id: str
    household_id: str
    county_code: str
    holder_name: str
    bank_name: str
    account_number: str = Field(
        description="银行账号；无 pii:read 权限时只显示后四位 Full for callers with pii:read, else only the last four "
        "digits",
        examples=["***************4567"],
    )
    created_by: str
    created_at: datetime
    updated_at: datetime


# --- batches --------------------------------------------------------------------------------------------------------


class BatchCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"unit_code": "500230", "up_to": "2020-03-31"}, {"unit_code": "wansheng",
                                                                                          "up_to": "2020-04-30"}]},
    )  # fmt: skip

    unit_code: str = Field(
        pattern=r"^(50(01|02)\d{2}|wansheng)$",
        description="发放单位：区县代码，或 wansheng（万盛经开区） A county code, or wansheng for 万盛经开区",
    )
    up_to: date = Field(
        description="截止日期：收入此日及以前开始的救助期 Collect periods that start on or before this day"
    )


class BatchOut(BaseModel):
    id: str
    number: str = Field(
        description="批次号：各笔业务参考号的前缀 Batch number, the prefix of its payments' references",
        examples=["RB0190A1B2C3D4E5F6A7B8"],
    )
    unit_code: str = Field(examples=["500230"])
    county_code: str = Field(description="用于权限范围的区县代码（万盛经开区为500110） County used for scope")
    up_to: date
    status: BatchStatus
    payment_count: int = Field(description="笔数 Number of payments")
    total_fen: int = Field(description="批次金额（分） Total of the payments, fen")
    total_yuan: str = Field(examples=["12345.60"])
    paid_fen: int = Field(description="银行已回复成功的金额（分） Paid according to the bank, fen")
    failed_fen: int = Field(description="银行已回复失败的金额（分） Failed according to the bank, fen")
    made_by: str = Field(description="制单人 Maker")
    approved_by: str | None = Field(description="复核人 Checker")
    approved_at: datetime | None
    created_at: datetime
    updated_at: datetime


class LeftOutReason(StrEnum):
    no_payee_account = "no_payee_account"  # 未登记收款账户
    net_due_not_positive = "net_due_not_positive"  # 净额不为正（多发待扣回），负数调整留待以后冲抵


class LeftOutCase(BaseModel):
    case_id: str
    person_id: str
    payee_name: str
    reason: LeftOutReason
    due_fen: int = Field(description="该案件的应发净额（分） The case's net amount due, fen")


class BatchCreated(BaseModel):
    """The batch made, and the cases left out of it (at most 1,000 of each kind listed; the counts are complete)."""

    batch: BatchOut
    line_count: int = Field(description="收入的救助期（含调整）条数 Lines collected")
    skipped_count: int = Field(description="缺少收款账户而未收入的案件数 Cases left out for want of a payee account")
    skipped: list[LeftOutCase]
    held_count: int = Field(
        description="净额不为正而未收入的案件数（多发待扣回） Cases left out because their net due is not positive"
    )
    held: list[LeftOutCase]


class PaymentLineOut(BaseModel):
    id: str
    period_no: int = Field(description="救助期序号，从1起 Period number, from 1")
    period_start: date
    kind: LineKind
    amount_fen: int
    amount_yuan: str
    status: PaymentStatus


class PaymentOut(BaseModel):
    id: str
    batch_id: str
    case_id: str
    reference: str = Field(description="业务参考号：银行文件与银行结果以此对应 The bank file's and the results' key")
    payee_name: str
    payee_id_masked: str | None = Field(description="身份证号码（脱敏） Masked ID number")
    account_number: str | None = Field(
        description="收款账号；无 pii:read 权限时只显示后四位 Full with pii:read, else the last four digits"
    )
    amount_fen: int
    amount_yuan: str
    status: PaymentStatus
    failure_reason: str | None
    result_at: datetime | None


class PaymentDetail(PaymentOut):
    lines: list[PaymentLineOut]


# --- the bank's results ---------------------------------------------------------------------------------------------


class ResultsApplied(BaseModel):
    """What a result file changed; a file sent again changes nothing (every row `unchanged`)."""

    batch: BatchOut
    rows: int = Field(description="文件中的数据行 Data rows read")
    paid: int = Field(description="本次确认成功的笔数 Payments newly reported paid")
    paid_fen: int
    failed: int = Field(description="本次确认失败的笔数 Payments newly reported failed")
    failed_fen: int
    unchanged: int = Field(description="已有同样结果的笔数（重复回盘） Rows repeating a result already recorded")
    pending: int = Field(description="仍待银行回复的笔数 Payments of the batch still without a result")


# --- reconciliation -------------------------------------------------------------------------------------------------


class Tally(BaseModel):
    count: int
    fen: int


class StatusTallies(BaseModel):
    paid: Tally
    failed: Tally
    pending: Tally


class Reconciliation(BaseModel):
    """对账: the batch's own totals against its payments and their lines."""

    batch_id: str
    status: BatchStatus
    payment_count: int = Field(description="批次记载的笔数 The batch's count")
    total_fen: int = Field(description="批次记载的金额 The batch's total")
    paid_fen: int = Field(description="批次记载的成功金额 The batch's paid total")
    failed_fen: int = Field(description="批次记载的失败金额 The batch's failed total")
    payments: StatusTallies
    lines: StatusTallies
    balanced: bool = Field(description="各项金额、笔数一致 Every figure agrees")
    complete: bool = Field(description="每一笔都已有银行结果 Every payment has the bank's result")
    reconciled: bool = Field(description="balanced and complete 已对平")
    discrepancies: list[str] = Field(
        description="不一致之处（代码） What does not agree, by code",
        examples=[["payments_total_differs"]],
    )
