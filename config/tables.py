"""Downloads of tabular data as CSV (UTF-8 with a BOM) or as an Excel workbook (.xlsx).

Excel with Chinese regional settings reads a CSV as GBK unless it starts with a UTF-8 byte
order mark, so every CSV starts with one. The .xlsx form (XlsxWriter, written in
``constant_memory`` mode so a large export does not sit in memory as cells) carries types:
numbers stay numbers, and there is no encoding to guess.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

import xlsxwriter
from django.http import HttpResponse

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Excel's sheet names: at most 31 characters.
SHEET_NAME_MAX = 31


def csv_response(filename: str) -> HttpResponse:
    """An attachment response that already holds the BOM; write rows with ``csv.writer``."""
    response = HttpResponse(content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    return response


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return "" if value is None else value
    return str(value)


_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


def numbers_typed(row: Sequence[Any]) -> list[Any]:
    """A row of exported text with plain decimal numbers as numbers ("12.5" -> 12.5); codes
    with leading zeros, dates and anything else stay text."""
    return [float(value) if isinstance(value, str) and _NUMBER.fullmatch(value) else value for value in row]


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "data"
) -> HttpResponse:
    """One sheet: a bold header row, then the rows; None becomes an empty cell."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": True, "strings_to_formulas": False})
    worksheet = workbook.add_worksheet(sheet[:SHEET_NAME_MAX])
    bold = workbook.add_format({"bold": True})
    worksheet.write_row(0, 0, list(header), bold)
    for number, row in enumerate(rows, start=1):
        worksheet.write_row(number, 0, [_cell(value) for value in row])
    worksheet.freeze_panes(1, 0)
    workbook.close()
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
