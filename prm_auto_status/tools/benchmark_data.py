"""Generated data for the scale benchmark of partner reviews (``bench/run.py``).

A benchmark database holds tens of thousands of partners and hundreds of
thousands of orders, leads and bills. Creating them one by one through the
ORM would take hours, so each table is filled by one ``INSERT ... SELECT``
over ``generate_series``. Every column starts from a template record that
the ORM creates (so required columns, defaults and foreign keys are those
of a real record) and that is rolled back at once; the columns that vary
from row to row are computed in SQL. The tests run the same code at a tiny
scale inside their transaction.
"""

import logging
import math
import time
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from psycopg2.extras import Json

from odoo import Command
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Volumes at scale 1: the network of a large partner program.
BASE_VOLUMES = {
    "companies": 20_000,
    "confirmed_orders": 400_000,
    "cancelled_orders": 40_000,
    "leads": 100_000,
    "bills": 20_000,
}
CONTACTS_PER_COMPANY = 2
LINES_PER_ORDER = 2
MONTHS = 24
MIN_COMPANIES = 10

# Where a benchmark database records what it holds.
SCALE_PARAM = "prm_auto_status.benchmark_scale"
DAY_PARAM = "prm_auto_status.benchmark_day"
PROGRAM_PARAM = "prm_auto_status.benchmark_program_id"

PROGRAM_NAME = "Benchmark program"


@dataclass(frozen=True)
class Volumes:
    """How many records of each kind a scale gives."""

    companies: int
    confirmed_orders: int
    cancelled_orders: int
    leads: int
    bills: int

    @classmethod
    def for_scale(cls, scale):
        return cls(
            **{
                name: max(1, round(count * scale))
                for name, count in BASE_VOLUMES.items()
            }
        )

    @property
    def contacts(self):
        return self.companies * CONTACTS_PER_COMPANY

    @property
    def orders(self):
        return self.confirmed_orders + self.cancelled_orders


@dataclass
class BenchmarkData:
    """What :func:`generate` made: the program to review, the tag of its
    participants, the review day and the time each step took."""

    program: object
    tag: object
    day: object
    volumes: Volumes
    timings: dict = field(default_factory=dict)


def parse_scale(text):
    """Return the scale written in ``text`` as a float.

    Raises ValueError with a message that says what is wrong and what to
    give instead: the benchmark refuses a zero, negative or unreadable scale
    before it touches any database.
    """
    try:
        scale = float(str(text).strip())
    except ValueError:
        raise ValueError(
            f"SCALE={text!r} is not a number. Give a positive number such as "
            "1 (20,000 partners), 0.05 or 2."
        ) from None
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(
            f"SCALE={text!r} must be a number greater than 0, such as 1 "
            "(20,000 partners), 0.05 or 2."
        )
    if round(BASE_VOLUMES["companies"] * scale) < MIN_COMPANIES:
        smallest = MIN_COMPANIES / BASE_VOLUMES["companies"]
        raise ValueError(
            f"SCALE={text!r} gives fewer than {MIN_COMPANIES} partners. "
            f"Give {smallest:g} or more."
        )
    return scale


def generate(env, scale, day):
    """Fill the database with the partners, orders, leads and bills of
    ``scale``, dated over the ``MONTHS`` months before ``day``, and create
    the program the benchmark reviews. Everything runs in the current
    transaction; nothing is committed here."""
    volumes = Volumes.for_scale(scale)
    timings = {}
    env.cr.execute("SELECT setseed(0.42)")  # the same data at every run

    started = time.perf_counter()
    setup = _Setup.prepare(env)
    templates = _template_rows(env, setup, day)
    first_day = day - relativedelta(months=MONTHS)
    _insert_currency_rates(env, setup, first_day, day)
    timings["setup and templates"] = time.perf_counter() - started

    steps = [
        ("partners", _insert_partners),
        ("sale orders", _insert_orders),
        ("sale order lines", _insert_order_lines),
        ("leads", _insert_leads),
        ("vendor bills", _insert_bills),
    ]
    context = {"first_day": first_day, "day": day, "volumes": volumes}
    for name, step in steps:
        started = time.perf_counter()
        count = step(env, setup, templates, context)
        timings[name] = time.perf_counter() - started
        _logger.info("Benchmark data: %s %s in %.1f s", count, name, timings[name])

    started = time.perf_counter()
    for table in GENERATED_TABLES:
        env.cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
    timings["analyze"] = time.perf_counter() - started

    env.invalidate_all()
    program = create_program(env, setup.tag)
    return BenchmarkData(program, setup.tag, day, volumes, timings)


