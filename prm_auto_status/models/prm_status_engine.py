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

import gc
import logging
from collections import defaultdict, namedtuple
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from .prm_partner_status import ENGINE_WRITE
from .prm_status_condition import OPERATORS, meets
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


# What the engine remembers of a partner between evaluations: the columns of
# prm_partner_status it decides on, read for a whole batch in one query.
STATE_COLUMNS = (
    "id",
    "partner_id",
    "level_id",
    "rule_id",
    "date_since",
    "upgrade_date",
    "evaluated_on",
    "reviewed_on",
    "grace_failures",
    "last_failure_date",
    "at_risk",
    "at_risk_drop_date",
    "override_active",
    "override_until",
    "override_user_id",
    "override_reason",
    "proposed_level_id",
    "at_risk_activity_pending",
)
StatusState = namedtuple("StatusState", STATE_COLUMNS)

# Up to this many changes (new levels, partners newly at risk), an evaluation
# posts the chatter notes and schedules the activities itself, so that
# "Evaluate now" shows them at once. A larger review leaves them, like the
# emails, to the follow-up job: one note and one activity cost about as much
# as deciding for a hundred partners, and the review's transaction stays
# short.
FOLLOW_UP_INLINE_LIMIT = 200


class LevelRanks(dict):
    """{level id: rank}, 0 for no level. A level the program no longer
    lists (archived since) is read the first time it is asked for."""

    def __init__(self, env, ranks):
        super().__init__(ranks)
        self.env = env

    def __missing__(self, level_id):
        rank = self.env["prm.status.level"].browse(level_id).rank if level_id else 0
        self[level_id] = rank
        return rank


class Ladder:
    """A program's levels, rules and policy as plain Python values, with the
    partners of the batch that match each rule's profile filter.

    Deciding for thousands of partners then reads no field: ranks, rules and
    thresholds are dictionaries, and records are only looked up for the few
    decisions that are saved or shown.
    """

    def __init__(self, program, profiles):
        levels = program._get_levels()
        self.env = program.env
        self.level_ids = levels.ids  # lowest rank first
        self.levels = {level.id: level for level in levels}
        self.ranks = LevelRanks(self.env, {level.id: level.rank for level in levels})
        self.rules_by_level = {}
        self.rules = {}
        self.conditions = {}
        for level in levels:
            self.rules_by_level[level.id] = level.rule_ids.ids
            for rule in level.rule_ids:
                self.rules[rule.id] = rule
                self.conditions[rule.id] = [
                    (
                        condition.metric_id.id,
                        condition.operator,
                        condition.value,
                        condition.keep_value if condition.has_keep_value else None,
                        # The operator's answer for a value clearly above,
                        # clearly below the threshold (see meets()).
                        OPERATORS[condition.operator](1, 0),
                        OPERATORS[condition.operator](-1, 0),
                    )
                    for condition in rule.condition_ids
                ]
        # ``profiles`` maps a rule id to the ids of the partners matching its
        # profile filter; rules without a filter are absent (anyone matches).
        self.profiles = profiles
        self.start_level_id = (
            self.level_ids[0]
            if program.no_level_policy == "lowest" and self.level_ids
            else False
        )
        self.downgrade_policy = program.downgrade_policy
        self.grace_reviews = program.grace_reviews
        self.min_months_on_level = (
            PERIOD_MONTHS[program.period_unit] * program.min_periods_on_level
        )
        self.drop_dates = {}  # {(day, reviews left): date}, see _drop_date
        # Every rule, highest level first, as qualify() tries them.
        self.entry_rules = [
            (level_id, rule_id)
            for level_id in reversed(self.level_ids)
            for rule_id in self.rules_by_level[level_id]
        ]

    def __contains__(self, rule_id):
        return rule_id in self.profiles

    def __getitem__(self, rule_id):
        return self.profiles[rule_id]

    def rank(self, level_id):
        """Rank of a level id; 0 for no level."""
        return self.ranks[level_id]

    def level(self, level_id):
        """The level record of an id, empty for False."""
        record = self.levels.get(level_id)
        if record is None:
            record = self.env["prm.status.level"].browse(level_id or ())
        return record

    def rule(self, rule_id):
        record = self.rules.get(rule_id)
        if record is None:
            record = self.env["prm.status.rule"].browse(rule_id or ())
        return record

    def has_keep_values(self, rule_id):
        return any(condition[3] is not None for condition in self.conditions[rule_id])

    def holds(self, rule_id, partner_id, values, keep=False):
        """Whether every condition of the rule holds for ``values`` (with
        keep values when ``keep``) and the partner matches its profile."""
        profile = self.profiles.get(rule_id)
        if profile is not None and partner_id not in profile:
            return False
        for metric_id, operator, value, keep_value, above, below in self.conditions[
            rule_id
        ]:
            threshold = keep_value if keep and keep_value is not None else value
            measured = values.get(metric_id, 0.0)
            # meets() inlined for the values a cent or more away from the
            # threshold, nearly all of them: this runs for every partner.
            difference = measured - threshold
            if difference >= 0.01:
                if not above:
                    return False
            elif difference <= -0.01:
                if not below:
                    return False
            elif not meets(operator, measured, threshold):
                return False
        return True

    def qualify(self, partner_id, values):
        """(level id, rule id) of the highest level one of whose rules holds
        with entry values; the start level and no rule when none holds.

        :meth:`holds` with entry values, written out: this runs for every
        partner of a review and every rule until one holds."""
        profiles = self.profiles
        conditions = self.conditions
        for level_id, rule_id in self.entry_rules:
            profile = profiles.get(rule_id)
            if profile is not None and partner_id not in profile:
                continue
            for metric_id, operator, value, _keep, above, below in conditions[rule_id]:
                measured = values.get(metric_id, 0.0)
                difference = measured - value
                if difference >= 0.01:
                    if not above:
                        break
                elif difference <= -0.01:
                    if not below:
                        break
                elif not meets(operator, measured, value):
                    break
            else:
                return level_id, rule_id
        return self.start_level_id, False

    def first_rule(self, level_id, partner_id, values, keep=False):
        """Id of the first rule of the level that holds, or False."""
        for rule_id in self.rules_by_level.get(level_id, ()):
            if self.holds(rule_id, partner_id, values, keep=keep):
                return rule_id
        return False


