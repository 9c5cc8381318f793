"""What the tests share: a reseller program and a way to write its documents.

The program ``Resellers (test)`` measures the last closed month, in UTC, and
is reviewed monthly. Its participants are the companies tagged "Reseller
(test)", so the partners of Odoo's demo data never take part. Its ladder:

* Registered (rank 1): the start level, no rule;
* Silver (rank 2): "Selling partner" (sales >= 1,000) or "Active prospector"
  (leads >= 3);
* Gold (rank 3): "Volume reseller" (sales >= 5,000 and deals >= 3) or
  "Certified seller" (sales >= 2,000, for partners tagged "Certified (test)").
"""

from datetime import date

import pytz
from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.tests import TransactionCase, freeze_time
from odoo.tools import SQL

# Evaluated on 2 April 2026, the last closed month is March 2026.
APRIL_2 = date(2026, 4, 2)
MARCH_FIRST = date(2026, 3, 1)
MARCH_LAST = date(2026, 3, 31)
IN_MARCH = "2026-03-10 10:00:00"
IN_FEBRUARY = "2026-02-10 10:00:00"
IN_APRIL = "2026-04-10 10:00:00"


class PrmStatusCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        # Programs of the demo data must not take part in our reviews, and
        # partners marked before the tests must not join our daily runs.
        cls.env["prm.status.program"].search([("state", "=", "running")]).write(
            {"state": "draft"}
        )
        cls.env["res.partner"].search([("prm_review_needed", "=", True)])._prm_unmark()

        cls.company = cls.env.company
        cls.sales_amount = cls.env.ref("prm_auto_status.prm_metric_sales_amount")
        cls.deal_count = cls.env.ref("prm_auto_status.prm_metric_deal_count")
        cls.lead_count = cls.env.ref("prm_auto_status.prm_metric_lead_count")
        cls.won_count = cls.env.ref("prm_auto_status.prm_metric_won_count")
        cls.reward_amount = cls.env.ref("prm_auto_status.prm_metric_reward_amount")

        Tag = cls.env["res.partner.category"]
        cls.reseller_tag = Tag.create({"name": "Reseller (test)"})
        cls.certified_tag = Tag.create({"name": "Certified (test)"})
        cls.consulting_day = cls.env["product.product"].create(
            {
                "name": "Partner consulting day",
                "type": "service",
                "list_price": 100.0,
                "taxes_id": [Command.clear()],
                "supplier_taxes_id": [Command.clear()],
            }
        )

        cls.program = cls.create_program("Resellers (test)")
        cls.registered = cls.create_level(cls.program, "Registered", 1)
        cls.silver = cls.create_level(cls.program, "Silver", 2)
        cls.gold = cls.create_level(cls.program, "Gold", 3)
        cls.selling_partner = cls.create_rule(
            cls.silver, "Selling partner", [(cls.sales_amount, ">=", 1000)]
        )
        cls.active_prospector = cls.create_rule(
            cls.silver, "Active prospector", [(cls.lead_count, ">=", 3)]
        )
        cls.volume_reseller = cls.create_rule(
            cls.gold,
            "Volume reseller",
            [(cls.sales_amount, ">=", 5000), (cls.deal_count, ">=", 3)],
        )
        cls.certified_seller = cls.create_rule(
            cls.gold,
            "Certified seller",
            [(cls.sales_amount, ">=", 2000)],
            profile_domain=[("category_id", "in", [cls.certified_tag.id])],
        )

    # ------------------------------------------------------------------
    # Programs
    # ------------------------------------------------------------------

    @classmethod
    def create_program(cls, name, **values):
        """A running program of the resellers, measured on the last closed
        month in UTC and reviewed monthly, unless ``values`` say otherwise."""
        return cls.env["prm.status.program"].create(
            {
                "name": name,
                "partner_domain": repr([("category_id", "in", [cls.reseller_tag.id])]),
                "period_unit": "month",
                "period_mode": "last",
                "review_frequency": "monthly",
                "no_level_policy": "lowest",
                "tz": "UTC",
                "state": "running",
                **values,
            }
        )

    @classmethod
    def create_level(cls, program, name, rank, **values):
        return cls.env["prm.status.level"].create(
            {"name": name, "program_id": program.id, "rank": rank, **values}
        )

    @classmethod
    def create_rule(cls, level, name, conditions, profile_domain=None):
        """A rule of ``level``; ``conditions`` are (metric, operator, value)."""
        return cls.env["prm.status.rule"].create(
            {
                "name": name,
                "level_id": level.id,
                "profile_domain": repr(profile_domain or []),
                "condition_ids": [
                    Command.create(
                        {"metric_id": metric.id, "operator": operator, "value": value}
                    )
                    for metric, operator, value in conditions
                ],
            }
        )

    # ------------------------------------------------------------------
    # Partners
    # ------------------------------------------------------------------

    @classmethod
    def create_partner(cls, name, tags=(), **values):
        """A company taking part in the resellers' programs."""
        return cls.env["res.partner"].create(
            {
                "name": name,
                "is_company": True,
                "category_id": [Command.set([cls.reseller_tag.id, *tags])],
                **values,
            }
        )

    @classmethod
    def create_contact(cls, company, name):
        return cls.env["res.partner"].create(
            {"name": name, "parent_id": company.id, "type": "contact"}
        )

    # ------------------------------------------------------------------
    # Documents
    # ------------------------------------------------------------------

    @classmethod
    def create_order(cls, partner, amount, when, state="sale", pricelist=None):
        """A sales order of ``amount`` untaxed, placed at ``when`` (UTC), left
        as a quotation ("draft"), confirmed ("sale") or cancelled ("cancel").

        Odoo dates an order when it is confirmed, so it is confirmed with the
        clock set to ``when``."""
        values = {
            "partner_id": partner.id,
            "date_order": when,
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
        if pricelist:
            values["pricelist_id"] = pricelist.id
        order = cls.env["sale.order"].create(values)
        if state in ("sale", "cancel"):
            with freeze_time(when):
                order.action_confirm()
        if state == "cancel":
            order._action_cancel()
        return order

    @classmethod
    def create_lead(cls, partner, created, kind="lead", outcome=None, closed=None):
        """A lead or opportunity created at ``created``; ``outcome`` "won"
        (won at ``closed``, default ``created``) or "lost".

        The ORM stamps the creation date with the database clock, which no
        frozen time reaches: the date is set in the table afterwards."""
        lead = cls.env["crm.lead"].create(
            {
                "name": f"{partner.name}: {kind} of {created}",
                "partner_id": partner.id,
                "type": kind,
            }
        )
        cls.env.cr.execute(
            SQL("UPDATE crm_lead SET create_date = %s WHERE id = %s", created, lead.id)
        )
        lead.invalidate_recordset(["create_date"])
        if outcome == "won":
            with freeze_time(closed or created):
                lead.action_set_won()
        elif outcome == "lost":
            lead.action_set_lost()
        return lead

    @classmethod
    def create_bill(cls, partner, amount, day, move_type="in_invoice", state="posted"):
        """A vendor bill (or refund, or customer invoice with ``move_type``)
        of ``amount`` untaxed dated ``day``; "posted", "draft" or "cancel"."""
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": day,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Commission",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        if state == "posted":
            move.action_post()
        elif state == "cancel":
            move.button_cancel()
        return move

    # ------------------------------------------------------------------
    # Reading the outcome
    # ------------------------------------------------------------------

    def measure(self, metric, partners, first_day, last_day, tz="UTC"):
        """{partner: value of ``metric``} over the local dates ``first_day``
        to ``last_day``, both included, in timezone ``tz``."""
        values = metric._read_values(
            partners.ids,
            first_day,
            last_day + relativedelta(days=1),
            self.company,
            pytz.timezone(tz),
        )
        return {partner: values.get(partner.id, 0.0) for partner in partners}

    def measured_values(self, program, partner, day):
        """{metric code: value} the engine measures for ``partner`` in
        ``program`` on ``day``, without saving anything."""
        decisions = program._evaluate(partner, day, apply=False)
        self.assertEqual(len(decisions), 1, "the partner takes part")
        metrics = program.level_ids.rule_ids.condition_ids.metric_id
        return {metric.code: decisions[0].values[metric.id] for metric in metrics}

    def status_of(self, partner, program=None):
        return self.env["prm.partner.status"].search(
            [
                ("partner_id", "=", partner.id),
                ("program_id", "=", (program or self.program).id),
            ]
        )

    def level_of(self, partner, program=None):
        return self.status_of(partner, program).level_id

    def history_of(self, partner, program=None):
        """History rows of ``partner`` in ``program``, oldest first."""
        return self.env["prm.status.history"].search(
            [
                ("partner_id", "=", partner.id),
                ("program_id", "=", (program or self.program).id),
            ],
            order="id",
        )
