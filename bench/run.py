#!/usr/bin/env python3
"""Scale benchmark of the partner review: what ``make bench`` runs.

    SCALE=1 BENCH_DB=prm_bench python3 bench/run.py

Builds, or reuses when it is already there, the benchmark database BENCH_DB
at SCALE (1 = 20,000 partners, 440,000 sale orders, 100,000 leads, 20,000
vendor bills over 24 months) and BENCH_DB_x2 at twice the scale; then times
the full review, its lower bound, the naive evaluation, the daily run and
the review at twice the data, measures the peak memory of the review, and
prints the table (also written to .bench/). docs/benchmark.md explains the
method and holds the recorded results.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import odoo  # noqa: E402
from odoo import SUPERUSER_ID, api  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402
from odoo.tools import SQL  # noqa: E402

ADDONS_PATH = f"{Path(odoo.__file__).parent / 'addons'},{REPO}"
odoo.tools.config.parse_config(["--addons-path", ADDONS_PATH, "--log-level", "warn"])

import databases  # noqa: E402
import profiling  # noqa: E402
import report  # noqa: E402

from odoo.addons.prm_auto_status.tools import (  # noqa: E402
    benchmark_data,
    benchmark_measure,
)

OUTPUT_DIR = REPO / ".bench"
NAIVE_SAMPLE = 200
MARKED_PARTNERS = 100
# A tenth of the participants marked at once (as after an import), to show
# how the daily run grows with the partners it evaluates.
MARKED_MANY = 1000
# The context of a user who starts the review by hand.
CONTEXT = {"lang": "en_US", "tz": "UTC"}


def main(argv=None):
    args = _parse_args(argv)
    if args.memory_probe:
        return _memory_probe(args.db)
    try:
        scale = benchmark_data.parse_scale(args.scale)
        databases.check_name(args.db)
        plan = [(args.db, scale), (f"{args.db}_x2", 2 * scale)]
        states = [databases.inspect(name) for name, _scale in plan]
        for state, (_name, wanted) in zip(states, plan, strict=True):
            databases.check_usable(state, wanted)
    except (ValueError, databases.BenchmarkDatabaseError) as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 2

    OUTPUT_DIR.mkdir(exist_ok=True)
    builds = {}
    for state, (name, wanted) in zip(states, plan, strict=True):
        builds[name] = _ensure_database(state, wanted)

    machine = report.machine_facts(args.db)
    results = _measure_all(
        args.db, f"{args.db}_x2", args.runs, args.turns, args.naive_runs
    )
    results["builds"] = builds
    text = report.render(results, machine, scale)
    print(text)
    stamp = datetime.now().strftime("%Y-%m-%d-%H%M")
    output = OUTPUT_DIR / f"{args.db}-{stamp}.md"
    output.write_text(text)
    print(f"\nWritten to {output.relative_to(REPO)}")
    return 0


def _positive(text):
    """A count of runs: a whole number of at least 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return number


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        default=os.environ.get("SCALE") or "1",
        help="data volume, 1 = 20,000 partners (env SCALE, default 1)",
    )
    parser.add_argument(
        "--db",
        default=os.environ.get("BENCH_DB") or "prm_bench",
        help="benchmark database (env BENCH_DB, default prm_bench); the growth "
        "line uses <db>_x2",
    )
    parser.add_argument("--runs", type=_positive, default=7, help="timed runs per line")
    parser.add_argument(
        "--turns",
        type=_positive,
        default=15,
        help="rounds of lines 1, 2 and 5 measured in turns (they set the ratios)",
    )
    parser.add_argument(
        "--naive-runs", type=_positive, default=3, help="timed runs of the naive line"
    )
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ----------------------------------------------------------------------
# Databases
# ----------------------------------------------------------------------


def _ensure_database(state, scale):
    """Build the benchmark database of ``state`` unless it is complete;
    return the build's timings in seconds (empty when reused)."""
    if state.complete:
        print(f"Reusing {state.name} (SCALE={scale:g}); updating prm_auto_status.")
        started = time.perf_counter()
        log_path = OUTPUT_DIR / f"update-{state.name}.log"
        databases.update(state.name, ADDONS_PATH, log_path)
        timings = {"reused; update prm_auto_status": time.perf_counter() - started}
        _settle_follow_up(state.name)
        return timings
    if state.exists:
        print(f"{state.name} was left half-built by an earlier run: rebuilding it.")
        databases.drop_half_built(state)
    timings = {}
    print(f"Building {state.name} at SCALE={scale:g}...")
    started = time.perf_counter()
    databases.create(state.name)
    log_path = OUTPUT_DIR / f"install-{state.name}.log"
    databases.install(state.name, ADDONS_PATH, log_path)
    timings["create and install modules"] = time.perf_counter() - started
    timings.update(_generate(state.name, scale))
    started = time.perf_counter()
    _vacuum_analyze(state.name)
    timings["vacuum analyze"] = time.perf_counter() - started
    for step, seconds in timings.items():
        print(f"  {step:<38} {seconds:8.1f} s")
    print(f"  {'total':<38} {sum(timings.values()):8.1f} s")
    return timings


