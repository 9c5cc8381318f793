import logging
from datetime import datetime, time
from time import monotonic

import psycopg2.errors
import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

CONCURRENCY_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.LockNotAvailable,
    psycopg2.errors.DeadlockDetected,
)

PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
REVIEW_CRONS = {
    "weekly": "prm_auto_status.ir_cron_prm_review_weekly",
    "monthly": "prm_auto_status.ir_cron_prm_review_monthly",
    "quarterly": "prm_auto_status.ir_cron_prm_review_quarterly",
    "yearly": "prm_auto_status.ir_cron_prm_review_yearly",
}


def check_domain_for_model(env, domain, model_name, label):
    """Raise a ValidationError unless ``domain`` is a valid domain of
    ``model_name``; ``label`` names the domain for the user."""
    if not model_name or model_name not in env:
        return
    if domain is not False and not (domain or "").strip():
        raise ValidationError(
            env._(
                "The domain of %(label)s is empty. Write [] to select all records.",
                label=label,
            )
        )
    try:
        parsed = safe_eval(domain or "[]")
    except Exception as error:
        raise ValidationError(
            env._(
                "The domain of %(label)s cannot be read (%(error)s). Edit it with "
                "the domain editor, or write a list such as "
                "[('is_company', '=', True)].",
                label=label,
                error=error,
            )
        ) from error
    if not isinstance(parsed, list | tuple):
        raise ValidationError(
            env._(
                "The domain of %(label)s must be a list of conditions, such as "
                "[('is_company', '=', True)].",
                label=label,
            )
        )
    try:
        # Run it once: a value of the wrong type (a date written as text)
        # only fails in the database.
        with env.cr.savepoint():
            env[model_name].sudo().with_context(active_test=False).search_count(
                list(parsed), limit=1
            )
    except Exception as error:
        raise ValidationError(
            env._(
                "The domain of %(label)s is not valid for %(model)s: %(error)s. "
                "Check the field names with the domain editor.",
                label=label,
                model=model_name,
                error=error,
            )
        ) from error


def period_bounds(day, unit, count):
    """Return the local dates (start, end) of the ``count`` whole calendar
    periods of ``unit`` that end before ``day``; ``end`` is excluded."""
    months = PERIOD_MONTHS[unit]
    month_index = day.month - 1
    end = day.replace(month=month_index - month_index % months + 1, day=1)
    start = end - relativedelta(months=months * count)
    return start, end


