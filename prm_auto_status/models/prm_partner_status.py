from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

# Marks the writes of the engine in the context. An object, not a flag: a
# client chooses the context of its calls but can only send JSON values.
ENGINE_WRITE = object()


class PrmPartnerStatus(models.Model):
    """A partner's standing in one program: its level, since when, and
    what the engine remembers between reviews (grace, overrides)."""

    _name = "prm.partner.status"
    _description = "Partner Status"
    _order = "program_id, level_rank desc, partner_id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", required=True, ondelete="cascade", index=True
    )
    program_id = fields.Many2one(
        "prm.status.program", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="program_id.company_id", store=True)
    level_id = fields.Many2one(
        "prm.status.level",
        ondelete="restrict",
        index=True,
        domain="[('program_id', '=', program_id)]",
    )
    level_rank = fields.Integer(related="level_id.rank", store=True)
    date_since = fields.Date(string="On Level Since")
    upgrade_date = fields.Date(
        string="Last Upgrade",
        help="The minimum time on a level counts from the last upgrade.",
    )
    # A review writes only the statuses it changes: the dates of a quiet
    # status come from the review run recorded on the program.
    evaluated_on = fields.Date(
        readonly=True,
        help="The date as of which the last evaluation that saved this status ran.",
    )
    reviewed_on = fields.Date(
        readonly=True,
        help="Date of the last scheduled review that saved this status, or "
        "that reviewed it for the first time.",
    )
    last_evaluation_date = fields.Date(
        compute="_compute_last_dates",
        help="The date the partner was last evaluated as of.",
    )
    last_review_date = fields.Date(
        compute="_compute_last_dates",
        help="Date of the last scheduled review that processed the partner.",
    )
    rule_id = fields.Many2one("prm.status.rule", string="Matched Rule")
    grace_failures = fields.Integer(
        string="Failed Reviews",
        help="Consecutive reviews the partner failed while keeping its level.",
    )
    last_failure_date = fields.Date()
    at_risk = fields.Boolean(help="The partner fails its level and is in grace.")
    at_risk_drop_date = fields.Date(
        string="Drops At Review Of",
        help="The review at which the partner drops if nothing changes.",
    )
    at_risk_activity_pending = fields.Boolean(
        readonly=True,
        index="btree_not_null",
        groups="prm_auto_status.group_prm_user",
        help="The follow-up job has not scheduled the at-risk activity yet.",
    )
    override_active = fields.Boolean(string="Manual Override")
    override_reason = fields.Text(groups="prm_auto_status.group_prm_user")
    override_until = fields.Date()
    override_user_id = fields.Many2one(
        "res.users", string="Overridden By", groups="prm_auto_status.group_prm_user"
    )
    proposed_level_id = fields.Many2one(
        "prm.status.level",
        string="Engine Would Set",
        groups="prm_auto_status.group_prm_user",
        help="During a manual override: the level the last review would have set.",
    )
    granted_tag_ids = fields.Many2many(
        "res.partner.category",
        "prm_partner_status_granted_tag_rel",
        "status_id",
        "tag_id",
        string="Tags Given by the Level",
        help="Tags the level gave the partner; they leave with the level. Tags "
        "the partner had before are left alone.",
    )
    currency_id = fields.Many2one(related="program_id.currency_id")
    explanation_html = fields.Html(compute="_compute_explanation_html", sanitize=False)

    _sql_constraints = [
        (
            "partner_program_unique",
            "unique(partner_id, program_id)",
            "A partner has one status per program.",
        ),
    ]

    @api.depends(
        "evaluated_on",
        "reviewed_on",
        "program_id.last_review_date",
        "program_id.review_date_pending",
        "program_id.review_done_until_id",
    )
    def _compute_last_dates(self):
        for status in self:
            reviewed = [status.reviewed_on, status.program_id._reviewed_on(status)]
            status.last_review_date = max(filter(None, reviewed), default=False)
            evaluated = [status.evaluated_on, status.last_review_date]
            status.last_evaluation_date = max(filter(None, evaluated), default=False)

    def _compute_explanation_html(self):
        for status in self:
            status.explanation_html = self.env["ir.qweb"]._render(
                "prm_auto_status.prm_status_explanation",
                {"explanation": status._get_explanation()},
            )

    @api.constrains("level_id", "program_id")
    def _check_level_program(self):
        for status in self:
            if status.level_id and status.level_id.program_id != status.program_id:
                raise ValidationError(
                    self.env._(
                        "The level “%(level)s” is not a level of program "
                        "“%(program)s”. Choose one of the program's levels.",
                        level=status.level_id.name,
                        program=status.program_id.name,
                    )
                )

    def _get_explanation(self, day=None):
        """Why the partner has its level, built by the engine."""
        self.ensure_one()
        return self.env["prm.status.engine"].explain(
            self.program_id, self.partner_id, day=day
        )

    @api.constrains("override_active", "override_until")
    def _check_override_until(self):
        if self._written_by_engine():
            return
        for status in self.filtered("override_active"):
            self._check_override_end(status.override_until)

    @api.model
    def _check_override_end(self, date_end):
        """Refuse an override that would already be over."""
        if date_end and date_end < fields.Date.context_today(self):
            raise ValidationError(
                self.env._(
                    "The override cannot end in the past (%(date)s). Choose today "
                    "or a later date, or leave it empty.",
                    date=date_end,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        if not self._written_by_engine() and any(
            vals.get("level_id") for vals in vals_list
        ):
            self._raise_level_by_hand()
        return super().create(vals_list)

    def write(self, vals):
        if "level_id" in vals and not self._written_by_engine():
            self._raise_level_by_hand()
        return super().write(vals)

    @api.model
    def _save_engine_changes(self, updates, ranks):
        """Save what a review changed, one UPDATE per set of values.

        ``updates`` maps a tuple of (field, value) pairs to the ids of the
        statuses that take them; ``ranks`` gives each level's rank. A review
        changes a few thousand statuses at most; plain UPDATEs spare the ORM's
        bookkeeping of each. The engine only sets levels of the status's own
        program, which is what the level constraint checks.
        """
        self.flush_model()
        now = fields.Datetime.now()
        for changes, status_ids in updates.items():
            vals = dict(changes)
            if "level_id" in vals:
                vals["level_rank"] = ranks.get(vals["level_id"], 0)
            assignments = [
                SQL("%s = %s", SQL.identifier(name), self._column_value(name, value))
                for name, value in vals.items()
            ]
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET %s, write_uid = %s, write_date = %s "
                    "WHERE id = ANY(%s)",
                    SQL.identifier(self._table),
                    SQL(", ").join(assignments),
                    self.env.uid,
                    now,
                    list(status_ids),
                )
            )
        if updates:
            self.invalidate_model()

    def _column_value(self, name, value):
        """``value`` of field ``name`` as the ORM stores it."""
        if self._fields[name].type == "boolean":
            return bool(value)
        return value if value is not False else None

    def _written_by_engine(self):
        return self.env.context.get("prm_engine") is ENGINE_WRITE

    def _raise_level_by_hand(self):
        raise UserError(
            self.env._(
                "A partner's level is set by the reviews, or by hand with “Set level "
                "by hand” on its status, which records the change in the history."
            )
        )

    def action_override(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._(
                "Set the level of %s by hand", self.partner_id.display_name
            ),
            "res_model": "prm.status.override.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_status_id": self.id,
                "default_level_id": self.level_id.id,
            },
        }

    def action_end_override(self):
        for status in self.filtered("override_active"):
            status._end_override()

    def _set_override(self, level, reason, date_end=False):
        """Hold ``level`` by hand until ``date_end`` (included, or for good);
        reviews keep recording what they would decide meanwhile."""
        self.ensure_one()
        self._check_override_end(date_end)
        old_level = self.level_id
        self.with_context(prm_engine=ENGINE_WRITE).write(
            {
                "level_id": level.id or False,
                "override_active": True,
                "override_reason": reason,
                "override_until": date_end or False,
                "override_user_id": self.env.user.id,
                "at_risk": False,
                "grace_failures": 0,
                "date_since": fields.Date.context_today(self)
                if level != old_level
                else self.date_since,
            }
        )
        self.partner_id._prm_sync_levels()
        decisions = self.env["prm.status.engine"]._after_changes_for_statuses(
            self, old_level, "override"
        )
        self._record_manual_change(
            old_level, "override", reason, benefits=decisions[0].benefits
        )

    def _end_override(self):
        self.ensure_one()
        reason = self.env._("Override ended by %s.", self.env.user.name)
        self.write(
            {
                "override_active": False,
                "override_until": False,
                "override_reason": False,
            }
        )
        self._record_manual_change(self.level_id, "override_end", reason)

    def _record_manual_change(self, old_level, trigger, reason, benefits=False):
        engine = self.env["prm.status.engine"]
        history = (
            self.env["prm.status.history"]
            .sudo()
            .create(
                {
                    "partner_id": self.partner_id.id,
                    "program_id": self.program_id.id,
                    "old_level_id": old_level.id or False,
                    "new_level_id": self.level_id.id or False,
                    "direction": engine._rank_direction(old_level, self.level_id),
                    "evaluation_date": fields.Date.context_today(self),
                    "trigger": trigger,
                    "reason": reason,
                    "benefits": benefits or False,
                    "email_template_id": engine._email_template(
                        self.program_id, old_level, self.level_id
                    ).id
                    if trigger == "override"
                    else False,
                    "user_id": self.env.user.id,
                }
            )
        )
        if history.email_template_id:
            engine._trigger_follow_up()
        return history

    def action_view_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prm_auto_status.prm_status_history_action"
        )
        action["domain"] = [
            ("partner_id", "=", self.partner_id.id),
            ("program_id", "=", self.program_id.id),
        ]
        return action
