"""The social API: users, their posts, and votes on posts, kept in a migrated database."""
