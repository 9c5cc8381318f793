from odoo import api, fields, models


class PrmStatusEvaluateWizard(models.TransientModel):
    """Evaluate a program now, or preview what an evaluation would do."""

    _name = "prm.status.evaluate.wizard"
    _description = "Evaluate or Preview a Partner Program"

    program_id = fields.Many2one("prm.status.program", required=True)
    date = fields.Date(
        string="Evaluation Date",
        required=True,
        default=fields.Date.context_today,
        help="Metrics cover the closed periods before this date.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Partners",
        help="Leave empty to evaluate every participant.",
    )
    period_text = fields.Char(compute="_compute_period_text", string="Period")
    line_ids = fields.One2many("prm.status.evaluate.line", "wizard_id", readonly=True)
    level_count_ids = fields.One2many(
        "prm.status.evaluate.count", "wizard_id", readonly=True
    )
    previewed = fields.Boolean(readonly=True)
    result_text = fields.Text(readonly=True)

    @api.depends("program_id", "date")
    def _compute_period_text(self):
        for wizard in self:
            if wizard.program_id and wizard.date:
                start, end = wizard.program_id._get_period(wizard.date)
                wizard.period_text = self.env._(
                    "%(start)s to %(end)s", start=start, end=end
                )
            else:
                wizard.period_text = False

    def _partners(self):
        return self.partner_ids if self.partner_ids else None

    def action_preview(self):
        """Run the engine without saving and list the partners that would
        change level, with the count per level."""
        self.ensure_one()
        # Previewed as the scheduled review of that date would decide.
        decisions = self.program_id._evaluate(
            self._partners(), self.date, trigger="review", apply=False
        )
        metrics = self.program_id.level_ids.rule_ids.condition_ids.metric_id
        engine = self.env["prm.status.engine"]
        listed = [
            decision for decision in decisions if decision.changed or decision.at_risk
        ]
        names = {
            partner.id: partner.display_name
            for partner in self.env["res.partner"].browse(
                [decision.partner_id for decision in listed]
            )
        }
        listed.sort(
            key=lambda decision: (names[decision.partner_id], decision.partner_id)
        )
        lines = [
            {
                "partner_id": decision.partner_id,
                "old_level_id": decision.old_level.id or False,
                "new_level_id": decision.new_level.id or False,
                "outcome": decision.outcome,
                "values_summary": engine._values_summary(metrics, decision.values),
                "reason": decision.reason or False,
            }
            for decision in listed
        ]
        counts = {}
        for decision in decisions:
            counts[decision.new_level.id or False] = (
                counts.get(decision.new_level.id or False, 0) + 1
            )
        self.line_ids = [fields.Command.clear()] + [
            fields.Command.create(vals) for vals in lines
        ]
        self.level_count_ids = [fields.Command.clear()] + [
            fields.Command.create({"level_id": level_id, "partner_count": count})
            for level_id, count in counts.items()
        ]
        self.previewed = True
        self.result_text = self.env._(
            "%(changes)s of %(total)s partners would change level.",
            changes=sum(1 for decision in decisions if decision.changed),
            total=len(decisions),
        )
        return self._reopen()

    def action_evaluate(self):
        """Evaluate and save the levels."""
        self.ensure_one()
        program = self.program_id
        program._raise_if_locked()
        decisions = program._evaluate(self._partners(), self.date, trigger="manual")
        changed = sum(1 for decision in decisions if decision.changed)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Evaluation done"),
                "message": self.env._(
                    "%(total)s partners evaluated, %(changed)s changed level.",
                    total=len(decisions),
                    changed=changed,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Preview of %s", self.program_id.name),
        }


class PrmStatusEvaluateLine(models.TransientModel):
    _name = "prm.status.evaluate.line"
    _description = "Previewed Change of Level"

    wizard_id = fields.Many2one("prm.status.evaluate.wizard", ondelete="cascade")
    partner_id = fields.Many2one("res.partner", readonly=True)
    old_level_id = fields.Many2one("prm.status.level", string="From", readonly=True)
    new_level_id = fields.Many2one("prm.status.level", string="To", readonly=True)
    outcome = fields.Selection(
        [
            ("first", "First level"),
            ("upgrade", "Upgrade"),
            ("downgrade", "Downgrade"),
            ("at_risk", "At risk"),
            ("override", "Held by override"),
            ("unchanged", "Unchanged"),
        ],
        readonly=True,
    )
    values_summary = fields.Text(string="Deciding Values", readonly=True)
    reason = fields.Text(readonly=True)


class PrmStatusEvaluateCount(models.TransientModel):
    _name = "prm.status.evaluate.count"
    _description = "Previewed Partners per Level"

    wizard_id = fields.Many2one("prm.status.evaluate.wizard", ondelete="cascade")
    level_id = fields.Many2one("prm.status.level", readonly=True)
    partner_count = fields.Integer(string="Partners", readonly=True)
