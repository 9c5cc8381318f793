from odoo import models


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_foreign_keys(self, src_partners, dst_partner):
        # Moved onto the kept partner, the marks of several merged partners
        # would break the one-mark-per-partner rule. They go first; the kept
        # partner is marked after, as its profile and documents changed.
        self.env["prm.review.mark"].sudo()._unmark(src_partners.ids)
        result = super()._update_foreign_keys(src_partners, dst_partner)
        dst_partner._prm_mark_for_review()
        return result
