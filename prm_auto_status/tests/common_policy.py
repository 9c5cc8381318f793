"""A small ladder to try the status policy, the explanation, the preview,
the notifications and the portal on.

``Policy program (test)`` measures the sales of the last closed month (UTC)
and is reviewed on the 1st of each month. The companies tagged "Policy member
(test)" take part, so no partner of Odoo's demo data ever does. Its ladder:

* Registered (rank 1): the start level, no rule;
* Silver (rank 2): "Selling partner", sales >= 1,000;
* Gold (rank 3): "Volume reseller", sales >= 5,000, kept while sales >= 4,000.

The program downgrades immediately and starts as a draft; each test sets the
policy it is about.
"""

from datetime import date, datetime, time

from odoo import Command
from odoo.tests import TransactionCase, new_test_user

# A review on the 1st of a month measures the month before.
FEB_1 = date(2025, 2, 1)
MAR_1 = date(2025, 3, 1)
APR_1 = date(2025, 4, 1)
MAY_1 = date(2025, 5, 1)
JUN_1 = date(2025, 6, 1)
IN_JANUARY = date(2025, 1, 10)
IN_FEBRUARY = date(2025, 2, 10)
IN_MARCH = date(2025, 3, 10)
IN_APRIL = date(2025, 4, 10)


class PolicyFixture:
    """Builds the program, its users and helpers; mixed into TransactionCase
    and HttpCase alike."""

    @classmethod
    def setup_policy_fixture(cls):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        # Demo programs (e.g. "Reseller program") must not show on the portal
        # nor count anyone we create.
        cls.env["prm.status.program"].search([("state", "=", "running")]).write(
            {"state": "draft"}
        )
        cls.company = cls.env.company
        cls.currency = cls.company.currency_id
        cls.sales_amount = cls.env.ref("prm_auto_status.prm_metric_sales_amount")
        cls.member_tag = cls.env["res.partner.category"].create(
            {"name": "Policy member (test)"}
        )
        cls.consulting_day = cls.env["product.product"].create(
            {
                "name": "Policy consulting day (test)",
                "type": "service",
                "list_price": 100.0,
                "taxes_id": [Command.clear()],
            }
        )
        # The default pricelist comes first, so that a partner leaving the
        # Gold pricelist falls back to it.
        Pricelist = cls.env["product.pricelist"]
        cls.standard_prices = Pricelist.create(
            {"name": "Standard prices (test)", "sequence": 1, "company_id": False}
        )
        cls.gold_prices = Pricelist.create(
            {
                "name": "Gold prices (test)",
                "sequence": 20,
                "company_id": cls.company.id,
            }
        )

        cls.manager = new_test_user(
            cls.env,
            login="policy_manager",
            name="Paula Manager",
            groups="base.group_user,prm_auto_status.group_prm_manager",
            tz="UTC",
        )
        cls.salesperson = new_test_user(
            cls.env,
            login="policy_salesperson",
            name="Sam Seller",
            groups="sales_team.group_sale_salesman",
            tz="UTC",
        )

        cls.program = cls.env["prm.status.program"].create(
            {
                "name": "Policy program (test)",
                "partner_domain": repr([("category_id", "in", [cls.member_tag.id])]),
                "period_unit": "month",
                "period_mode": "last",
                "review_frequency": "monthly",
                "no_level_policy": "lowest",
                "downgrade_policy": "immediate",
                "min_periods_on_level": 0,
                "tz": "UTC",
                "user_id": cls.manager.id,
            }
        )
        Level = cls.env["prm.status.level"]
        cls.registered = Level.create(
            {"name": "Registered", "program_id": cls.program.id, "rank": 1}
        )
        cls.silver = Level.create(
            {"name": "Silver", "program_id": cls.program.id, "rank": 2}
        )
        cls.gold = Level.create(
            {"name": "Gold", "program_id": cls.program.id, "rank": 3}
        )
        Rule = cls.env["prm.status.rule"]
        cls.selling_partner = Rule.create(
            {
                "name": "Selling partner",
                "level_id": cls.silver.id,
                "condition_ids": [
                    Command.create(
                        {
                            "metric_id": cls.sales_amount.id,
                            "operator": ">=",
                            "value": 1000,
                        }
                    )
                ],
            }
        )
        cls.volume_reseller = Rule.create(
            {
                "name": "Volume reseller",
                "level_id": cls.gold.id,
                "condition_ids": [
                    Command.create(
                        {
                            "metric_id": cls.sales_amount.id,
                            "operator": ">=",
                            "value": 5000,
                            "has_keep_value": True,
                            "keep_value": 4000,
                        }
                    )
                ],
            }
        )

    # ------------------------------------------------------------------
    # Partners and their sales
    # ------------------------------------------------------------------

    @classmethod
    def create_member(cls, name, tags=(), **values):
        """A company taking part in the program, followed by Sam Seller."""
        return cls.env["res.partner"].create(
            {
                "name": name,
                "is_company": True,
                "email": f"{name.split()[0].lower()}@example.com",
                "user_id": cls.salesperson.id,
                "category_id": [Command.set([cls.member_tag.id, *tags])],
                **values,
            }
        )

    @classmethod
    def sell(cls, partner, amount, day):
        """A confirmed sales order of ``amount`` untaxed, dated ``day``, saved
        as a salesperson's order is saved before any review reads it."""
        order = cls.create_order(partner, amount, day)
        cls.env.flush_all()
        return order

    @classmethod
    def create_order(cls, partner, amount, day):
        """A confirmed sales order of ``amount`` untaxed, dated ``day``, left
        in the transaction's cache as a script or a wizard leaves it."""
        return cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "date_order": datetime.combine(day, time(10)),
                "state": "sale",
                "order_line": [
                    Command.create(
                        {
                            "product_id": cls.consulting_day.id,
                            "product_uom_qty": 1,
                            "price_unit": amount,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )

    # ------------------------------------------------------------------
    # Reviews and their outcome
    # ------------------------------------------------------------------

    @classmethod
    def review(cls, day, partners=None):
        """Run the review of ``day`` and return {partner id: decision}."""
        decisions = cls.program._evaluate(partners, day)
        return {decision.partner_id: decision for decision in decisions}

    @classmethod
    def status_of(cls, partner):
        return cls.env["prm.partner.status"].search(
            [("partner_id", "=", partner.id), ("program_id", "=", cls.program.id)]
        )

    @classmethod
    def history_of(cls, partner):
        """History rows of ``partner`` in the program, oldest first."""
        return cls.env["prm.status.history"].search(
            [("partner_id", "=", partner.id), ("program_id", "=", cls.program.id)],
            order="id",
        )


class PolicyCase(PolicyFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_policy_fixture()