class PrmStatusProgram(models.Model):
    """A partner program: who takes part, how metrics are measured, how
    often partners are reviewed and the levels they can reach."""

    _name = "prm.status.program"
    _description = "Partner Status Program"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"

    @api.model
    def _tz_get(self):
        return [(tz, tz) for tz in sorted(pytz.all_timezones)]

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    state = fields.Selection(
        [("draft", "Draft"), ("running", "Running")],
        default="draft",
        required=True,
        tracking=True,
        help="Scheduled reviews only touch running programs. A draft program "
        "can be previewed and evaluated by hand.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    tz = fields.Selection(
        "_tz_get",
        string="Timezone",
        help="Period boundaries are local dates in this timezone. Empty: the "
        "company's timezone, else UTC.",
    )
    partner_domain = fields.Char(
        string="Participants",
        groups="prm_auto_status.group_prm_user",
        default="[('is_company', '=', True)]",
        required=True,
        help="Which partners take part in the program.",
    )
    period_unit = fields.Selection(
        [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")],
        required=True,
        default="quarter",
        tracking=True,
    )
    period_mode = fields.Selection(
        [("last", "Last closed period"), ("last_n", "Last N closed periods")],
        required=True,
        default="last",
        tracking=True,
    )
    period_count = fields.Integer(
        string="Number of Periods",
        default=1,
        help="With 'Last N closed periods', how many whole periods the metrics "
        "are summed over.",
    )
    review_frequency = fields.Selection(
        [
            ("weekly", "Weekly"),
            ("monthly", "Monthly"),
            ("quarterly", "Quarterly"),
            ("yearly", "Yearly"),
        ],
        required=True,
        default="quarterly",
        tracking=True,
    )
    no_level_policy = fields.Selection(
        [("lowest", "Lowest level"), ("none", "No level")],
        string="Partners Meeting No Rule",
        required=True,
        default="lowest",
        help="Where partners that meet no rule stand.",
    )
    downgrade_policy = fields.Selection(
        [
            ("immediate", "Immediately"),
            ("grace", "After consecutive failed reviews"),
            ("never", "Never (levels only go up)"),
        ],
        required=True,
        default="immediate",
        tracking=True,
    )
    grace_reviews = fields.Integer(
        string="Failed Reviews Before Downgrade",
        default=2,
        help="A partner drops only after this many consecutive reviews that it "
        "fails; until then it keeps its level and is marked at risk.",
    )
    min_periods_on_level = fields.Integer(
        string="Minimum Periods on a Level",
        default=0,
        help="After an upgrade, no downgrade for this many periods.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Program Manager",
        default=lambda self: self.env.user,
        help="Follows up downgrades of partners that have no salesperson.",
    )
    notify_upgrade = fields.Boolean(
        string="Email on Upgrade",
        default=True,
        help="Email partners when they move up.",
    )
    upgrade_template_id = fields.Many2one(
        "mail.template",
        string="Upgrade Email",
        domain="[('model', '=', 'prm.partner.status')]",
        default=lambda self: self.env.ref(
            "prm_auto_status.mail_template_prm_upgrade", raise_if_not_found=False
        ),
    )
    notify_downgrade = fields.Boolean(
        string="Email on Downgrade",
        default=True,
        help="Email partners when they move down.",
    )
    downgrade_template_id = fields.Many2one(
        "mail.template",
        string="Downgrade Email",
        domain="[('model', '=', 'prm.partner.status')]",
        default=lambda self: self.env.ref(
            "prm_auto_status.mail_template_prm_downgrade", raise_if_not_found=False
        ),
    )
    level_ids = fields.One2many("prm.status.level", "program_id", string="Levels")
    status_ids = fields.One2many(
        "prm.partner.status", "program_id", groups="prm_auto_status.group_prm_user"
    )
    status_count = fields.Integer(compute="_compute_status_count")
    last_review_date = fields.Date(readonly=True, copy=False)
    review_date_pending = fields.Date(
        readonly=True,
        copy=False,
        help="Date of a review still running over batches of partners.",
    )
    review_done_until_id = fields.Integer(
        readonly=True,
        copy=False,
        help="The review still running has reviewed the partners up to this id.",
    )
    next_review_date = fields.Datetime(compute="_compute_next_review_date")

    @api.depends("status_ids.level_id")
    def _compute_status_count(self):
        counts = dict(
            self.env["prm.partner.status"]._read_group(
                [("program_id", "in", self.ids), ("level_id", "!=", False)],
                ["program_id"],
                ["__count"],
            )
        )
        for program in self:
            program.status_count = counts.get(program, 0)

    @api.depends("review_frequency", "state")
    def _compute_next_review_date(self):
        crons = {
            frequency: self.env.ref(xmlid, raise_if_not_found=False)
            for frequency, xmlid in REVIEW_CRONS.items()
        }
        for program in self:
            cron = crons.get(program.review_frequency)
            program.next_review_date = (
                cron.sudo().nextcall
                if cron and cron.sudo().active and program.state == "running"
                else False
            )

    @api.constrains("period_mode", "period_count")
    def _check_period_count(self):
        for program in self:
            if program.period_mode == "last_n" and program.period_count < 1:
                raise ValidationError(
                    self.env._(
                        "Program “%(program)s”: the number of periods must be 1 or "
                        "more (it is %(count)s).",
                        program=program.name,
                        count=program.period_count,
                    )
                )

    @api.constrains("downgrade_policy", "grace_reviews", "min_periods_on_level")
    def _check_downgrade_policy(self):
        for program in self:
            if program.downgrade_policy == "grace" and program.grace_reviews < 1:
                raise ValidationError(
                    self.env._(
                        "Program “%(program)s”: the number of failed reviews before "
                        "a downgrade must be 1 or more; choose 'Immediately' to "
                        "drop partners at the first failed review.",
                        program=program.name,
                    )
                )
            if program.min_periods_on_level < 0:
                raise ValidationError(
                    self.env._(
                        "Program “%(program)s”: the minimum number of periods on a "
                        "level cannot be negative; use 0 for no minimum.",
                        program=program.name,
                    )
                )

    @api.constrains("company_id")
    def _check_levels_company(self):
        self.level_ids._check_pricelist_company()

    @api.constrains("partner_domain")
    def _check_partner_domain(self):
        for program in self:
            check_domain_for_model(
                self.env,
                program.partner_domain,
                "res.partner",
                self.env._("the participants of program “%s”", program.name),
            )

    @api.model_create_multi
    def create(self, vals_list):
        programs = super().create(vals_list)
        # The partner fields watched for profile changes depend on programs.
        self.env.registry.clear_cache()
        return programs

    def write(self, vals):
        # Ranks written through the program form (a swap, a new bottom level)
        # are checked once all lines are written, not line by line.
        res = super(
            PrmStatusProgram, self.with_context(prm_defer_rank_check=True)
        ).write(vals)
        if "level_ids" in vals:
            self.level_ids._check_rank_unique()
        if "partner_domain" in vals:
            self.env.registry.clear_cache()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_history(self):
        programs = (
            self.env["prm.status.history"]
            .sudo()
            .search([("program_id", "in", self.ids)])
            .program_id
        )
        if programs:
            raise UserError(
                self.env._(
                    "Program “%s” has a status history, which must be kept. Archive "
                    "the program instead of deleting it.",
                    programs[0].name,
                )
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_start(self):
        self.write({"state": "running"})

    def action_set_draft(self):
        # A review still running over batches stops here: started again, the
        # program is reviewed on the next scheduled day, not on the old one.
        self.write(
            {"state": "draft", "review_date_pending": False, "review_done_until_id": 0}
        )

    def action_evaluate_now(self):
        """Open the wizard that evaluates the program's partners now."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Evaluate %s", self.name),
            "res_model": "prm.status.evaluate.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_program_id": self.id},
        }

    def action_preview(self):
        """Open the evaluation wizard in preview mode: nothing is saved."""
        action = self.action_evaluate_now()
        action["name"] = self.env._("Preview %s", self.name)
        action["context"] = dict(action["context"], prm_preview=True)
        return action

    def action_view_statuses(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prm_auto_status.prm_partner_status_action"
        )
        action["domain"] = [("program_id", "=", self.id)]
        action["context"] = {"default_program_id": self.id}
        return action

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _get_tz(self):
        self.ensure_one()
        name = self.tz or self.company_id.partner_id.tz or "UTC"
        return pytz.timezone(name)

    def _today(self):
        """Today's date in the program's timezone."""
        return (
            fields.Datetime.now()
            .replace(tzinfo=pytz.utc)
            .astimezone(self._get_tz())
            .date()
        )

    def _get_period(self, day):
        """Return (first day, last day) of the period the metrics of an
        evaluation on ``day`` cover; both included."""
        self.ensure_one()
        count = self.period_count if self.period_mode == "last_n" else 1
        start, end = period_bounds(day, self.period_unit, count)
        return start, end - relativedelta(days=1)

    def _get_participant_domain(self):
        self.ensure_one()
        return safe_eval(self.partner_domain or "[]")

    def _get_participants(self, partners=None):
        """Commercial partners taking part in the program, among
        ``partners`` when given."""
        self.ensure_one()
        # A company does not take part in its own partner program.
        own_companies = (
            self.env["res.company"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "!=", False)])
            .partner_id
        )
        domain = self._get_participant_domain() + [
            ("company_id", "in", [False, self.company_id.id]),
            ("id", "not in", own_companies.ids),
        ]
        Partner = self.env["res.partner"].sudo()
        if partners is not None:
            commercial_ids = list(set(partners.commercial_partner_id.ids))
            domain.append(("id", "in", commercial_ids))
        # Commercial entities only: companies, and individuals of no company.
        domain += ["|", ("is_company", "=", True), ("parent_id", "=", False)]
        # In the order of their ids: sorting thousands of partners by name
        # would cost the review time for an order nothing needs.
        return Partner.search(domain, order="id")

    def _get_levels(self):
        """Levels from the lowest rank to the highest."""
        self.ensure_one()
        return self.level_ids.sorted("rank")

    def _evaluate(self, partners=None, day=None, trigger="review", apply=True):
        """Evaluate ``partners`` (default: every participant) as of ``day``
        (default: today) and, when ``apply``, save the levels they reach.

        This is the single entry point of the engine, used by the scheduled
        reviews, the "Evaluate now" button, the preview and the portal.
        Returns the list of :class:`PartnerDecision` of the engine.
        """
        self.ensure_one()
        return self.env["prm.status.engine"].evaluate(
            self, partners=partners, day=day, trigger=trigger, apply=apply
        )

    def _lock_for_review(self, wait=False):
        """Take the program's review lock for the current transaction.

        Returns False when another transaction holds it and ``wait`` is off.
        """
        self.ensure_one()
        key = SQL("hashtext(%s)", f"prm_status_program:{self.id}")
        if wait:
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", key))
            return True
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s)", key))
        return self.env.cr.fetchone()[0]

    def _raise_if_locked(self):
        if not self._lock_for_review():
            raise UserError(
                self.env._(
                    "A review of “%s” is running right now. Wait until it ends "
                    "and try again.",
                    self.name,
                )
            )

    # ------------------------------------------------------------------
    # Scheduled reviews
    # ------------------------------------------------------------------

    @api.model
    def _cron_review(self, frequency):
        """Review the running programs reviewed at ``frequency``, one bounded
        batch of partners per call; progress is reported to the cron so a
        large review spreads over several calls and resumes after a crash."""
        programs = self.search(
            [("state", "=", "running"), ("review_frequency", "=", frequency)]
        )
        batch_size = self._review_batch_size()
        # The jobs fire early on their day in UTC. West of UTC that day has
        # not begun yet and its last period is still open: such a program is
        # reviewed by a second run of the job at its local midnight.
        scheduled_day = fields.Date.context_today(self.with_context(tz="UTC"))
        done = remaining = 0
        for program in programs:
            if not program._is_reviewable():
                continue
            if not program.review_date_pending and program._today() < scheduled_day:
                program._schedule_review_at_local_midnight(frequency, scheduled_day)
                continue
            if not program._lock_for_review():
                _logger.info(
                    "Program %s: another review holds the lock, skipped", program.name
                )
                remaining += 1
                continue
            room = max(batch_size - done, 0)
            program_done, program_remaining = program._review_batch(room)
            done += program_done
            remaining += program_remaining
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining

    def _schedule_review_at_local_midnight(self, frequency, day):
        self.ensure_one()
        cron = self.env.ref(REVIEW_CRONS[frequency], raise_if_not_found=False)
        local_midnight = self._get_tz().localize(datetime.combine(day, time.min))
        at = local_midnight.astimezone(pytz.utc).replace(tzinfo=None)
        _logger.info(
            "Program %s: %s has not begun in %s; review deferred to %s UTC",
            self.name,
            day,
            self._get_tz().zone,
            at,
        )
        if cron:
            cron.sudo()._trigger(at=at)

    @api.model
    def _cron_review_weekly(self):
        return self._cron_review("weekly")

    @api.model
    def _cron_review_monthly(self):
        return self._cron_review("monthly")

    @api.model
    def _cron_review_quarterly(self):
        return self._cron_review("quarterly")

    @api.model
    def _cron_review_yearly(self):
        return self._cron_review("yearly")

    @api.model
    def _cron_review_changed_profiles(self, day=None):
        """Re-evaluate, in every running program, the partners whose profile
        changed since their last evaluation, as of ``day`` (default: today
        in each program's timezone)."""
        started = monotonic()
        batch_size = self._review_batch_size()
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        marked = Partner.browse(self.env["prm.review.mark"]._marked_partner_ids())
        batch, rest = marked[:batch_size], marked[batch_size:]
        changed = 0
        failed = self.env["res.partner"]
        for program in self.search([("state", "=", "running")]):
            if not program._is_reviewable() or not program._lock_for_review(wait=True):
                continue
            decisions, failures = program._evaluate_safely(
                batch, day or program._today(), "profile"
            )
            changed += sum(1 for decision in decisions if decision.changed)
            failed = failed.union(*failures)
        # Partners that failed stay marked and are tried again next time.
        (batch - failed)._prm_unmark()
        _logger.info(
            "Profile changes: %s partners evaluated, %s levels changed, "
            "%s failed, %.2f seconds",
            len(batch),
            changed,
            len(failed),
            monotonic() - started,
        )
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=len(rest))
        return len(batch), len(rest)

    @api.model
    def _review_batch_size(self):
        param = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("prm_auto_status.review_batch_size", "1000")
        )
        try:
            return max(int(param), 1)
        except ValueError:
            _logger.warning(
                "prm_auto_status.review_batch_size is not a number (%r); using 1000",
                param,
            )
            return 1000

    def _is_reviewable(self):
        """Whether the jobs can review the program; warns about what is
        missing instead of failing."""
        self.ensure_one()
        if not self.level_ids:
            _logger.warning(
                "Program %s (id %s) has no levels: review skipped", self.name, self.id
            )
            return False
        start_level = (
            self._get_levels()[:1] if self.no_level_policy == "lowest" else None
        )
        for level in self.level_ids - (start_level or self.level_ids.browse()):
            if not level.rule_ids:
                _logger.warning(
                    "Program %s: level %s has no rules and cannot be reached",
                    self.name,
                    level.name,
                )
        return True

    def _review_batch(self, limit):
        """Review up to ``limit`` partners not yet reviewed in the current
        run; return (partners done, partners remaining).

        Partners are reviewed in the order of their ids and the run records
        how far it got: a quiet partner is reviewed without writing anything.
        """
        self.ensure_one()
        if not self.review_date_pending:
            today = self._today()
            if self.last_review_date == today:
                return 0, 0  # the job ran again on a day already reviewed
            self.write({"review_date_pending": today, "review_done_until_id": 0})
        day = self.review_date_pending
        todo = self._partners_to_review()
        batch = todo[:limit]
        if batch:
            started = monotonic()
            decisions, failures = self._evaluate_safely(batch, day, "review")
            _logger.info(
                "Review of %s on %s: %s partners evaluated, %s levels changed, "
                "%s failed, %.2f seconds",
                self.name,
                day,
                len(batch),
                sum(1 for decision in decisions if decision.changed),
                len(failures),
                monotonic() - started,
            )
            self.review_done_until_id = batch[-1].id
        remaining = len(todo) - len(batch)
        if not remaining:
            self.write(
                {
                    "last_review_date": day,
                    "review_date_pending": False,
                    "review_done_until_id": 0,
                }
            )
        return len(batch), remaining

    def _partners_to_review(self):
        """Participants and level holders the running review has not
        reached yet, in the order of their ids."""
        self.ensure_one()
        holders = (
            self.env["prm.partner.status"]
            .sudo()
            .search([("program_id", "=", self.id), ("level_id", "!=", False)])
            .partner_id
        )
        candidates = self._get_participants() | holders
        done_until = self.review_done_until_id
        return candidates.filtered(lambda partner: partner.id > done_until).sorted("id")

    def _reviewed_on(self, status):
        """Date of the last scheduled review of this program that covered
        ``status``, whether or not it changed it; False if none did.

        A review writes only the statuses it changes, and stamps those it
        reviews for the first time: a status that holds a level is reviewed
        by every later run. A status without a level may not be (its partner
        may no longer take part): reviews stamp it themselves.
        """
        if not self or not status.reviewed_on or not status.level_id:
            return False
        # The status may be a new record of a partner being edited.
        partner_id = status.partner_id._origin.id or 0
        if self.review_date_pending and partner_id <= self.review_done_until_id:
            return self.review_date_pending
        return self.last_review_date

    def _evaluate_safely(self, partners, day, trigger):
        """Evaluate ``partners``; when the batch fails, evaluate them one by
        one so that a partner that raises is logged and skipped while the
        others go on. Returns (decisions, failed partners)."""
        self.ensure_one()
        # Pending writes of the caller must not fail inside a savepoint and
        # be taken for a partner's failure.
        self.env.flush_all()
        try:
            with self.env.cr.savepoint():
                return self._evaluate(partners, day, trigger=trigger), []
        except CONCURRENCY_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - retried partner by partner below
            _logger.debug("Program %s: batch failed, retrying one by one", self.name)
        decisions, failures = [], []
        for partner in partners:
            try:
                with self.env.cr.savepoint():
                    decisions += self._evaluate(partner, day, trigger=trigger)
            except CONCURRENCY_ERRORS:
                # Another transaction changed the same rows: the whole job
                # is retried by the scheduler, not one partner skipped.
                raise
            except Exception as error:  # noqa: BLE001 - logged, partner skipped
                _logger.warning(
                    "Program %s: partner %s (id %s) could not be evaluated: %s",
                    self.name,
                    partner.display_name,
                    partner.id,
                    error,
                )
                failures.append(partner)
        if failures and trigger == "review":
            self._mark_reviewed(self.env["res.partner"].union(*failures), day)
        return decisions, failures

    def _mark_reviewed(self, partners, day):
        """Record that ``partners`` were handled by the review of ``day``
        without changing their level (used for partners that failed)."""
        Status = self.env["prm.partner.status"].sudo()
        statuses = Status.search(
            [("program_id", "=", self.id), ("partner_id", "in", partners.ids)]
        )
        statuses.write({"reviewed_on": day})
        missing = partners - statuses.partner_id
        Status.create(
            [
                {
                    "partner_id": partner.id,
                    "program_id": self.id,
                    "reviewed_on": day,
                }
                for partner in missing
            ]
        )
