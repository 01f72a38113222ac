"""The refusals of the import routes, each with its stable code."""

from shared.errors import domain_error

ImportFileUnsupported = domain_error(
    "ImportFileUnsupported",
    422,
    "import_file_unsupported",
    "文件不是可导入的表格：请上传 XLSX 工作簿，或 UTF-8 / GB18030 编码、含导入模板表头的 CSV 文件",
    "Not an importable spreadsheet: upload an XLSX workbook, or a UTF-8 or GB18030 CSV file with the template's header",
)
ImportFileTooLarge = domain_error(
    "ImportFileTooLarge",
    413,
    "import_file_too_large",
    "文件不能超过 {limit_mb} MB，请分成几个文件导入",
    "The file is larger than {limit_mb} MB: split it into several files",
)
ImportJobNotFound = domain_error(
    "ImportJobNotFound", 404, "import_job_not_found", "未找到该导入任务", "Import job not found"
)
ImportNotFinished = domain_error(
    "ImportNotFinished",
    409,
    "import_not_finished",
    "导入任务尚未结束，结束后才能下载错误报告",
    "The import has not finished: the error report is ready when it has",
)
