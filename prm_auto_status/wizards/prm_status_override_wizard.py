from odoo import api, fields, models


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
        for wizard in self:
            self.env["prm.partner.status"]._check_override_end(wizard.date_end)

    def action_apply(self):
        self.ensure_one()
        self.status_id._set_override(self.level_id, self.reason, self.date_end)
        return {"type": "ir.actions.act_window_close"}
