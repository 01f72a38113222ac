"""Refusals of payee accounts, payment batches, bank files and the bank's results, each with its stable code."""

from shared.errors import domain_error

# --- payee accounts ---------------------------------------------------------------------------------------------
PayeeAccountNotFound = domain_error(
    "PayeeAccountNotFound", 404, "payee_account_not_found", "该人员没有登记收款账户", "No payee account for this person"
)
AccountNumberInvalid = domain_error(
    "AccountNumberInvalid", 422, "account_number_invalid",
    "银行账号应为12至30位数字（可含空格或短横线分隔）",
    "The bank account number must have 12 to 30 digits (spaces or hyphens between groups allowed)",
)  # fmt: skip
PayeeHouseholdNotFound = domain_error(
    "PayeeHouseholdNotFound", 422, "payee_household_not_found",
    "监测登记中没有该贫困户", "The registry has no such household",
)  # fmt: skip
PayeeNotInHousehold = domain_error(
    "PayeeNotInHousehold", 422, "payee_not_in_household",
    "该人员不是此贫困户的家庭成员", "The person is not a member of this household",
)  # fmt: skip
PayeeCountyMismatch = domain_error(
    "PayeeCountyMismatch", 422, "payee_county_mismatch",
    "区县代码与该户登记的区县 {registered} 不一致", "The county differs from the household's county {registered}",
)  # fmt: skip

# --- batches ----------------------------------------------------------------------------------------------------
BatchNotFound = domain_error("BatchNotFound", 404, "batch_not_found", "未找到该发放批次", "Payment batch not found")
PaymentNotFound = domain_error("PaymentNotFound", 404, "payment_not_found", "未找到该笔发放", "Payment not found")
UpToInFuture = domain_error(
    "UpToInFuture", 422, "up_to_in_future",
    "截止日期不能晚于今天（北京时间）：尚未开始的救助期不能预先发放",
    "up_to is after today (Asia/Shanghai): a period that has not started cannot be paid in advance",
)  # fmt: skip
NothingDue = domain_error(
    "NothingDue", 422, "nothing_due",
    "截至 {up_to} 没有可发放的救助（缺少收款账户的案件 {skipped} 件，净额不为正的案件 {held} 件）",
    "Nothing is due up to {up_to} ({skipped} cases lack a payee account, {held} have no positive net amount)",
)  # fmt: skip
BatchLinesTaken = domain_error(
    "BatchLinesTaken", 409, "batch_lines_taken",
    "部分救助期已被另一个批次同时收入，请重新制单",
    "Some periods were just collected by another batch: make the batch again",
)  # fmt: skip
BatchNotDraft = domain_error(
    "BatchNotDraft", 409, "batch_not_draft",
    "该批次状态为 {status}，只有草稿批次可以复核或撤销", "The batch is {status}: only a draft can be approved or cancelled",
)  # fmt: skip
MakerCannotApprove = domain_error(
    "MakerCannotApprove", 403, "maker_cannot_approve",
    "制单人不能复核自己制作的批次，须由另一名经办人复核", "The maker of a batch cannot approve it: another user must",
)  # fmt: skip
BatchNotApproved = domain_error(
    "BatchNotApproved", 409, "batch_not_approved",
    "该批次状态为 {status}，复核通过后才能生成银行文件或导入银行结果",
    "The batch is {status}: bank files and results come only after approval",
)  # fmt: skip
PiiReadRequired = domain_error(
    "PiiReadRequired", 403, "pii_read_required",
    "银行代发文件含完整银行账号，需要权限 pii:read", "The bank file holds full account numbers: pii:read is required",
)  # fmt: skip

# --- the bank's result file -----------------------------------------------------------------------------------------
ResultFileUnsupported = domain_error(
    "ResultFileUnsupported", 422, "result_file_unsupported",
    "文件不是可读取的表格：请上传 XLSX 工作簿，或 UTF-8 / GB18030 编码的 CSV 文件",
    "Not a readable spreadsheet: upload an XLSX workbook, or a UTF-8 or GB18030 CSV file",
)  # fmt: skip
ResultFileMissing = domain_error(
    "ResultFileMissing", 422, "result_file_missing",
    "请上传银行回盘文件（表单字段 file）", "Upload the bank's result file (form field 'file')",
)  # fmt: skip
ResultFileTooLarge = domain_error(
    "ResultFileTooLarge", 413, "result_file_too_large",
    "文件不能超过 {limit_mb} MB", "The file is larger than {limit_mb} MB",
)  # fmt: skip
