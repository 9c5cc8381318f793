from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class PrmStatusLevel(models.Model):
    """One step of a program's ladder: Registered, Silver, Gold..."""

    _name = "prm.status.level"
    _description = "Partner Status Level"
    _order = "program_id, rank, id"

    name = fields.Char(required=True, translate=True)
    program_id = fields.Many2one(
        "prm.status.program", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="program_id.company_id", store=True)
    rank = fields.Integer(
        required=True,
        default=1,
        help="Position on the ladder: the higher the rank, the higher the level.",
    )
    color = fields.Integer()
    benefits = fields.Html(
        translate=True,
        help="What the level brings; partners read it in the portal.",
    )
    rule_ids = fields.One2many("prm.status.rule", "level_id", string="Rules")
    pricelist_id = fields.Many2one(
        "product.pricelist",
        help="Pricelist given to partners on this level.",
    )
    tag_ids = fields.Many2many(
        "res.partner.category",
        string="Partner Tags",
        help="Tags given to partners on this level and removed when they leave it.",
    )
    partner_count = fields.Integer(compute="_compute_partner_count")

    def _compute_partner_count(self):
        counts = dict(
            self.env["prm.partner.status"]._read_group(
                [("level_id", "in", self.ids)], ["level_id"], ["__count"]
            )
        )
        for level in self:
            level.partner_count = counts.get(level, 0)

    @api.constrains("rank", "program_id")
    def _check_rank_unique(self):
        if self.env.context.get("prm_defer_rank_check"):
            return
        for level in self:
            twins = level.program_id.level_ids.filtered(
                lambda other, level=level: other.rank == level.rank and other != level
            )
            if twins:
                raise ValidationError(
                    self.env._(
                        "Levels “%(level)s” and “%(other)s” of program “%(program)s” "
                        "both have rank %(rank)s. Give each level of a program its "
                        "own rank.",
                        level=level.name,
                        other=twins[0].name,
                        program=level.program_id.name,
                        rank=level.rank,
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        statuses = (
            self.env["prm.partner.status"]
            .sudo()
            .search([("level_id", "in", self.ids)], limit=1)
        )
        if statuses:
            raise UserError(
                self.env._(
                    "Partners are on level “%s”. Move them to another level (or let "
                    "a review do it) before deleting it.",
                    statuses.level_id.name,
                )
            )
        history = (
            self.env["prm.status.history"]
            .sudo()
            .search(
                [
                    "|",
                    ("old_level_id", "in", self.ids),
                    ("new_level_id", "in", self.ids),
                ],
                limit=1,
            )
        )
        if history:
            raise UserError(
                self.env._(
                    "The status history mentions level “%s” and must stay readable. "
                    "Remove its rules instead, so that no partner reaches it.",
                    (history.old_level_id | history.new_level_id)
                    .filtered(lambda level: level in self)[:1]
                    .name,
                )
            )

    @api.constrains("pricelist_id", "program_id")
    def _check_pricelist_company(self):
        for level in self:
            pricelist_company = level.pricelist_id.company_id
            if pricelist_company and pricelist_company != level.program_id.company_id:
                raise ValidationError(
                    self.env._(
                        "Level “%(level)s”: the pricelist “%(pricelist)s” belongs to "
                        "%(company)s, not to the program's company %(program_company)s."
                        " Choose a pricelist of %(program_company)s or one shared by "
                        "all companies.",
                        level=level.name,
                        pricelist=level.pricelist_id.display_name,
                        company=pricelist_company.name,
                        program_company=level.program_id.company_id.name,
                    )
                )
