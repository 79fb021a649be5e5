"""Storage: SQLAlchemy 2 models, repositories and Alembic migrations. The only place SQL lives."""
