"""``make demo``: Odoo's own demo database with the demo partner program.

Creates a fresh database, installs Odoo's ``sale_management`` and ``crm``
with their demo data and ``prm_auto_status`` with its demo program, then
shows the engine at work on data nobody on this team wrote: the levels it
assigns and why, a profile change picked up by the daily job, the
explanation a manager reads, a preview of a changed threshold, and where a
portal user sees its status.
"""

import argparse
import os
import subprocess
import sys

import psycopg2
from dateutil.relativedelta import relativedelta

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = "sale_management,crm,prm_auto_status"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="prm_demo")
    parser.add_argument(
        "--replace",
        default="",
        help="'1' or 'yes' to drop and recreate a database of that name",
    )
    args = parser.parse_args()
    replace = args.replace.lower() in ("1", "yes", "true")
    addons_path = odoo_addons_path()

    if database_exists(args.db):
        if not replace:
            sys.exit(
                f"Database {args.db!r} already exists and was left untouched. "
                f"Run 'make demo DB=<another name>' or 'make demo DB={args.db} "
                "REPLACE=1' to drop and recreate it."
            )
        print(f"Dropping database {args.db!r} (REPLACE was given)...")
        subprocess.run(["dropdb", args.db], check=True)

    print(f"Creating {args.db!r} with Odoo's demo data and {MODULES} (a minute)...")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            "-d",
            args.db,
            f"--addons-path={addons_path}",
            "-i",
            MODULES,
            "--stop-after-init",
            "--log-level=warn",
            "--without-demo=",
        ],
        check=True,
    )
    run_demo(args.db, addons_path)


def odoo_addons_path():
    import odoo

    return f"{os.path.join(os.path.dirname(odoo.__file__), 'addons')},{REPO}"


def database_exists(name):
    with psycopg2.connect(dbname="postgres") as connection:
        with connection.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return bool(cr.fetchone())


def run_demo(db, addons_path):
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-d", db, f"--addons-path={addons_path}", "--log-level=warn"])
    registry = Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        program = env.ref("prm_auto_status.prm_program_reseller_demo")
        # Odoo dates its demo orders and leads around today; the next monthly
        # review, on the 1st of next month, is the one that sees them all.
        day = program._today().replace(day=1) + relativedelta(months=1)
        show_review(env, program, day)
        show_profile_change(env, program, day)
        show_explanation(env, program, day)
        show_preview(env, program, day)
        show_portal(env, db, addons_path)


def title(text):
    print()
    print(text)
    print("=" * len(text))


def print_table(headers, rows):
    widths = [
        max(len(str(cell)) for cell in column)
        for column in zip(headers, *rows, strict=True)
    ]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    print(line.format(*headers))
    print(line.format(*("-" * width for width in widths)))
    for row in rows:
        print(line.format(*row))


def show_review(env, program, day):
    decisions = program._evaluate(day=day, trigger="review")
    # Recorded as the program's review of that day, as the monthly job
    # records it: the job will not run it again on that day.
    program.write({"last_review_date": day})
    start, end = program._get_period(day)
    # Every metric, also those no rule of the program uses, for the same period.
    metrics = env["prm.metric"].search([])
    measure = env["prm.status.engine"]._measure(
        program, program._get_participants(), day, metrics=metrics
    )
    title(f"{program.name}: review as of {day} (metrics from {start} to {end})")
    partners = env["res.partner"].browse([d.partner_id for d in decisions])
    names = {partner.id: partner.display_name for partner in partners}
    rows = []
    for decision in sorted(
        decisions, key=lambda d: (-(d.new_level.rank or 0), names[d.partner_id])
    ):
        rows.append(
            [names[decision.partner_id]]
            + [
                format_value(m, measure.of(decision.partner_id).get(m.id, 0.0))
                for m in metrics
            ]
            + [decision.new_level.name or "-", decision.rule.name or "(start level)"]
        )
    print_table(["Partner"] + metrics.mapped("name") + ["Level", "Rule"], rows)
    env.cr.commit()


def format_value(metric, value):
    if metric.is_monetary:
        return f"{value:,.2f}"
    return f"{value:g}"


