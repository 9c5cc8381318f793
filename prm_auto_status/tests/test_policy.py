"""The downgrade policy, keep thresholds, minimum time on a level and manual
overrides, review after review."""

from datetime import date

from odoo.tests import Form, freeze_time, tagged

from .common_policy import (
    APR_1,
    FEB_1,
    IN_APRIL,
    IN_FEBRUARY,
    IN_JANUARY,
    IN_MARCH,
    JUN_1,
    MAR_1,
    MAY_1,
    PolicyCase,
)


@tagged("post_install", "-at_install")
class TestDowngradePolicy(PolicyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Gold after the review of 1 February (6,000 sold in January), then
        # 2,000 in February: Silver by the rules alone from 1 March on.
        cls.partner = cls.create_member("Falcon Resellers")
        cls.sell(cls.partner, 6000, IN_JANUARY)
        cls.sell(cls.partner, 2000, IN_FEBRUARY)

    def test_first_assignment_is_recorded_as_first(self):
        self.review(FEB_1)

        row = self.history_of(self.partner)
        self.assertRecordValues(
            row,
            [
                {
                    "old_level_id": False,
                    "new_level_id": self.gold.id,
                    "direction": "up",
                    "trigger": "first",
                    "rule_id": self.volume_reseller.id,
                    "evaluation_date": FEB_1,
                    "period_start": date(2025, 1, 1),
                    "period_end": date(2025, 1, 31),
                    "metric_values": {"sales_amount": 6000.0},
                }
            ],
        )

    def test_immediate_downgrade(self):
        self.review(FEB_1)

        decision = self.review(MAR_1)[self.partner.id]

        self.assertEqual(decision.outcome, "downgrade")
        self.assertRecordValues(
            self.status_of(self.partner),
            [
                {
                    "level_id": self.silver.id,
                    "date_since": MAR_1,
                    "rule_id": self.selling_partner.id,
                    "at_risk": False,
                    "grace_failures": 0,
                }
            ],
        )
        self.assertRecordValues(
            self.history_of(self.partner)[1:],
            [
                {
                    "old_level_id": self.gold.id,
                    "new_level_id": self.silver.id,
                    "direction": "down",
                    "trigger": "review",
                    "evaluation_date": MAR_1,
                    "period_start": date(2025, 2, 1),
                    "period_end": date(2025, 2, 28),
                    "metric_values": {"sales_amount": 2000.0},
                    "values_summary": "Sales amount: 2,000.00",
                }
            ],
        )

    def test_grace_first_failed_review_keeps_the_level_at_risk(self):
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 2})
        self.review(FEB_1)

        decision = self.review(MAR_1)[self.partner.id]

        self.assertEqual(decision.outcome, "at_risk")
        self.assertEqual(decision.reason, "Keeps Gold, at risk: failed 1 of 2 reviews.")
        self.assertRecordValues(
            self.status_of(self.partner),
            [
                {
                    "level_id": self.gold.id,
                    "date_since": FEB_1,
                    "at_risk": True,
                    # The next monthly review: the second failure drops it.
                    "at_risk_drop_date": APR_1,
                    "grace_failures": 1,
                    "last_failure_date": MAR_1,
                }
            ],
        )
        self.assertEqual(len(self.history_of(self.partner)), 1, "no change of level")

    def test_grace_second_failed_review_drops_the_level(self):
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 2})
        self.sell(self.partner, 2000, IN_MARCH)
        self.review(FEB_1)
        self.review(MAR_1)

        decision = self.review(APR_1)[self.partner.id]

        self.assertEqual(decision.outcome, "downgrade")
        self.assertRecordValues(
            self.status_of(self.partner),
            [
                {
                    "level_id": self.silver.id,
                    "date_since": APR_1,
                    "at_risk": False,
                    "at_risk_drop_date": False,
                    "grace_failures": 0,
                    "last_failure_date": False,
                }
            ],
        )
        self.assertRecordValues(
            self.history_of(self.partner)[1:],
            [
                {
                    "old_level_id": self.gold.id,
                    "new_level_id": self.silver.id,
                    "direction": "down",
                    "evaluation_date": APR_1,
                }
            ],
        )

    def test_grace_counts_a_review_run_twice_on_one_day_once(self):
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 2})
        self.review(FEB_1)
        self.review(MAR_1)

        self.review(MAR_1)

        self.assertRecordValues(
            self.status_of(self.partner),
            [{"level_id": self.gold.id, "grace_failures": 1, "at_risk": True}],
        )

    def test_grace_counts_scheduled_reviews_only_not_profile_changes(self):
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 2})
        self.review(FEB_1)
        self.review(MAR_1)

        # The daily job re-evaluates the partner after a profile change.
        self.program._evaluate(self.partner, date(2025, 3, 15), trigger="profile")

        self.assertRecordValues(
            self.status_of(self.partner),
            [
                {
                    "level_id": self.gold.id,
                    "at_risk": True,
                    "grace_failures": 1,
                    "at_risk_drop_date": APR_1,
                }
            ],
        )

    def test_grace_counts_scheduled_reviews_only_not_evaluations_by_hand(self):
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 2})
        self.review(FEB_1)
        self.review(MAR_1)
        wizard_form = Form(
            self.env["prm.status.evaluate.wizard"].with_context(
                default_program_id=self.program.id
            )
        )
        wizard_form.date = date(2025, 3, 10)

        wizard_form.save().action_evaluate()

        self.assertRecordValues(
            self.status_of(self.partner),
            [
                {
                    "level_id": self.gold.id,
                    "at_risk": True,
                    "grace_failures": 1,
                    "at_risk_drop_date": APR_1,
                }
            ],
        )

    def test_grace_ends_when_the_partner_meets_its_level_again(self):
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 2})
        self.sell(self.partner, 5000, IN_MARCH)
        self.review(FEB_1)
        self.review(MAR_1)

        decision = self.review(APR_1)[self.partner.id]

        self.assertEqual(decision.outcome, "unchanged")
        self.assertRecordValues(
            self.status_of(self.partner),
            [
                {
                    "level_id": self.gold.id,
                    "at_risk": False,
                    "at_risk_drop_date": False,
                    "grace_failures": 0,
                    "last_failure_date": False,
                }
            ],
        )

    def test_never_downgrade_keeps_the_level(self):
        self.program.downgrade_policy = "never"
        self.review(FEB_1)

        decision = self.review(MAR_1)[self.partner.id]

        self.assertEqual(decision.outcome, "unchanged")
        self.assertEqual(decision.reason, "Keeps Gold: this program never downgrades.")
        self.assertEqual(self.status_of(self.partner).level_id, self.gold)
        self.assertEqual(len(self.history_of(self.partner)), 1)

    def test_never_downgrade_still_upgrades(self):
        self.program.downgrade_policy = "never"
        climber = self.create_member("Climber Trading")
        self.sell(climber, 1500, IN_JANUARY)
        self.sell(climber, 5500, IN_FEBRUARY)
        self.review(FEB_1)

        decision = self.review(MAR_1)[climber.id]

        self.assertEqual(decision.outcome, "upgrade")
        self.assertEqual(self.status_of(climber).level_id, self.gold)