def _settle_follow_up(db):
    """A database built by an earlier version left the follow-up of its
    first review pending; record it as done (see mark_follow_up_done)."""
    with Registry(db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, CONTEXT)
        pending = benchmark_data.mark_follow_up_done(env)
    if pending:
        print(f"  {pending} follow-up items of earlier reviews recorded as done")


def _generate(db, scale):
    """Generate the data and run the review of the previous month, in one
    transaction that also writes the markers: a run interrupted here leaves
    no data, only a claimed database that the next run rebuilds."""
    day = date.today().replace(day=1)
    registry = Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, CONTEXT)
        data = benchmark_data.generate(env, scale, day)
        started = time.perf_counter()
        benchmark_data.review_previous_period(data.program, day)
        env.flush_all()
        data.timings["first review (previous month)"] = time.perf_counter() - started
        params = env["ir.config_parameter"].sudo()
        params.set_param(benchmark_data.DAY_PARAM, day.isoformat())
        params.set_param(benchmark_data.PROGRAM_PARAM, str(data.program.id))
        params.set_param(benchmark_data.SCALE_PARAM, repr(scale))
    return {f"generate {step}": seconds for step, seconds in data.timings.items()}


# The tables that the measured actions write. Every timed run is rolled
# back, which leaves its rows there as dead versions; see _Bench.once.
WRITTEN_TABLES = (
    "prm_partner_status",
    "prm_status_history",
    "res_partner_prm_status_level_rel",
    "prm_review_mark",
    "mail_message",
    "mail_activity",
    "mail_followers",
    "mail_mail",
    "ir_cron_trigger",
)


def _vacuum_written(db):
    """VACUUM the tables the timed runs write: what autovacuum does on a
    live database, and does not do here when it is turned off."""
    _vacuum(db, WRITTEN_TABLES, "VACUUM %s")


def _vacuum_analyze(db):
    """Set hint bits and the visibility map as autovacuum would have done
    on a database that has lived for a while."""
    tables = benchmark_data.GENERATED_TABLES + (
        "prm_partner_status",
        "prm_status_history",
    )
    _vacuum(db, tables, "VACUUM (ANALYZE) %s")


def _vacuum(db, tables, command):
    """Run ``command`` on each of ``tables``, outside a transaction as
    VACUUM must."""
    connection = odoo.sql_db.db_connect(db)
    with connection.cursor() as cr:
        cr._cnx.autocommit = True
        for table in tables:
            cr.execute(SQL(command, SQL.identifier(table)))


# ----------------------------------------------------------------------
# Measurements
# ----------------------------------------------------------------------


