"""The benchmark's results as a Markdown report: the machine, the build
timings, the table against the targets, where the review spends its time
and the query plans."""

import os
import platform
import re
import statistics
import subprocess
from contextlib import closing
from datetime import datetime
from pathlib import Path

import odoo

from odoo.addons.prm_auto_status.models.prm_status_engine import (
    FOLLOW_UP_INLINE_LIMIT,
)
from odoo.addons.prm_auto_status.tools.benchmark_data import Volumes

LONG_ID_LIST = re.compile(r"(ARRAY\[|'\{)([0-9, ]{80,})(\]|\}')")

# Targets of issue 6.
REVIEW_TO_LOWER_BOUND = 3.0
NAIVE_SPEEDUP = 50.0
DAILY_SHARE = 0.02
GROWTH = 2.3
MEMORY_MIB = 1024.0


def machine_facts(db):
    """Cores, memory, CPU, PostgreSQL version and load when the run starts."""
    memory_kib = 0
    cpu = platform.processor() or platform.machine()
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
        cr.execute("SHOW server_version")
        postgres = cr.fetchone()[0]
        cr.execute("SHOW shared_buffers")
        shared_buffers = cr.fetchone()[0]
    return {
        "commit": _commit(),
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cores": os.cpu_count(),
        "memory_gib": memory_kib / 1024 / 1024,
        "cpu": cpu,
        "postgres": postgres,
        "shared_buffers": shared_buffers,
        "load": os.getloadavg(),
        "odoo": odoo.release.version,
        "python": platform.python_version(),
    }


def _commit():
    """The measured code: the commit, and whether the work tree differs."""
    repo = Path(__file__).resolve().parent.parent

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "prm_auto_status")
    return f"{commit}{' with local changes' if dirty else ''}"


def shorten(text):
    """Replace the long id lists of a query or plan line by their length."""

    def count(match):
        ids = match.group(2).count(",") + 1
        return f"{match.group(1)}…{ids} ids…{match.group(3)}"

    return LONG_ID_LIST.sub(count, text)


def seconds(value):
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def _spread(values):
    return f"{seconds(min(values))} – {seconds(max(values))}"


def _verdict(ok, detail):
    return f"{'met' if ok else 'MISSED'}: {detail}"


def render(results, machine, scale):
    median = statistics.median
    participants = results["participants"]
    review = median(results["review"])
    lower_bound = median(results["lower_bound"])
    naive = median(results["naive"]) * participants / results["naive_sample"]
    daily = median(results["daily"])
    review_x2 = median(results["review_x2"])
    lower_bound_x2 = median(results["lower_bound_x2"])
    memory = results["memory"]["peak_mib"]
    speedup = naive / review
    follow_up_per_item = median(results["follow_up"]) / max(
        results["follow_up_items"], 1
    )
    follow_up_kind = (
        "notes, activities and emails"
        if _left_to_the_job(results["review_profile"])
        else "emails; the review posted its notes and activities itself"
    )
    volumes = Volumes.for_scale(scale)

    def row(number, name, runs, target="", result=""):
        """A line of the table: its runs, their median and its ratio to
        the lower bound."""
        return (
            number,
            name,
            median(runs),
            runs,
            median(runs) / lower_bound,
            target,
            result,
        )

    naive_runs = [
        # The sample's runs, scaled to all partners.
        run * participants / results["naive_sample"]
        for run in results["naive"]
    ]
    rows = [
        row(
            "1",
            f"full review, {participants:,} partners, 4 conditions, 3 months",
            results["review"],
            f"≤ {REVIEW_TO_LOWER_BOUND:g}× lower bound",
            _verdict(
                review / lower_bound <= REVIEW_TO_LOWER_BOUND,
                f"{review / lower_bound:.1f}×",
            ),
        ),
        row(
            "1b",
            "follow-up job for the changes of that review: "
            f"{results['follow_up_items']:,} items ({follow_up_kind})",
            results["follow_up"],
            "none (runs after the review)",
            f"{follow_up_per_item * 1e3:.2f} ms per item",
        ),
        row("2", "lower bound: 4 bare GROUP BY queries", results["lower_bound"]),
        row(
            "3",
            f"naive: ORM query per partner and metric, {results['naive_sample']} "
            f"partners × {participants / results['naive_sample']:g}",
            naive_runs,
            f"review ≥ {NAIVE_SPEEDUP:g}× faster per partner",
            _verdict(speedup >= NAIVE_SPEEDUP, f"{speedup:.0f}× faster"),
        ),
        row(
            "4",
            f"daily profile-change run, {results['marked']} marked partners",
            results["daily"],
            f"≤ {DAILY_SHARE:.0%} of the full review",
            _verdict(daily / review <= DAILY_SHARE, f"{daily / review:.1%}"),
        ),
        row(
            "4b",
            f"the same daily run at 2× data ({results['participants_x2']:,} partners)",
            results["daily_x2"],
            "none (shows what the daily run grows with)",
            f"{median(results['daily_x2']) / daily:.2f}× line 4",
        ),
        row(
            "4c",
            f"daily run, {results['marked_many']:,} marked partners",
            results["daily_many"],
            "none (shows what the daily run grows with)",
            f"{median(results['daily_many']) / daily:.2f}× line 4; "
            f"{median(results['daily_many']) / results['marked_many'] * 1e3:.2f} "
            "ms per partner",
        ),
        row(
            "5",
            f"full review at 2× data ({results['participants_x2']:,} partners)",
            results["review_x2"],
            f"≤ {GROWTH:g}× the time of line 1",
            _verdict(review_x2 / review <= GROWTH, f"{review_x2 / review:.2f}×"),
        ),
    ]
    lines = [
        f"# Benchmark run of {machine['date']}",
        "",
        f"- Machine: {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['memory_gib']:.0f} GiB memory, load average at start "
        + ", ".join(f"{load:.2f}" for load in machine["load"]),
        f"- PostgreSQL {machine['postgres']} (shared_buffers "
        f"{machine['shared_buffers']}), Odoo {machine['odoo']}, Python "
        f"{machine['python']}; code at commit {machine['commit']}",
        f"- SCALE={scale:g}: {volumes.companies:,} partners and "
        f"{volumes.contacts:,} contacts, {volumes.confirmed_orders:,} confirmed "
        f"and {volumes.cancelled_orders:,} cancelled sale orders, "
        f"{volumes.leads:,} leads, {volumes.bills:,} vendor bills over 24 "
        f"months; review of {results['day']}",
        f"- Medians of {results['runs']} runs ({results['turns']} for lines 1, 2 "
        "and 5) after one warm-up run, each in a "
        "transaction rolled back; the review runs in steady state (every "
        "partner holds a status from the review of the previous month). "
        "Before each run, untimed: the tables the runs write are vacuumed; "
        "lines 1, 2 and 5 run in turns, each after the lower-bound queries "
        "of its database, so that the documents are in PostgreSQL's cache.",
        "",
        "| # | measurement | median | runs (min – max) | × lower bound | target "
        "| result |",
        "|---|---|---:|---|---:|---|---|",
    ]
    for number, name, value, runs, ratio, target, verdict in rows:
        lines.append(
            f"| {number} | {name} | {seconds(value)} | {_spread(runs)} | "
            f"{ratio:.1f}× | {target} | {verdict} |"
        )
    lines.append(
        f"| 6 | peak memory of the process doing the full review | "
        f"{memory:.0f} MiB | {results['memory']['before_review_mib']:.0f} MiB "
        f"before the review | | < 1 GiB | "
        f"{_verdict(memory < MEMORY_MIB, f'{memory:.0f} MiB')} |"
    )
    lines += [
        "",
        f"Lower bound at 2× data: {seconds(lower_bound_x2)} "
        f"({lower_bound_x2 / lower_bound:.2f}× line 2); the review at 2× data is "
        f"{review_x2 / lower_bound_x2:.1f}× its own lower bound. Per partner: "
        f"review {review / participants * 1e6:.0f} µs, naive "
        f"{naive / participants * 1e3:.2f} ms.",
        "",
    ]
    lines += _profile_lines(results)
    lines += _build_lines(results["builds"])
    lines += _explain_lines(results["explain"])
    return "\n".join(lines) + "\n"


