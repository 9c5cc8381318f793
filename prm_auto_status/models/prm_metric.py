from datetime import datetime, time

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .prm_status_program import check_domain_for_model

NUMERIC_FIELD_TYPES = ("integer", "float", "monetary")
# Above this many partners, a metric query reads every partner's rows of the
# period rather than filtering on a list of ids.
LARGE_PARTNER_SET = 2000


class PrmMetric(models.Model):
    """Something measured about a partner over a period, defined as data.

    A metric reads the records of one model (sale orders, leads, bills...),
    keeps those matching its domain whose date falls in the period, and
    counts them or sums one numeric field, per commercial partner.
    """

    _name = "prm.metric"
    _description = "Partner Status Metric"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        copy=False,
        help="Technical name used in exports and scripts; unique.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    model_id = fields.Many2one(
        "ir.model",
        string="Source Model",
        required=True,
        ondelete="cascade",
        help="The records this metric reads, e.g. Sales Order.",
    )
    model_name = fields.Char(related="model_id.model", string="Model Name")
    partner_field_id = fields.Many2one(
        "ir.model.fields",
        required=True,
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', '=', 'many2one'),"
        " ('relation', '=', 'res.partner'), ('store', '=', True)]",
        help="The field that says which partner a record counts for. A record "
        "of a contact counts for the contact's company.",
    )
    date_field_id = fields.Many2one(
        "ir.model.fields",
        required=True,
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', 'in', ('date', 'datetime')),"
        " ('store', '=', True)]",
        help="The date that places a record in a period.",
    )
    aggregation = fields.Selection(
        [("count", "Number of records"), ("sum", "Sum of a field")],
        required=True,
        default="count",
    )
    value_field_id = fields.Many2one(
        "ir.model.fields",
        string="Summed Field",
        ondelete="cascade",
        domain="[('model_id', '=', model_id),"
        " ('ttype', 'in', ('integer', 'float', 'monetary')), ('store', '=', True)]",
    )
    value_sign = fields.Selection(
        [("1", "As stored"), ("-1", "Opposite sign")],
        default="1",
        required=True,
        help="Accounting amounts of vendor bills are stored negative; choose "
        "'Opposite sign' to count them as positive rewards.",
    )
    currency_rate_field_id = fields.Many2one(
        "ir.model.fields",
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', '=', 'float'),"
        " ('store', '=', True)]",
        help="When the summed amount is in the document's currency, the field "
        "holding the rate from the company currency to the document currency; "
        "the amount is divided by it to express it in the company currency.",
    )
    domain = fields.Char(
        string="Filter",
        default="[]",
        required=True,
        help="Only records matching this filter are measured.",
    )
    is_monetary = fields.Boolean(
        compute="_compute_is_monetary",
        help="The value is an amount in the company currency.",
    )

    _sql_constraints = [
        ("code_unique", "unique(code)", "A metric code must be unique."),
    ]

    @api.depends("aggregation", "value_field_id")
    def _compute_is_monetary(self):
        for metric in self:
            metric.is_monetary = (
                metric.aggregation == "sum"
                and metric.value_field_id.ttype == "monetary"
            )

    @api.constrains(
        "model_id",
        "partner_field_id",
        "date_field_id",
        "value_field_id",
        "aggregation",
        "currency_rate_field_id",
    )
    def _check_fields(self):
        for metric in self:
            model = metric.model_id
            for label, field in (
                (self.env._("partner field"), metric.partner_field_id),
                (self.env._("date field"), metric.date_field_id),
                (self.env._("summed field"), metric.value_field_id),
                (self.env._("currency rate field"), metric.currency_rate_field_id),
            ):
                if field and field.model_id != model:
                    raise ValidationError(
                        self.env._(
                            "Metric “%(metric)s”: the %(label)s “%(field)s” is not a "
                            "field of %(model)s. Choose a field of %(model)s.",
                            metric=metric.name,
                            label=label,
                            field=field.name,
                            model=model.model,
                        )
                    )
            rate_field = metric.currency_rate_field_id
            if rate_field and rate_field.ttype not in NUMERIC_FIELD_TYPES:
                raise ValidationError(
                    self.env._(
                        "Metric “%(metric)s”: the currency rate field “%(field)s” is "
                        "not a number. Choose a decimal field holding a rate, such as "
                        "Currency Rate, or none.",
                        metric=metric.name,
                        field=rate_field.name,
                    )
                )
            if metric.partner_field_id.relation != "res.partner":
                raise ValidationError(
                    self.env._(
                        "Metric “%(metric)s”: the partner field must point to "
                        "Contacts (res.partner). Choose a field such as Customer.",
                        metric=metric.name,
                    )
                )
            if metric.date_field_id.ttype not in ("date", "datetime"):
                raise ValidationError(
                    self.env._(
                        "Metric “%(metric)s”: the date field “%(field)s” is not a "
                        "date. Choose a date or date-time field.",
                        metric=metric.name,
                        field=metric.date_field_id.name,
                    )
                )
            if metric.aggregation == "sum":
                if not metric.value_field_id:
                    raise ValidationError(
                        self.env._(
                            "Metric “%(metric)s” sums a field: choose the field "
                            "to sum, or count records instead.",
                            metric=metric.name,
                        )
                    )
                if metric.value_field_id.ttype not in NUMERIC_FIELD_TYPES:
                    raise ValidationError(
                        self.env._(
                            "Metric “%(metric)s”: “%(field)s” is not numeric and "
                            "cannot be summed. Choose an integer, decimal or "
                            "monetary field.",
                            metric=metric.name,
                            field=metric.value_field_id.name,
                        )
                    )
            for field in (
                metric.partner_field_id,
                metric.date_field_id,
                metric.value_field_id,
                metric.currency_rate_field_id,
            ):
                if field and not field.store:
                    raise ValidationError(
                        self.env._(
                            "Metric “%(metric)s”: the field “%(field)s” is not "
                            "stored in the database and cannot be measured. "
                            "Choose a stored field.",
                            metric=metric.name,
                            field=field.name,
                        )
                    )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        conditions = (
            self.env["prm.status.condition"]
            .sudo()
            .search([("metric_id", "in", self.ids)], limit=1)
        )
        if conditions:
            raise UserError(
                self.env._(
                    "Metric “%(metric)s” is used by rule “%(rule)s”. Remove it from "
                    "the rules first, or archive the metric.",
                    metric=conditions.metric_id.name,
                    rule=conditions.rule_id.name,
                )
            )

    @api.constrains("domain", "model_id")
    def _check_domain(self):
        for metric in self:
            check_domain_for_model(
                self.env,
                metric.domain,
                metric.model_id.model,
                self.env._("the filter of metric “%s”", metric.name),
            )

    def _get_domain(self):
        self.ensure_one()
        return safe_eval(self.domain or "[]")

    def _read_values(self, partner_ids, date_from, date_to, company, tz):
        """Return {commercial partner id: value} for the local dates
        ``date_from`` (included) to ``date_to`` (excluded).

        One grouped query for the whole set of partners: records are grouped
        by the partner they name, then folded onto commercial entities.
        """
        self.ensure_one()
        if not partner_ids:
            return {}
        Model = self.env[self.model_id.model].sudo().with_context(active_test=True)
        partner_fname = self.partner_field_id.name
        date_fname = self.date_field_id.name
        domain = self._get_domain() + self._date_domain(
            date_fname, date_from, date_to, tz
        )
        if "company_id" in Model._fields and Model._fields["company_id"].store:
            # Records of another company belong to another program; records
            # without a company are shared and count.
            domain.append(("company_id", "in", [False, company.id]))
        query = Model._search(domain)
        table = query.table
        partner_sql = Model._field_to_sql(table, partner_fname, query)
        query.add_join(
            "JOIN",
            "prm_commercial",
            "res_partner",
            SQL("prm_commercial.id = %s", partner_sql),
        )
        commercial_sql = SQL.identifier("prm_commercial", "commercial_partner_id")
        wanted = None
        if len(partner_ids) <= LARGE_PARTNER_SET:
            query.add_where(SQL("%s = ANY(%s)", commercial_sql, list(partner_ids)))
        else:
            # For a whole program, a list of thousands of ids costs more to
            # plan and filter than the few rows of other partners cost to
            # read: those are dropped here instead.
            wanted = set(partner_ids)
        value_sql = self._value_sql(Model, table, query)
        query.groupby = commercial_sql
        # The query is plain SQL: pending ORM changes must reach the database.
        self.env.flush_all()
        self.env.cr.execute(query.select(commercial_sql, value_sql))
        return {
            partner_id: value or 0.0
            for partner_id, value in self.env.cr.fetchall()
            if wanted is None or partner_id in wanted
        }

    def _value_sql(self, Model, table, query):
        if self.aggregation == "count":
            return SQL("COUNT(*)")
        value = Model._field_to_sql(table, self.value_field_id.name, query)
        if self.currency_rate_field_id:
            rate = Model._field_to_sql(table, self.currency_rate_field_id.name, query)
            value = SQL("%s / COALESCE(NULLIF(%s, 0), 1)", value, rate)
        return SQL("%s * SUM(%s)", int(self.value_sign), value)

    @api.model
    def _date_domain(self, date_fname, date_from, date_to, tz):
        """Domain placing records between two local dates of timezone ``tz``.

        Date-time fields are stored in UTC: the local midnight boundaries are
        converted, so an order confirmed late on the last local day of the
        period counts for it.
        """
        field = self.env[self.model_id.model]._fields[date_fname]
        if field.type == "date":
            return [(date_fname, ">=", date_from), (date_fname, "<", date_to)]
        return [
            (date_fname, ">=", local_midnight_to_utc(date_from, tz)),
            (date_fname, "<", local_midnight_to_utc(date_to, tz)),
        ]


def local_midnight_to_utc(day, tz):
    """Naive UTC datetime of 00:00 local time on ``day`` in ``tz``."""
    local = tz.localize(datetime.combine(day, time.min))
    return local.astimezone(pytz.utc).replace(tzinfo=None)