class PartnerDecision:
    """What the engine decides for one partner in one program.

    Levels and rules are kept as ids; the record properties look them up in
    the program's :class:`Ladder`.
    """

    __slots__ = (
        "ladder",
        "partner_id",
        "old_level_id",
        "new_level_id",
        "rule_id",
        "values",
        "state",
        "status_id",
        "outcome",
        "reason",
        "at_risk",
        "at_risk_drop_date",
        "grace_failures",
        "last_failure_date",
        "held_by_override",
        "proposed_level_id",
        "override_ended",
        "benefits",
        "saved_direction",
    )

    def __init__(
        self,
        ladder,
        partner_id,
        old_level_id=False,
        new_level_id=False,
        rule_id=False,
        values=None,
        state=None,
        outcome="unchanged",
        reason="",
    ):
        self.ladder = ladder
        self.partner_id = partner_id
        self.old_level_id = old_level_id or False
        self.new_level_id = new_level_id or False
        self.rule_id = rule_id or False
        self.values = values if values is not None else {}
        self.state = state
        self.status_id = state.id if state else False
        self.outcome = outcome
        self.reason = reason
        self.at_risk = False
        self.at_risk_drop_date = False
        self.grace_failures = 0
        self.last_failure_date = False
        self.held_by_override = False
        self.proposed_level_id = False
        self.override_ended = False
        self.benefits = ""
        self.saved_direction = None

    def __repr__(self):
        return (
            f"<PartnerDecision partner={self.partner_id} "
            f"{self.old_level_id}->{self.new_level_id} {self.outcome}>"
        )

    @property
    def changed(self):
        return self.old_level_id != self.new_level_id

    @property
    def old_level(self):
        return self.ladder.level(self.old_level_id)

    @property
    def new_level(self):
        return self.ladder.level(self.new_level_id)

    @property
    def rule(self):
        return self.ladder.rule(self.rule_id)

    @property
    def status(self):
        return self.ladder.env["prm.partner.status"].sudo().browse(self.status_id or ())

    @property
    def direction(self):
        if self.saved_direction:
            # A change saved earlier keeps the direction it had then, even
            # if the levels have been ranked anew since.
            return self.saved_direction
        return rank_direction(
            self.ladder.rank(self.old_level_id), self.ladder.rank(self.new_level_id)
        )


