"""Queries built once and run many times: the statements intake runs for every message.

Peewee builds the SQL text of a query from its expression tree each time it
runs. For the handful of statements every incoming complaint needs, building
cost 20 to 50 times more than running them on SQLite (bench/RESULTS.md:
130 to 600 us to build, 4 to 13 us to run). Here each is still written with
peewee's expressions, checked against the models, but compiled once per
database dialect with placeholders; each run only supplies new parameters.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from peewee import Model, Query, Value, __exception_wrapper__

from .models import database

_MARK = "\x00aftercare-param:{}\x00"


def param(name: str) -> Value:
    """A placeholder for ``Prepared`` queries; the value given at run time is passed on unconverted."""
    return Value(_MARK.format(name), converter=False)


class Prepared:
    """``build(param(...), ...)`` compiled once per dialect; ``run(**values)`` executes it."""

    def __init__(self, build: Callable[[], Query]):
        self._build = build
        self._compiled: dict[type, tuple[str, list[tuple[bool, Any]]]] = {}
        self._lock = threading.Lock()

    def _compile(self) -> tuple[str, list[tuple[bool, Any]]]:
        key = type(database.obj)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                sql, params = self._build().sql()
                slots = []
                for p in params:
                    if isinstance(p, str) and p.startswith("\x00aftercare-param:"):
                        slots.append((True, p[len("\x00aftercare-param:"):-1]))
                    else:
                        slots.append((False, p))  # a constant of the query, e.g. its LIMIT
                compiled = self._compiled[key] = (sql, slots)
        return compiled

    def cursor(self, **values: Any):
        sql, slots = self._compile()
        return database.execute_sql(sql, [values[v] if is_param else v for is_param, v in slots])

    def run_many(self, values: list[dict[str, Any]]) -> None:
        """The statement once per parameter set, in one round of the driver (``executemany``)."""
        sql, slots = self._compile()
        params = [[v[name] if is_param else name for is_param, name in slots] for v in values]
        with __exception_wrapper__:  # driver errors become peewee's, as execute_sql does
            database.cursor().executemany(sql, params)

    def rows(self, **values: Any) -> list[tuple]:
        return list(self.cursor(**values).fetchall())

    def first(self, **values: Any) -> tuple | None:
        return self.cursor(**values).fetchone()


class PreparedInsert:
    """One row into ``model`` with the same columns every time; returns the new id.

    Every field with a default is written (its default worked out per row, as
    ``Model.create`` does), so the statement's columns never vary.
    """

    def __init__(self, model: type[Model], columns: tuple[str, ...]):
        fields = model._meta.fields
        names = set(columns) | {n for n, f in fields.items() if f.default is not None and not f.primary_key}
        self.model = model
        self.fields = [fields[n] for n in sorted(names)]
        self._names = frozenset(names)
        self._plan = [(f.name, f.db_value, f.default, callable(f.default)) for f in self.fields]
        self.prepared = Prepared(lambda: model.insert({f: param(f.name) for f in self.fields}))

    def __call__(self, **values: Any) -> int:
        if not values.keys() <= self._names:
            raise TypeError(f"{self.model.__name__} insert prepared without {sorted(values.keys() - self._names)}")
        converted = {name: to_db(values[name] if name in values else default() if is_callable else default)
                     for name, to_db, default, is_callable in self._plan}
        cursor = self.prepared.cursor(**converted)
        if database.obj.returning_clause:  # PostgreSQL: INSERT ... RETURNING id
            return cursor.fetchone()[0]
        return cursor.lastrowid
