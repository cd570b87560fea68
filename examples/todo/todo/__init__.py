"""The to-do API: tasks with a priority and a due date, kept in a migrated database."""
