"""What each built-in metric measures, and what it leaves out."""

from datetime import date
from unittest.mock import patch

from odoo.tests import tagged

from .common import (
    APRIL_2,
    IN_APRIL,
    IN_FEBRUARY,
    IN_MARCH,
    MARCH_FIRST,
    MARCH_LAST,
    PrmStatusCase,
)


@tagged("post_install", "-at_install")
class TestBuiltInMetrics(PrmStatusCase):
    def march(self, metric, partner):
        return self.measure(metric, partner, MARCH_FIRST, MARCH_LAST)[partner]

    def test_sales_amount_counts_confirmed_orders_only(self):
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 100.0, IN_MARCH, state="draft")
        self.create_order(azure, 1000.0, IN_MARCH)
        self.create_order(azure, 250.0, IN_MARCH)
        self.create_order(azure, 500.0, IN_MARCH, state="cancel")
        self.create_order(azure, 700.0, IN_FEBRUARY)
        self.create_order(azure, 900.0, IN_APRIL)

        self.assertEqual(self.march(self.sales_amount, azure), 1250.0)

    def test_deal_count_counts_confirmed_orders_only(self):
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 100.0, IN_MARCH, state="draft")
        self.create_order(azure, 1000.0, IN_MARCH)
        self.create_order(azure, 250.0, IN_MARCH)
        self.create_order(azure, 500.0, IN_MARCH, state="cancel")
        self.create_order(azure, 700.0, IN_FEBRUARY)

        self.assertEqual(self.march(self.deal_count, azure), 2)

    def test_lead_count_counts_leads_and_opportunities_but_not_lost_ones(self):
        deco = self.create_partner("Deco Addict (test)")
        self.create_lead(deco, IN_MARCH, kind="lead")
        self.create_lead(deco, IN_MARCH, kind="opportunity")
        self.create_lead(deco, IN_MARCH, kind="opportunity", outcome="won")
        self.create_lead(deco, IN_MARCH, kind="opportunity", outcome="lost")
        self.create_lead(deco, IN_APRIL, kind="lead")

        self.assertEqual(self.march(self.lead_count, deco), 3)

    def test_won_count_counts_opportunities_won_in_the_period(self):
        deco = self.create_partner("Deco Addict (test)")
        self.create_lead(deco, IN_MARCH, kind="opportunity", outcome="won")
        self.create_lead(
            deco, IN_FEBRUARY, kind="opportunity", outcome="won", closed=IN_MARCH
        )
        self.create_lead(deco, IN_MARCH, kind="opportunity")
        self.create_lead(deco, IN_MARCH, kind="opportunity", outcome="lost")
        self.create_lead(
            deco, IN_MARCH, kind="opportunity", outcome="won", closed=IN_APRIL
        )

        self.assertEqual(self.march(self.won_count, deco), 2)

    def test_reward_amount_is_posted_vendor_bills_minus_vendor_refunds(self):
        gemini = self.create_partner("Gemini Furniture (test)")
        self.create_bill(gemini, 1000.0, date(2026, 3, 5))
        self.create_bill(gemini, 200.0, date(2026, 3, 20), move_type="in_refund")
        self.create_bill(gemini, 5000.0, date(2026, 3, 6), state="draft")
        self.create_bill(gemini, 300.0, date(2026, 3, 7), state="cancel")
        self.create_bill(gemini, 4000.0, date(2026, 3, 8), move_type="out_invoice")
        self.create_bill(gemini, 50.0, date(2026, 2, 28))

        self.assertEqual(self.march(self.reward_amount, gemini), 800.0)

    def test_an_order_in_a_foreign_currency_is_converted_at_its_rate(self):
        foreign = self.env.ref("base.EUR")
        if foreign == self.company.currency_id:
            foreign = self.env.ref("base.USD")
        foreign.active = True
        self.env["res.currency.rate"].create(
            [
                {
                    "name": date(2026, 3, 10),
                    "rate": 0.8,
                    "currency_id": foreign.id,
                    "company_id": self.company.id,
                },
                {
                    "name": date(2026, 3, 11),
                    "rate": 0.5,
                    "currency_id": foreign.id,
                    "company_id": self.company.id,
                },
            ]
        )
        export_pricelist = self.env["product.pricelist"].create(
            {"name": "Export (test)", "currency_id": foreign.id}
        )
        lumber = self.create_partner("Lumber Inc (test)")

        order = self.create_order(lumber, 1000.0, IN_MARCH, pricelist=export_pricelist)

        self.assertEqual(order.currency_id, foreign)
        self.assertEqual(order.currency_rate, 0.8)
        self.assertEqual(order.amount_untaxed, 1000.0)
        # 1,000 in the foreign currency at 0.8 per unit of company currency.
        self.assertAlmostEqual(self.march(self.sales_amount, lumber), 1250.0)

    def test_a_contact_order_counts_for_its_company(self):
        azure = self.create_partner("Azure Interior (test)")
        brandon = self.create_contact(azure, "Brandon Freeman (test)")
        self.create_order(brandon, 800.0, IN_MARCH)
        self.create_order(azure, 200.0, IN_MARCH)

        self.assertEqual(self.march(self.sales_amount, azure), 1000.0)
        self.assertEqual(self.march(self.deal_count, azure), 2)

    def test_a_contact_order_lifts_its_company_to_a_level(self):
        azure = self.create_partner("Azure Interior (test)")
        brandon = self.create_contact(azure, "Brandon Freeman (test)")
        self.create_order(brandon, 1200.0, IN_MARCH)

        self.program._evaluate(brandon, APRIL_2)

        self.assertEqual(self.level_of(azure), self.silver)
        self.assertFalse(self.status_of(brandon))

    def test_partners_without_records_measure_zero(self):
        quiet = self.create_partner("Quiet Reseller (test)")
        self.assertEqual(self.march(self.sales_amount, quiet), 0.0)
        self.assertEqual(self.march(self.lead_count, quiet), 0.0)

    def test_one_read_per_metric_for_a_batch_of_partners(self):
        partners = (
            self.create_partner("Reseller A (test)")
            | self.create_partner("Reseller B (test)")
            | self.create_partner("Reseller C (test)")
        )
        for partner in partners:
            self.create_order(partner, 1500.0, IN_MARCH)
        Metric = self.registry["prm.metric"]

        with patch.object(
            Metric, "_read_values", autospec=True, side_effect=Metric._read_values
        ) as read_values:
            self.program._evaluate(partners, APRIL_2)

        read_metrics = [call.args[0] for call in read_values.call_args_list]
        self.assertCountEqual(
            read_metrics, [self.sales_amount, self.deal_count, self.lead_count]
        )
        for call in read_values.call_args_list:
            self.assertCountEqual(call.args[1], partners.ids)
        self.assertEqual(
            [self.level_of(partner) for partner in partners], [self.silver] * 3
        )

    def test_a_manager_defines_a_new_metric_as_data(self):
        invoiced = self.env["prm.metric"].create(
            {
                "name": "Invoiced amount (test)",
                "code": "invoiced_amount_test",
                "model_id": self.env["ir.model"]._get_id("account.move"),
                "partner_field_id": self.env["ir.model.fields"]
                ._get("account.move", "partner_id")
                .id,
                "date_field_id": self.env["ir.model.fields"]
                ._get("account.move", "invoice_date")
                .id,
                "aggregation": "sum",
                "value_field_id": self.env["ir.model.fields"]
                ._get("account.move", "amount_untaxed_signed")
                .id,
                "domain": "[('state', '=', 'posted'), "
                "('move_type', '=', 'out_invoice')]",
            }
        )
        gemini = self.create_partner("Gemini Furniture (test)")
        self.create_bill(gemini, 4000.0, date(2026, 3, 8), move_type="out_invoice")
        self.create_bill(gemini, 1000.0, date(2026, 3, 5))

        self.assertEqual(self.march(invoiced, gemini), 4000.0)
