"""The evaluation engine: one place that turns metrics and rules into levels.

The scheduled reviews, the "Evaluate now" wizard, the preview, the partner
form and the portal all go through :meth:`PrmStatusEngine.evaluate` or
:meth:`PrmStatusEngine.explain`; nothing else computes a level.

An evaluation runs in four steps, each set-based over a batch of partners:

1. measure: one grouped query per metric for the program's period;
2. match: which rules hold, with entry values and with keep values;
3. decide: apply the program's policy (grace, minimum time, overrides);
4. apply: write statuses and history rows, notify, grant benefits.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from .prm_partner_status import ENGINE_WRITE
from .prm_status_condition import meets
from .prm_status_program import PERIOD_MONTHS

_logger = logging.getLogger(__name__)


@dataclass
class Measure:
    """Metric values of a batch of partners for one period."""

    period_start: object
    period_end: object
    values: dict  # {partner id: {metric id: value}}

    def of(self, partner_id):
        return self.values.get(partner_id, {})


@dataclass
class PartnerDecision:
    """What the engine decides for one partner in one program."""

    partner_id: int
    old_level: object  # prm.status.level record, possibly empty
    new_level: object
    rule: object  # the rule that matched new/qualified level
    values: dict
    outcome: str = "unchanged"
    reason: str = ""
    at_risk: bool = False
    at_risk_drop_date: object = None
    grace_failures: int = 0
    last_failure_date: object = None
    held_by_override: bool = False
    status: object = None
    extra: dict = field(default_factory=dict)

    @property
    def changed(self):
        return self.old_level != self.new_level


def format_metric_value(metric, value):
    """A metric value as text: amounts with two decimals, counts whole."""
    if metric.aggregation == "sum":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _comparable(value):
    """A status field's value in the form the engine writes it."""
    if isinstance(value, models.BaseModel):
        return value.id or False
    return value or False


# Status fields that every evaluation stamps; written by plain SQL when they
# are all that changes.
DATE_ONLY_FIELDS = frozenset({"last_evaluation_date", "last_review_date"})


class RuleBook:
    """A program's rules compiled to plain Python values.

    ``profiles`` maps a rule id to the set of partner ids matching its
    profile filter; rules without a filter are absent (they match anyone).
    """

    def __init__(self, program, profiles):
        self.profiles = profiles
        self._rules_by_level = {}
        self._conditions = {}
        for level in program.level_ids:
            self._rules_by_level[level.id] = level.rule_ids
            for rule in level.rule_ids:
                self._conditions[rule.id] = [
                    (
                        condition.metric_id.id,
                        condition.operator,
                        condition.value,
                        condition.keep_value if condition.has_keep_value else None,
                    )
                    for condition in rule.condition_ids
                ]

    def __contains__(self, rule_id):
        return rule_id in self.profiles

    def __getitem__(self, rule_id):
        return self.profiles[rule_id]

    def rules_of(self, level):
        return self._rules_by_level.get(level.id, level.rule_ids)

    def has_keep_values(self, rule_id):
        return any(keep is not None for *_rest, keep in self._conditions[rule_id])

    def holds(self, rule_id, partner_id, values, keep=False):
        """Whether every condition of the rule holds for ``values`` (with
        keep values when ``keep``) and the partner matches its profile."""
        if rule_id in self.profiles and partner_id not in self.profiles[rule_id]:
            return False
        for metric_id, operator, value, keep_value in self._conditions[rule_id]:
            threshold = keep_value if keep and keep_value is not None else value
            if not meets(operator, values.get(metric_id, 0.0), threshold):
                return False
        return True