def show_profile_change(env, program, day):
    title("Profile change picked up by the daily job")
    partner = env.ref("base.res_partner_12")  # Azure Interior
    tag = env.ref("prm_auto_status.res_partner_category_certified_demo")
    level = (
        env["prm.partner.status"]
        .search([("program_id", "=", program.id), ("partner_id", "=", partner.id)])
        .level_id
    )
    print(f"{partner.name} is on {level.name or 'no level'}; tag '{tag.name}' is set.")
    partner.write({"category_id": [(4, tag.id)]})
    print(f"Marked for the daily job: {partner.prm_review_needed}")
    env["prm.status.program"]._cron_review_changed_profiles(day=day)
    history = env["prm.status.history"].search(
        [("partner_id", "=", partner.id), ("trigger", "=", "profile")], limit=1
    )
    if not history:
        print("The daily job did not change the level.")
    else:
        print_table(
            ["Partner", "From", "To", "Trigger", "Period", "Rule"],
            [
                [
                    history.partner_id.name,
                    history.old_level_id.name or "-",
                    history.new_level_id.name or "-",
                    dict(history._fields["trigger"].selection)[history.trigger],
                    f"{history.period_start} to {history.period_end}",
                    history.rule_id.name or "-",
                ]
            ],
        )
        print(history.values_summary)
    env.cr.commit()


def show_explanation(env, program, day):
    partner = env.ref("base.res_partner_4")  # Ready Mat
    status = env["prm.partner.status"].search(
        [("program_id", "=", program.id), ("partner_id", "=", partner.id)]
    )
    explanation = status._get_explanation(day)
    title(f"Why {partner.name} is {status.level_id.name or 'without a level'}")
    print(f"Figures from {explanation['period_start']} to {explanation['period_end']}:")
    for row in explanation["values"]:
        print(f"  {row['metric'].name}: {format_value(row['metric'], row['value'])}")
    for label, level, rules in (
        ("Current level", explanation["current_level"], explanation["current_rules"]),
        ("Next level", explanation["next_level"], explanation["next_rules"]),
    ):
        if not level:
            continue
        print(f"{label}: {level.name}")
        for rule in rules:
            state = "met" if rule["met"] else "not met"
            print(f"  rule '{rule['rule'].name}': {state}")
            for condition in rule["conditions"]:
                metric = condition["metric"]
                target = format_value(metric, condition["target"])
                if condition["met"]:
                    verdict = "met"
                else:
                    gap = format_value(metric, abs(condition["gap"]))
                    more = "more" if condition["gap"] > 0 else "less"
                    verdict = f"not met, {gap} {more} needed"
                print(f"    {metric.name} {condition['operator']} {target}: {verdict}")
            if rule["profile_required"]:
                ok = "matches" if rule["profile_ok"] else "does not match"
                print(f"    partner profile {ok}")
    print(f"Next review: {explanation['next_review']}")


def show_preview(env, program, day):
    condition = env.ref("prm_auto_status.prm_condition_silver_leads_demo")
    title(
        f"Preview: '{condition.rule_id.name}' at {condition.metric_id.name} >= 1 "
        f"instead of >= {condition.value:g}"
    )
    histories = env["prm.status.history"].search_count([])
    with env.cr.savepoint() as savepoint:
        condition.value = 1
        wizard = env["prm.status.evaluate.wizard"].create(
            {"program_id": program.id, "date": day}
        )
        wizard.action_preview()
        print(wizard.result_text)
        print_table(
            ["Partner", "From", "To", "Outcome", "Values"],
            [
                [
                    line.partner_id.display_name,
                    line.old_level_id.name or "-",
                    line.new_level_id.name or "-",
                    dict(line._fields["outcome"].selection)[line.outcome],
                    line.values_summary.replace("\n", "; "),
                ]
                for line in wizard.line_ids
            ],
        )
        print(
            "Partners per level: "
            + ", ".join(
                f"{count.level_id.name or 'none'} {count.partner_count}"
                for count in wizard.level_count_ids.sorted(lambda c: c.level_id.rank)
            )
        )
        savepoint.close(rollback=True)
    env.invalidate_all()
    print(
        f"Nothing was applied: the threshold is back at {condition.value:g} and "
        f"the history still has {env['prm.status.history'].search_count([])} rows "
        f"(it had {histories})."
    )


def show_portal(env, db, addons_path):
    user = env.ref("prm_auto_status.prm_user_portal_gemini_demo")
    title("Portal")
    print(
        f"Portal user of {user.partner_id.commercial_partner_id.name}: "
        f"login '{user.login}', password '{user.login}'."
    )
    print("Status page: http://localhost:8069/my/status")
    print()
    print("Start Odoo on this database (on this machine only, port 8069) with:")
    print(
        f"  {sys.executable} -m odoo -d {db} --addons-path={addons_path} "
        "--http-interface=127.0.0.1 --http-port=8069"
    )
    print(
        "then open http://localhost:8069/odoo and log in as admin / admin "
        "(Partner Status menu), or as the portal user above."
    )


if __name__ == "__main__":
    main()
