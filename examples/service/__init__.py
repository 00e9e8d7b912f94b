"""An HR service embedding hirepipe: requisitions, applications and events over HTTP.

A FastAPI application on :class:`hirepipe.store.Store` (SQLite by default, PostgreSQL by URL)
with the notifier writing to the store's outbox and a daily sweep. From the repository root::

    python -m examples.service serve                # http://127.0.0.1:8000/docs
    python -m examples.service sweep                # the daily job, for cron or a timer

``--database postgresql+psycopg://user@host/db`` (or ``HIREPIPE_DATABASE_URL``) picks the
database. FastAPI and uvicorn come with hirepipe's ``dev`` extra; the library needs neither.
"""
