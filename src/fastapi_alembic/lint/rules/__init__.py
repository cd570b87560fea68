"""Every lint rule, one per module; RULES lists them in the order docs/lint.md shows them."""

from __future__ import annotations

from fastapi_alembic.lint.rule import Rule, register
from fastapi_alembic.lint.rules import (
    add_column_volatile_default,
    add_primary_key,
    add_serial_column,
    alter_column_type_rewrite,
    concurrently_outside_autocommit,
    constraint_without_not_valid,
    create_index_not_concurrently,
    downgrade_raises_silently,
    drop_column,
    drop_enum_value,
    drop_index_not_concurrently,
    drop_mapped_column,
    drop_table,
    imports_app_models,
    missing_downgrade,
    missing_lock_timeout,
    mixed_ddl_and_data,
    mysql_enum_order,
    mysql_online_ddl,
    narrowing_type_change,
    not_null_column_without_default,
    rename_column,
    rename_table,
    set_not_null,
    silence_without_reason,
    sqlite_batch_copy,
    unbatched_data_change,
    unique_constraint_directly,
    unparsed_sql,
    unreadable_revision,
)

RULES: tuple[Rule, ...] = tuple(
    module.RULE
    for module in (
        drop_table,
        drop_column,
        narrowing_type_change,
        drop_enum_value,
        create_index_not_concurrently,
        concurrently_outside_autocommit,
        drop_index_not_concurrently,
        constraint_without_not_valid,
        unique_constraint_directly,
        set_not_null,
        alter_column_type_rewrite,
        add_column_volatile_default,
        add_primary_key,
        add_serial_column,
        missing_lock_timeout,
        mysql_online_ddl,
        mysql_enum_order,
        sqlite_batch_copy,
        rename_table,
        rename_column,
        drop_mapped_column,
        not_null_column_without_default,
        missing_downgrade,
        downgrade_raises_silently,
        imports_app_models,
        unbatched_data_change,
        mixed_ddl_and_data,
        unparsed_sql,
        unreadable_revision,
        silence_without_reason,
    )
)
BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}
register(RULES)

__all__ = ["BY_ID", "RULES", "Rule"]
