from odoo import api, fields, models
from odoo.exceptions import ValidationError


class PrmStatusOverrideWizard(models.TransientModel):
    """Set a partner's level by hand, with a reason and an optional end."""

    _name = "prm.status.override.wizard"
    _description = "Set a Partner Level by Hand"

    status_id = fields.Many2one("prm.partner.status", required=True)
    program_id = fields.Many2one(related="status_id.program_id")
    level_id = fields.Many2one(
        "prm.status.level",
        domain="[('program_id', '=', program_id)]",
    )
    reason = fields.Text(required=True)
    date_end = fields.Date(
        string="Until",
        help="The override ends after this date and the next review takes over. "
        "Leave empty for no end.",
    )

    @api.constrains("date_end")
    def _check_date_end(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            if wizard.date_end and wizard.date_end < today:
                raise ValidationError(
                    self.env._(
                        "The override cannot end in the past (%(date)s). Choose "
                        "today or a later date, or leave it empty.",
                        date=wizard.date_end,
                    )
                )

    def action_apply(self):
        self.ensure_one()
        self.status_id._set_override(self.level_id, self.reason, self.date_end)
        return {"type": "ir.actions.act_window_close"}
