from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

# Fields whose change can move a partner whatever the programs say: they
# decide who is a commercial entity and who is still active.
ALWAYS_WATCHED_FIELDS = frozenset(
    {"active", "is_company", "parent_id", "company_id", "category_id", "country_id"}
)


class ResPartner(models.Model):
    _inherit = "res.partner"

    prm_status_ids = fields.One2many(
        "prm.partner.status", "partner_id", string="Partner Statuses"
    )
    prm_level_ids = fields.Many2many(
        "prm.status.level",
        "res_partner_prm_status_level_rel",
        "partner_id",
        "level_id",
        string="Partner Levels",
        readonly=True,
        copy=False,
        groups="prm_auto_status.group_prm_user",
        help="Kept by the engine from the partner's statuses, for searching and "
        "grouping partners by level.",
    )
    prm_review_needed = fields.Boolean(
        string="Status Review Needed",
        compute="_compute_prm_review_needed",
        search="_search_prm_review_needed",
        help="The profile changed since the last evaluation; the daily job "
        "re-evaluates the partner.",
    )
    prm_history_count = fields.Integer(compute="_compute_prm_history_count")
    prm_explanation_html = fields.Html(
        string="Why These Levels",
        compute="_compute_prm_explanation_html",
        sanitize=False,
    )

    def _compute_prm_review_needed(self):
        marked = set(self.env["prm.review.mark"]._marked_partner_ids(self.ids))
        for partner in self:
            partner.prm_review_needed = partner.id in marked

    def _search_prm_review_needed(self, operator, value):
        # The answers searched for: {True}, {False}, both or none.
        if operator in ("=", "!=") and isinstance(value, bool):
            wanted = {value} if operator == "=" else {not value}
        elif (
            operator in ("in", "not in")
            and isinstance(value, (list, tuple))
            and all(isinstance(item, bool) for item in value)
        ):
            wanted = set(value) if operator == "in" else {True, False} - set(value)
        else:
            raise UserError(
                self.env._(
                    "Partners can only be searched on whether a status review "
                    "is needed or not."
                )
            )
        if len(wanted) != 1:
            return expression.TRUE_DOMAIN if wanted else expression.FALSE_DOMAIN
        marked = SQL("(SELECT partner_id FROM prm_review_mark)")
        return [("id", "in" if True in wanted else "not in", marked)]

    def _compute_prm_explanation_html(self):
        for partner in self:
            statuses = partner.commercial_partner_id.prm_status_ids
            partner.prm_explanation_html = Markup("").join(
                Markup("<h4>%s</h4>%s")
                % (status.program_id.name, status.explanation_html)
                for status in statuses
            )

    def _compute_prm_history_count(self):
        counts = dict(
            self.env["prm.status.history"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.prm_history_count = counts.get(partner, 0)

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        if not self.env.context.get("prm_no_mark"):
            partners._prm_mark_for_review()
        return partners

    def write(self, vals):
        watched = not self.env.context.get("prm_no_mark") and bool(
            self._prm_watched_fields() & set(vals)
        )
        if watched and "parent_id" in vals:
            # The old company loses the contact: review it too.
            self._prm_mark_for_review()
        res = super().write(vals)
        if watched:
            self._prm_mark_for_review()
        return res

    def action_view_prm_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prm_auto_status.prm_status_history_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        return action

    @api.model
    @tools.ormcache()
    def _prm_watched_fields(self):
        """Partner fields read by any program's participant filter or any
        rule's profile filter, plus the few that always matter."""
        domains = [
            program.partner_domain
            for program in self.env["prm.status.program"].sudo().search([])
        ] + [
            rule.profile_domain
            for rule in self.env["prm.status.rule"].sudo().search([])
        ]
        watched = set(ALWAYS_WATCHED_FIELDS)
        for domain in domains:
            try:
                leaves = safe_eval(domain or "[]")
            except Exception:  # noqa: BLE001 - constraints refuse bad domains
                continue
            for leaf in leaves:
                if expression.is_leaf(leaf) and isinstance(leaf[0], str):
                    watched.add(leaf[0].split(".", 1)[0])
        return frozenset(watched)

    def _prm_mark_for_review(self):
        """Mark the commercial entities of these partners for the daily
        re-evaluation (see prm.review.mark)."""
        self.env["prm.review.mark"].sudo()._mark(self.ids)

    def _prm_sync_levels(self):
        """Copy the partners' levels from their statuses into the relation
        behind ``prm_level_ids``, in two statements whatever their number."""
        if not self.ids:
            return
        self.env["prm.partner.status"].flush_model(["partner_id", "level_id"])
        self.env.cr.execute(
            SQL(
                "DELETE FROM res_partner_prm_status_level_rel "
                "WHERE partner_id = ANY(%s)",
                list(self.ids),
            )
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO res_partner_prm_status_level_rel (partner_id, level_id)
                SELECT DISTINCT partner_id, level_id
                  FROM prm_partner_status
                 WHERE partner_id = ANY(%s) AND level_id IS NOT NULL
                """,
                list(self.ids),
            )
        )
        self.invalidate_recordset(["prm_level_ids"])

    def _prm_unmark(self):
        self.env["prm.review.mark"].sudo()._unmark(self.ids)
