"""Bad policy settings are refused with a ValidationError that says what to
fix, and nothing is saved."""

from datetime import date

from odoo.exceptions import ValidationError
from odoo.tests import Form, freeze_time, tagged

from .common_policy import FEB_1, IN_JANUARY, PolicyCase


@tagged("post_install", "-at_install")
class TestBadPolicyInput(PolicyCase):
    def assertRefusedAndUnsaved(self, model, domain, message_part, create_values):
        """Creating ``create_values`` in ``model`` raises a ValidationError
        whose message holds ``message_part``; no record matches ``domain``."""
        with self.assertRaises(ValidationError) as refusal:
            self.env[model].create(create_values)
        self.assertIn(message_part, str(refusal.exception))
        self.assertFalse(self.env[model].search(domain))

    # ------------------------------------------------------------------
    # Keep values
    # ------------------------------------------------------------------

    def test_a_keep_value_above_the_entry_value(self):
        self.assertRefusedAndUnsaved(
            "prm.status.condition",
            [("rule_id", "=", self.selling_partner.id), ("has_keep_value", "=", True)],
            "the keep value 1,200 is stricter than the entry value 1,000",
            {
                "rule_id": self.selling_partner.id,
                "metric_id": self.sales_amount.id,
                "operator": ">=",
                "value": 1000,
                "has_keep_value": True,
                "keep_value": 1200,
            },
        )
        self.assertEqual(len(self.selling_partner.condition_ids), 1)

    def test_a_keep_value_above_the_entry_value_of_an_existing_condition(self):
        condition = self.volume_reseller.condition_ids

        with self.assertRaises(ValidationError):
            condition.keep_value = 6000
        condition.invalidate_recordset()

        self.assertEqual(condition.keep_value, 4000)

    def test_a_keep_value_entered_in_the_rule_form(self):
        rule_form = Form(self.volume_reseller.with_user(self.manager))
        with rule_form.condition_ids.edit(0) as condition:
            condition.keep_value = 5000.01

        with self.assertRaises(ValidationError):
            rule_form.save()
        self.volume_reseller.condition_ids.invalidate_recordset()
        self.assertEqual(self.volume_reseller.condition_ids.keep_value, 4000)

    def test_a_keep_value_stricter_than_a_maximum(self):
        # For "at most" conditions a keep value must be higher, not lower.
        self.assertRefusedAndUnsaved(
            "prm.status.condition",
            [("rule_id", "=", self.selling_partner.id), ("operator", "=", "<=")],
            "stricter than the entry value",
            {
                "rule_id": self.selling_partner.id,
                "metric_id": self.sales_amount.id,
                "operator": "<=",
                "value": 1000,
                "has_keep_value": True,
                "keep_value": 900,
            },
        )

    # ------------------------------------------------------------------
    # Program policy
    # ------------------------------------------------------------------

    def test_a_grace_of_zero_reviews(self):
        self.assertRefusedAndUnsaved(
            "prm.status.program",
            [("name", "=", "Zero grace (test)")],
            "must be 1 or more",
            {
                "name": "Zero grace (test)",
                "downgrade_policy": "grace",
                "grace_reviews": 0,
            },
        )

    def test_a_grace_of_zero_reviews_on_an_existing_program(self):
        with self.assertRaises(ValidationError):
            self.program.write({"downgrade_policy": "grace", "grace_reviews": 0})
        self.program.invalidate_recordset()

        self.assertRecordValues(
            self.program, [{"downgrade_policy": "immediate", "grace_reviews": 2}]
        )

    def test_a_grace_of_zero_reviews_in_the_program_form(self):
        program_form = Form(self.program.with_user(self.manager))
        program_form.downgrade_policy = "grace"
        program_form.grace_reviews = 0

        with self.assertRaises(ValidationError):
            program_form.save()
        self.program.invalidate_recordset()
        self.assertEqual(self.program.downgrade_policy, "immediate")

    def test_a_negative_minimum_time_on_a_level(self):
        self.assertRefusedAndUnsaved(
            "prm.status.program",
            [("name", "=", "Negative minimum (test)")],
            "cannot be negative",
            {"name": "Negative minimum (test)", "min_periods_on_level": -1},
        )

    def test_a_negative_minimum_time_on_an_existing_program(self):
        with self.assertRaises(ValidationError):
            self.program.min_periods_on_level = -2
        self.program.invalidate_recordset()

        self.assertEqual(self.program.min_periods_on_level, 0)

    # ------------------------------------------------------------------
    # Overrides
    # ------------------------------------------------------------------

    @freeze_time("2025-02-10 12:00:00")
    def test_an_override_ending_in_the_past_in_the_wizard(self):
        partner = self.create_member("Past Override Ltd")
        self.sell(partner, 2000, IN_JANUARY)
        self.review(FEB_1)
        status = self.status_of(partner)
        history = self.history_of(partner)
        action = status.with_user(self.manager).action_override()
        wizard_form = Form(
            self.env[action["res_model"]]
            .with_user(self.manager)
            .with_context(**action["context"])
        )
        wizard_form.level_id = self.gold
        wizard_form.reason = "Until last week"
        wizard_form.date_end = date(2025, 2, 9)

        with self.assertRaises(ValidationError) as refusal:
            wizard_form.save()

        self.assertIn("cannot end in the past (2025-02-09)", str(refusal.exception))
        self.assertRecordValues(
            status, [{"level_id": self.silver.id, "override_active": False}]
        )
        self.assertEqual(self.history_of(partner), history)

    @freeze_time("2025-02-10 12:00:00")
    def test_an_override_ending_in_the_past_set_in_code(self):
        partner = self.create_member("Past Override Code Ltd")
        self.sell(partner, 2000, IN_JANUARY)
        self.review(FEB_1)
        status = self.status_of(partner).with_user(self.manager)

        with self.assertRaises(ValidationError):
            status._set_override(self.gold, "Until last week", date(2025, 2, 9))
        status.invalidate_recordset()

        self.assertRecordValues(
            status, [{"level_id": self.silver.id, "override_active": False}]
        )
        self.assertEqual(self.history_of(partner).mapped("trigger"), ["first"])

    @freeze_time("2025-02-10 12:00:00")
    def test_an_override_ending_today_is_accepted(self):
        partner = self.create_member("Today Override Ltd")
        self.sell(partner, 2000, IN_JANUARY)
        self.review(FEB_1)
        status = self.status_of(partner).with_user(self.manager)

        status._set_override(self.gold, "Last day", date(2025, 2, 10))

        self.assertRecordValues(
            status, [{"level_id": self.gold.id, "override_until": date(2025, 2, 10)}]
        )

    # ------------------------------------------------------------------
    # Benefits
    # ------------------------------------------------------------------

    def test_a_level_pricelist_of_another_company(self):
        other_company = self.env["res.company"].create({"name": "Other Co (test)"})
        foreign_prices = self.env["product.pricelist"].create(
            {"name": "Foreign prices (test)", "company_id": other_company.id}
        )

        self.assertRefusedAndUnsaved(
            "prm.status.level",
            [("name", "=", "Platinum")],
            "belongs to Other Co (test)",
            {
                "name": "Platinum",
                "program_id": self.program.id,
                "rank": 4,
                "pricelist_id": foreign_prices.id,
            },
        )
        with self.assertRaises(ValidationError):
            self.gold.pricelist_id = foreign_prices
        self.gold.invalidate_recordset()
        self.assertFalse(self.gold.pricelist_id)

    def test_a_level_pricelist_shared_by_all_companies_is_accepted(self):
        self.gold.pricelist_id = self.standard_prices

        self.assertEqual(self.gold.pricelist_id, self.standard_prices)
