from odoo import api, fields, models
from odoo.tools import SQL


class PrmReviewMark(models.Model):
    """A commercial partner whose profile changed since its last
    evaluation; the daily job re-evaluates it and removes the mark, in the
    same transaction.

    The marks live in their own narrow table rather than in a column of
    ``res_partner``: marking and unmarking then write a row of two integers
    instead of a new version of a wide partner row and of every index on it.
    """

    _name = "prm.review.mark"
    _description = "Partner Marked for Status Review"
    _log_access = False
    _rec_name = "partner_id"
    _order = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", required=True, readonly=True, ondelete="cascade"
    )
    marked_at = fields.Datetime(
        string="Last Marked",
        required=True,
        readonly=True,
        help="When the partner's profile last changed. Marking a partner "
        "marked already rewrites this row, so that a daily job that read the "
        "older mark cannot remove the newer one: it fails and runs again.",
    )

    _sql_constraints = [
        (
            "partner_unique",
            "UNIQUE(partner_id)",
            "A partner is marked for review at most once.",
        )
    ]

    @api.model
    def _mark(self, partner_ids):
        """Mark the commercial entities of ``partner_ids``, in one statement
        whatever their number."""
        if not partner_ids:
            return
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        # A partner marked already is marked again (its row rewritten): the
        # daily job that is evaluating it on the older profile then fails to
        # delete the mark, instead of deleting the mark of this change.
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO prm_review_mark (partner_id, marked_at)
                SELECT DISTINCT commercial_partner_id, %s
                  FROM res_partner
                 WHERE id = ANY(%s) AND commercial_partner_id IS NOT NULL
                ON CONFLICT (partner_id) DO UPDATE SET marked_at = EXCLUDED.marked_at
                """,
                fields.Datetime.now(),
                list(partner_ids),
            )
        )
        self.invalidate_model()
        self.env["res.partner"].invalidate_model(["prm_review_needed"])

    @api.model
    def _unmark(self, partner_ids):
        if not partner_ids:
            return
        self.env.cr.execute(
            SQL(
                "DELETE FROM prm_review_mark WHERE partner_id = ANY(%s)",
                list(partner_ids),
            )
        )
        self.invalidate_model()
        self.env["res.partner"].invalidate_model(["prm_review_needed"])

    @api.model
    def _marked_partner_ids(self, partner_ids=None):
        """Ids of the marked partners (among ``partner_ids`` when given),
        in the order of their ids."""
        query = SQL("SELECT partner_id FROM prm_review_mark")
        if partner_ids is not None:
            query = SQL("%s WHERE partner_id = ANY(%s)", query, list(partner_ids))
        self.env.cr.execute(SQL("%s ORDER BY partner_id", query))
        return [partner_id for (partner_id,) in self.env.cr.fetchall()]
