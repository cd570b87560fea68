"""The tables and columns the history has made so far, replayed from the actions read."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi_alembic.lint.model import Action, ColumnFacts, Kind


@dataclass
class SchemaState:
    """table -> column -> facts, as the revisions read so far leave it."""

    tables: dict[str, dict[str, ColumnFacts]] = field(default_factory=dict)

    def copy(self) -> SchemaState:
        return SchemaState({name: dict(columns) for name, columns in self.tables.items()})

    def has_table(self, table: str | None) -> bool:
        return table is not None and table in self.tables

    def column(self, table: str | None, column: str | None) -> ColumnFacts | None:
        if table is None or column is None:
            return None
        return self.tables.get(table, {}).get(column)

    def apply(self, actions: list[Action]) -> None:
        for action in actions:
            self._apply(action)

    def _apply(self, action: Action) -> None:
        table = action.table
        if table is None:
            return
        if action.kind is Kind.CREATE_TABLE:
            self.tables[table] = {c.name: c for c in action.columns}
        elif action.kind is Kind.DROP_TABLE:
            self.tables.pop(table, None)
        elif action.kind is Kind.RENAME_TABLE and action.new_name:
            self.tables[action.new_name] = self.tables.pop(table, {})
        elif action.kind is Kind.ADD_COLUMN and action.columns:
            self.tables.setdefault(table, {})[action.columns[0].name] = action.columns[0]
        elif action.kind is Kind.DROP_COLUMN and action.column:
            self.tables.get(table, {}).pop(action.column, None)
        elif action.kind is Kind.ALTER_COLUMN and action.column:
            self._alter(table, action)

    def _alter(self, table: str, action: Action) -> None:
        columns = self.tables.setdefault(table, {})
        old = columns.get(action.column or "") or ColumnFacts(action.column or "")
        new = ColumnFacts(
            name=action.new_name or old.name,
            type=action.new_type or old.type,
            nullable=old.nullable if action.nullable is None else action.nullable,
            server_default=old.server_default,
            autoincrement=old.autoincrement,
            primary_key=old.primary_key,
        )
        columns.pop(old.name, None)
        columns[new.name] = new
