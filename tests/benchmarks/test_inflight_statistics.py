"""The in-flight synthesizer refreshes the planner's statistics as autovacuum would (real PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from offboarding_dev.inflight import refresh_statistics
from offboarding_dev.testing.topology import DEFAULT_POSTGRES_URL, scratch_database, sqlalchemy_url


def test_a_bulk_write_is_analyzed_on_postgresql() -> None:
    with scratch_database(DEFAULT_POSTGRES_URL, "offboarding_stats") as database:
        engine = create_engine(sqlalchemy_url(DEFAULT_POSTGRES_URL, database))
        try:
            with Session(engine) as session, session.begin():
                session.execute(text("CREATE TABLE waits (id integer primary key, state text)"))
                session.execute(
                    text("INSERT INTO waits SELECT n, 'deferred' FROM generate_series(1, 5000) AS n")
                )
            with Session(engine) as session, session.begin():
                refresh_statistics(session)
            with engine.connect() as conn:
                reltuples = conn.execute(
                    text("SELECT reltuples FROM pg_class WHERE relname = 'waits'")
                ).scalar_one()
        finally:
            engine.dispose()
    assert reltuples == 5000  # the planner now knows the rows the bulk write added


def test_sqlite_has_nothing_to_analyze() -> None:
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        refresh_statistics(session)  # no error, no statement: SQLite plans without ANALYZE statistics
        assert (
            session.execute(
                text("SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_stat%'")
            ).scalar()
            == 0
        )