class _Bench:
    """The program and day of a benchmark database, and a way to time an
    action in transactions that are rolled back."""

    def __init__(self, db):
        self.db = db
        self.registry = Registry(db)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, CONTEXT)
            params = env["ir.config_parameter"].sudo()
            self.day = date.fromisoformat(params.get_param(benchmark_data.DAY_PARAM))
            self.program_id = int(params.get_param(benchmark_data.PROGRAM_PARAM))
            program = self.program(env)
            self.participants = len(program._get_participants())
            self.naive_sample = benchmark_measure.sample_partners(
                program, NAIVE_SAMPLE
            ).ids
            self.marked = benchmark_measure.sample_partners(
                program, MARKED_PARTNERS
            ).ids
            self.marked_many = benchmark_measure.sample_partners(
                program, MARKED_MANY
            ).ids

    def program(self, env):
        return env["prm.status.program"].browse(self.program_id)

    def time(self, action, runs, prepare=None):
        """Durations of ``runs`` calls of ``action(env)``, after one warm-up
        call that is not counted; each call runs in its own transaction,
        flushed then rolled back, so every run starts from the same data."""
        return [self.once(action, prepare) for _run in range(runs + 1)][1:]

    def once(self, action, prepare=None):
        """Seconds of one call of ``action(env)`` in a transaction that is
        flushed, then rolled back.

        The tables that the runs write are vacuumed first, untimed: a
        rolled-back run leaves dead row versions behind, and without a
        vacuum between runs (PostgreSQL's autovacuum may be off, as on the
        machine of docs/benchmark.md) each run would read and index more of
        them than the one before."""
        _vacuum_written(self.db)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, CONTEXT)
            try:
                if prepare:
                    prepare(env)
                env.flush_all()
                started = time.perf_counter()
                action(env)
                env.flush_all()
                return time.perf_counter() - started
            finally:
                cr.rollback()

    def inside(self, action):
        """Run ``action(env)`` once in a transaction rolled back after it,
        on freshly vacuumed tables as in :meth:`once`."""
        _vacuum_written(self.db)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, CONTEXT)
            try:
                return action(env)
            finally:
                cr.rollback()

    # The measured actions ------------------------------------------------

    def review(self, env):
        return self.program(env)._evaluate(day=self.day, trigger="review")

    def follow_up(self, env):
        """Run the follow-up job until it has nothing left: the notes,
        activities and emails of the review run just before."""
        History = env["prm.status.history"]
        done = 0
        while True:
            batch_done, remaining = History._cron_follow_up_changes()
            done += batch_done
            if not remaining:
                return done

    def lower_bound(self, env):
        for _metric, query in benchmark_measure.lower_bound_queries(
            self.program(env), self.day
        ):
            env.cr.execute(query)
            env.cr.fetchall()

    def naive(self, env):
        benchmark_measure.naive_values(self.program(env), self.naive_sample, self.day)

    def mark(self, env, partner_ids=None):
        benchmark_measure.mark_for_profile_review(
            env, env["res.partner"].browse(partner_ids or self.marked)
        )

    def mark_many(self, env):
        self.mark(env, self.marked_many)

    def daily_run(self, env, marked=None):
        # The day of the review, so that the daily run reads the same window
        # whatever the calendar says when the benchmark runs.
        marked = marked or self.marked
        Program = env["prm.status.program"]
        done, remaining = Program._cron_review_changed_profiles(day=self.day)
        if (done, remaining) != (len(marked), 0):
            raise AssertionError(
                f"The daily run evaluated {done} partners ({remaining} left); "
                f"{len(marked)} were marked."
            )

    def daily_run_many(self, env):
        self.daily_run(env, self.marked_many)


def _measure_all(db, db_x2, runs, turns, naive_runs):
    # First, in a fresh process, so that it runs the code the databases were
    # just updated with and its peak is the review's alone.
    print("Peak memory of a full review, in a fresh process")
    results = {"memory": _run_memory_probe(db), "runs": runs, "turns": turns}
    _progress("peak memory", f"{results['memory']['peak_mib']:.0f} MiB")

    bench = _Bench(db)
    results.update(day=bench.day, participants=bench.participants)
    print(f"Measuring on {db}: {bench.participants} partners, review of {bench.day}")
    bench_x2 = _Bench(db_x2)
    print(
        f"Full review and lower bound, in turns on {db} and {db_x2} "
        f"({bench_x2.participants} partners)"
    )
    turns = _in_turns(
        {
            "review": (bench, bench.review),
            "lower_bound": (bench, bench.lower_bound),
            "review_x2": (bench_x2, bench_x2.review),
            "lower_bound_x2": (bench_x2, bench_x2.lower_bound),
        },
        turns,
    )
    for name, durations in turns.items():
        results[name] = _progress(name.replace("_", " "), durations)
    results["participants_x2"] = bench_x2.participants
    results["follow_up"] = _progress(
        "follow-up job after review",
        bench.time(bench.follow_up, naive_runs, prepare=bench.review),
    )
    results["follow_up_items"] = bench.inside(
        lambda env: (bench.review(env), bench.follow_up(env))[1]
    )
    results["naive"] = _progress(
        f"naive, {len(bench.naive_sample)} partners",
        bench.time(bench.naive, naive_runs),
    )
    results["naive_sample"] = len(bench.naive_sample)
    results["daily"] = _progress(
        f"daily run, {len(bench.marked)} marked",
        bench.time(bench.daily_run, runs, prepare=bench.mark),
    )
    results["marked"] = len(bench.marked)
    results["daily_many"] = _progress(
        f"daily run, {len(bench.marked_many)} marked",
        bench.time(bench.daily_run_many, runs, prepare=bench.mark_many),
    )
    results["marked_many"] = len(bench.marked_many)
    results["daily_x2"] = _progress(
        f"daily run at 2x, {len(bench_x2.marked)} marked",
        bench_x2.time(bench_x2.daily_run, runs, prepare=bench_x2.mark),
    )
    results["agreement"] = bench.inside(lambda env: _agreement(bench, env))
    results["review_profile"] = bench.inside(lambda env: _review_profile(bench, env))
    results["explain"] = _explain_all(bench)
    return results