STEP_NAMES = {
    "_get_participants": "find the participants",
    "_read_states": "read their statuses",
    "_measure": "measure: the metric queries",
    "_decide": "decide: rules and policy, in Python",
    "_apply": "apply: save the changes, including the steps below",
    "_write_history": "  history rows of the changes",
    "_follow_up": "  notes and activities (only up to 200 changes; else the job)",
}


def _profile_lines(results):
    profile = results["review_profile"]
    agreement = results["agreement"]
    python = profile["seconds"] - profile["sql_seconds"]
    lines = [
        "## Where the full review spends its time",
        "",
        "One more run, with the engine's steps timed and the queries timed by "
        "the cursor's query hooks:",
        "",
        "| step | time |",
        "|---|---:|",
    ]
    for step, name in STEP_NAMES.items():
        lines.append(f"| {name} | {seconds(profile['steps'].get(step, 0.0))} |")
    lines += [
        f"| total, with the final flush | {seconds(profile['seconds'])} |",
        "",
        f"- {profile['queries']:,} queries took {seconds(profile['sql_seconds'])}, "
        f"of which the {profile['metric_queries']} metric queries "
        f"{seconds(profile['metric_sql_seconds'])}; Python and the ORM "
        f"{seconds(python)}.",
        f"- The review changed {profile['changed']:,} levels and put "
        f"{profile['at_risk']:,} partners at risk; "
        + (
            "their notes, activities and emails are left to the follow-up "
            "job (line 1b)."
            if _left_to_the_job(profile)
            else "it posted their notes and activities itself (200 changes or "
            "fewer) and left the emails to the follow-up job (line 1b)."
        ),
        f"- Agreement: {agreement['review_vs_lower_bound']} mismatches between the "
        f"review and the lower bound over {agreement['values_compared']:,} "
        f"values; {agreement['naive_vs_lower_bound']} between the naive sample "
        "and the lower bound.",
        "",
    ]
    return lines


def _left_to_the_job(profile):
    """Whether the review left its notes and activities to the follow-up
    job, as the engine does above FOLLOW_UP_INLINE_LIMIT changes."""
    return profile["changed"] + profile["newly_at_risk"] > FOLLOW_UP_INLINE_LIMIT


def _build_lines(builds):
    lines = ["## Building the databases", ""]
    for db, timings in builds.items():
        steps = ", ".join(f"{step} {value:.1f} s" for step, value in timings.items())
        lines.append(f"- {db}: {sum(timings.values()):.0f} s ({steps})")
    lines.append("")
    return lines


def _explain_lines(explain):
    titles = {
        "review": "Metric queries of the full review",
        "lower_bound": "Lower-bound queries",
        "daily": "Metric queries of the daily run (100 partners)",
    }
    lines = ["## Query plans (EXPLAIN (ANALYZE, BUFFERS))", ""]
    for key, title in titles.items():
        lines += [f"### {title}", ""]
        for plan in explain[key]:
            lines += ["```", plan["query"].strip(), "", *plan["plan"], "```", ""]
    return lines
