import math
import operator as py_operator

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_compare

OPERATORS = {
    ">=": py_operator.ge,
    ">": py_operator.gt,
    "<=": py_operator.le,
    "<": py_operator.lt,
    "=": py_operator.eq,
    "!=": py_operator.ne,
}


class PrmStatusCondition(models.Model):
    """A test on one metric: ``metric operator value``, e.g. sales >= 50,000.

    A keep value, when set, is the lower bar that a partner already on the
    level must keep meeting; newcomers need the entry value.
    """

    _name = "prm.status.condition"
    _description = "Partner Status Condition"
    _order = "rule_id, sequence, id"

    sequence = fields.Integer(default=10)
    rule_id = fields.Many2one(
        "prm.status.rule", required=True, ondelete="cascade", index=True
    )
    level_id = fields.Many2one(related="rule_id.level_id", store=True)
    company_id = fields.Many2one(related="rule_id.company_id", store=True)
    metric_id = fields.Many2one("prm.metric", required=True, ondelete="restrict")
    operator = fields.Selection(
        [(op, op) for op in OPERATORS], required=True, default=">="
    )
    value = fields.Float(string="Entry Value", required=True, digits=(16, 2))
    has_keep_value = fields.Boolean(string="Keep Threshold")
    keep_value = fields.Float(
        digits=(16, 2),
        help="Partners already on the level keep it while this value holds.",
    )

    @api.depends("metric_id", "operator", "value")
    def _compute_display_name(self):
        for condition in self:
            metric_name = condition.metric_id.name or self.env._("(no metric)")
            condition.display_name = (
                f"{metric_name} {condition.operator} {_format_number(condition.value)}"
            )

    @api.constrains("has_keep_value", "keep_value", "value", "operator")
    def _check_keep_value(self):
        for condition in self.filtered("has_keep_value"):
            if condition.operator in ("=", "!="):
                raise ValidationError(
                    self.env._(
                        "Condition “%s”: a keep threshold only makes sense with "
                        ">=, >, <= or <. Remove the keep threshold.",
                        condition.display_name,
                    )
                )
            lower_is_easier = condition.operator in (">=", ">")
            too_strict = (
                condition.keep_value > condition.value
                if lower_is_easier
                else condition.keep_value < condition.value
            )
            if too_strict:
                raise ValidationError(
                    self.env._(
                        "Condition “%(condition)s”: the keep value %(keep)s is "
                        "stricter than the entry value %(value)s. A keep value "
                        "must be easier to meet than the entry value.",
                        condition=condition.display_name,
                        keep=_format_number(condition.keep_value),
                        value=_format_number(condition.value),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_input(dict({"metric_id": False}, **vals))
        return super().create(vals_list)

    def write(self, vals):
        self._check_input(vals)
        return super().write(vals)

    @api.model
    def _check_input(self, vals):
        """Refuse a missing metric or a value that is not a number with a
        message that says how to fix it (the ORM would raise a bare error)."""
        if "metric_id" in vals and not vals["metric_id"]:
            raise ValidationError(
                self.env._("A condition needs a metric: choose what is measured.")
            )
        for fname in ("value", "keep_value"):
            if fname not in vals:
                continue
            try:
                number = float(vals[fname])
                if not math.isfinite(number):
                    raise ValueError(number)
            except (TypeError, ValueError):
                raise ValidationError(
                    self.env._(
                        "The value “%s” of a condition is not a number. Enter a "
                        "number such as 50000 or 2.5.",
                        vals[fname],
                    )
                ) from None

    def _holds(self, value, keep=False):
        """Whether the metric ``value`` meets the condition; with ``keep``,
        against the keep value when the condition has one."""
        self.ensure_one()
        threshold = self.keep_value if keep and self.has_keep_value else self.value
        return meets(self.operator, value, threshold)

    def _gap(self, value, keep=False):
        """How much the metric still has to move to meet the condition:
        positive for 'more needed', negative for 'less needed', 0 when met."""
        self.ensure_one()
        if self._holds(value, keep=keep):
            return 0.0
        threshold = self.keep_value if keep and self.has_keep_value else self.value
        if self.operator == ">":
            return (
                threshold
                - value
                + (1 if self.metric_id.aggregation == "count" else 0.01)
            )
        if self.operator == "<":
            return (
                threshold
                - value
                - (1 if self.metric_id.aggregation == "count" else 0.01)
            )
        return threshold - value


def _format_number(number):
    return f"{number:,.2f}".rstrip("0").rstrip(".") if number % 1 else f"{number:,.0f}"


def meets(operator, value, threshold):
    """Whether ``value operator threshold`` holds, compared to the cent as
    amounts are shown."""
    difference = value - threshold
    # Apart by a cent or more, rounding to the cent cannot change the sign:
    # the plain comparison gives float_compare's answer without its cost.
    if difference >= 0.01:
        return OPERATORS[operator](1, 0)
    if difference <= -0.01:
        return OPERATORS[operator](-1, 0)
    return OPERATORS[operator](float_compare(value, threshold, precision_digits=2), 0)
