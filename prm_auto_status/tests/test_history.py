"""The history rows the engine writes, and the ones it does not."""

from datetime import date

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import APRIL_2, IN_APRIL, IN_MARCH, MARCH_FIRST, MARCH_LAST, PrmStatusCase

MAY_2 = date(2026, 5, 2)
JUNE_2 = date(2026, 6, 2)


@tagged("post_install", "-at_install")
class TestHistory(PrmStatusCase):
    def row_values(self, row):
        return {
            "partner": row.partner_id,
            "program": row.program_id,
            "old_level": row.old_level_id,
            "new_level": row.new_level_id,
            "direction": row.direction,
            "trigger": row.trigger,
            "evaluation_date": row.evaluation_date,
            "period": (row.period_start, row.period_end),
            "metric_values": row.metric_values,
            "rule": row.rule_id,
        }

    def test_a_first_level_writes_a_first_assignment_row(self):
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 1500.0, IN_MARCH)

        self.program._evaluate(azure, APRIL_2)

        self.assertEqual(
            self.row_values(self.history_of(azure)),
            {
                "partner": azure,
                "program": self.program,
                "old_level": self.env["prm.status.level"],
                "new_level": self.silver,
                "direction": "up",
                "trigger": "first",
                "evaluation_date": APRIL_2,
                "period": (MARCH_FIRST, MARCH_LAST),
                "metric_values": {
                    "sales_amount": 1500.0,
                    "lead_count": 0.0,
                    "deal_count": 1,
                },
                "rule": self.selling_partner,
            },
        )

    def test_the_start_level_is_recorded_without_a_rule(self):
        newcomer = self.create_partner("Newcomer (test)")

        self.program._evaluate(newcomer, APRIL_2)

        row = self.history_of(newcomer)
        self.assertEqual(len(row), 1)
        self.assertEqual(row.new_level_id, self.registered)
        self.assertFalse(row.old_level_id)
        self.assertFalse(row.rule_id)
        self.assertEqual(
            row.metric_values,
            {"sales_amount": 0.0, "lead_count": 0.0, "deal_count": 0.0},
        )

    def test_an_upgrade_at_a_later_review(self):
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 1500.0, IN_MARCH)
        self.program._evaluate(azure, APRIL_2)
        for amount in (2000.0, 2000.0, 2000.0):
            self.create_order(azure, amount, IN_APRIL)

        self.program._evaluate(azure, MAY_2, trigger="review")

        first, upgrade = self.history_of(azure)
        self.assertEqual(first.new_level_id, self.silver)
        self.assertEqual(
            self.row_values(upgrade),
            {
                "partner": azure,
                "program": self.program,
                "old_level": self.silver,
                "new_level": self.gold,
                "direction": "up",
                "trigger": "review",
                "evaluation_date": MAY_2,
                "period": (date(2026, 4, 1), date(2026, 4, 30)),
                "metric_values": {
                    "sales_amount": 6000.0,
                    "lead_count": 0.0,
                    "deal_count": 3,
                },
                "rule": self.volume_reseller,
            },
        )
        status = self.status_of(azure)
        self.assertEqual(status.date_since, MAY_2)
        self.assertEqual(status.rule_id, self.volume_reseller)

    def test_a_downgrade_to_the_start_level(self):
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 1500.0, IN_MARCH)
        self.program._evaluate(azure, APRIL_2)

        self.program._evaluate(azure, MAY_2, trigger="review")

        downgrade = self.history_of(azure)[-1]
        self.assertEqual(downgrade.old_level_id, self.silver)
        self.assertEqual(downgrade.new_level_id, self.registered)
        self.assertEqual(downgrade.direction, "down")
        self.assertEqual(downgrade.trigger, "review")
        self.assertFalse(downgrade.rule_id)
        self.assertEqual(downgrade.metric_values["sales_amount"], 0.0)

    def test_evaluating_again_changes_nothing_and_writes_no_history(self):
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 1500.0, IN_MARCH)
        deco = self.create_partner("Deco Addict (test)")
        self.program._evaluate(azure | deco, APRIL_2)
        rows_before = self.env["prm.status.history"].search_count(
            [("program_id", "=", self.program.id)]
        )

        decisions = self.program._evaluate(azure | deco, APRIL_2)

        self.assertEqual(rows_before, 2)
        self.assertEqual(
            self.env["prm.status.history"].search_count(
                [("program_id", "=", self.program.id)]
            ),
            2,
        )
        self.assertEqual(
            [(decision.outcome, decision.changed) for decision in decisions],
            [("unchanged", False), ("unchanged", False)],
        )
        self.assertEqual(self.level_of(azure), self.silver)
        self.assertEqual(self.level_of(deco), self.registered)

    def test_a_preview_writes_nothing(self):
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 1500.0, IN_MARCH)

        decisions = self.program._evaluate(azure, APRIL_2, apply=False)

        self.assertEqual(decisions[0].new_level, self.silver)
        self.assertFalse(self.status_of(azure))
        self.assertFalse(self.history_of(azure))

    def test_history_rows_cannot_be_edited_or_deleted(self):
        azure = self.create_partner("Azure Interior (test)")
        self.program._evaluate(azure, APRIL_2)
        row = self.history_of(azure)

        with self.assertRaises(UserError):
            row.write({"new_level_id": self.gold.id})
        with self.assertRaises(UserError):
            row.unlink()
        self.assertEqual(row.new_level_id, self.registered)


