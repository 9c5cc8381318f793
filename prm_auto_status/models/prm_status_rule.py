from odoo import api, fields, models
from odoo.tools.safe_eval import safe_eval

from .prm_status_program import check_domain_for_model


class PrmStatusRule(models.Model):
    """One way to reach a level: every condition must hold (AND), and the
    partner must match the optional profile filter. A level with several
    rules is reached when any of them holds (OR)."""

    _name = "prm.status.rule"
    _description = "Partner Status Rule"
    _order = "level_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    level_id = fields.Many2one(
        "prm.status.level", required=True, ondelete="cascade", index=True
    )
    program_id = fields.Many2one(related="level_id.program_id", store=True, index=True)
    company_id = fields.Many2one(related="level_id.company_id", store=True)
    condition_ids = fields.One2many(
        "prm.status.condition", "rule_id", string="Conditions", copy=True
    )
    profile_domain = fields.Char(
        string="Partner Profile",
        default="[]",
        help="Only partners matching this filter can reach the level by this "
        "rule: a tag, a country, a custom field.",
    )
    summary = fields.Char(compute="_compute_summary")

    @api.depends(
        "condition_ids.metric_id",
        "condition_ids.operator",
        "condition_ids.value",
        "profile_domain",
    )
    def _compute_summary(self):
        for rule in self:
            parts = [condition.display_name for condition in rule.condition_ids]
            if rule._get_profile_domain():
                parts.append(self.env._("partner profile matches"))
            rule.summary = (
                self.env._(" and ").join(parts) if parts else self.env._("always")
            )

    @api.constrains("profile_domain")
    def _check_profile_domain(self):
        for rule in self:
            check_domain_for_model(
                self.env,
                rule.profile_domain,
                "res.partner",
                self.env._("the partner profile of rule “%s”", rule.name),
            )

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        # The partner fields watched for profile changes depend on rules.
        self.env.registry.clear_cache()
        return rules

    def write(self, vals):
        res = super().write(vals)
        if "profile_domain" in vals:
            self.env.registry.clear_cache()
        return res

    def _get_profile_domain(self):
        self.ensure_one()
        return list(safe_eval(self.profile_domain or "[]"))