def rank_direction(old_rank, new_rank):
    """ "up", "down" or "same", from the ranks of the old and new levels."""
    if new_rank > old_rank:
        return "up"
    if new_rank < old_rank:
        return "down"
    return "same"


@contextmanager
def cyclic_gc_paused():
    """Pause Python's cyclic garbage collector for the block.

    Deciding for thousands of partners allocates a few objects per partner,
    which makes the collector walk the whole heap of the worker (its
    registry included) several times: about a sixth of a large review's
    time, for objects that hold no reference cycle. Reference counting still
    frees them; the collector resumes when the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def metric_number_format(metric):
    """Amounts with two decimals, counts whole."""
    return ",.2f" if metric.aggregation == "sum" else ",.0f"


class PrmStatusEngine(models.AbstractModel):
    _name = "prm.status.engine"
    _description = "Partner Status Engine"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    @api.private
    @api.model
    def evaluate(self, program, partners=None, day=None, trigger="review", apply=True):
        """Evaluate partners of ``program`` as of ``day`` and return their
        decisions; save them when ``apply`` is true.

        ``partners`` defaults to every participant. Partners that no longer
        take part but still hold a level in the program lose it.
        """
        program.ensure_one()
        day = day or program._today()
        with cyclic_gc_paused():
            participants = program._get_participants(partners)
            states = self._read_states(program, partners)
            measure = self._measure(program, participants, day)
            ladder = self._ladder(program, participants)
            decisions = self._decide(
                program, ladder, participants, states, measure, day, trigger
            )
            decisions += self._decide_leavers(ladder, states, set(participants.ids))
            if apply:
                self._apply(program, ladder, decisions, measure, day, trigger)
        return decisions

    @api.private
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
        ladder = self._ladder(program, partner)
        # The policy is applied as the next scheduled review would apply it,
        # on today's figures: "if nothing changes". On a review day, before
        # the review ran, that review is today's.
        next_review = self._review_after(program, day, 1)
        is_review_day = self._review_after(program, day - relativedelta(days=1), 1)
        if is_review_day == day and not (status and status.last_review_date == day):
            next_review = day
        decisions = self._decide(
            program,
            ladder,
            participants,
            self._read_states(program, partner),
            measure,
            next_review,
            "review",
        )
        decision = decisions[0] if decisions else None
        explanation = self._build_explanation(
            program, ladder, partner, status, measure, decision, day
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
        partner_ids = partners.ids
        if metrics is None:
            metrics = program.level_ids.rule_ids.condition_ids.metric_id
        tz = program._get_tz()
        end_excluded = period_end + relativedelta(days=1)
        # Metric definitions are configuration, read whatever the user's rights.
        read = [
            (
                metric.id,
                metric._read_values(
                    partner_ids, period_start, end_excluded, program.company_id, tz
                ),
            )
            for metric in metrics.sudo()
        ]
        # Every partner starts at 0 on every metric; only the partners with
        # records are then visited, once per metric.
        metric_ids = [metric_id for metric_id, _per_partner in read]
        values = {
            partner_id: dict.fromkeys(metric_ids, 0.0) for partner_id in partner_ids
        }
        for metric_id, per_partner in read:
            for partner_id, value in per_partner.items():
                partner_values = values.get(partner_id)
                if partner_values is not None:
                    partner_values[metric_id] = value
        return Measure(period_start, period_end, values)

    # ------------------------------------------------------------------
    # Step 2: match
    # ------------------------------------------------------------------

    @api.model
    def _ladder(self, program, partners):
        """The program's ladder compiled for ``partners``: which partners
        match each rule's profile filter (one search per filtered rule) and
        each condition as plain values, so that matching thousands of
        partners reads no field."""
        matches = {}
        Partner = self.env["res.partner"].sudo()
        for rule in program.level_ids.rule_ids:
            domain = rule._get_profile_domain()
            if domain:
                matches[rule.id] = set(
                    Partner.search(domain + [("id", "in", partners._ids)]).ids
                )
        return Ladder(program, matches)

    @api.model
    def _qualify(self, program, ladder, partner_id, values):
        """Highest level one of whose rules holds with entry values, and
        that rule, as ids; the start level or nothing when none holds."""
        return ladder.qualify(partner_id, values)

    # ------------------------------------------------------------------
    # Step 3: decide
    # ------------------------------------------------------------------

    @api.model
    def _get_statuses(self, program, partners=None):
        return (
            self.env["prm.partner.status"]
            .sudo()
            .search(self._status_domain(program, partners))
        )

    @api.model
    def _status_domain(self, program, partners=None):
        domain = [("program_id", "=", program.id)]
        if partners is not None:
            # The partners' own statuses too: a company that became a contact
            # holds a status it must lose.
            partner_ids = set(partners.ids) | set(partners.commercial_partner_id.ids)
            domain.append(("partner_id", "in", list(partner_ids)))
        return domain

    @api.model
    def _read_states(self, program, partners=None):
        """{partner id: :data:`StatusState`} of the program's statuses (of
        ``partners`` when given), read in one query."""
        Status = self.env["prm.partner.status"].sudo()
        Status.flush_model(STATE_COLUMNS[1:])
        query = Status._search(self._status_domain(program, partners))
        query.order = None
        # Left None, as nothing decides on them: the date the level was
        # reached, and the last upgrade's unless the program keeps partners a
        # minimum time on a level. psycopg2 builds a Python date for each:
        # the two cost about 9 ms for 20,000 statuses.
        unread = {"date_since"}
        if not program.min_periods_on_level:
            unread.add("upgrade_date")
        self.env.cr.execute(
            query.select(
                *(
                    SQL("NULL")
                    if column in unread
                    else SQL.identifier(Status._table, column)
                    for column in STATE_COLUMNS
                )
            )
        )
        return {
            state.partner_id: state
            for state in map(StatusState._make, self.env.cr.fetchall())
        }

    @api.model
    def _decide(self, program, ladder, partners, states, measure, day, trigger):
        decisions = []
        values_of = measure.values
        ranks = ladder.ranks
        qualify = self._qualify
        for partner_id in partners.ids:
            values = values_of.get(partner_id, {})
            state = states.get(partner_id)
            level_id, rule_id = qualify(program, ladder, partner_id, values)
            decision = PartnerDecision(
                ladder,
                partner_id,
                old_level_id=state.level_id if state else False,
                new_level_id=level_id,
                rule_id=rule_id,
                values=values,
                state=state,
            )
            # The policy only acts on a partner that falls below its level or
            # is held by an override; for the others it would leave the
            # decision as it is made (no failure, no risk).
            if state and (
                state.override_active or ranks[level_id] < ranks[decision.old_level_id]
            ):
                self._apply_policy(program, ladder, decision, state, day, trigger)
            decision.outcome = self._outcome(ladder, decision, state)
            decisions.append(decision)
        return decisions

    @api.model
    def _apply_policy(self, program, ladder, decision, state, day, trigger):
        """Adjust ``decision`` for a partner that already has a status:
        keep thresholds, manual override, minimum time and downgrade policy."""
        ranks = ladder.ranks
        current = state.level_id or False
        current_rank = ranks[current]
        decision.grace_failures = state.grace_failures or 0
        decision.last_failure_date = state.last_failure_date or False
        if current and current_rank > ranks[decision.new_level_id]:
            keep_rule = ladder.first_rule(
                current, decision.partner_id, decision.values, keep=True
            )
            if keep_rule and ladder.has_keep_values(keep_rule):
                decision.new_level_id = current
                decision.rule_id = keep_rule
                decision.reason = self.env._(
                    "Keeps %s: the keep thresholds hold.", ladder.level(current).name
                )

        if state.override_active and self._override_ended(state, day):
            decision.override_ended = True
        elif state.override_active:
            decision.held_by_override = True
            decision.proposed_level_id = decision.new_level_id
            decision.new_level_id = current
            user = self.env["res.users"].sudo().browse(state.override_user_id or ())
            decision.reason = self.env._(
                "Manual override by %(user)s: %(reason)s",
                user=user.name or "",
                reason=state.override_reason or "",
            )
            return

        if not current or ranks[decision.new_level_id] >= current_rank:
            decision.grace_failures = 0
            decision.last_failure_date = False
            return

        # The partner fails its current level.
        current_name = ladder.level(current).name
        if ladder.downgrade_policy == "never":
            decision.reason = self.env._(
                "Keeps %s: this program never downgrades.", current_name
            )
            decision.new_level_id = current
            return
        if ladder.min_months_on_level and state.upgrade_date:
            allowed_from = state.upgrade_date + relativedelta(
                months=ladder.min_months_on_level
            )
            if day < allowed_from:
                decision.reason = self.env._(
                    "Keeps %(level)s until %(date)s: minimum time on the level.",
                    level=current_name,
                    date=allowed_from,
                )
                decision.new_level_id = current
                return
        if ladder.downgrade_policy == "grace":
            if trigger != "review":
                # Only scheduled reviews count toward the grace period; an
                # evaluation in between leaves the partner where it stands.
                decision.at_risk = bool(state.at_risk)
                decision.at_risk_drop_date = state.at_risk_drop_date or False
                decision.new_level_id = current
                decision.reason = self.env._(
                    "Keeps %s until the next scheduled review.", current_name
                )
                return
            failures = decision.grace_failures
            if state.last_failure_date != day:
                failures += 1
            decision.grace_failures = failures
            decision.last_failure_date = day
            if failures < ladder.grace_reviews:
                decision.at_risk = True
                decision.at_risk_drop_date = self._drop_date(
                    program, ladder, day, ladder.grace_reviews - failures
                )
                decision.reason = self._at_risk_reason(
                    current_name, failures, ladder.grace_reviews
                )
                decision.new_level_id = current
                return
        decision.grace_failures = 0
        decision.last_failure_date = False

    @api.model
    def _drop_date(self, program, ladder, day, reviews_left):
        """The review a partner at risk drops at, once per number of reviews
        left: the same for every partner of an evaluation."""
        key = (day, reviews_left)
        if key not in ladder.drop_dates:
            ladder.drop_dates[key] = self._review_after(program, day, reviews_left)
        return ladder.drop_dates[key]

    @api.model
    def _at_risk_reason(self, level_name, failures, grace_reviews):
        return self.env._(
            "Keeps %(level)s, at risk: failed %(count)s of %(grace)s reviews.",
            level=level_name,
            count=failures,
            grace=grace_reviews,
        )

    @api.model
    def _override_ended(self, status, day):
        """Whether the override of ``status`` (a record or a state) ended
        before ``day``."""
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
    def _outcome(self, ladder, decision, state):
        if decision.held_by_override:
            return "override"
        if not state:
            return "first" if decision.new_level_id else "unchanged"
        if decision.at_risk:
            return "at_risk"
        old_rank = ladder.ranks[decision.old_level_id]
        new_rank = ladder.ranks[decision.new_level_id]
        if new_rank > old_rank:
            return "upgrade"
        if new_rank < old_rank or (decision.old_level_id and not decision.new_level_id):
            return "downgrade"
        return "unchanged"

    @api.model
    def _decide_leavers(self, ladder, states, participant_ids):
        """Partners that stopped taking part lose their level."""
        return [
            PartnerDecision(
                ladder,
                partner_id,
                old_level_id=state.level_id,
                state=state,
                outcome="downgrade",
                reason=self.env._("No longer takes part in the program."),
            )
            for partner_id, state in states.items()
            if partner_id not in participant_ids and state.level_id
        ]

    # ------------------------------------------------------------------
    # Step 4: apply
    # ------------------------------------------------------------------

    @api.model
    def _apply(self, program, ladder, decisions, measure, day, trigger):
        """Save statuses and history rows for ``decisions`` in bulk, then
        follow the changes up (benefits, notes, activities, emails)."""
        Status = (
            self.env["prm.partner.status"].sudo().with_context(prm_engine=ENGINE_WRITE)
        )
        changed = [
            decision
            for decision in decisions
            if decision.changed or decision.override_ended
        ]
        newly_at_risk = [
            decision
            for decision in decisions
            if decision.at_risk and not (decision.state and decision.state.at_risk)
        ]
        deferred = len(changed) + len(newly_at_risk) > FOLLOW_UP_INLINE_LIMIT
        stamp = {"evaluated_on": day}
        if trigger == "review":
            stamp["reviewed_on"] = day
        new_statuses = []
        # Statuses that need the same values are written together: a review
        # that changes little costs a few statements, not one per partner.
        updates = defaultdict(list)
        newly_at_risk_ids = {decision.partner_id for decision in newly_at_risk}
        for decision in decisions:
            state = decision.state
            if state is not None and self._keeps_status(decision, state):
                changes = []
            else:
                vals = self._status_vals(decision, day, trigger)
                # The follow-up job owes an activity to a partner newly at
                # risk in a large review, and to one it has not reached yet.
                newly = decision.partner_id in newly_at_risk_ids
                vals["at_risk_activity_pending"] = decision.at_risk and (
                    (deferred and newly)
                    or bool(not newly and state and state.at_risk_activity_pending)
                )
                if state is None:
                    vals.update(
                        stamp, partner_id=decision.partner_id, program_id=program.id
                    )
                    new_statuses.append(vals)
                    continue
                changes = [
                    (key, value)
                    for key, value in vals.items()
                    if (getattr(state, key) or False) != (value or False)
                ]
            # A status that keeps its level is not written in a review: its
            # review date is the program's (prm.partner.status._reviewed_on),
            # once a review has stamped it. Other evaluations stamp it, and
            # so does a review for a status without a level.
            if (
                changes
                or (trigger != "review" and state.evaluated_on != day)
                or (
                    trigger == "review"
                    and (not state.reviewed_on or not decision.new_level_id)
                    and state.reviewed_on != day
                )
            ):
                changes.extend(stamp.items())
                updates[tuple(sorted(changes))].append(state.id)
        Status._save_engine_changes(updates, ladder.ranks)
        if new_statuses:
            created = Status.create(new_statuses)
            by_partner = {
                vals["partner_id"]: status.id
                for vals, status in zip(new_statuses, created, strict=True)
            }
            for decision in decisions:
                decision.status_id = decision.status_id or by_partner.get(
                    decision.partner_id, False
                )
        moves = [decision for decision in changed if decision.changed]
        self.env["res.partner"].browse(
            [decision.partner_id for decision in moves]
        )._prm_sync_levels()
        self._grant_benefits(moves)
        histories = self._write_history(
            program, changed, measure, day, trigger, deferred
        )
        if not deferred:
            self._follow_up(program, moves, newly_at_risk)
        if deferred or histories.filtered("email_template_id"):
            self._trigger_follow_up()
        return changed

    @api.model
    def _keeps_status(self, decision, state):
        """Whether :meth:`_status_vals` of ``decision`` would equal ``state``
        field for field, told without building them: the partner keeps its
        level and rule, and neither the decision nor the status carries a
        failure, a risk, a proposal or a pending activity. Most partners of
        a review are in this case; the others go through the comparison."""
        return not (
            decision.changed
            or decision.override_ended
            or decision.at_risk
            or decision.grace_failures
            or decision.last_failure_date
            or decision.proposed_level_id
            or decision.rule_id != (state.rule_id or False)
            or state.grace_failures
            or state.last_failure_date
            or state.at_risk
            or state.at_risk_drop_date
            or state.proposed_level_id
            or state.at_risk_activity_pending
        )

    @api.model
    def _status_vals(self, decision, day, trigger):
        vals = {
            "level_id": decision.new_level_id,
            "rule_id": decision.rule_id,
            "grace_failures": decision.grace_failures,
            "last_failure_date": decision.last_failure_date or False,
            "at_risk": decision.at_risk,
            "at_risk_drop_date": decision.at_risk_drop_date or False,
            "proposed_level_id": decision.proposed_level_id,
        }
        if decision.changed:
            vals["date_since"] = day
            if decision.direction == "up":
                vals["upgrade_date"] = day
        if decision.override_ended:
            vals.update(
                override_active=False, override_until=False, override_reason=False
            )
        return vals

    @api.model
    def _write_history(self, program, decisions, measure, day, trigger, deferred):
        if not decisions:
            return self.env["prm.status.history"]
        metrics = program.level_ids.rule_ids.condition_ids.metric_id
        keys = [(metric.code or str(metric.id), metric.id) for metric in metrics]
        formats = self._summary_formats(metrics)
        templates = {}
        rows = []
        for decision in decisions:
            row_trigger = trigger
            if decision.outcome == "first":
                row_trigger = "first"
            elif decision.override_ended:
                row_trigger = "override_end"
            move = (decision.old_level_id, decision.new_level_id)
            if move not in templates:
                templates[move] = self._email_template(
                    program, decision.old_level, decision.new_level
                ).id
            rows.append(
                {
                    "partner_id": decision.partner_id,
                    "program_id": program.id,
                    "old_level_id": decision.old_level_id,
                    "new_level_id": decision.new_level_id,
                    "direction": decision.direction,
                    "evaluation_date": day,
                    "trigger": row_trigger,
                    "period_start": measure.period_start,
                    "period_end": measure.period_end,
                    "metric_values": {
                        key: decision.values.get(metric_id, 0.0)
                        for key, metric_id in keys
                    },
                    "values_summary": self._values_summary(formats, decision.values),
                    "rule_id": decision.rule_id,
                    "reason": decision.reason or False,
                    "benefits": decision.benefits or False,
                    "email_template_id": templates[move] or False,
                    "followup_pending": deferred,
                }
            )
        return self.env["prm.status.history"].sudo()._insert_rows(rows)

    @api.model
    def _rank_direction(self, old_level, new_level):
        return rank_direction(
            old_level.rank if old_level else 0, new_level.rank if new_level else 0
        )

    @api.model
    def _values_summary(self, metrics, values):
        """The values as lines of text, "Sales amount: 1,500.00"; ``metrics``
        is a recordset, or its :meth:`_summary_formats`."""
        if isinstance(metrics, models.BaseModel):
            metrics = self._summary_formats(metrics)
        return "\n".join(
            f"{name}: {format(values.get(metric_id, 0.0), spec)}"
            for metric_id, name, spec in metrics
        )

    @api.model
    def _summary_formats(self, metrics):
        """(id, name, number format) of each metric, read once for the
        summaries of many partners."""
        return [
            (metric.id, metric.name, metric_number_format(metric)) for metric in metrics
        ]

    @api.model
    def _follow_up(self, program, moves, at_risk=()):
        """Tell people about changes: a chatter note per new level, an
        activity for the salesperson per downgrade and per partner newly at
        risk. Emails are sent by the follow-up job."""
        if moves:
            self._post_messages(program, moves)
        downgrades = [decision for decision in moves if decision.direction == "down"]
        self._schedule_activities(program, downgrades, list(at_risk))

    @api.model
    def _after_changes_for_statuses(self, statuses, old_level, trigger):
        """Benefits, note and activity of a level set by hand."""
        program = statuses.program_id
        program.ensure_one()
        ladder = Ladder(program, {})
        decisions = []
        for status in statuses:
            decision = PartnerDecision(
                ladder,
                status.partner_id.id,
                old_level_id=old_level.id,
                new_level_id=status.level_id.id,
                reason=status.override_reason or "",
            )
            decision.status_id = status.id
            decisions.append(decision)
        moves = [decision for decision in decisions if decision.changed]
        self._grant_benefits(moves)
        self._follow_up(program, moves)
        return decisions

    @api.model
    def _follow_up_later(self, histories, statuses):
        """The follow-up a large review left to the job: notes and
        downgrade activities of ``histories``, activities of ``statuses``
        newly at risk. Rebuilds the decisions from what was saved."""
        for program in (histories.program_id | statuses.program_id).sudo():
            ladder = Ladder(program, {})
            moves = []
            for history in histories.filtered(lambda h, p=program: h.program_id == p):
                decision = PartnerDecision(
                    ladder,
                    history.partner_id.id,
                    old_level_id=history.old_level_id.id,
                    new_level_id=history.new_level_id.id,
                    rule_id=history.rule_id.id,
                    reason=history.reason or "",
                )
                decision.saved_direction = history.direction
                if decision.changed:
                    moves.append(decision)
            at_risk = [
                PartnerDecision(
                    ladder,
                    status.partner_id.id,
                    old_level_id=status.level_id.id,
                    new_level_id=status.level_id.id,
                    reason=self._at_risk_reason(
                        status.level_id.name,
                        status.grace_failures,
                        program.grace_reviews,
                    ),
                )
                for status in statuses.filtered(
                    lambda s, p=program: s.program_id == p and s.at_risk
                )
            ]
            self._follow_up(program, moves, at_risk)

    @api.model
    def _grant_benefits(self, decisions):
        """Make pricelists and tags follow the new levels.

        Tags a partner already had before its level gave them are its own
        (set by hand) and stay when the level goes; only granted tags leave.
        """
        Partner = self.env["res.partner"].sudo().with_context(prm_no_mark=True)
        level_ids = {decision.old_level_id for decision in decisions} | {
            decision.new_level_id for decision in decisions
        }
        # Read once which levels give anything: most ladders give nothing.
        giving = {
            level.id
            for level in self.env["prm.status.level"].browse(filter(None, level_ids))
            if level.tag_ids or level.pricelist_id
        }
        for decision in decisions:
            if not giving & {decision.old_level_id, decision.new_level_id}:
                continue
            old, new = decision.old_level, decision.new_level
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
            decision.benefits = "; ".join(notes)

    @api.model
    def _post_messages(self, program, decisions):
        """Log one note per change on the partners' chatter, in batches of
        one note per partner (the follow-up job may hold several changes of
        the same partner)."""
        rounds = []
        for decision in decisions:
            body = Markup("<p>%s</p>") % self.env._(
                "%(program)s: level changed from %(old)s to %(new)s. %(why)s",
                program=program.name,
                old=decision.old_level.name or self.env._("none"),
                new=decision.new_level.name or self.env._("none"),
                why=decision.reason or self._why(decision),
            )
            for bodies in rounds:
                if decision.partner_id not in bodies:
                    bodies[decision.partner_id] = body
                    break
            else:
                rounds.append({decision.partner_id: body})
        Partner = self.env["res.partner"].sudo().with_context(prm_no_mark=True)
        for bodies in rounds:
            Partner.browse(list(bodies))._message_log_batch(bodies)

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
    def _trigger_follow_up(self):
        """Have the follow-up job handle the changes just saved, once the
        transaction is committed."""
        job = self.env.ref(
            "prm_auto_status.ir_cron_prm_follow_up_changes", raise_if_not_found=False
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
    def _build_explanation(
        self, program, ladder, partner, status, measure, decision, day
    ):
        levels = program._get_levels()
        values = measure.of(partner.id)
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
                current, partner.id, values, ladder, keep=True
            ),
            "next_level": next_level,
            "next_rules": self._explain_level(next_level, partner.id, values, ladder),
            "decision": decision,
            "next_review": self._next_review_text(decision),
            "at_risk": bool(decision and decision.at_risk),
            "at_risk_drop_date": decision and decision.at_risk_drop_date,
        }

    @api.model
    def _explain_level(self, level, partner_id, values, ladder, keep=False):
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
            profile_ok = rule.id not in ladder or partner_id in ladder[rule.id]
            rules.append(
                {
                    "rule": rule,
                    "conditions": conditions,
                    "profile_required": rule.id in ladder,
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
