import logging

from psycopg2.extras import Json

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# What an evaluation gives each history row; the rest is filled in.
INSERTED_FIELDS = (
    "partner_id",
    "program_id",
    "old_level_id",
    "new_level_id",
    "direction",
    "evaluation_date",
    "trigger",
    "period_start",
    "period_end",
    "metric_values",
    "values_summary",
    "rule_id",
    "reason",
    "benefits",
    "email_template_id",
    "followup_pending",
)

TRIGGERS = [
    ("first", "First assignment"),
    ("review", "Scheduled review"),
    ("profile", "Profile change"),
    ("manual", "Evaluated by hand"),
    ("override", "Manual override"),
    ("override_end", "End of override"),
]


class PrmStatusHistory(models.Model):
    """One change of a partner's level, with what decided it.

    Rows are written once by the engine and never edited or deleted.
    """

    _name = "prm.status.history"
    _description = "Partner Status History"
    _order = "date desc, id desc"
    _rec_name = "partner_id"
    # A row is written once and never edited: ``date`` and ``user_id`` say
    # when and by whom. The ORM's create/write columns would repeat them,
    # at the cost of two more foreign keys checked for every row a review
    # inserts.
    _log_access = False

    partner_id = fields.Many2one(
        "res.partner", required=True, ondelete="cascade", index=True, readonly=True
    )
    program_id = fields.Many2one(
        "prm.status.program",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, readonly=True
    )
    old_level_id = fields.Many2one(
        "prm.status.level", string="From", ondelete="set null", readonly=True
    )
    new_level_id = fields.Many2one(
        "prm.status.level", string="To", ondelete="set null", readonly=True
    )
    direction = fields.Selection(
        [("up", "Upgrade"), ("down", "Downgrade"), ("same", "Same rank")],
        readonly=True,
    )
    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    evaluation_date = fields.Date(readonly=True)
    trigger = fields.Selection(TRIGGERS, required=True, readonly=True)
    period_start = fields.Date(readonly=True)
    period_end = fields.Date(readonly=True)
    metric_values = fields.Json(readonly=True)
    values_summary = fields.Text(string="Deciding Values", readonly=True)
    rule_id = fields.Many2one(
        "prm.status.rule", string="Matched Rule", ondelete="set null", readonly=True
    )
    reason = fields.Text(readonly=True, groups="prm_auto_status.group_prm_user")
    benefits = fields.Text(
        string="Benefits Changed",
        readonly=True,
        help="Pricelist and tags changed with the level.",
    )
    email_template_id = fields.Many2one(
        "mail.template",
        string="Email",
        readonly=True,
        groups="prm_auto_status.group_prm_user",
        help="The email this change sends the partner.",
    )
    email_pending = fields.Boolean(
        compute="_compute_email_pending",
        store=True,
        readonly=True,
        index="btree_not_null",
        groups="prm_auto_status.group_prm_user",
        help="The email job has not sent this change's email yet.",
    )
    followup_pending = fields.Boolean(
        string="Follow-up Pending",
        readonly=True,
        index="btree_not_null",
        groups="prm_auto_status.group_prm_user",
        help="The follow-up job has not posted this change's note and activity yet.",
    )
    user_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        readonly=True,
        groups="prm_auto_status.group_prm_user",
    )

    @api.depends("email_template_id")
    def _compute_email_pending(self):
        for history in self:
            history.email_pending = bool(history.email_template_id)

    def write(self, vals):
        # Only a module upgrade may touch rows (e.g. translations, ORM
        # housekeeping); users and code may not.
        if not self.env.context.get("install_mode"):
            raise UserError(
                self.env._(
                    "The status history is a record of what happened and cannot be "
                    "edited."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(
            self.env._(
                "The status history is a record of what happened and cannot be "
                "deleted. Archive the program instead."
            )
        )

    @api.model
    def _insert_rows(self, rows):
        """Insert the history rows of an evaluation in one statement and
        return them.

        ``rows`` are dicts of field values as :meth:`create` takes them. The
        row's company, date, author and pending email are filled in as the
        ORM would; a review records a thousand changes at a time, which the
        ORM's create takes several times longer to write.

        Each column travels as one array parameter that PostgreSQL unnests:
        the statement stays the same size whatever the number of rows, so
        neither psycopg2 nor the server spends time on a VALUES list of tens
        of thousands of parameters.
        """
        if not rows:
            return self.browse()
        allowed = set(INSERTED_FIELDS)
        for row in rows:
            if not allowed.issuperset(row):
                unknown = sorted(set(row) - allowed)
                raise ValueError(f"History fields not inserted: {unknown}")
        programs = self.env["prm.status.program"].sudo()
        company_of = {
            program.id: program.company_id.id or None
            for program in programs.browse({row["program_id"] for row in rows})
        }
        columns = {
            name: self._column_values(name, [row.get(name) for row in rows])
            for name in INSERTED_FIELDS
        }
        columns["company_id"] = [company_of[row["program_id"]] for row in rows]
        columns["email_pending"] = [
            True if template else None for template in columns["email_template_id"]
        ]
        now = fields.Datetime.now()
        fixed = {"date": now, "user_id": self.env.uid}
        # A column with one value in every row (the program, the period,
        # the date of a review...) is sent once; the partner's always varies
        # between rows and keeps the unnest non-empty.
        selected, arrays = [], []
        for name, values in columns.items():
            column_type = SQL(self._fields[name].column_type[1])
            first = values[0]
            if name != "partner_id" and all(value == first for value in values):
                selected.append(SQL("%s::%s", first, column_type))
            else:
                selected.append(SQL.identifier("u", name))
                arrays.append((name, SQL("%s::%s[]", values, column_type)))
        selected.extend(SQL("%s", value) for value in fixed.values())
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) SELECT %s FROM unnest(%s) AS u(%s) RETURNING id",
                SQL.identifier(self._table),
                SQL(", ").join(SQL.identifier(name) for name in [*columns, *fixed]),
                SQL(", ").join(selected),
                SQL(", ").join(array for _name, array in arrays),
                SQL(", ").join(SQL.identifier(name) for name, _array in arrays),
            )
        )
        return self.browse(row_id for (row_id,) in self.env.cr.fetchall())

    def _column_values(self, name, values):
        """``values`` of field ``name`` as the ORM stores them."""
        field_type = self._fields[name].type
        if field_type == "json":
            return [Json(value) if value is not None else None for value in values]
        if field_type == "boolean":
            # Pending flags: NULL when off, so their indexes hold pending rows only.
            return [True if value else None for value in values]
        return [None if value is False else value for value in values]

    @api.model
    def _cron_follow_up_changes(self):
        """Follow up level changes in bounded batches: the chatter notes and
        activities a large review left to this job, then the emails.

        Reviews only record what a change sends: rendering thousands of
        notes and emails would weigh on the review's own transaction.
        """
        batch_size = self.env["prm.status.program"]._review_batch_size()
        done = remaining = 0
        for step in (self._follow_up_notes, self._follow_up_at_risk, self._send_emails):
            room = max(batch_size - done, 0)
            try:
                with self.env.cr.savepoint():
                    step_done, step_remaining = step(room)
            except Exception:  # noqa: BLE001 - logged; the other steps go on
                # Its rows stay pending and are tried again next time.
                _logger.exception(
                    "Follow-up of level changes: %s failed", step.__name__
                )
                step_done, step_remaining = 0, 0
            done += step_done
            remaining += step_remaining
        _logger.info(
            "Follow-up of level changes: %s done, %s remaining", done, remaining
        )
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining

    @api.model
    def _pending(self, records, flag, limit):
        """``records``' model's rows with ``flag`` set, oldest first, at most
        ``limit``; and how many are left after them."""
        domain = [(flag, "=", True)]
        rows = records.sudo().browse()
        if limit:  # a limit of 0 would mean no limit to search()
            rows = rows.search(domain, order="id", limit=limit)
        return rows, rows.search_count(domain) - len(rows)

    @api.model
    def _clear_flag(self, rows, flag):
        """Clear ``flag`` on ``rows`` by a plain UPDATE: history rows refuse
        writes, and the flag is all that changes."""
        rows.flush_recordset([flag])
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET %s = NULL WHERE id = ANY(%s)",
                SQL.identifier(rows._table),
                SQL.identifier(flag),
                rows.ids,
            )
        )
        rows.invalidate_recordset([flag])

    def _follow_up_notes(self, limit):
        histories, remaining = self._pending(self, "followup_pending", limit)
        if histories:
            self.env["prm.status.engine"]._follow_up_later(
                histories, self.env["prm.partner.status"]
            )
            self._clear_flag(histories, "followup_pending")
        return len(histories), remaining

    def _follow_up_at_risk(self, limit):
        statuses, remaining = self._pending(
            self.env["prm.partner.status"], "at_risk_activity_pending", limit
        )
        if statuses:
            self.env["prm.status.engine"]._follow_up_later(self.browse(), statuses)
            self._clear_flag(statuses, "at_risk_activity_pending")
        return len(statuses), remaining

    def _send_emails(self, limit):
        histories, remaining = self._pending(self, "email_pending", limit)
        statuses = (
            self.env["prm.partner.status"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", histories.partner_id.ids),
                    ("program_id", "in", histories.program_id.ids),
                ]
            )
        )
        status_of = {
            (status.partner_id.id, status.program_id.id): status for status in statuses
        }
        by_template = {}
        for history in histories:
            status = status_of.get((history.partner_id.id, history.program_id.id))
            if status and status.level_id:
                by_template.setdefault(history.email_template_id, []).append(status.id)
        for template, status_ids in by_template.items():
            # A template deleted since the change was saved sends nothing.
            if not template:
                continue
            try:
                with self.env.cr.savepoint():
                    template.sudo().send_mail_batch(list(dict.fromkeys(status_ids)))
            except Exception as error:  # noqa: BLE001 - one broken template
                # A template that cannot be rendered must not hold back the
                # other emails, notes and activities: its emails are given up,
                # and the history rows still say which email they were.
                _logger.warning(
                    "Level change emails of template %s (id %s) not sent: %s",
                    template.name,
                    template.id,
                    error,
                )
        if histories:
            self._clear_flag(histories, "email_pending")
        return len(histories), remaining