def create_program(env, tag):
    """The reviewed program: participants are the companies tagged ``tag``,
    measured over the last 3 closed months, with four conditions on the
    built-in metrics (sales amount, deals, leads, reward)."""

    def metric(code):
        return env.ref(f"prm_auto_status.prm_metric_{code}").id

    def condition(code, value, **extra):
        return Command.create(
            {"metric_id": metric(code), "operator": ">=", "value": value, **extra}
        )

    return env["prm.status.program"].create(
        {
            "name": PROGRAM_NAME,
            "partner_domain": repr(
                [("is_company", "=", True), ("category_id", "in", [tag.id])]
            ),
            "period_unit": "month",
            "period_mode": "last_n",
            "period_count": 3,
            "review_frequency": "monthly",
            "tz": "Europe/Brussels",
            "no_level_policy": "lowest",
            "downgrade_policy": "grace",
            "grace_reviews": 2,
            "state": "running",
            "level_ids": [
                Command.create({"name": "Registered", "rank": 1}),
                Command.create(
                    {
                        "name": "Silver",
                        "rank": 2,
                        "rule_ids": [
                            Command.create(
                                {
                                    "name": "Active prospector",
                                    "condition_ids": [condition("lead_count", 2)],
                                }
                            ),
                            Command.create(
                                {
                                    "name": "Rewarded reseller",
                                    "condition_ids": [condition("reward_amount", 500)],
                                }
                            ),
                        ],
                    }
                ),
                Command.create(
                    {
                        "name": "Gold",
                        "rank": 3,
                        "rule_ids": [
                            Command.create(
                                {
                                    "name": "Volume reseller",
                                    "condition_ids": [
                                        condition(
                                            "sales_amount",
                                            15000,
                                            has_keep_value=True,
                                            keep_value=10000,
                                        ),
                                        condition("deal_count", 6),
                                    ],
                                }
                            )
                        ],
                    }
                ),
            ],
        }
    )


def review_previous_period(program, day):
    """Run the review of the month before ``day`` so that the measured
    review finds every partner with a status: the steady state of a
    program that has been running for a while. Returns its decisions."""
    decisions = program._evaluate(day=day - relativedelta(months=1), trigger="review")
    mark_follow_up_done(program.env)
    return decisions


def mark_follow_up_done(env):
    """Record the follow-up of the reviews so far (notes, activities,
    emails) as done, as if its job had run after each: a benchmark database
    runs no scheduled job, and the measured follow-up is that of the
    measured review alone. Returns how many items were pending."""
    env.flush_all()
    env.cr.execute(
        "UPDATE prm_status_history SET email_pending = NULL, followup_pending = NULL"
        " WHERE email_pending OR followup_pending"
    )
    pending = env.cr.rowcount
    env.cr.execute(
        "UPDATE prm_partner_status SET at_risk_activity_pending = NULL"
        " WHERE at_risk_activity_pending"
    )
    pending += env.cr.rowcount
    env.invalidate_all()
    return pending


# ----------------------------------------------------------------------
# Setup records and templates
# ----------------------------------------------------------------------

GENERATED_TABLES = (
    "res_partner",
    "res_partner_res_partner_category_rel",
    "res_currency_rate",
    "sale_order",
    "sale_order_line",
    "crm_lead",
    "account_move",
)


