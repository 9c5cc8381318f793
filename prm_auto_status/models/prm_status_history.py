import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

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
    def _cron_send_level_emails(self):
        """Send the emails of level changes, in bounded batches.

        Reviews only record which email a change sends: rendering thousands
        of emails would weigh on the review's own transaction.
        """
        batch_size = self.env["prm.status.program"]._review_batch_size()
        histories = self.sudo().search(
            [("email_pending", "=", True)], order="id", limit=batch_size
        )
        remaining = self.sudo().search_count([("email_pending", "=", True)]) - len(
            histories
        )
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
            template.sudo().send_mail_batch(list(dict.fromkeys(status_ids)))
        if histories:
            # History rows refuse writes; only this flag changes.
            histories.flush_recordset(["email_pending"])
            self.env.cr.execute(
                SQL(
                    "UPDATE prm_status_history SET email_pending = FALSE "
                    "WHERE id = ANY(%s)",
                    histories.ids,
                )
            )
            histories.invalidate_recordset(["email_pending"])
        _logger.info(
            "Level change emails: %s sent, %s remaining", len(histories), remaining
        )
        self.env["ir.cron"]._notify_progress(done=len(histories), remaining=remaining)
        return len(histories), remaining
