"""What the scale benchmark compares (``bench/run.py``).

Three ways to get the same metric values of a program's partners:

- the review itself, through the engine;
- the lower bound: the bare SQL ``GROUP BY`` that reads the same rows over
  the same window, with nothing around it; what PostgreSQL alone needs;
- the naive evaluation: one ORM query per partner and per metric.

The tests check that the three agree; the benchmark times them.
"""

from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo.tools import SQL, float_compare

from ..models.prm_metric import local_midnight_to_utc

# The lower bound of each built-in metric of the benchmark program: the
# filter of the metric's data record written by hand, the program's company
# (records without a company are shared and count, as for the engine) and
# the fold of contacts onto their commercial partner.
LOWER_BOUND_SQL = {
    "sales_amount": """
        SELECT p.commercial_partner_id,
               SUM(o.amount_untaxed / COALESCE(NULLIF(o.currency_rate, 0), 1))
          FROM sale_order o
          JOIN res_partner p ON p.id = o.partner_id
         WHERE o.state = 'sale'
           AND (o.company_id = %(company)s OR o.company_id IS NULL)
           AND o.date_order >= %(start)s AND o.date_order < %(end)s
      GROUP BY p.commercial_partner_id
    """,
    "deal_count": """
        SELECT p.commercial_partner_id, COUNT(*)
          FROM sale_order o
          JOIN res_partner p ON p.id = o.partner_id
         WHERE o.state = 'sale'
           AND (o.company_id = %(company)s OR o.company_id IS NULL)
           AND o.date_order >= %(start)s AND o.date_order < %(end)s
      GROUP BY p.commercial_partner_id
    """,
    "lead_count": """
        SELECT p.commercial_partner_id, COUNT(*)
          FROM crm_lead l
          JOIN res_partner p ON p.id = l.partner_id
         WHERE l.active
           AND (l.company_id = %(company)s OR l.company_id IS NULL)
           AND l.create_date >= %(start)s AND l.create_date < %(end)s
      GROUP BY p.commercial_partner_id
    """,
    "reward_amount": """
        SELECT p.commercial_partner_id, -SUM(m.amount_untaxed_signed)
          FROM account_move m
          JOIN res_partner p ON p.id = m.partner_id
         WHERE m.state = 'posted'
           AND m.move_type IN ('in_invoice', 'in_refund')
           AND (m.company_id = %(company)s OR m.company_id IS NULL)
           AND m.invoice_date >= %(start)s AND m.invoice_date < %(end)s
      GROUP BY p.commercial_partner_id
    """,
}


def program_metrics(program):
    """The metrics the program's conditions read, as the engine finds them."""
    return program.level_ids.rule_ids.condition_ids.metric_id


def metric_window(program, metric, day):
    """(start included, end excluded) of the review of ``day`` for
    ``metric``, in the form its date column stores: local dates for a date,
    UTC moments of local midnights for a date-time."""
    period_start, period_end = program._get_period(day)
    end = period_end + relativedelta(days=1)
    model = program.env[metric.model_name]
    if model._fields[metric.date_field_id.name].type == "date":
        return period_start, end
    tz = program._get_tz()
    return local_midnight_to_utc(period_start, tz), local_midnight_to_utc(end, tz)


def lower_bound_queries(program, day):
    """[(metric, SQL)]: the bare GROUP BY of each metric of the program."""
    queries = []
    for metric in program_metrics(program):
        if metric.code not in LOWER_BOUND_SQL:
            raise KeyError(
                f"The benchmark has no lower-bound query for metric {metric.code!r};"
                f" add one to LOWER_BOUND_SQL."
            )
        start, end = metric_window(program, metric, day)
        query = SQL(
            LOWER_BOUND_SQL[metric.code],
            company=program.company_id.id,
            start=start,
            end=end,
        )
        queries.append((metric, query))
    return queries


def lower_bound_values(program, day):
    """{metric id: {commercial partner id: value}} from the bare queries."""
    values = {}
    for metric, query in lower_bound_queries(program, day):
        program.env.cr.execute(query)
        values[metric.id] = dict(program.env.cr.fetchall())
    return values


def review_values(program, decisions):
    """{metric id: {partner id: value}} as the review measured them."""
    values = defaultdict(dict)
    for decision in decisions:
        for metric in program_metrics(program):
            values[metric.id][decision.partner_id] = decision.values.get(metric.id)
    return dict(values)


def naive_values(program, partner_ids, day):
    """{metric id: {partner id: value}} read the naive way: one ORM query
    per partner and per metric."""
    values = defaultdict(dict)
    metrics = program_metrics(program)
    for partner_id in partner_ids:
        for metric in metrics:
            values[metric.id][partner_id] = _naive_value(
                program, metric, partner_id, day
            )
    return dict(values)


def _naive_value(program, metric, partner_id, day):
    Model = program.env[metric.model_name].sudo()
    start, end = metric_window(program, metric, day)
    date_field = metric.date_field_id.name
    domain = metric._get_domain() + [
        (date_field, ">=", start),
        (date_field, "<", end),
        (f"{metric.partner_field_id.name}.commercial_partner_id", "=", partner_id),
        ("company_id", "in", [False, program.company_id.id]),
    ]
    if metric.aggregation == "count":
        return Model.search_count(domain)
    sign = int(metric.value_sign)
    value_field = metric.value_field_id.name
    if metric.currency_rate_field_id:
        rate_field = metric.currency_rate_field_id.name
        records = Model.search_fetch(domain, [value_field, rate_field])
        return sign * sum(
            record[value_field] / (record[rate_field] or 1) for record in records
        )
    [(total,)] = Model._read_group(domain, [], [f"{value_field}:sum"])
    return sign * (total or 0.0)


def mismatches(program, expected, actual, partner_ids):
    """[(metric code, partner id, expected, actual)] for every metric value
    that differs by a cent or more; a missing value counts as 0."""
    found = []
    for metric in program_metrics(program):
        expected_values = expected.get(metric.id, {})
        actual_values = actual.get(metric.id, {})
        for partner_id in partner_ids:
            want = expected_values.get(partner_id) or 0.0
            got = actual_values.get(partner_id) or 0.0
            if float_compare(want, got, precision_digits=2):
                found.append((metric.code, partner_id, want, got))
    return found


def sample_partners(program, count):
    """``count`` participants spread evenly over the ordered participants,
    so that the sample holds big and small partners alike."""
    participants = program._get_participants().sorted("id")
    count = min(count, len(participants))
    step = len(participants) / count
    return participants.browse(
        [participants[int(index * step)].id for index in range(count)]
    )


def mark_for_profile_review(env, partners):
    """Leave exactly ``partners`` marked, as the daily job finds partners
    whose profile changed since the last run."""
    env.cr.execute("DELETE FROM prm_review_mark")
    env["prm.review.mark"]._mark(partners.ids)
    env.invalidate_all()
