"""The explanation a manager reads on the partner form and a partner on the
portal: values, conditions with their gaps and progress, keep thresholds and
what the next review does."""

from datetime import date

from odoo.tests import Form, freeze_time, tagged

from .common_policy import (
    APR_1,
    FEB_1,
    IN_FEBRUARY,
    IN_JANUARY,
    JUN_1,
    MAR_1,
    MAY_1,
    PolicyCase,
)


@tagged("post_install", "-at_install")
class TestExplanation(PolicyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Three Silver partners (2,000 in January) with February sales below,
        # at and above the 5,000 that Gold takes.
        cls.below = cls.create_member("Below Trading")
        cls.at = cls.create_member("Exact Trading")
        cls.above = cls.create_member("Above Trading")
        for partner, february in (
            (cls.below, 3000),
            (cls.at, 5000),
            (cls.above, 7500),
        ):
            cls.sell(partner, 2000, IN_JANUARY)
            cls.sell(partner, february, IN_FEBRUARY)
        cls.program._evaluate(cls.below | cls.at | cls.above, FEB_1)

    def explain(self, partner, day=MAR_1):
        return self.env["prm.status.engine"].explain(self.program, partner, day=day)

    def gold_condition(self, explanation):
        """The one condition of Gold's one rule, as explained."""
        (rule,) = explanation["next_rules"]
        self.assertEqual(rule["rule"], self.volume_reseller)
        (condition,) = rule["conditions"]
        return condition

    def test_a_partner_below_the_threshold_sees_the_gap(self):
        explanation = self.explain(self.below)

        self.assertEqual(explanation["period_start"], date(2025, 2, 1))
        self.assertEqual(explanation["period_end"], date(2025, 2, 28))
        self.assertEqual(
            explanation["values"], [{"metric": self.sales_amount, "value": 3000.0}]
        )
        self.assertEqual(explanation["current_level"], self.silver)
        self.assertEqual(explanation["next_level"], self.gold)
        condition = self.gold_condition(explanation)
        self.assertEqual(condition["value"], 3000.0)
        self.assertEqual(condition["target"], 5000.0)
        self.assertFalse(condition["met"])
        self.assertEqual(condition["gap"], 2000.0)
        self.assertEqual(condition["progress"], 60)
        self.assertEqual(explanation["next_review"], "Keeps Silver.")

    def test_a_partner_at_the_threshold_has_no_gap(self):
        explanation = self.explain(self.at)

        condition = self.gold_condition(explanation)
        self.assertTrue(condition["met"])
        self.assertEqual(condition["gap"], 0.0)
        self.assertEqual(condition["progress"], 100)
        self.assertEqual(explanation["next_review"], "Moves to Gold.")

    def test_a_partner_above_the_threshold_has_no_gap_and_full_progress(self):
        explanation = self.explain(self.above)

        condition = self.gold_condition(explanation)
        self.assertTrue(condition["met"])
        self.assertEqual(condition["gap"], 0.0)
        self.assertEqual(condition["progress"], 100)
        self.assertEqual(explanation["next_review"], "Moves to Gold.")

    def test_a_cent_below_the_threshold_is_a_cent_away(self):
        self.sell(self.below, 1999.99, IN_FEBRUARY)

        condition = self.gold_condition(self.explain(self.below))

        self.assertFalse(condition["met"])
        self.assertEqual(round(condition["gap"], 2), 0.01)

    def test_progress_stays_below_100_until_the_target_is_met(self):
        self.sell(self.below, 1999.99, IN_FEBRUARY)

        condition = self.gold_condition(self.explain(self.below))

        # 4,999.99 of 5,000: a full bar would tell the partner it is there.
        self.assertFalse(condition["met"])
        self.assertEqual(condition["progress"], 99)

    def test_the_current_level_is_explained_with_its_keep_thresholds(self):
        self.program._evaluate(self.above, MAR_1)
        self.sell(self.above, 3500, date(2025, 3, 10))

        explanation = self.explain(self.above, APR_1)

        self.assertEqual(explanation["current_level"], self.gold)
        self.assertFalse(explanation["next_level"])
        (rule,) = explanation["current_rules"]
        (condition,) = rule["conditions"]
        self.assertEqual(condition["target"], 4000.0)
        self.assertEqual(condition["entry_target"], 5000.0)
        self.assertEqual(condition["keep_target"], 4000.0)
        self.assertFalse(condition["met"])
        self.assertEqual(condition["gap"], 500.0)
        # 87.5% is shown as 87: rounded down, 100% only once met.
        self.assertEqual(condition["progress"], 87)
        self.assertEqual(explanation["next_review"], "Drops to Silver.")

    def test_the_next_review_text_of_a_partner_in_grace(self):
        # Grace of 3: failing the review of 1 April (1 of 3) drops the
        # partner at the review of 1 June unless it sells again.
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 3})
        self.program._evaluate(self.above, MAR_1)
        self.program._evaluate(self.above, APR_1)
        self.assertEqual(self.status_of(self.above).at_risk_drop_date, JUN_1)

        explanation = self.explain(self.above, date(2025, 4, 15))

        self.assertTrue(explanation["at_risk"])
        self.assertEqual(explanation["at_risk_drop_date"], JUN_1)
        self.assertEqual(
            explanation["next_review"],
            "Keeps Gold but is at risk: it drops at the review of 2025-06-01.",
        )

    def test_on_a_review_day_the_explanation_foretells_that_review(self):
        # Read early on 1 April, before the job reviews the partner: the
        # next review is the one of that very day.
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 2})
        self.program._evaluate(self.above, MAR_1)

        explanation = self.explain(self.above, APR_1)
        self.program._evaluate(self.above, APR_1)

        status = self.status_of(self.above)
        self.assertRecordValues(status, [{"at_risk": True, "at_risk_drop_date": MAY_1}])
        self.assertTrue(explanation["at_risk"])
        self.assertEqual(explanation["at_risk_drop_date"], MAY_1)
        self.assertEqual(
            explanation["next_review"],
            "Keeps Gold but is at risk: it drops at the review of 2025-05-01.",
        )

    def test_the_next_review_text_during_an_override(self):
        status = self.status_of(self.at)
        with freeze_time("2025-02-10 12:00:00"):
            status.with_user(self.manager)._set_override(self.gold, "Fair deal")

        explanation = self.explain(self.at, APR_1)

        self.assertEqual(
            explanation["next_review"], "The manual override keeps the level."
        )

    def test_a_partner_outside_the_program_is_told_so(self):
        outsider = self.env["res.partner"].create(
            {"name": "Outside Trading", "is_company": True}
        )

        explanation = self.explain(outsider)

        self.assertFalse(explanation["takes_part"])
        self.assertEqual(
            explanation["next_review"],
            "The partner does not take part in this program.",
        )

    def test_the_partner_form_shows_the_gap_in_the_company_currency(self):
        with freeze_time("2025-03-05 12:00:00"):
            html = self.below.prm_explanation_html

        text = " ".join(str(html).replace("\xa0", " ").split())
        self.assertIn("Policy program (test)", text)
        self.assertIn("Next level: <span>Gold</span>", text)
        self.assertIn(
            '$ <span class="oe_currency_value">2,000.00</span> more needed', text
        )
        self.assertIn("Keeps Silver.", text)

    def test_a_salesperson_reads_the_explanation_on_the_partner_form(self):
        with freeze_time("2025-03-05 12:00:00"):
            partner_form = Form(self.below.with_user(self.salesperson))

        self.assertIn("Keeps Silver.", str(partner_form.prm_explanation_html))
