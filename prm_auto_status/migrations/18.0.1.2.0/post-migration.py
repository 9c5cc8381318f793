"""18.0.1.2.0: the marks of the daily profile-change job moved from the
column ``res_partner.prm_review_needed`` to the table ``prm_review_mark``.
Partners marked before the upgrade stay marked; the column and its index
go."""

from odoo.tools.sql import column_exists


def migrate(cr, version):
    if not version or not column_exists(cr, "res_partner", "prm_review_needed"):
        return
    cr.execute(
        """
        INSERT INTO prm_review_mark (partner_id)
        SELECT id FROM res_partner WHERE prm_review_needed
        ON CONFLICT (partner_id) DO NOTHING
        """
    )
    cr.execute("DROP INDEX IF EXISTS res_partner_prm_review_needed_idx")
    cr.execute("ALTER TABLE res_partner DROP COLUMN prm_review_needed")