@tagged("post_install", "-at_install")
class TestKeepThreshold(PolicyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.veteran = cls.create_member("Veteran Distribution")
        cls.newcomer = cls.create_member("Newcomer Supplies")
        # Gold is entered at 5,000 and kept at 4,000.
        cls.sell(cls.veteran, 6000, IN_JANUARY)
        cls.sell(cls.veteran, 4500, IN_FEBRUARY)
        cls.sell(cls.newcomer, 4500, IN_FEBRUARY)

    def test_keep_value_keeps_a_partner_that_would_not_qualify_anew(self):
        self.review(FEB_1, self.veteran)

        decisions = self.review(MAR_1)

        self.assertEqual(decisions[self.veteran.id].outcome, "unchanged")
        self.assertEqual(
            decisions[self.veteran.id].reason, "Keeps Gold: the keep thresholds hold."
        )
        self.assertRecordValues(
            self.status_of(self.veteran),
            [
                {
                    "level_id": self.gold.id,
                    "rule_id": self.volume_reseller.id,
                    "date_since": FEB_1,
                }
            ],
        )
        # The same 4,500 does not let a newcomer in.
        self.assertEqual(decisions[self.newcomer.id].outcome, "first")
        self.assertRecordValues(
            self.status_of(self.newcomer),
            [{"level_id": self.silver.id, "rule_id": self.selling_partner.id}],
        )

    def test_keep_value_met_exactly_keeps_the_level(self):
        self.sell(self.veteran, 4000, IN_MARCH)
        self.review(FEB_1, self.veteran)

        self.review(APR_1, self.veteran)

        self.assertEqual(self.status_of(self.veteran).level_id, self.gold)

    def test_below_the_keep_value_the_partner_drops(self):
        self.sell(self.veteran, 3999.99, IN_MARCH)
        self.review(FEB_1, self.veteran)
        self.review(MAR_1, self.veteran)

        decision = self.review(APR_1, self.veteran)[self.veteran.id]

        self.assertEqual(decision.outcome, "downgrade")
        self.assertEqual(self.status_of(self.veteran).level_id, self.silver)


@tagged("post_install", "-at_install")
class TestMinimumTimeOnLevel(PolicyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.min_periods_on_level = 2
        cls.partner = cls.create_member("Harbour Systems")
        # Silver on 1 February, Gold on 1 March, then back to Silver sales.
        cls.sell(cls.partner, 2000, IN_JANUARY)
        cls.sell(cls.partner, 6000, IN_FEBRUARY)
        cls.sell(cls.partner, 2000, IN_MARCH)
        cls.sell(cls.partner, 2000, IN_APRIL)

    def test_minimum_time_blocks_a_downgrade_after_an_upgrade(self):
        self.review(FEB_1)
        self.review(MAR_1)
        self.assertEqual(self.status_of(self.partner).level_id, self.gold)

        decision = self.review(APR_1)[self.partner.id]

        self.assertEqual(decision.outcome, "unchanged")
        self.assertEqual(
            decision.reason,
            "Keeps Gold until 2025-05-01: minimum time on the level.",
        )
        self.assertRecordValues(
            self.status_of(self.partner),
            [{"level_id": self.gold.id, "date_since": MAR_1}],
        )
        self.assertEqual(len(self.history_of(self.partner)), 2)

    def test_minimum_time_then_allows_the_downgrade(self):
        self.review(FEB_1)
        self.review(MAR_1)
        self.review(APR_1)

        decision = self.review(MAY_1)[self.partner.id]

        self.assertEqual(decision.outcome, "downgrade")
        self.assertRecordValues(
            self.status_of(self.partner),
            [{"level_id": self.silver.id, "date_since": MAY_1}],
        )

    def test_a_downgrade_does_not_start_a_minimum_time(self):
        # "After an upgrade, no downgrade for a set number of periods": the
        # drop to Silver on 1 May is no upgrade, nothing holds the partner
        # on Silver when it sells nothing in May.
        self.review(FEB_1)
        self.review(MAR_1)
        self.review(APR_1)
        self.review(MAY_1)

        decision = self.review(JUN_1)[self.partner.id]

        self.assertEqual(decision.outcome, "downgrade")
        self.assertEqual(self.status_of(self.partner).level_id, self.registered)


@tagged("post_install", "-at_install")
class TestManualOverride(PolicyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Silver on 1 February and by its sales all along.
        cls.partner = cls.create_member("Orchid Integrators")
        cls.sell(cls.partner, 2000, IN_JANUARY)
        cls.sell(cls.partner, 2000, IN_FEBRUARY)
        cls.sell(cls.partner, 2000, IN_MARCH)

    def set_override_by_hand(self, level, reason, until):
        """Fill and apply the override wizard as the manager, on 10 February."""
        status = self.status_of(self.partner)
        with freeze_time("2025-02-10 12:00:00"):
            action = status.with_user(self.manager).action_override()
            wizard_form = Form(
                self.env[action["res_model"]]
                .with_user(self.manager)
                .with_context(**action["context"])
            )
            wizard_form.level_id = level
            wizard_form.reason = reason
            wizard_form.date_end = until
            wizard_form.save().action_apply()
        return status

    def test_override_is_recorded_with_its_user(self):
        self.review(FEB_1)

        status = self.set_override_by_hand(
            self.gold, "Strategic account", date(2025, 3, 15)
        )

        self.assertRecordValues(
            status,
            [
                {
                    "level_id": self.gold.id,
                    "override_active": True,
                    "override_reason": "Strategic account",
                    "override_until": date(2025, 3, 15),
                    "override_user_id": self.manager.id,
                    "date_since": date(2025, 2, 10),
                }
            ],
        )
        self.assertRecordValues(
            self.history_of(self.partner)[1:],
            [
                {
                    "old_level_id": self.silver.id,
                    "new_level_id": self.gold.id,
                    "direction": "up",
                    "trigger": "override",
                    "reason": "Strategic account",
                    "user_id": self.manager.id,
                    "evaluation_date": date(2025, 2, 10),
                }
            ],
        )

    def test_override_holds_through_a_review_and_records_its_decision(self):
        self.review(FEB_1)
        status = self.set_override_by_hand(
            self.gold, "Strategic account", date(2025, 3, 15)
        )

        decision = self.review(MAR_1)[self.partner.id]

        self.assertEqual(decision.outcome, "override")
        self.assertEqual(
            decision.reason, "Manual override by Paula Manager: Strategic account"
        )
        self.assertRecordValues(
            status,
            [
                {
                    "level_id": self.gold.id,
                    "proposed_level_id": self.silver.id,
                    "override_active": True,
                    "last_review_date": MAR_1,
                }
            ],
        )
        self.assertEqual(
            self.history_of(self.partner).mapped("trigger"), ["first", "override"]
        )

    def test_review_after_the_end_date_takes_over(self):
        self.review(FEB_1)
        status = self.set_override_by_hand(
            self.gold, "Strategic account", date(2025, 3, 15)
        )
        self.review(MAR_1)

        decision = self.review(APR_1)[self.partner.id]

        self.assertEqual(decision.outcome, "downgrade")
        self.assertRecordValues(
            status,
            [
                {
                    "level_id": self.silver.id,
                    "override_active": False,
                    "override_until": False,
                    "override_reason": False,
                    "proposed_level_id": False,
                    "date_since": APR_1,
                }
            ],
        )
        self.assertRecordValues(
            self.history_of(self.partner)[2:],
            [
                {
                    "old_level_id": self.gold.id,
                    "new_level_id": self.silver.id,
                    "direction": "down",
                    "trigger": "override_end",
                    "evaluation_date": APR_1,
                    "user_id": self.env.user.id,
                }
            ],
        )

    def test_override_ended_by_hand_then_the_next_review_takes_over(self):
        self.review(FEB_1)
        status = self.set_override_by_hand(self.gold, "Trade fair deal", False)
        with freeze_time("2025-02-20 12:00:00"):
            status.with_user(self.manager).action_end_override()

        self.assertRecordValues(
            self.history_of(self.partner)[2:],
            [
                {
                    "old_level_id": self.gold.id,
                    "new_level_id": self.gold.id,
                    "direction": "same",
                    "trigger": "override_end",
                    "reason": "Override ended by Paula Manager.",
                    "user_id": self.manager.id,
                    "evaluation_date": date(2025, 2, 20),
                }
            ],
        )
        self.assertFalse(status.override_active)

        decision = self.review(MAR_1)[self.partner.id]

        self.assertEqual(decision.outcome, "downgrade")
        self.assertEqual(status.level_id, self.silver)
        self.assertEqual(self.history_of(self.partner)[-1].trigger, "review")


@tagged("post_install", "-at_install")
class TestReviewFigures(PolicyCase):
    def test_an_order_entered_just_before_the_review_counts(self):
        # A script or a wizard that records an order and reviews at once:
        # the order's amount is still waiting in the transaction's cache.
        partner = self.create_member("Late Order Ltd")
        self.create_order(partner, 6000, IN_JANUARY)

        decision = self.review(FEB_1)[partner.id]

        self.assertEqual(decision.values[self.sales_amount.id], 6000.0)
        self.assertEqual(self.status_of(partner).level_id, self.gold)