@tagged("post_install", "-at_install")
class TestBulkWrites(PrmStatusCase):
    """The engine saves a review with plain SQL; what it saves reads back as
    what the ORM would have saved."""

    def test_an_inserted_history_row_reads_as_a_created_one(self):
        azure = self.create_partner("Azure Interior (test)")
        History = self.env["prm.status.history"].sudo()
        row = {
            "partner_id": azure.id,
            "program_id": self.program.id,
            "old_level_id": False,
            "new_level_id": self.silver.id,
            "direction": "up",
            "evaluation_date": APRIL_2,
            "trigger": "review",
            "period_start": MARCH_FIRST,
            "period_end": MARCH_LAST,
            "metric_values": {"sales_amount": 1500.25, "deal_count": 1},
            "values_summary": "Sales amount: 1,500.25",
            "rule_id": self.selling_partner.id,
            "reason": False,
            "benefits": "tags added: Silver",
            "email_template_id": self.program.upgrade_template_id.id,
            "followup_pending": True,
        }
        read_fields = [*row, "company_id", "email_pending", "user_id"]

        created = History.create(dict(row))
        inserted = History._insert_rows([dict(row)])

        self.assertEqual(len(inserted), 1)
        self.assertEqual(
            inserted.read(read_fields)[0] | {"id": created.id},
            created.read(read_fields)[0],
        )
        self.assertEqual(inserted.company_id, self.program.company_id)
        self.assertEqual(inserted.user_id, self.env.user)
        self.assertEqual(inserted.metric_values["sales_amount"], 1500.25)

    def test_a_field_the_insert_does_not_know_is_refused(self):
        azure = self.create_partner("Azure Interior (test)")
        with self.assertRaisesRegex(ValueError, r"\['date'\]"):
            self.env["prm.status.history"].sudo()._insert_rows(
                [
                    {
                        "partner_id": azure.id,
                        "program_id": self.program.id,
                        "trigger": "review",
                        "date": APRIL_2,
                    }
                ]
            )

    def test_saved_changes_set_the_level_rank_and_clear_the_cache(self):
        azure = self.create_partner("Azure Interior (test)")
        self.program._evaluate(azure, APRIL_2)
        status = self.status_of(azure)
        self.assertEqual((status.level_id, status.level_rank), (self.registered, 1))

        reviewer = self.env.ref("base.user_admin")
        self.assertNotEqual(status.write_uid, reviewer)

        status.with_user(reviewer)._save_engine_changes(
            {(("level_id", self.gold.id), ("at_risk", False)): [status.id]},
            {self.registered.id: 1, self.silver.id: 2, self.gold.id: 3},
        )

        self.assertEqual(
            (status.level_id, status.level_rank, status.at_risk, status.write_uid),
            (self.gold, 3, False, reviewer),
        )
