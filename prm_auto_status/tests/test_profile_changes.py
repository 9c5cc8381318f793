"""A partner whose profile changes is marked, and the daily job moves it."""

import importlib.util
from datetime import date
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged
from odoo.tools.misc import file_path
from odoo.tools.sql import column_exists

from .common import APRIL_2, IN_MARCH, MARCH_FIRST, MARCH_LAST, PrmStatusCase

NEXT_DAILY_RUN = "2026-04-11 04:00:00"
APRIL_11 = date(2026, 4, 11)


@tagged("post_install", "-at_install")
class TestProfileChanges(PrmStatusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Program = cls.env["prm.status.program"]
        # Azure sold 2,500 in March: Silver, and Gold once it is certified.
        cls.azure = cls.create_partner("Azure Interior (test)")
        cls.brandon = cls.create_contact(cls.azure, "Brandon Freeman (test)")
        cls.create_order(cls.azure, 2500.0, IN_MARCH)
        cls.program._evaluate(cls.azure, APRIL_2)
        cls.env["res.partner"].search([("prm_review_needed", "=", True)])._prm_unmark()

    def run_daily_job(self):
        with freeze_time(NEXT_DAILY_RUN):
            return self.Program._cron_review_changed_profiles()

    def test_adding_a_tag_marks_the_partner(self):
        self.assertFalse(self.azure.prm_review_needed)

        self.azure.category_id = [Command.link(self.certified_tag.id)]

        self.assertTrue(self.azure.prm_review_needed)
        # Marking evaluates nothing: the level waits for the daily job.
        self.assertEqual(self.level_of(self.azure), self.silver)

    def test_adding_a_tag_to_a_contact_marks_its_company(self):
        self.brandon.category_id = [Command.link(self.certified_tag.id)]

        self.assertTrue(self.azure.prm_review_needed)

    def test_the_daily_job_moves_the_partner_to_the_level_its_tag_unlocks(self):
        self.azure.category_id = [Command.link(self.certified_tag.id)]

        result = self.run_daily_job()

        self.assertEqual(result, (1, 0))
        self.assertEqual(self.level_of(self.azure), self.gold)
        self.assertFalse(self.azure.prm_review_needed)
        row = self.history_of(self.azure)[-1]
        self.assertEqual(
            (
                row.old_level_id,
                row.new_level_id,
                row.trigger,
                row.rule_id,
                row.evaluation_date,
                (row.period_start, row.period_end),
            ),
            (
                self.silver,
                self.gold,
                "profile",
                self.certified_seller,
                APRIL_11,
                (MARCH_FIRST, MARCH_LAST),
            ),
        )

    def test_removing_the_tag_moves_the_partner_back(self):
        self.azure.category_id = [Command.link(self.certified_tag.id)]
        self.run_daily_job()

        self.azure.category_id = [Command.unlink(self.certified_tag.id)]
        self.run_daily_job()

        self.assertEqual(self.level_of(self.azure), self.silver)
        self.assertEqual(self.history_of(self.azure)[-1].old_level_id, self.gold)

    def test_writing_an_unrelated_field_marks_nothing(self):
        for field_name, value in (
            ("phone", "+32 2 290 34 90"),
            ("website", "https://azure.example.com"),
            ("comment", "<p>Prefers calls in the morning.</p>"),
        ):
            with self.subTest(field=field_name):
                self.azure.write({field_name: value})
                self.assertFalse(self.azure.prm_review_needed)

    def test_the_daily_job_with_nothing_marked_does_nothing(self):
        result = self.run_daily_job()

        self.assertEqual(result, (0, 0))
        self.assertEqual(len(self.history_of(self.azure)), 1)

    def test_the_daily_job_leaves_draft_programs_alone(self):
        self.program.action_set_draft()
        self.azure.category_id = [Command.link(self.certified_tag.id)]

        self.run_daily_job()

        self.assertEqual(self.level_of(self.azure), self.silver)
        self.assertEqual(len(self.history_of(self.azure)), 1)

    def test_the_engine_own_writes_mark_nothing(self):
        gold_badge = self.env["res.partner.category"].create(
            {"name": "Gold partner (test)"}
        )
        self.gold.tag_ids = gold_badge
        deco = self.create_partner("Deco Addict (test)", tags=[self.certified_tag.id])
        self.create_order(deco, 2500.0, IN_MARCH)
        deco._prm_unmark()

        self.program._evaluate(deco, APRIL_2)

        self.assertEqual(self.level_of(deco), self.gold)
        self.assertFalse(deco.prm_review_needed)

    def test_a_partner_that_starts_taking_part_is_picked_up(self):
        newcomer = self.env["res.partner"].create(
            {"name": "New Reseller (test)", "is_company": True}
        )
        self.create_order(newcomer, 1200.0, IN_MARCH)
        self.run_daily_job()
        self.assertFalse(self.status_of(newcomer))

        newcomer.category_id = [Command.link(self.reseller_tag.id)]
        self.assertTrue(newcomer.prm_review_needed)
        self.run_daily_job()

        self.assertEqual(self.level_of(newcomer), self.silver)

    def test_a_partner_that_stops_taking_part_loses_its_level(self):
        self.azure.category_id = [Command.unlink(self.reseller_tag.id)]

        self.run_daily_job()

        self.assertFalse(self.level_of(self.azure))
        row = self.history_of(self.azure)[-1]
        self.assertEqual(
            (row.old_level_id, row.new_level_id, row.direction, row.trigger),
            (self.silver, self.env["prm.status.level"], "down", "profile"),
        )

    def test_marking_many_partners_costs_one_statement(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Bulk Reseller {index} (test)"} for index in range(30)]
        )
        partners._prm_unmark()
        Cursor = type(self.env.cr)
        execute = Cursor.execute
        marking = []

        def watch(cursor, query, params=None, log_exceptions=True):
            if "INSERT INTO prm_review_mark" in str(getattr(query, "code", query)):
                marking.append(query)
            return execute(cursor, query, params, log_exceptions)

        with patch.object(Cursor, "execute", autospec=True, side_effect=watch):
            partners.write({"category_id": [Command.link(self.reseller_tag.id)]})

        self.assertEqual(len(marking), 1)
        self.assertEqual(len(partners.filtered("prm_review_needed")), 30)

    def test_marked_partners_can_be_searched(self):
        self.azure.category_id = [Command.link(self.certified_tag.id)]
        Partner = self.env["res.partner"]

        self.assertEqual(Partner.search([("prm_review_needed", "=", True)]), self.azure)
        self.assertEqual(
            Partner.search([("prm_review_needed", "!=", False)]), self.azure
        )
        unmarked = Partner.search([("prm_review_needed", "=", False)])
        self.assertIn(self.brandon, unmarked)
        self.assertNotIn(self.azure, unmarked)

    def test_marks_are_searched_with_in_as_filtered_domain_reads_them(self):
        self.azure.category_id = [Command.link(self.certified_tag.id)]
        Partner = self.env["res.partner"].with_context(active_test=False)
        everyone = Partner.search([])

        for domain, expected in (
            ([("prm_review_needed", "in", [True])], self.azure),
            ([("prm_review_needed", "not in", [True])], everyone - self.azure),
            ([("prm_review_needed", "in", [True, False])], everyone),
            ([("prm_review_needed", "in", [])], Partner),
        ):
            self.assertEqual(Partner.search(domain), expected, domain)
            self.assertEqual(everyone.filtered_domain(domain), expected, domain)

    def test_searching_marks_with_another_operator_is_refused(self):
        for operator, value in (("ilike", "yes"), ("=", 1), ("in", [1])):
            with self.assertRaisesRegex(UserError, "whether a status review is needed"):
                self.env["res.partner"].search([("prm_review_needed", operator, value)])

    def test_a_deleted_partner_leaves_no_mark(self):
        partner = self.env["res.partner"].create({"name": "Short-lived (test)"})
        self.assertTrue(partner.prm_review_needed)
        partner_id = partner.id

        partner.unlink()

        Mark = self.env["prm.review.mark"]
        self.assertEqual(Mark._marked_partner_ids([partner_id]), [])

    def test_the_upgrade_keeps_the_marks_of_the_old_column(self):
        cr = self.env.cr
        cr.execute("ALTER TABLE res_partner ADD COLUMN prm_review_needed boolean")
        # Columns of 18.0.1.1.0's history rows, dropped by the same upgrade.
        cr.execute(
            "ALTER TABLE prm_status_history ADD COLUMN create_uid int4, "
            "ADD COLUMN create_date timestamp, ADD COLUMN write_uid int4, "
            "ADD COLUMN write_date timestamp"
        )
        cr.execute(
            "UPDATE res_partner SET prm_review_needed = (id = %s)", [self.azure.id]
        )
        path = file_path("prm_auto_status/migrations/18.0.1.2.0/post-migration.py")
        spec = importlib.util.spec_from_file_location("prm_post_migration", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)

        migration.migrate(cr, "18.0.1.1.0")

        self.env.invalidate_all()
        self.assertTrue(self.azure.prm_review_needed)
        self.assertFalse(self.brandon.prm_review_needed)
        self.assertFalse(column_exists(cr, "res_partner", "prm_review_needed"))
        for column in ("create_uid", "create_date", "write_uid", "write_date"):
            self.assertFalse(column_exists(cr, "prm_status_history", column))
        self.assertTrue(column_exists(cr, "prm_status_history", "user_id"))

    def test_a_review_batch_of_the_daily_job_is_bounded(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "prm_auto_status.review_batch_size", "2"
        )
        partners = self.env["res.partner"].union(
            *(self.create_partner(f"Reseller {index} (test)") for index in range(3))
        )

        first, second = self.run_daily_job(), self.run_daily_job()

        self.assertEqual((first, second), ((2, 1), (1, 0)))
        self.assertEqual(
            [self.level_of(partner) for partner in partners], [self.registered] * 3
        )