@dataclass
class _Setup:
    """The few records the generated rows point to."""

    company: object
    currency: object  # the second currency, EUR (or USD if EUR is the company's)
    product: object
    tag: object
    won_stage: object

    @classmethod
    def prepare(cls, env):
        company = env.company
        Currency = env["res.currency"].with_context(active_test=False)
        second = "USD" if company.currency_id.name == "EUR" else "EUR"
        currency = Currency.search([("name", "=", second)], limit=1)
        currency.active = True
        product = env["product.product"].create(
            {
                "name": "Benchmark service",
                "type": "service",
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
                "supplier_taxes_id": [Command.clear()],
            }
        )
        tag = env["res.partner.category"].create({"name": "Benchmark partner"})
        won_stage = env["crm.stage"].search([("is_won", "=", True)], limit=1)
        return cls(company, currency, product, tag, won_stage)


def _template_rows(env, setup, day):
    """{table: row} of records created by the ORM, read back and rolled
    back: a company, a contact, a confirmed order line, an opportunity and a
    posted vendor bill."""
    rows = {}
    savepoint = env.cr.savepoint()
    try:
        Partner = env["res.partner"].with_context(prm_no_mark=True)
        company = Partner.create({"name": "Benchmark template", "is_company": True})
        contact = Partner.create({"name": "Template", "parent_id": company.id})
        order = env["sale.order"].create(
            {
                "partner_id": company.id,
                "company_id": setup.company.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": setup.product.id,
                            "product_uom_qty": 1,
                            "price_unit": 100,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        lead = env["crm.lead"].create(
            {
                "name": "Template",
                "type": "opportunity",
                "partner_id": company.id,
                "company_id": setup.company.id,
            }
        )
        bill = env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": company.id,
                "company_id": setup.company.id,
                "invoice_date": day,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Commission",
                            "quantity": 1,
                            "price_unit": 100,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        bill.action_post()
        env.flush_all()
        for table, record in (
            ("company", company),
            ("contact", contact),
            ("sale_order", order),
            ("sale_order_line", order.order_line[:1]),
            ("crm_lead", lead),
            ("account_move", bill),
        ):
            rows[table] = _read_row(env, record._table, record.id)
    finally:
        # Only the rows are kept: the template records leave no trace.
        savepoint.close(rollback=True)
    return rows


def _read_row(env, table, record_id):
    env.cr.execute(
        SQL("SELECT * FROM %s WHERE id = %s", SQL.identifier(table), record_id)
    )
    names = [column.name for column in env.cr.description]
    return dict(zip(names, env.cr.fetchone(), strict=True))


def _column_types(env, table):
    env.cr.execute(
        SQL(
            """
            SELECT attname, format_type(atttypid, atttypmod)
              FROM pg_attribute
             WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
            """,
            table,
        )
    )
    return dict(env.cr.fetchall())


def _insert_like(env, table, template, source, overrides):
    """Insert one row into ``table`` per row of the query ``source``
    (aliased ``s``): a column takes its SQL expression from ``overrides``,
    else the template's value. Returns the number of rows inserted."""
    unknown = set(overrides) - set(template)
    if unknown:
        raise KeyError(f"{table} has no column {', '.join(sorted(unknown))}")
    types = _column_types(env, table)
    columns, values = [], []
    for column, value in template.items():
        if column in overrides:
            expression = overrides[column]
            if isinstance(expression, str):
                expression = SQL(expression)
        elif column == "id" or value is None:
            continue
        else:
            if isinstance(value, dict | list):
                value = Json(value)
            expression = SQL("%s::%s", value, SQL(types[column]))
        columns.append(SQL.identifier(column))
        values.append(expression)
    env.cr.execute(
        SQL(
            "INSERT INTO %s (%s) SELECT %s FROM (%s) AS s",
            SQL.identifier(table),
            SQL(", ").join(columns),
            SQL(", ").join(values),
            source,
        )
    )
    return env.cr.rowcount


def _reserve_ids(env, table, count):
    """First of ``count`` consecutive ids taken from the table's sequence,
    so that rows of other tables can point to them by arithmetic."""
    sequence = f"{table}_id_seq"
    env.cr.execute(SQL("SELECT nextval(%s)", sequence))
    first = env.cr.fetchone()[0]
    env.cr.execute(SQL("SELECT setval(%s, %s)", sequence, first + count - 1))
    return first


# ----------------------------------------------------------------------
# Rows
# ----------------------------------------------------------------------


def _insert_currency_rates(env, setup, first_day, day):
    """A daily rate of the second currency over the whole period, and a
    temporary table giving the rate in force on each day (the latest rate
    on or before it, as Odoo reads it)."""
    env.cr.execute(
        SQL(
            """
            INSERT INTO res_currency_rate
                   (currency_id, company_id, name, rate, create_uid, write_uid,
                    create_date, write_date)
            SELECT %(currency)s, %(company)s, d::date,
                   round((0.9 + 0.05 * sin(extract(epoch FROM d) / 2592000))::numeric,
                         6),
                   %(uid)s, %(uid)s, now() AT TIME ZONE 'UTC',
                   now() AT TIME ZONE 'UTC'
              FROM generate_series(%(first)s::date, %(last)s::date, '1 day') AS d
            ON CONFLICT DO NOTHING
            """,
            currency=setup.currency.id,
            company=setup.company.id,
            uid=env.uid,
            first=first_day,
            last=day,
        )
    )
    env.cr.execute("DROP TABLE IF EXISTS prm_bench_rate")
    env.cr.execute(
        SQL(
            """
            CREATE TEMPORARY TABLE prm_bench_rate ON COMMIT DROP AS
            SELECT d::date AS day,
                   (SELECT r.rate
                      FROM res_currency_rate r
                     WHERE r.currency_id = %(currency)s
                       AND (r.company_id = %(company)s OR r.company_id IS NULL)
                       AND r.name <= d::date
                  ORDER BY r.name DESC
                     LIMIT 1) AS rate
              FROM generate_series(%(first)s::date, %(last)s::date, '1 day') AS d
            """,
            currency=setup.currency.id,
            company=setup.company.id,
            first=first_day,
            last=day,
        )
    )


def _company_index_sql(count):
    """A company index between 0 and ``count`` - 1, skewed so that a few
    partners carry much of the business, as in a real network."""
    return SQL("floor(%s * power(random(), 2))::int", count)


def _insert_partners(env, setup, templates, context):
    volumes = context["volumes"]
    first_company = _reserve_ids(env, "res_partner", volumes.companies)
    context["first_company"] = first_company
    company_name = SQL(
        "'Benchmark partner ' || lpad((g - 1)::text, 6, '0')",
    )
    count = _insert_like(
        env,
        "res_partner",
        templates["company"],
        SQL(
            "SELECT %s + g - 1 AS id, %s AS name FROM generate_series(1, %s) AS g",
            first_company,
            company_name,
            volumes.companies,
        ),
        {
            "id": "s.id",
            "name": "s.name",
            "complete_name": "s.name",
            "commercial_partner_id": "s.id",
            "commercial_company_name": "s.name",
        },
    )
    first_contact = _reserve_ids(env, "res_partner", volumes.contacts)
    context["first_contact"] = first_contact
    count += _insert_like(
        env,
        "res_partner",
        templates["contact"],
        SQL(
            """
            SELECT %(first_contact)s + g - 1 AS id,
                   %(first_company)s + (g - 1) / %(per)s AS company_id,
                   'Benchmark partner ' || lpad(((g - 1) / %(per)s)::text, 6, '0')
                       AS company_name,
                   'Contact ' || g AS name
              FROM generate_series(1, %(count)s) AS g
            """,
            first_contact=first_contact,
            first_company=first_company,
            per=CONTACTS_PER_COMPANY,
            count=volumes.contacts,
        ),
        {
            "id": "s.id",
            "name": "s.name",
            "complete_name": "s.company_name || ', ' || s.name",
            "parent_id": "s.company_id",
            "commercial_partner_id": "s.company_id",
            "commercial_company_name": "s.company_name",
        },
    )
    env.cr.execute(
        SQL(
            """
            INSERT INTO res_partner_res_partner_category_rel (category_id, partner_id)
            SELECT %s, %s + g - 1 FROM generate_series(1, %s) AS g
            """,
            setup.tag.id,
            first_company,
            volumes.companies,
        )
    )
    return count


def _partner_sql(context, contact_share):
    """SQL choosing the partner of a document: a company, or one of its
    contacts for ``contact_share`` of the documents (they count for the
    company, which the metrics must fold)."""
    return SQL(
        """CASE WHEN random() < %(share)s
                THEN %(first_contact)s + company_index * %(per)s
                     + floor(random() * %(per)s)::int
                ELSE %(first_company)s + company_index END""",
        share=contact_share,
        first_contact=context["first_contact"],
        first_company=context["first_company"],
        per=CONTACTS_PER_COMPANY,
    )


def _moment_sql(context):
    """A random UTC time in the generated months."""
    return SQL(
        "%(first)s::timestamp + random() * (%(day)s::timestamp - %(first)s::timestamp)",
        first=context["first_day"],
        day=context["day"],
    )


def _insert_orders(env, setup, templates, context):
    volumes = context["volumes"]
    first_order = _reserve_ids(env, "sale_order", volumes.orders)
    context["first_order"] = first_order
    source = SQL(
        """
        SELECT o.*, CASE WHEN o.foreign_currency THEN r.rate ELSE 1.0 END AS rate
          FROM (SELECT g, %(first_order)s + g - 1 AS id,
                       g <= %(confirmed)s AS confirmed,
                       company_index,
                       %(partner)s AS partner_id,
                       %(moment)s AS date_order,
                       random() < 0.25 AS foreign_currency,
                       round(exp(4 + random() * 5)::numeric, 2) AS amount
                  FROM (SELECT g, %(company_index)s AS company_index
                          FROM generate_series(1, %(count)s) AS g) AS n) AS o
          JOIN prm_bench_rate r ON r.day = o.date_order::date
        """,
        first_order=first_order,
        confirmed=volumes.confirmed_orders,
        partner=_partner_sql(context, 0.4),
        moment=_moment_sql(context),
        company_index=_company_index_sql(volumes.companies),
        count=volumes.orders,
    )
    company_currency = setup.company.currency_id.id
    return _insert_like(
        env,
        "sale_order",
        templates["sale_order"],
        source,
        {
            "id": "s.id",
            "name": "'BENCH/S' || lpad(s.id::text, 7, '0')",
            "partner_id": "s.partner_id",
            "partner_invoice_id": "s.partner_id",
            "partner_shipping_id": "s.partner_id",
            "date_order": "s.date_order",
            "create_date": "s.date_order - interval '2 days'",
            "write_date": "s.date_order",
            "state": "CASE WHEN s.confirmed THEN 'sale' ELSE 'cancel' END",
            "invoice_status": "CASE WHEN s.confirmed THEN 'to invoice' ELSE 'no' END",
            "currency_id": SQL(
                "CASE WHEN s.foreign_currency THEN %s ELSE %s END",
                setup.currency.id,
                company_currency,
            ),
            "pricelist_id": SQL(
                "CASE WHEN s.foreign_currency THEN NULL ELSE %s END",
                templates["sale_order"]["pricelist_id"],
            ),
            "currency_rate": "s.rate",
            "amount_untaxed": "s.amount",
            "amount_tax": "0",
            "amount_total": "s.amount",
            "access_token": "NULL",
        },
    )


def _insert_order_lines(env, setup, templates, context):
    volumes = context["volumes"]
    first_order = context["first_order"]
    source = SQL(
        """
        SELECT o.id AS order_id, n, o.partner_id, o.currency_id, o.state,
               o.create_date, o.write_date,
               CASE WHEN n = 1 THEN round(o.amount_untaxed / %(lines)s, 2)
                    ELSE o.amount_untaxed
                         - round(o.amount_untaxed / %(lines)s, 2) * (%(lines)s - 1)
                    END AS subtotal
          FROM sale_order o
          CROSS JOIN generate_series(1, %(lines)s) AS n
         WHERE o.id BETWEEN %(first)s AND %(last)s
        """,
        lines=LINES_PER_ORDER,
        first=first_order,
        last=first_order + volumes.orders - 1,
    )
    return _insert_like(
        env,
        "sale_order_line",
        templates["sale_order_line"],
        source,
        {
            "order_id": "s.order_id",
            "sequence": "10 * s.n",
            "order_partner_id": "s.partner_id",
            "currency_id": "s.currency_id",
            "state": "s.state",
            "create_date": "s.create_date",
            "write_date": "s.write_date",
            "price_unit": "s.subtotal",
            "technical_price_unit": "s.subtotal",
            "price_subtotal": "s.subtotal",
            "price_total": "s.subtotal",
            "price_tax": "0",
            "price_reduce_taxexcl": "s.subtotal",
            "price_reduce_taxinc": "s.subtotal",
            "qty_to_invoice": "CASE WHEN s.state = 'sale' THEN 1 ELSE 0 END",
            "untaxed_amount_to_invoice": "CASE WHEN s.state = 'sale' THEN s.subtotal "
            "ELSE 0 END",
            "invoice_status": "CASE WHEN s.state = 'sale' THEN 'to invoice' "
            "ELSE 'no' END",
        },
    )


def _insert_leads(env, setup, templates, context):
    """Leads and opportunities: 15% lost (archived, as Odoo does), 20% of
    the opportunities won."""
    volumes = context["volumes"]
    source = SQL(
        """
        SELECT g, %(partner)s AS partner_id, %(moment)s AS create_date,
               random() < 0.4 AS is_lead, random() AS fate
          FROM (SELECT g, %(company_index)s AS company_index
                  FROM generate_series(1, %(count)s) AS g) AS n
        """,
        partner=_partner_sql(context, 0.3),
        moment=_moment_sql(context),
        company_index=_company_index_sql(volumes.companies),
        count=volumes.leads,
    )
    won = "NOT s.is_lead AND s.fate >= 0.8"
    return _insert_like(
        env,
        "crm_lead",
        templates["crm_lead"],
        source,
        {
            "name": "'Benchmark lead ' || s.g",
            "type": "CASE WHEN s.is_lead THEN 'lead' ELSE 'opportunity' END",
            "partner_id": "s.partner_id",
            "company_id": str(setup.company.id),
            "partner_name": "NULL",
            "contact_name": "NULL",
            "email_from": "NULL",
            "email_normalized": "NULL",
            "email_domain_criterion": "NULL",
            "phone": "NULL",
            "phone_sanitized": "NULL",
            "create_date": "s.create_date",
            "write_date": "s.create_date",
            "date_open": "s.create_date",
            "date_last_stage_update": "s.create_date",
            "date_conversion": "CASE WHEN s.is_lead THEN NULL ELSE s.create_date END",
            "date_closed": f"CASE WHEN {won} THEN s.create_date + interval '20 days' "
            "END",
            "stage_id": SQL(
                "CASE WHEN %s THEN %s ELSE %s END",
                SQL(won),
                setup.won_stage.id,
                templates["crm_lead"]["stage_id"],
            ),
            "probability": f"CASE WHEN {won} THEN 100 WHEN s.fate < 0.15 THEN 0 "
            "ELSE 10 END",
            "automated_probability": "10",
            "active": "s.fate >= 0.15",
        },
    )


def _insert_bills(env, setup, templates, context):
    """Posted vendor bills of the partners (their commissions), 10% of them
    refunds, a few left in draft. The metric reads the bill's stored
    amounts only, so the bills have no journal items."""
    volumes = context["volumes"]
    # Posted bills need a unique name: the reserved ids make one even when
    # the database already holds bills of an earlier generation.
    first_bill = _reserve_ids(env, "account_move", volumes.bills)
    source = SQL(
        """
        SELECT b.*, r.rate,
               CASE WHEN b.refund THEN 1 ELSE -1 END AS sign,
               round(b.amount / CASE WHEN b.foreign_currency THEN r.rate ELSE 1 END,
                     2) AS company_amount,
               CASE WHEN b.foreign_currency THEN r.rate ELSE 1.0 END AS doc_rate
          FROM (SELECT g, %(first_bill)s + g - 1 AS id,
                       %(first_company)s + company_index AS partner_id,
                       'Benchmark partner ' || lpad(company_index::text, 6, '0')
                           AS partner_name,
                       (%(first)s::date + floor(random() * (%(day)s::date
                           - %(first)s::date))::int) AS invoice_date,
                       random() < 0.1 AS refund,
                       random() >= 0.05 AS posted,
                       random() < 0.25 AS foreign_currency,
                       round(exp(5 + random() * 3)::numeric, 2) AS amount
                  FROM (SELECT g, %(company_index)s AS company_index
                          FROM generate_series(1, %(count)s) AS g) AS n) AS b
          JOIN prm_bench_rate r ON r.day = b.invoice_date
        """,
        first_bill=first_bill,
        first_company=context["first_company"],
        first=context["first_day"],
        day=context["day"],
        company_index=_company_index_sql(volumes.companies),
        count=volumes.bills,
    )
    moment = "s.invoice_date::timestamp + interval '9 hours'"
    return _insert_like(
        env,
        "account_move",
        templates["account_move"],
        source,
        {
            "id": "s.id",
            "name": "CASE WHEN s.posted THEN 'BENCH/BILL/' || lpad(s.id::text, 7, '0') "
            "ELSE '/' END",
            "sequence_prefix": "CASE WHEN s.posted THEN 'BENCH/BILL/' END",
            "sequence_number": "CASE WHEN s.posted THEN s.id END",
            "state": "CASE WHEN s.posted THEN 'posted' ELSE 'draft' END",
            "posted_before": "s.posted",
            "move_type": "CASE WHEN s.refund THEN 'in_refund' ELSE 'in_invoice' END",
            "partner_id": "s.partner_id",
            "commercial_partner_id": "s.partner_id",
            "partner_shipping_id": "s.partner_id",
            "invoice_partner_display_name": "s.partner_name",
            "date": "s.invoice_date",
            "invoice_date": "s.invoice_date",
            "invoice_date_due": "s.invoice_date + 30",
            "currency_id": SQL(
                "CASE WHEN s.foreign_currency THEN %s ELSE %s END",
                setup.currency.id,
                setup.company.currency_id.id,
            ),
            "invoice_currency_rate": "s.doc_rate",
            "amount_untaxed": "s.amount",
            "amount_tax": "0",
            "amount_total": "s.amount",
            "amount_residual": "s.amount",
            "amount_untaxed_signed": "s.sign * s.company_amount",
            "amount_untaxed_in_currency_signed": "s.sign * s.amount",
            "amount_tax_signed": "0",
            "amount_total_signed": "s.sign * s.company_amount",
            "amount_total_in_currency_signed": "s.sign * s.amount",
            "amount_residual_signed": "s.sign * s.company_amount",
            "payment_state": "'not_paid'",
            "payment_reference": "NULL",
            "access_token": "NULL",
            "create_date": moment,
            "write_date": moment,
        },
    )
