"""18.0.1.2.0:

- the marks of the daily profile-change job moved from the column
  ``res_partner.prm_review_needed`` to the table ``prm_review_mark``.
  Partners marked before the upgrade stay marked; the column and its index
  go;
- history rows no longer carry the ORM's create and write columns, which
  repeated their ``date`` and ``user_id``; Odoo keeps such columns of a
  model, so they are dropped here.
"""

from odoo.tools import SQL
from odoo.tools.sql import column_exists

LOG_ACCESS_COLUMNS = ("create_uid", "create_date", "write_uid", "write_date")


def migrate(cr, version):
    if not version:
        return
    for column in LOG_ACCESS_COLUMNS:
        if column_exists(cr, "prm_status_history", column):
            cr.execute(
                SQL(
                    "ALTER TABLE prm_status_history DROP COLUMN %s",
                    SQL.identifier(column),
                )
            )
    _move_review_marks(cr)


def _move_review_marks(cr):
    if not column_exists(cr, "res_partner", "prm_review_needed"):
        return
    cr.execute(
        """
        INSERT INTO prm_review_mark (partner_id, marked_at)
        SELECT id, now() AT TIME ZONE 'UTC' FROM res_partner WHERE prm_review_needed
        ON CONFLICT (partner_id) DO NOTHING
        """
    )
    cr.execute("DROP INDEX IF EXISTS res_partner_prm_review_needed_idx")
    cr.execute("ALTER TABLE res_partner DROP COLUMN prm_review_needed")