class PrmStatusEngine(models.AbstractModel):
    _name = "prm.status.engine"
    _description = "Partner Status Engine"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    @api.model
    def evaluate(self, program, partners=None, day=None, trigger="review", apply=True):
        """Evaluate partners of ``program`` as of ``day`` and return their
        decisions; save them when ``apply`` is true.

        ``partners`` defaults to every participant. Partners that no longer
        take part but still hold a level in the program lose it.
        """
        program.ensure_one()
        day = day or program._today()
        participants = program._get_participants(partners)
        statuses = self._get_statuses(program, partners)
        leavers = statuses.partner_id - participants
        measure = self._measure(program, participants, day)
        decisions = self._decide(program, participants, statuses, measure, day, trigger)
        decisions += self._decide_leavers(program, statuses, leavers)
        if apply:
            self._apply(program, decisions, measure, day, trigger)
        return decisions

    @api.model
    def explain(self, program, partner, day=None):
        """Return a dict telling why ``partner`` stands where it does in
        ``program``: values, conditions met or not with their gaps, keep
        thresholds and what the next review does if nothing changes."""
        partner = partner.commercial_partner_id
        participants = program._get_participants(partner)
        status = self._get_statuses(program, partner)
        if day is None:
            # Today, unless the level was set by an evaluation dated later
            # (a review run ahead of time): its figures are the ones shown.
            day = max(program._today(), status.last_evaluation_date or date.min)
        measure = self._measure(program, participants, day)
        # The policy is applied as the next scheduled review would apply it,
        # on today's figures: "if nothing changes". On a review day, before
        # the review ran, that review is today's.
        next_review = self._review_after(program, day, 1)
        is_review_day = self._review_after(program, day - relativedelta(days=1), 1)
        if is_review_day == day and not (status and status.last_review_date == day):
            next_review = day
        decisions = self._decide(
            program, participants, status, measure, next_review, "review"
        )
        decision = decisions[0] if decisions else None
        explanation = self._build_explanation(
            program, partner, status, measure, decision, day
        )
        explanation["next_review_date"] = next_review
        return explanation

    # ------------------------------------------------------------------
    # Step 1: measure
    # ------------------------------------------------------------------

    @api.model
    def _measure(self, program, partners, day, metrics=None):
        """Values of ``metrics`` (default: those the program's rules use) for
        ``partners`` over the program's period for an evaluation on ``day``."""
        period_start, period_end = program._get_period(day)
        values = {partner_id: {} for partner_id in partners.ids}
        if metrics is None:
            metrics = program.level_ids.rule_ids.condition_ids.metric_id
        tz = program._get_tz()
        end_excluded = period_end + relativedelta(days=1)
        # Metric definitions are configuration, read whatever the user's rights.
        for metric in metrics.sudo():
            per_partner = metric._read_values(
                partners.ids, period_start, end_excluded, program.company_id, tz
            )
            for partner_id, partner_values in values.items():
                partner_values[metric.id] = per_partner.get(partner_id, 0.0)
        return Measure(period_start, period_end, values)

    # ------------------------------------------------------------------
    # Step 2: match
    # ------------------------------------------------------------------

    @api.model
    def _profile_matches(self, program, partners):
        """The program's rules compiled for ``partners``: which partners
        match each rule's profile filter (one search per filtered rule) and
        each condition as plain values, so that matching thousands of
        partners reads no field."""
        matches = {}
        Partner = self.env["res.partner"].sudo()
        for rule in program.level_ids.rule_ids:
            domain = rule._get_profile_domain()
            if domain:
                matches[rule.id] = set(
                    Partner.search(domain + [("id", "in", partners.ids)]).ids
                )
        return RuleBook(program, matches)

    @api.model
    def _first_rule(self, level, partner_id, values, profiles, keep=False):
        """The first rule of ``level`` that holds, or an empty recordset."""
        for rule in profiles.rules_of(level):
            if profiles.holds(rule.id, partner_id, values, keep=keep):
                return rule
        return self.env["prm.status.rule"]

    @api.model
    def _qualify(self, program, levels, partner_id, values, profiles):
        """Highest level one of whose rules holds with entry values, with
        the rule; the start level or nothing when none holds."""
        for level in reversed(levels):
            rule = self._first_rule(level, partner_id, values, profiles)
            if rule:
                return level, rule
        empty_rule = self.env["prm.status.rule"]
        if program.no_level_policy == "lowest" and levels:
            return levels[0], empty_rule
        return levels.browse(), empty_rule

    # ------------------------------------------------------------------
    # Step 3: decide
    # ------------------------------------------------------------------

    @api.model
    def _get_statuses(self, program, partners=None):
        domain = [("program_id", "=", program.id)]
        if partners is not None:
            # The partners' own statuses too: a company that became a contact
            # holds a status it must lose.
            partner_ids = set(partners.ids) | set(partners.commercial_partner_id.ids)
            domain.append(("partner_id", "in", list(partner_ids)))
        return self.env["prm.partner.status"].sudo().search(domain)

    @api.model
    def _decide(self, program, partners, statuses, measure, day, trigger):
        levels = program._get_levels()
        profiles = self._profile_matches(program, partners)
        status_by_partner = {status.partner_id.id: status for status in statuses}
        decisions = []
        for partner_id in partners.ids:
            values = measure.of(partner_id)
            status = status_by_partner.get(partner_id)
            qualified, rule = self._qualify(
                program, levels, partner_id, values, profiles
            )
            decision = PartnerDecision(
                partner_id=partner_id,
                old_level=status.level_id if status else levels.browse(),
                new_level=qualified,
                rule=rule,
                values=values,
                status=status,
            )
            if status:
                self._apply_policy(program, decision, status, profiles, day, trigger)
            decision.outcome = self._outcome(decision, status)
            decisions.append(decision)
        return decisions

    @api.model
    def _apply_policy(self, program, decision, status, profiles, day, trigger):
        """Adjust ``decision`` for a partner that already has a status:
        keep thresholds, manual override, minimum time and downgrade policy."""
        current = status.level_id
        decision.grace_failures = status.grace_failures
        decision.last_failure_date = status.last_failure_date
        if current and current.rank > (decision.new_level.rank or 0):
            keep_rule = self._first_rule(
                current, decision.partner_id, decision.values, profiles, keep=True
            )
            if keep_rule and profiles.has_keep_values(keep_rule.id):
                decision.new_level = current
                decision.rule = keep_rule
                decision.reason = self.env._(
                    "Keeps %s: the keep thresholds hold.", current.name
                )

        if status.override_active and self._override_ended(status, day):
            decision.extra["override_ended"] = True
        elif status.override_active:
            decision.held_by_override = True
            decision.extra["proposed_level"] = decision.new_level
            decision.new_level = current
            decision.reason = self.env._(
                "Manual override by %(user)s: %(reason)s",
                user=status.override_user_id.name or "",
                reason=status.override_reason or "",
            )
            return

        if not current or decision.new_level.rank >= current.rank:
            decision.grace_failures = 0
            decision.last_failure_date = False
            return

        # The partner fails its current level.
        if program.downgrade_policy == "never":
            decision.reason = self.env._(
                "Keeps %s: this program never downgrades.", current.name
            )
            decision.new_level = current
            return
        if program.min_periods_on_level and status.upgrade_date:
            months = PERIOD_MONTHS[program.period_unit] * program.min_periods_on_level
            allowed_from = status.upgrade_date + relativedelta(months=months)
            if day < allowed_from:
                decision.reason = self.env._(
                    "Keeps %(level)s until %(date)s: minimum time on the level.",
                    level=current.name,
                    date=allowed_from,
                )
                decision.new_level = current
                return
        if program.downgrade_policy == "grace":
            if trigger != "review":
                # Only scheduled reviews count toward the grace period; an
                # evaluation in between leaves the partner where it stands.
                decision.at_risk = status.at_risk
                decision.at_risk_drop_date = status.at_risk_drop_date
                decision.new_level = current
                decision.reason = self.env._(
                    "Keeps %s until the next scheduled review.", current.name
                )
                return
            failures = status.grace_failures
            if status.last_failure_date != day:
                failures += 1
            decision.grace_failures = failures
            decision.last_failure_date = day
            if failures < program.grace_reviews:
                decision.at_risk = True
                decision.at_risk_drop_date = self._review_after(
                    program, day, program.grace_reviews - failures
                )
                decision.reason = self.env._(
                    "Keeps %(level)s, at risk: failed %(count)s of %(grace)s reviews.",
                    level=current.name,
                    count=failures,
                    grace=program.grace_reviews,
                )
                decision.new_level = current
                return
        decision.grace_failures = 0
        decision.last_failure_date = False

    @api.model
    def _override_ended(self, status, day):
        return bool(status.override_until and status.override_until < day)

    @api.model
    def _review_after(self, program, day, count):
        """Date of the ``count``-th scheduled review after ``day``, following
        the program's schedule (Mondays, 1st of the month, of the quarter,
        1 January)."""
        if program.review_frequency == "weekly":
            first = day + relativedelta(days=1, weekday=0)
            return first + relativedelta(weeks=count - 1)
        months = {"monthly": 1, "quarterly": 3, "yearly": 12}[program.review_frequency]
        month_index = day.month - 1
        period_start = day.replace(month=month_index - month_index % months + 1, day=1)
        return period_start + relativedelta(months=months * count)

    @api.model
    def _outcome(self, decision, status):
        if decision.held_by_override:
            return "override"
        if not status:
            return "first" if decision.new_level else "unchanged"
        old_rank = decision.old_level.rank if decision.old_level else 0
        new_rank = decision.new_level.rank if decision.new_level else 0
        if decision.at_risk:
            return "at_risk"
        if new_rank > old_rank:
            return "upgrade"
        if new_rank < old_rank or (decision.old_level and not decision.new_level):
            return "downgrade"
        return "unchanged"

    @api.model
    def _decide_leavers(self, program, statuses, leavers):
        """Partners that stopped taking part lose their level."""
        decisions = []
        for status in statuses.filtered(lambda s: s.partner_id in leavers):
            if not status.level_id:
                continue
            decisions.append(
                PartnerDecision(
                    partner_id=status.partner_id.id,
                    old_level=status.level_id,
                    new_level=status.level_id.browse(),
                    rule=self.env["prm.status.rule"],
                    values={},
                    outcome="downgrade",
                    reason=self.env._("No longer takes part in the program."),
                    status=status,
                )
            )
        return decisions

    # ------------------------------------------------------------------
    # Step 4: apply
    # ------------------------------------------------------------------

    @api.model
    def _apply(self, program, decisions, measure, day, trigger):
        """Save statuses and history rows for ``decisions`` in bulk."""
        Status = (
            self.env["prm.partner.status"].sudo().with_context(prm_engine=ENGINE_WRITE)
        )
        new_statuses = []
        changed = []
        newly_at_risk = [
            decision
            for decision in decisions
            if decision.at_risk and not (decision.status and decision.status.at_risk)
        ]
        # Statuses that need the same values are written together: a review
        # that changes little costs a few statements, not one per partner.
        updates = defaultdict(list)
        for decision in decisions:
            status = decision.status
            vals = self._status_vals(decision, day, trigger)
            if not status:
                vals.update(partner_id=decision.partner_id, program_id=program.id)
                new_statuses.append(vals)
            else:
                changes = tuple(
                    sorted(
                        (key, value)
                        for key, value in vals.items()
                        if _comparable(status[key]) != (value or False)
                    )
                )
                if changes:
                    updates[changes].append(status.id)
            if decision.changed or decision.extra.get("override_ended"):
                changed.append(decision)
        for changes, status_ids in updates.items():
            if {key for key, _value in changes} <= DATE_ONLY_FIELDS:
                self._write_review_dates(Status.browse(status_ids), dict(changes))
            else:
                Status.browse(status_ids).write(dict(changes))
        if new_statuses:
            created = Status.create(new_statuses)
            by_partner = {status.partner_id.id: status for status in created}
            for decision in decisions:
                decision.status = decision.status or by_partner.get(decision.partner_id)
        self.env["res.partner"].browse(
            [decision.partner_id for decision in changed if decision.changed]
        )._prm_sync_levels()
        self._after_changes(program, changed, trigger, newly_at_risk)
        histories = self._write_history(program, changed, measure, day, trigger)
        if histories.filtered("email_template_id"):
            self._trigger_level_emails()
        return changed

    @api.model
    def _write_review_dates(self, statuses, vals):
        """Stamp the evaluation and review dates of statuses that nothing
        else changed: in a quiet review that is every partner, so one plain
        UPDATE replaces the ORM's bookkeeping of thousands of records."""
        statuses.flush_recordset(list(vals))
        assignments = SQL(", ").join(
            SQL("%s = %s", SQL.identifier(fname), value)
            for fname, value in vals.items()
        )
        self.env.cr.execute(
            SQL(
                "UPDATE prm_partner_status SET %s, write_date = %s, write_uid = %s "
                "WHERE id = ANY(%s)",
                assignments,
                fields.Datetime.now(),
                self.env.uid,
                statuses.ids,
            )
        )
        statuses.invalidate_recordset([*vals, "write_date", "write_uid"])

    @api.model
    def _status_vals(self, decision, day, trigger):
        vals = {
            "level_id": decision.new_level.id or False,
            "rule_id": decision.rule.id or False,
            "last_evaluation_date": day,
            "grace_failures": decision.grace_failures,
            "last_failure_date": decision.last_failure_date or False,
            "at_risk": decision.at_risk,
            "at_risk_drop_date": decision.at_risk_drop_date or False,
        }
        if trigger == "review":
            vals["last_review_date"] = day
        if decision.changed:
            vals["date_since"] = day
            if self._direction(decision) == "up":
                vals["upgrade_date"] = day
        proposed = decision.extra.get("proposed_level")
        vals["proposed_level_id"] = proposed.id if proposed else False
        if decision.extra.get("override_ended"):
            vals.update(
                override_active=False, override_until=False, override_reason=False
            )
        return vals

    @api.model
    def _write_history(self, program, decisions, measure, day, trigger):
        if not decisions:
            return self.env["prm.status.history"]
        metrics = program.level_ids.rule_ids.condition_ids.metric_id
        rows = []
        for decision in decisions:
            row_trigger = trigger
            if decision.outcome == "first":
                row_trigger = "first"
            elif decision.extra.get("override_ended"):
                row_trigger = "override_end"
            rows.append(
                {
                    "partner_id": decision.partner_id,
                    "program_id": program.id,
                    "old_level_id": decision.old_level.id or False,
                    "new_level_id": decision.new_level.id or False,
                    "direction": self._direction(decision),
                    "evaluation_date": day,
                    "trigger": row_trigger,
                    "period_start": measure.period_start,
                    "period_end": measure.period_end,
                    "metric_values": {
                        metric.code or str(metric.id): decision.values.get(
                            metric.id, 0.0
                        )
                        for metric in metrics
                    },
                    "values_summary": self._values_summary(metrics, decision.values),
                    "rule_id": decision.rule.id or False,
                    "reason": decision.reason or False,
                    "benefits": decision.extra.get("benefits") or False,
                    "email_template_id": self._email_template(
                        program, decision.old_level, decision.new_level
                    ).id
                    or False,
                }
            )
        return self.env["prm.status.history"].sudo().create(rows)

    @api.model
    def _direction(self, decision):
        return self._rank_direction(decision.old_level, decision.new_level)

    @api.model
    def _rank_direction(self, old_level, new_level):
        old_rank = old_level.rank if old_level else 0
        new_rank = new_level.rank if new_level else 0
        if new_rank > old_rank:
            return "up"
        if new_rank < old_rank:
            return "down"
        return "same"

    @api.model
    def _values_summary(self, metrics, values):
        return "\n".join(
            f"{metric.name}: {format_metric_value(metric, values.get(metric.id, 0.0))}"
            for metric in metrics
        )

    @api.model
    def _after_changes(self, program, decisions, trigger, newly_at_risk=()):
        """What follows a change of level: benefits, chatter, emails and
        activities for the salesperson."""
        moves = [decision for decision in decisions if decision.changed]
        if moves:
            self._grant_benefits(moves)
            self._post_messages(program, moves)
        downgrades = [d for d in moves if self._direction(d) == "down"]
        self._schedule_activities(program, downgrades, list(newly_at_risk))

    @api.model
    def _after_changes_for_statuses(self, statuses, old_level, trigger):
        """Same as :meth:`_after_changes` for a level set by hand."""
        decisions = [
            PartnerDecision(
                partner_id=status.partner_id.id,
                old_level=old_level,
                new_level=status.level_id,
                rule=self.env["prm.status.rule"],
                values={},
                reason=status.override_reason or "",
                status=status,
            )
            for status in statuses
        ]
        self._after_changes(statuses.program_id, decisions, trigger)
        return decisions

    @api.model
    def _grant_benefits(self, decisions):
        """Make pricelists and tags follow the new levels.

        Tags a partner already had before its level gave them are its own
        (set by hand) and stay when the level goes; only granted tags leave.
        """
        Partner = self.env["res.partner"].sudo().with_context(prm_no_mark=True)
        for decision in decisions:
            old, new = decision.old_level, decision.new_level
            if not (old.tag_ids or new.tag_ids or old.pricelist_id or new.pricelist_id):
                continue
            partner = Partner.browse(decision.partner_id)
            status = decision.status
            granted = (
                status.granted_tag_ids if status else self.env["res.partner.category"]
            )
            # A tag that another program's level gives the partner stays.
            other_levels = (partner.prm_status_ids - status).level_id
            to_remove = granted - new.tag_ids - other_levels.tag_ids
            to_add = new.tag_ids - partner.category_id
            # A kept tag now belongs to the other level that gives it, and
            # leaves with that level.
            handed_over = (granted - new.tag_ids) & other_levels.tag_ids
            others = partner.prm_status_ids - status
            for other in others:
                if other.level_id.tag_ids & handed_over:
                    other.granted_tag_ids |= other.level_id.tag_ids & handed_over
            vals = {}
            if to_remove or to_add:
                vals["category_id"] = [
                    fields.Command.unlink(tag.id) for tag in to_remove
                ] + [fields.Command.link(tag.id) for tag in to_add]
            pricelist = new.pricelist_id
            if not pricelist and old.pricelist_id == partner.property_product_pricelist:
                pricelist = self.env["product.pricelist"]
                # Back to the pricelist Odoo would choose by itself.
                vals["specific_property_product_pricelist"] = False
            if pricelist and pricelist != partner.property_product_pricelist:
                vals["property_product_pricelist"] = pricelist.id
            if vals:
                partner.with_company(status.program_id.company_id).write(vals)
            status.granted_tag_ids = (granted - to_remove - handed_over) | to_add
            notes = []
            if to_add:
                notes.append(
                    self.env._("tags added: %s", ", ".join(to_add.mapped("name")))
                )
            if to_remove:
                notes.append(
                    self.env._("tags removed: %s", ", ".join(to_remove.mapped("name")))
                )
            if {
                "property_product_pricelist",
                "specific_property_product_pricelist",
            } & set(vals):
                notes.append(
                    self.env._(
                        "pricelist: %s", pricelist.display_name or self.env._("default")
                    )
                )
            decision.extra["benefits"] = "; ".join(notes)

    @api.model
    def _post_messages(self, program, decisions):
        """Log one note per change on the partners' chatter, in one batch."""
        bodies = {
            decision.partner_id: Markup("<p>%s</p>")
            % self.env._(
                "%(program)s: level changed from %(old)s to %(new)s. %(why)s",
                program=program.name,
                old=decision.old_level.name or self.env._("none"),
                new=decision.new_level.name or self.env._("none"),
                why=decision.reason or self._why(decision),
            )
            for decision in decisions
        }
        partners = self.env["res.partner"].sudo().browse(list(bodies))
        partners.with_context(prm_no_mark=True)._message_log_batch(bodies)

    @api.model
    def _why(self, decision):
        if decision.rule:
            return self.env._("Rule met: %s.", decision.rule.name)
        if decision.new_level:
            return self.env._("No rule of a higher level is met.")
        return self.env._("No rule is met.")

    @api.model
    def _email_template(self, program, old_level, new_level):
        """The template of the email a change from ``old_level`` to
        ``new_level`` sends, as the program says; empty for none."""
        direction = self._rank_direction(old_level, new_level)
        if not new_level or direction == "same":
            return self.env["mail.template"]
        if direction == "up" and program.notify_upgrade:
            return program.upgrade_template_id
        if direction == "down" and program.notify_downgrade:
            return program.downgrade_template_id
        return self.env["mail.template"]

    @api.model
    def _trigger_level_emails(self):
        """Have the email job send the emails of the changes just saved,
        once the transaction is committed."""
        job = self.env.ref(
            "prm_auto_status.ir_cron_prm_send_level_emails", raise_if_not_found=False
        )
        if job:
            job.sudo()._trigger()

    @api.model
    def _schedule_activities(self, program, downgrades, at_risk):
        """Ask each partner's salesperson to follow up a downgrade or a
        partner at risk of one."""
        items = [(decision, self.env._("Downgraded")) for decision in downgrades] + [
            (decision, self.env._("At risk of a downgrade")) for decision in at_risk
        ]
        if not items:
            return
        partners = (
            self.env["res.partner"]
            .sudo()
            .browse([decision.partner_id for decision, _label in items])
        )
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("res.partner")
        today = fields.Date.context_today(self)
        # One create for all: activity_schedule() creates them one by one.
        self.env["mail.activity"].sudo().create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": partner.id,
                    "activity_type_id": activity_type.id,
                    "automated": True,
                    "date_deadline": today,
                    "summary": self.env._(
                        "%(label)s in %(program)s", label=label, program=program.name
                    ),
                    "note": Markup("<p>%s</p>")
                    % (decision.reason or self._why(decision)),
                    "user_id": (partner.user_id or program.user_id or self.env.user).id,
                }
                for (decision, label), partner in zip(items, partners, strict=True)
            ]
        )

    # ------------------------------------------------------------------
    # Explanation
    # ------------------------------------------------------------------

    @api.model
    def _build_explanation(self, program, partner, status, measure, decision, day):
        levels = program._get_levels()
        values = measure.of(partner.id)
        profiles = self._profile_matches(program, partner)
        current = status.level_id if status else levels.browse()
        higher = levels.filtered(lambda level: level.rank > (current.rank or 0))
        next_level = higher[:1]
        metrics = program.level_ids.rule_ids.condition_ids.metric_id
        return {
            "program": program,
            "partner": partner,
            "status": status,
            "day": day,
            "takes_part": bool(decision),
            "period_start": measure.period_start,
            "period_end": measure.period_end,
            "currency": program.currency_id,
            "values": [
                {"metric": metric, "value": values.get(metric.id, 0.0)}
                for metric in metrics
            ],
            "current_level": current,
            "current_rules": self._explain_level(
                current, partner.id, values, profiles, keep=True
            ),
            "next_level": next_level,
            "next_rules": self._explain_level(next_level, partner.id, values, profiles),
            "decision": decision,
            "next_review": self._next_review_text(decision),
            "at_risk": bool(decision and decision.at_risk),
            "at_risk_drop_date": decision and decision.at_risk_drop_date,
        }

    @api.model
    def _explain_level(self, level, partner_id, values, profiles, keep=False):
        rules = []
        for rule in level.rule_ids:
            conditions = []
            for condition in rule.condition_ids:
                value = values.get(condition.metric_id.id, 0.0)
                threshold = (
                    condition.keep_value
                    if keep and condition.has_keep_value
                    else condition.value
                )
                met = condition._holds(value, keep=keep)
                conditions.append(
                    {
                        "condition": condition,
                        "metric": condition.metric_id,
                        "operator": condition.operator,
                        "value": value,
                        "target": threshold,
                        "entry_target": condition.value,
                        "keep_target": condition.has_keep_value
                        and condition.keep_value,
                        "met": met,
                        "gap": condition._gap(value, keep=keep),
                        "progress": self._progress(condition, value, threshold),
                    }
                )
            profile_ok = rule.id not in profiles or partner_id in profiles[rule.id]
            rules.append(
                {
                    "rule": rule,
                    "conditions": conditions,
                    "profile_required": rule.id in profiles,
                    "profile_ok": profile_ok,
                    "met": profile_ok and all(c["met"] for c in conditions),
                }
            )
        return rules

    @api.model
    def _progress(self, condition, value, threshold):
        """Percentage of the way to a 'more is better' target, 0 to 100."""
        if condition.operator not in (">=", ">"):
            return 100 if condition._holds(value) else 0
        if threshold <= 0 or condition._holds(value):
            return 100
        # Rounded down, so that 100% is only shown once the target is met.
        return max(0, min(99, int(value * 100 // threshold)))

    @api.model
    def _next_review_text(self, decision):
        if not decision:
            return self.env._("The partner does not take part in this program.")
        if decision.held_by_override:
            return self.env._("The manual override keeps the level.")
        if decision.outcome in ("upgrade", "first") and decision.new_level:
            return self.env._("Moves to %s.", decision.new_level.name)
        if decision.outcome == "downgrade":
            if decision.new_level:
                return self.env._("Drops to %s.", decision.new_level.name)
            return self.env._("Loses its level.")
        if decision.at_risk:
            return self.env._(
                "Keeps %(level)s but is at risk: it drops at the review of %(date)s.",
                level=decision.new_level.name,
                date=decision.at_risk_drop_date,
            )
        if decision.new_level:
            return self.env._("Keeps %s.", decision.new_level.name)
        return self.env._("Stays without a level.")
