"""Alembic environment: runs against the engine that ``db.session.upgrade`` hands over (no alembic.ini needed)."""

from alembic import context
from sqlalchemy import create_engine

from db.models import Base
from db.search import is_search_index

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        # `alembic -x url=...` from a developer's shell, e.g. for `alembic revision --autogenerate`.
        url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
        engine = create_engine(url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
            compare_type=True,
            include_object=lambda _object, name, type_, _reflected, _compare_to: not is_search_index(name, type_),
        )
        context.run_migrations()


run_migrations_online()