def _in_turns(actions, runs):
    """{name: durations} of ``actions`` ({name: (bench, action)}) run in
    turns, one of each in every round, after one warm-up round: on a shared
    machine, load that comes and goes weighs on all of them alike, so their
    ratios stay fair.

    Each timed run starts with the documents in PostgreSQL's cache: the
    lower-bound queries of its database run first, untimed. The two
    databases do not fit in the cache together, so without this, whichever
    action came first after the other database paid for reading its rows
    back, and the one after it did not."""
    durations = {name: [] for name in actions}
    for index in range(runs + 1):
        for name, (bench, action) in actions.items():
            elapsed = bench.once(action, prepare=bench.lower_bound)
            if index:
                durations[name].append(elapsed)
    return durations


def _progress(name, durations):
    """Print one measurement as soon as it is known; return it."""
    if isinstance(durations, list):
        text = ", ".join(report.seconds(value) for value in durations)
        print(f"  {name:<28} median {report.seconds(median(durations))} ({text})")
    else:
        print(f"  {name:<28} {durations}")
    return durations


def _agreement(bench, env):
    """Mismatches between the review, the lower bound and the naive reads,
    so that the table compares three ways of computing the same values."""
    program = bench.program(env)
    decisions = program._evaluate(day=bench.day, trigger="review", apply=False)
    review = benchmark_measure.review_values(program, decisions)
    lower_bound = benchmark_measure.lower_bound_values(program, bench.day)
    naive = benchmark_measure.naive_values(program, bench.naive_sample, bench.day)
    partner_ids = [decision.partner_id for decision in decisions]
    return {
        "review_vs_lower_bound": len(
            benchmark_measure.mismatches(program, lower_bound, review, partner_ids)
        ),
        "naive_vs_lower_bound": len(
            benchmark_measure.mismatches(
                program, lower_bound, naive, bench.naive_sample
            )
        ),
        "values_compared": len(partner_ids) * len(review),
    }


def _review_profile(bench, env):
    """Where one full review spends its time: the engine's steps, the SQL
    queries (all, and the metrics' grouped reads) and the rest, Python and
    the ORM; with the number of level changes that drive the follow-up."""
    with profiling.timed_steps(env) as steps, profiling.captured_queries() as queries:
        started = time.perf_counter()
        decisions = bench.review(env)
        env.flush_all()
        total = time.perf_counter() - started
    metric_delays = [
        delay for query, _p, delay in queries if profiling.is_metric_query(query)
    ]
    return {
        "seconds": total,
        "steps": dict(steps),
        "queries": len(queries),
        "sql_seconds": sum(delay for _q, _p, delay in queries),
        "metric_queries": len(metric_delays),
        "metric_sql_seconds": sum(metric_delays),
        "changed": sum(1 for decision in decisions if decision.changed),
        "at_risk": sum(1 for decision in decisions if decision.at_risk),
        "newly_at_risk": sum(
            1
            for decision in decisions
            if decision.at_risk and not (decision.state and decision.state.at_risk)
        ),
    }


def _explain_all(bench):
    """EXPLAIN (ANALYZE, BUFFERS) of the queries that read the documents:
    the review's, the lower bound's and the daily run's."""

    def review_queries(env):
        with profiling.captured_queries() as queries:
            bench.review(env)
        return _explain(
            env, [(q, p) for q, p, _d in queries if profiling.is_metric_query(q)]
        )

    def lower_bound_queries(env):
        program = bench.program(env)
        return _explain(
            env,
            [
                (query.code, query.params)
                for _m, query in benchmark_measure.lower_bound_queries(
                    program, bench.day
                )
            ],
        )

    def daily_queries(env):
        bench.mark(env)
        with profiling.captured_queries() as queries:
            bench.daily_run(env)
        return _explain(
            env, [(q, p) for q, p, _d in queries if profiling.is_metric_query(q)]
        )

    return {
        "review": bench.inside(review_queries),
        "lower_bound": bench.inside(lower_bound_queries),
        "daily": bench.inside(daily_queries),
    }


def _explain(env, queries):
    plans = []
    for query, params in queries:
        text = profiling.query_text(query)
        env.cr.execute("EXPLAIN (ANALYZE, BUFFERS) " + text, params)
        plans.append(
            {
                "query": report.shorten(env.cr.mogrify(text, params).decode()),
                "plan": [report.shorten(row[0]) for row in env.cr.fetchall()],
            }
        )
    return plans


def _run_memory_probe(db):
    command = [sys.executable, __file__, "--memory-probe", "--db", db]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def _memory_probe(db):
    """In a fresh process: load the registry, run one full review (rolled
    back) and print the peak resident memory, in MiB, as JSON."""
    bench = _Bench(db)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bench.inside(lambda env: (bench.review(env), env.flush_all()))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"before_review_mib": before, "peak_mib": peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
