"""Benchmark databases: which ones may be used, built or dropped.

A benchmark database is claimed by a comment on the database, written the
moment it is created, and is complete once its generated data carry the
``prm_auto_status.benchmark_scale`` parameter (written in the same
transaction as the data). Any other database is never touched: the
benchmark stops with an error instead.
"""

import re
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass

import odoo
from odoo.service import db as db_service
from odoo.tools import SQL

from odoo.addons.prm_auto_status.tools.benchmark_data import SCALE_PARAM

CLAIM = "prm_auto_status benchmark database"
MODULES = "sale_management,crm,prm_auto_status"
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")


class BenchmarkDatabaseError(Exception):
    """A database the benchmark must not use or could not build."""


@dataclass
class DatabaseState:
    name: str
    exists: bool
    claimed: bool = False  # created by the benchmark
    scale: float | None = None  # set once the data is complete

    @property
    def complete(self):
        return self.scale is not None


def check_name(name):
    """Refuse a database name that PostgreSQL would need quoting for, or
    that leaves no room for the ``_x2`` suffix of the growth database."""
    if not NAME_PATTERN.fullmatch(name or ""):
        raise BenchmarkDatabaseError(
            f"BENCH_DB={name!r} is not a usable database name: use letters, digits "
            "and underscores, start with a letter, at most 60 characters "
            "(e.g. prm_bench)."
        )


def inspect(name):
    """What ``name`` is: missing, someone else's, a half-built benchmark
    database, or a complete one at some scale. Reads only."""
    with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
        cr.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = %s",
            (name,),
        )
        row = cr.fetchone()
    if row is None:
        return DatabaseState(name, exists=False)
    state = DatabaseState(name, exists=True, claimed=row[0] == CLAIM)
    try:
        with closing(odoo.sql_db.db_connect(name).cursor()) as cr:
            cr.execute("SELECT to_regclass('ir_config_parameter') IS NOT NULL")
            if cr.fetchone()[0]:
                cr.execute(
                    "SELECT value FROM ir_config_parameter WHERE key = %s",
                    (SCALE_PARAM,),
                )
                value = cr.fetchone()
                state.scale = float(value[0]) if value else None
    finally:
        odoo.sql_db.close_db(name)
    return state


def check_usable(state, scale):
    """Raise unless the benchmark may use or build ``state`` at ``scale``."""
    if not state.exists:
        return
    if state.complete and abs(state.scale - scale) > 1e-9:
        raise BenchmarkDatabaseError(
            f"Database {state.name} holds the benchmark at SCALE={state.scale:g}, "
            f"not {scale:g}. Drop it (dropdb {state.name}) or choose another "
            "BENCH_DB."
        )
    if not state.complete and not state.claimed:
        raise BenchmarkDatabaseError(
            f"Database {state.name} exists and is not a benchmark database; it is "
            "left untouched. Choose another BENCH_DB, a name no other database "
            "has, e.g. BENCH_DB=prm_bench_mine."
        )


def create(name):
    """Create an empty database the way Odoo does, and claim it."""
    db_service._create_empty_database(name)
    with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
        cr._cnx.autocommit = True
        cr.execute(
            SQL(
                "COMMENT ON DATABASE %s IS %s",
                SQL.identifier(name),
                CLAIM,
            )
        )


def drop_half_built(state):
    """Drop a database that an interrupted run of the benchmark created."""
    if not state.claimed or state.complete:
        raise BenchmarkDatabaseError(
            f"Refusing to drop {state.name}: it is not a half-built benchmark database."
        )
    odoo.sql_db.close_db(state.name)
    with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
        cr._cnx.autocommit = True
        cr.execute(SQL("DROP DATABASE %s", SQL.identifier(state.name)))


def install(name, addons_path, log_path):
    """Install the benchmark's modules, without demo data, in a separate
    Odoo process; its log goes to ``log_path``."""
    _run_odoo(name, addons_path, log_path, ["--init", MODULES, "--without-demo=all"])


def update(name, addons_path, log_path):
    """Update prm_auto_status in a reused database, so that its tables
    match the code being measured."""
    _run_odoo(name, addons_path, log_path, ["--update", "prm_auto_status"])


def _run_odoo(name, addons_path, log_path, options):
    command = [
        sys.executable,
        "-m",
        "odoo",
        "--database",
        name,
        "--addons-path",
        addons_path,
        *options,
        "--stop-after-init",
        "--log-level=warn",
        "--logfile",
        str(log_path),
    ]
    result = subprocess.run(command, check=False)
    with closing(odoo.sql_db.db_connect(name).cursor()) as cr:
        cr.execute("SELECT state FROM ir_module_module WHERE name = 'prm_auto_status'")
        row = cr.fetchone()
    odoo.sql_db.close_db(name)
    if result.returncode or not row or row[0] != "installed":
        raise BenchmarkDatabaseError(
            f"Odoo failed on {name} ({' '.join(options)}, exit code "
            f"{result.returncode}); see {log_path}."
        )
