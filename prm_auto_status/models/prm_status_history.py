from odoo import api, fields, models
from odoo.exceptions import UserError

TRIGGERS = [
    ("first", "First assignment"),
    ("review", "Scheduled review"),
    ("profile", "Profile change"),
    ("manual", "Evaluated by hand"),
    ("override", "Manual override"),
    ("override_end", "End of override"),
]


class PrmStatusHistory(models.Model):
    """One change of a partner's level, with what decided it.

    Rows are written once by the engine and never edited or deleted.
    """

    _name = "prm.status.history"
    _description = "Partner Status History"
    _order = "date desc, id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", required=True, ondelete="cascade", index=True, readonly=True
    )
    program_id = fields.Many2one(
        "prm.status.program",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, readonly=True
    )
    old_level_id = fields.Many2one(
        "prm.status.level", string="From", ondelete="set null", readonly=True
    )
    new_level_id = fields.Many2one(
        "prm.status.level", string="To", ondelete="set null", readonly=True
    )
    direction = fields.Selection(
        [("up", "Upgrade"), ("down", "Downgrade"), ("same", "Same rank")],
        readonly=True,
    )
    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    evaluation_date = fields.Date(readonly=True)
    trigger = fields.Selection(TRIGGERS, required=True, readonly=True)
    period_start = fields.Date(readonly=True)
    period_end = fields.Date(readonly=True)
    metric_values = fields.Json(readonly=True)
    values_summary = fields.Text(string="Deciding Values", readonly=True)
    rule_id = fields.Many2one(
        "prm.status.rule", string="Matched Rule", ondelete="set null", readonly=True
    )
    reason = fields.Text(readonly=True, groups="prm_auto_status.group_prm_user")
    benefits = fields.Text(
        string="Benefits Changed",
        readonly=True,
        help="Pricelist and tags changed with the level.",
    )
    user_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        readonly=True,
        groups="prm_auto_status.group_prm_user",
    )

    def write(self, vals):
        # Only a module upgrade may touch rows (e.g. translations, ORM
        # housekeeping); users and code may not.
        if not self.env.context.get("install_mode"):
            raise UserError(
                self.env._(
                    "The status history is a record of what happened and cannot be "
                    "edited."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(
            self.env._(
                "The status history is a record of what happened and cannot be "
                "deleted. Archive the program instead."
            )
        )
