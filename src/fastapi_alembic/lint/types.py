"""Column types reduced to what the rules compare: family, size, enum values."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    # Only named in annotations: importing sqlglot costs a quarter of a second, and the
    # dialects (on every start-up's path) import this module for TypeFacts.
    from sqlglot import exp

_INTEGER_BITS = {"TINYINT": 8, "SMALLINT": 16, "MEDIUMINT": 24, "INT": 32, "INTEGER": 32}
_INTEGER_BITS |= {"BIGINT": 64, "SERIAL": 32, "BIGSERIAL": 64, "SMALLSERIAL": 16}


@dataclass(frozen=True)
class TypeFacts:
    family: str  # string, text, integer, numeric, float, boolean, datetime, date, time, ...
    length: int | None = None  # characters for strings, bits for integers
    precision: int | None = None
    scale: int | None = None
    enum_values: tuple[str, ...] | None = None
    text: str = ""
    #: the enum type's name (PostgreSQL's CREATE TYPE), when it has one
    name: str | None = field(default=None, compare=False)
    #: the SQLAlchemy type it was read from (None for a type written in raw SQL)
    source: Any = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return self.text or self.family


def facts(type_: Any) -> TypeFacts | None:
    """The facts of a SQLAlchemy type (or type class), or None when it is unknown."""
    if type_ is None:
        return None
    if isinstance(type_, TypeFacts):
        return type_
    if isinstance(type_, type):
        try:
            type_ = type_()
        except TypeError:
            return None
    if isinstance(type_, sa.types.TypeDecorator):
        type_ = type_.impl_instance
    return replace(_facts(type_), source=type_)


def _facts(type_: Any) -> TypeFacts:
    try:
        text = str(type_.compile())
    except Exception:  # a dialect-only type: name it by class
        text = type(type_).__name__.upper()
    if isinstance(type_, sa.Enum):
        name = getattr(type_, "name", None)
        return TypeFacts("enum", enum_values=tuple(type_.enums), text=text, name=name)
    if isinstance(type_, sa.Boolean):
        return TypeFacts("boolean", text=text)
    if isinstance(type_, sa.Integer):
        bits = (
            64
            if isinstance(type_, sa.BigInteger)
            else 16
            if isinstance(type_, sa.SmallInteger)
            else 32
        )
        return TypeFacts("integer", length=bits, text=text)
    if isinstance(type_, sa.Float):
        return TypeFacts("float", precision=type_.precision, text=text)
    if isinstance(type_, sa.Numeric):
        return TypeFacts("numeric", precision=type_.precision, scale=type_.scale, text=text)
    if isinstance(type_, sa.Text | sa.UnicodeText):
        return TypeFacts("text", length=type_.length, text=text)
    if isinstance(type_, sa.String):
        family = "text" if type_.length is None else "string"
        return TypeFacts(family, length=type_.length, text=text)
    if isinstance(type_, sa.DateTime):
        return TypeFacts("datetime", text=text)
    if isinstance(type_, sa.Date):
        return TypeFacts("date", text=text)
    if isinstance(type_, sa.Time):
        return TypeFacts("time", text=text)
    if isinstance(type_, sa.LargeBinary | sa.types._Binary):
        return TypeFacts("binary", length=getattr(type_, "length", None), text=text)
    if isinstance(type_, sa.JSON):
        return TypeFacts("json", text=text)
    if isinstance(type_, sa.Uuid):
        return TypeFacts("uuid", text=text)
    return TypeFacts("other", text=text)


def from_sql(data_type: exp.DataType) -> TypeFacts:
    """The facts of a type written in raw SQL."""
    name = data_type.this.name if hasattr(data_type.this, "name") else str(data_type.this)
    text = data_type.sql()
    numbers = [_int(e) for e in data_type.expressions]
    first = numbers[0] if numbers else None
    if name in _INTEGER_BITS:
        return TypeFacts("integer", length=_INTEGER_BITS[name], text=text)
    if name in {"VARCHAR", "NVARCHAR", "CHAR", "NCHAR"}:
        return TypeFacts("string" if first else "text", length=first, text=text)
    if name in {"TEXT", "MEDIUMTEXT", "LONGTEXT", "TINYTEXT"}:
        return TypeFacts("text", text=text)
    if name in {"DECIMAL", "NUMERIC"}:
        scale = numbers[1] if len(numbers) > 1 else None
        return TypeFacts("numeric", precision=first, scale=scale, text=text)
    if name in {"FLOAT", "DOUBLE", "REAL"}:
        return TypeFacts("float", precision=first, text=text)
    if name == "BOOLEAN":
        return TypeFacts("boolean", text=text)
    if name.startswith("TIMESTAMP") or name == "DATETIME":
        return TypeFacts("datetime", text=text)
    if name == "ENUM":
        values = tuple(e.name for e in data_type.expressions)
        return TypeFacts("enum", enum_values=values, text=text)
    return TypeFacts(name.lower(), text=text)


def _int(expression: exp.Expression) -> int | None:
    try:
        return int(expression.name)
    except (TypeError, ValueError):
        return None


_ORDER = ("boolean", "integer", "numeric", "float", "string", "text")


def narrowing(old: TypeFacts | None, new: TypeFacts | None) -> str | None:
    """Why a change from ``old`` to ``new`` can lose or reject values, or None when it cannot."""
    if old is None or new is None or old == new:
        return None
    if old.family == "enum" and new.family == "enum":
        dropped = [v for v in old.enum_values or () if v not in (new.enum_values or ())]
        return f"drops enum value(s) {', '.join(dropped)}" if dropped else None
    if old.family == new.family:
        if old.family in {"string", "integer", "binary"} and old.length and new.length:
            if new.length < old.length:
                return f"shrinks {old} to {new}"
            return None
        if old.family in {"text", "binary"} and new.length and not old.length:
            return f"limits {old} to {new}"
        less_precise = (new.precision or 1000) < (old.precision or 1000)
        if old.family == "numeric" and (less_precise or (new.scale or 0) < (old.scale or 0)):
            return f"reduces the precision of {old} to {new}"
        return None
    if {old.family, new.family} <= {"string", "text"}:
        if new.family == "string":
            return f"limits {old} to {new}"
        return None
    if (
        old.family in _ORDER
        and new.family in _ORDER
        and _ORDER.index(new.family) > _ORDER.index(old.family)
    ):
        return None  # a wider family holds every old value (integer to text, ...)
    return f"converts {old} to {new}"
