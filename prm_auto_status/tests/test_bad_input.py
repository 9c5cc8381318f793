"""Bad input is refused with a ValidationError and nothing is saved."""

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import PrmStatusCase

UNREADABLE_DOMAIN = "[('is_company', '=', True)"
UNKNOWN_FIELD_DOMAIN = "[('no_such_field', '=', 1)]"
UNKNOWN_RELATED_FIELD_DOMAIN = "[('parent_id.no_such_field', '=', 1)]"


@tagged("post_install", "-at_install")
class TestBadInput(PrmStatusCase):
    def assertRefused(self, model, values, message_part):
        """Creating a ``model`` record with ``values`` raises a
        ValidationError whose message contains ``message_part``, and the
        number of records of ``model`` does not change."""
        Model = self.env[model].with_context(active_test=False)
        count = Model.search_count([])
        with self.assertRaises(ValidationError) as refusal:
            Model.create(values)
        self.assertIn(message_part, str(refusal.exception))
        self.assertEqual(Model.search_count([]), count)

    def field_id(self, model, name):
        return self.env["ir.model.fields"]._get(model, name).id

    def order_metric_values(self, **values):
        return {
            "name": "Bad metric (test)",
            "model_id": self.env["ir.model"]._get_id("sale.order"),
            "partner_field_id": self.field_id("sale.order", "partner_id"),
            "date_field_id": self.field_id("sale.order", "date_order"),
            "aggregation": "count",
            **values,
        }

    # ------------------------------------------------------------------
    # Programs
    # ------------------------------------------------------------------

    def test_a_number_of_periods_below_one(self):
        for count in (0, -1):
            with self.subTest(count=count):
                self.assertRefused(
                    "prm.status.program",
                    {
                        "name": "Bad periods (test)",
                        "period_mode": "last_n",
                        "period_count": count,
                    },
                    "number of periods must be 1 or more",
                )

    def test_a_number_of_periods_below_one_in_the_program_form(self):
        count = self.env["prm.status.program"].search_count([])
        program = Form(self.env["prm.status.program"])
        program.name = "Bad periods (test)"
        program.period_mode = "last_n"
        program.period_count = 0

        with self.assertRaises(ValidationError):
            program.save()
        self.assertEqual(self.env["prm.status.program"].search_count([]), count)

    def test_a_number_of_periods_below_one_on_an_existing_program(self):
        with self.assertRaises(ValidationError):
            self.program.write({"period_mode": "last_n", "period_count": 0})
        self.assertEqual(self.program.period_mode, "last")

    def test_participants_domain_that_does_not_parse(self):
        self.assertRefused(
            "prm.status.program",
            {"name": "Bad participants (test)", "partner_domain": UNREADABLE_DOMAIN},
            "cannot be read",
        )

    def test_participants_domain_naming_an_unknown_field(self):
        for domain in (UNKNOWN_FIELD_DOMAIN, UNKNOWN_RELATED_FIELD_DOMAIN):
            with self.subTest(domain=domain):
                self.assertRefused(
                    "prm.status.program",
                    {"name": "Bad participants (test)", "partner_domain": domain},
                    "is not valid for res.partner",
                )

    def test_participants_domain_that_is_not_a_list(self):
        self.assertRefused(
            "prm.status.program",
            {"name": "Bad participants (test)", "partner_domain": "42"},
            "must be a list of conditions",
        )

    # ------------------------------------------------------------------
    # Levels and rules
    # ------------------------------------------------------------------

    def test_two_levels_with_the_same_rank(self):
        self.assertRefused(
            "prm.status.level",
            {"name": "Platinum", "program_id": self.program.id, "rank": 2},
            "both have rank 2",
        )

    def test_moving_a_level_onto_the_rank_of_another(self):
        with self.assertRaises(ValidationError):
            self.gold.rank = 2
        self.assertEqual(self.gold.rank, 3)

    def test_the_same_rank_in_two_programs_is_fine(self):
        other = self.create_program("Agents (test)")
        level = self.create_level(other, "Agent", 2)
        self.assertEqual(level.rank, self.silver.rank)

    def test_rule_profile_that_does_not_parse(self):
        self.assertRefused(
            "prm.status.rule",
            {
                "name": "Bad profile",
                "level_id": self.gold.id,
                "profile_domain": UNREADABLE_DOMAIN,
            },
            "cannot be read",
        )

    def test_rule_profile_naming_an_unknown_field(self):
        self.assertRefused(
            "prm.status.rule",
            {
                "name": "Bad profile",
                "level_id": self.gold.id,
                "profile_domain": UNKNOWN_FIELD_DOMAIN,
            },
            "is not valid for res.partner",
        )

    # ------------------------------------------------------------------
    # Conditions
    # ------------------------------------------------------------------

    def test_a_condition_without_a_metric(self):
        self.assertRefused(
            "prm.status.condition",
            {"rule_id": self.selling_partner.id, "metric_id": False, "value": 10},
            "A condition needs a metric",
        )

    def test_a_condition_created_with_no_metric_at_all(self):
        self.assertRefused(
            "prm.status.condition",
            {"rule_id": self.selling_partner.id, "value": 10},
            "A condition needs a metric",
        )

    def test_a_condition_value_that_is_not_a_number(self):
        self.assertRefused(
            "prm.status.condition",
            {
                "rule_id": self.selling_partner.id,
                "metric_id": self.sales_amount.id,
                "value": "abc",
            },
            "“abc” of a condition is not a number",
        )

    def test_changing_a_condition_value_to_text(self):
        condition = self.selling_partner.condition_ids
        with self.assertRaises(ValidationError):
            condition.write({"value": "a lot"})
        self.assertEqual(condition.value, 1000.0)

    def test_a_condition_value_given_as_text_of_a_number_is_accepted(self):
        condition = self.env["prm.status.condition"].create(
            {
                "rule_id": self.selling_partner.id,
                "metric_id": self.deal_count.id,
                "value": "2.5",
            }
        )
        self.assertEqual(condition.value, 2.5)

    # ------------------------------------------------------------------
    # Metrics
    # ------------------------------------------------------------------

    def test_a_sum_metric_of_a_field_that_is_not_numeric(self):
        self.assertRefused(
            "prm.metric",
            self.order_metric_values(
                aggregation="sum", value_field_id=self.field_id("sale.order", "name")
            ),
            "is not numeric and cannot be summed",
        )

    def test_a_sum_metric_without_a_field_to_sum(self):
        self.assertRefused(
            "prm.metric",
            self.order_metric_values(aggregation="sum"),
            "choose the field to sum",
        )

    def test_a_metric_whose_partner_field_belongs_to_another_model(self):
        self.assertRefused(
            "prm.metric",
            self.order_metric_values(
                partner_field_id=self.field_id("crm.lead", "partner_id")
            ),
            "is not a field of sale.order",
        )

    def test_a_metric_whose_date_field_belongs_to_another_model(self):
        self.assertRefused(
            "prm.metric",
            self.order_metric_values(
                date_field_id=self.field_id("crm.lead", "date_closed")
            ),
            "is not a field of sale.order",
        )

    def test_a_metric_whose_partner_field_is_not_a_partner(self):
        self.assertRefused(
            "prm.metric",
            self.order_metric_values(
                partner_field_id=self.field_id("sale.order", "user_id")
            ),
            "must point to Contacts",
        )

    def test_a_metric_filter_that_does_not_parse(self):
        self.assertRefused(
            "prm.metric",
            self.order_metric_values(domain=UNREADABLE_DOMAIN),
            "cannot be read",
        )

    def test_a_metric_filter_naming_an_unknown_field(self):
        self.assertRefused(
            "prm.metric",
            self.order_metric_values(domain="[('no_such_field', '=', 'sale')]"),
            "is not valid for sale.order",
        )
