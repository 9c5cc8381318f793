"""18.0.1.1.0: a review writes only the statuses it changes.

The stored evaluation and review dates of a status become ``evaluated_on``
and ``reviewed_on``; ``last_evaluation_date`` and ``last_review_date`` are
computed from them and from the program's review run. Keep the dates.
"""

from odoo.tools import SQL
from odoo.tools.sql import column_exists, rename_column


def migrate(cr, version):
    if not version:
        return
    for old, new in (
        ("last_evaluation_date", "evaluated_on"),
        ("last_review_date", "reviewed_on"),
    ):
        if not column_exists(cr, "prm_partner_status", old):
            continue
        if column_exists(cr, "prm_partner_status", new):
            cr.execute(
                SQL(
                    "UPDATE prm_partner_status SET %s = %s WHERE %s IS NULL",
                    SQL.identifier(new),
                    SQL.identifier(old),
                    SQL.identifier(new),
                )
            )
            cr.execute(
                SQL(
                    "ALTER TABLE prm_partner_status DROP COLUMN %s",
                    SQL.identifier(old),
                )
            )
        else:
            rename_column(cr, "prm_partner_status", old, new)
