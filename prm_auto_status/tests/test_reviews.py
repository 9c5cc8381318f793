"""The scheduled reviews: which programs each job reviews, in batches,
without stopping on a failing partner and without reviewing twice."""

from datetime import date
from unittest.mock import patch

import psycopg2.errors

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, Form, freeze_time, get_db_name, tagged
from odoo.tools import SQL, mute_logger

from .common import APRIL_2, IN_APRIL, IN_MARCH, PrmStatusCase

PROGRAM_LOGGER = "odoo.addons.prm_auto_status.models.prm_status_program"
FIRST_OF_MAY = "2026-05-01 03:00:00"
FIRST_OF_JULY = "2026-07-01 03:00:00"
MAY_1 = date(2026, 5, 1)
JUNE_1 = date(2026, 6, 1)


@tagged("post_install", "-at_install")
class TestScheduledReviews(PrmStatusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Program = cls.env["prm.status.program"]
        cls.quarterly_program = cls.create_program(
            "Distributors (test)", period_unit="quarter", review_frequency="quarterly"
        )
        cls.listed = cls.create_level(cls.quarterly_program, "Listed", 1)
        cls.preferred = cls.create_level(cls.quarterly_program, "Preferred", 2)
        cls.quarter_seller = cls.create_rule(
            cls.preferred, "Quarter seller", [(cls.sales_amount, ">=", 3000)]
        )

    def reviewed_on(self, partners, day, program=None):
        return partners.filtered(
            lambda partner: self.status_of(partner, program).last_review_date == day
        )

    def start_review_of_two(self):
        """Two resellers and a review of 1 May left after its first call
        (one partner per call); returns the two resellers."""
        self.env["ir.config_parameter"].sudo().set_param(
            "prm_auto_status.review_batch_size", "1"
        )
        first = self.create_partner("Reseller 1 (test)")
        second = self.create_partner("Reseller 2 (test)")
        with freeze_time(FIRST_OF_MAY):
            self.Program._cron_review_monthly()
        return first, second

    def test_on_1_may_the_monthly_job_reviews_the_monthly_programs(self):
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 1500.0, IN_APRIL)

        with freeze_time(FIRST_OF_MAY):
            result = self.Program._cron_review_monthly()

        self.assertEqual(result, (1, 0))
        self.assertEqual(self.level_of(azure), self.silver)
        self.assertEqual(self.status_of(azure).last_review_date, MAY_1)
        self.assertEqual(self.program.last_review_date, MAY_1)
        self.assertFalse(self.program.review_date_pending)
        row = self.history_of(azure)
        self.assertEqual(
            (row.period_start, row.period_end), (date(2026, 4, 1), date(2026, 4, 30))
        )
        # The quarterly program waits for its own job.
        self.assertFalse(self.status_of(azure, self.quarterly_program))
        self.assertFalse(self.quarterly_program.last_review_date)

    def test_on_1_july_the_quarterly_job_reviews_the_quarterly_programs(self):
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 1000.0, IN_APRIL)
        self.create_order(azure, 2500.0, "2026-06-30 18:00:00")

        with freeze_time(FIRST_OF_JULY):
            result = self.Program._cron_review_quarterly()

        self.assertEqual(result, (1, 0))
        self.assertEqual(self.level_of(azure, self.quarterly_program), self.preferred)
        row = self.history_of(azure, self.quarterly_program)
        self.assertEqual(
            (row.period_start, row.period_end), (date(2026, 4, 1), date(2026, 6, 30))
        )
        self.assertEqual(row.metric_values, {"sales_amount": 3500.0})
        self.assertEqual(self.quarterly_program.last_review_date, date(2026, 7, 1))
        self.assertFalse(self.status_of(azure, self.program))

    def test_a_draft_program_is_not_touched_by_the_jobs(self):
        azure = self.create_partner("Azure Interior (test)")
        self.program.action_set_draft()

        with freeze_time(FIRST_OF_MAY):
            result = self.Program._cron_review_monthly()

        self.assertEqual(result, (0, 0))
        self.assertFalse(self.status_of(azure))
        self.assertFalse(self.program.last_review_date)

    def test_a_program_without_levels_is_skipped_with_a_warning(self):
        empty = self.create_program("Empty program (test)")
        azure = self.create_partner("Azure Interior (test)")

        with (
            freeze_time(FIRST_OF_MAY),
            self.assertLogs(PROGRAM_LOGGER, "WARNING") as logs,
        ):
            self.Program._cron_review_monthly()

        self.assertEqual(
            [line for line in logs.output if "Empty program (test)" in line],
            [
                f"WARNING:{PROGRAM_LOGGER}:Program Empty program (test) "
                f"(id {empty.id}) has no levels: review skipped"
            ],
        )
        self.assertFalse(empty.last_review_date)
        self.assertFalse(self.status_of(azure, empty))
        self.assertEqual(self.level_of(azure), self.registered)

    def test_a_level_without_rules_is_named_in_a_warning(self):
        self.create_level(self.program, "Platinum", 4)

        with (
            freeze_time(FIRST_OF_MAY),
            self.assertLogs(PROGRAM_LOGGER, "WARNING") as logs,
        ):
            self.Program._cron_review_monthly()

        self.assertIn(
            f"WARNING:{PROGRAM_LOGGER}:Program Resellers (test): level Platinum has "
            "no rules and cannot be reached",
            logs.output,
        )

    def test_a_partner_that_fails_does_not_stop_the_others(self):
        azure = self.create_partner("Azure Interior (test)")
        broken = self.create_partner("Broken Data Ltd (test)")
        deco = self.create_partner("Deco Addict (test)")
        self.create_order(broken, 1500.0, IN_MARCH)
        self.program._evaluate(broken, APRIL_2)
        for partner in azure | deco:
            self.create_order(partner, 1500.0, IN_APRIL)
        Engine = self.registry["prm.status.engine"]
        qualify = Engine._qualify

        def qualify_or_fail(engine, program, levels, partner_id, *rest):
            if partner_id == broken.id:
                raise ValueError("corrupted partner data")
            return qualify(engine, program, levels, partner_id, *rest)

        with (
            freeze_time(FIRST_OF_MAY),
            patch.object(
                Engine, "_qualify", autospec=True, side_effect=qualify_or_fail
            ),
            self.assertLogs(PROGRAM_LOGGER, "WARNING") as logs,
        ):
            result = self.Program._cron_review_monthly()

        self.assertEqual(result, (3, 0))
        self.assertEqual(self.level_of(azure), self.silver)
        self.assertEqual(self.level_of(deco), self.silver)
        # Broken keeps the level of its last evaluation, is not retried...
        self.assertEqual(self.level_of(broken), self.silver)
        self.assertEqual(self.status_of(broken).last_review_date, MAY_1)
        self.assertEqual(len(self.history_of(broken)), 1)
        # ... and the operator reads why.
        self.assertEqual(
            logs.output,
            [
                f"WARNING:{PROGRAM_LOGGER}:Program Resellers (test): partner "
                f"Broken Data Ltd (test) (id {broken.id}) could not be evaluated: "
                "corrupted partner data"
            ],
        )

    def test_five_partners_finish_over_three_calls_of_two(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "prm_auto_status.review_batch_size", "2"
        )
        partners = self.env["res.partner"].union(
            *(self.create_partner(f"Reseller {index} (test)") for index in range(5))
        )
        progress = self.env["ir.cron.progress"].create(
            {"cron_id": self.env.ref("prm_auto_status.ir_cron_prm_review_monthly").id}
        )
        job = self.Program.with_context(ir_cron_progress_id=progress.id)

        calls = []
        with freeze_time(FIRST_OF_MAY):
            for _call in range(3):
                result = job._cron_review_monthly()
                calls.append(
                    (
                        result,
                        (progress.done, progress.remaining),
                        len(self.reviewed_on(partners, MAY_1)),
                        self.program.last_review_date,
                    )
                )

        self.assertEqual(
            calls,
            [
                ((2, 3), (2, 3), 2, False),
                ((2, 1), (2, 1), 4, False),
                ((1, 0), (1, 0), 5, MAY_1),
            ],
        )
        self.assertEqual(self.reviewed_on(partners[:2], MAY_1), partners[:2])
        self.assertFalse(self.program.review_date_pending)

    def test_a_review_resumes_with_the_date_it_started_on(self):
        first, second = self.start_review_of_two()
        # The worker was down for a day: the next call finishes the review
        # of 1 May, on April's figures.
        with freeze_time("2026-05-02 03:00:00"):
            result = self.Program._cron_review_monthly()

        self.assertEqual(result, (1, 0))
        self.assertEqual(self.status_of(first).last_review_date, MAY_1)
        self.assertEqual(self.status_of(second).last_review_date, MAY_1)
        self.assertEqual(self.program.last_review_date, MAY_1)

    def test_the_same_review_run_twice_writes_each_change_once(self):
        azure = self.create_partner("Azure Interior (test)")
        deco = self.create_partner("Deco Addict (test)")
        self.create_order(azure, 1500.0, IN_APRIL)

        with freeze_time(FIRST_OF_MAY):
            first_run = self.Program._cron_review_monthly()
            second_run = self.Program._cron_review_monthly()

        self.assertEqual((first_run, second_run), ((2, 0), (0, 0)))
        self.assertEqual(len(self.history_of(azure)), 1)
        self.assertEqual(len(self.history_of(deco)), 1)

    # ------------------------------------------------------------------
    # A quiet review writes nothing
    # ------------------------------------------------------------------

    def test_a_status_that_stays_is_not_written_and_reads_the_programs_date(self):
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 1500.0, IN_APRIL)
        self.create_order(azure, 1500.0, "2026-05-10 10:00:00")
        with freeze_time(FIRST_OF_MAY):
            self.Program._cron_review_monthly()
        status = self.status_of(azure)
        self.assertEqual((status.level_id, status.reviewed_on), (self.silver, MAY_1))

        with freeze_time("2026-06-01 03:00:00"):
            self.assertEqual(self.Program._cron_review_monthly(), (1, 0))

        # Silver again: nothing saved, the date is the program's review.
        self.assertEqual(
            (
                status.level_id,
                status.reviewed_on,
                status.evaluated_on,
                status.last_review_date,
                status.last_evaluation_date,
                self.program.last_review_date,
            ),
            (self.silver, MAY_1, MAY_1, JUNE_1, JUNE_1, JUNE_1),
        )
        self.assertEqual(len(self.history_of(azure)), 1)

    def test_a_status_made_after_a_review_shows_no_review_until_one_reaches_it(self):
        with freeze_time(FIRST_OF_MAY):
            self.Program._cron_review_monthly()
        self.assertEqual(self.program.last_review_date, MAY_1)
        newcomer = self.create_partner("Newcomer (test)")

        with freeze_time("2026-05-02 04:00:00"):
            self.Program._cron_review_changed_profiles()

        status = self.status_of(newcomer)
        self.assertEqual(
            (status.level_id, status.last_evaluation_date, status.last_review_date),
            (self.registered, date(2026, 5, 2), False),
        )

        # The next review leaves its level as it is and stamps it once.
        with freeze_time("2026-06-01 03:00:00"):
            self.Program._cron_review_monthly()

        self.assertEqual(
            (status.level_id, status.reviewed_on, status.last_review_date),
            (self.registered, JUNE_1, JUNE_1),
        )

    def test_evaluate_now_dates_every_status_it_evaluates(self):
        azure = self.create_partner("Azure Interior (test)")
        deco = self.create_partner("Deco Addict (test)")
        self.create_order(azure, 1500.0, IN_MARCH)
        self.create_order(deco, 1500.0, IN_MARCH)
        self.create_order(deco, 1500.0, IN_APRIL)
        self.program._evaluate(azure | deco, APRIL_2, trigger="manual")

        self.program._evaluate(azure | deco, MAY_1, trigger="manual")

        # Azure drops, Deco stays Silver: both were evaluated as of 1 May.
        self.assertEqual(
            [
                (self.level_of(partner), self.status_of(partner).last_evaluation_date)
                for partner in azure | deco
            ],
            [(self.registered, MAY_1), (self.silver, MAY_1)],
        )

    def test_a_partner_can_be_edited_while_a_review_runs(self):
        first, second = self.start_review_of_two()
        self.assertEqual(self.program.review_done_until_id, first.id)

        with Form(second) as form:
            form.name = "Reseller Two (test)"

        self.assertEqual(second.name, "Reseller Two (test)")
        self.assertEqual(
            [self.status_of(partner).last_review_date for partner in first | second],
            [MAY_1, False],
        )

    def test_a_program_set_to_draft_drops_the_review_it_was_running(self):
        self.start_review_of_two()
        self.assertEqual(self.program.review_date_pending, MAY_1)

        self.program.action_set_draft()

        self.assertEqual(
            (self.program.review_date_pending, self.program.review_done_until_id),
            (False, 0),
        )
        self.program.action_start()
        with freeze_time("2026-06-01 03:00:00"):
            self.Program._cron_review_monthly()
        self.assertEqual(self.program.review_date_pending, JUNE_1)

    def test_a_partner_that_left_keeps_the_date_of_its_last_review(self):
        leaver = self.create_partner("Leaver (test)")
        self.create_order(leaver, 1500.0, IN_APRIL)
        with freeze_time(FIRST_OF_MAY):
            self.Program._cron_review_monthly()
        leaver.category_id = [Command.clear()]

        with freeze_time("2026-06-01 03:00:00"):
            self.Program._cron_review_monthly()
        with freeze_time("2026-07-01 03:00:00"):
            self.Program._cron_review_monthly()

        status = self.status_of(leaver)
        self.assertEqual(
            (status.level_id, status.last_review_date, self.program.last_review_date),
            (self.env["prm.status.level"], JUNE_1, date(2026, 7, 1)),
        )

    def test_the_dates_of_a_status_being_created_are_empty(self):
        draft = self.env["prm.partner.status"].new({})
        self.assertEqual(
            (draft.last_review_date, draft.last_evaluation_date), (False, False)
        )


@tagged("post_install", "-at_install")
class TestReviewLock(PrmStatusCase):
    """The review lock of a program, held by another database transaction.

    The lock is a PostgreSQL advisory lock keyed on the program's id, so the
    other transaction (a second cursor, as another Odoo worker would have)
    competes for it without having to see the test's uncommitted data: the
    test stays in its own transaction and commits nothing."""

    def other_worker(self):
        """A cursor of its own on the database, like another Odoo worker."""
        return self.registry.cursor()

    def test_the_job_skips_a_program_another_worker_is_reviewing(self):
        azure = self.create_partner("Azure Interior (test)")
        deco = self.create_partner("Deco Addict (test)")
        self.create_order(azure, 1500.0, IN_APRIL)
        Program = self.env["prm.status.program"]

        with self.other_worker() as other_cr, freeze_time(FIRST_OF_MAY):
            other_env = api.Environment(other_cr, SUPERUSER_ID, {})
            other_program = other_env["prm.status.program"].browse(self.program.id)
            self.assertTrue(other_program._lock_for_review())
            while_locked = Program._cron_review_monthly()
            other_cr.rollback()  # the other review ends and lets go

        with freeze_time(FIRST_OF_MAY):
            after = Program._cron_review_monthly()
            retry = Program._cron_review_monthly()

        self.assertEqual(while_locked, (0, 1))
        self.assertEqual((after, retry), ((2, 0), (0, 0)))
        self.assertEqual(len(self.history_of(azure)), 1)
        self.assertEqual(len(self.history_of(deco)), 1)

    def test_a_running_review_holds_the_lock_until_its_transaction_ends(self):
        self.create_partner("Azure Interior (test)")
        with freeze_time(FIRST_OF_MAY):
            self.env["prm.status.program"]._cron_review_monthly()

        with self.other_worker() as other_cr:
            other_env = api.Environment(other_cr, SUPERUSER_ID, {})
            other_program = other_env["prm.status.program"].browse(self.program.id)
            self.assertFalse(other_program._lock_for_review())
            other_cr.rollback()

    def test_evaluate_now_is_refused_while_a_review_runs(self):
        azure = self.create_partner("Azure Interior (test)")
        wizard = self.env["prm.status.evaluate.wizard"].create(
            {"program_id": self.program.id, "date": APRIL_2}
        )

        with self.other_worker() as other_cr:
            other_env = api.Environment(other_cr, SUPERUSER_ID, {})
            other_env["prm.status.program"].browse(self.program.id)._lock_for_review()
            with self.assertRaises(UserError) as refusal:
                wizard.action_evaluate()
            other_cr.rollback()

        self.assertIn("is running right now", str(refusal.exception))
        self.assertFalse(self.status_of(azure))
        wizard.action_evaluate()
        self.assertEqual(self.level_of(azure), self.registered)


@tagged("post_install", "-at_install")
class TestReviewByTwoWorkers(BaseCase):
    """Two workers run the yearly review of one program on committed data.

    Unlike the other tests, each worker is a real transaction that commits,
    so this class commits its own data in setUpClass and removes it in a
    class cleanup. The program is reviewed yearly so that the monthly demo
    program is left alone."""

    NEW_YEAR = "2027-01-01 03:00:00"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            Program = env["prm.status.program"]
            others = Program.search(
                [("state", "=", "running"), ("review_frequency", "=", "yearly")]
            )
            others.write({"state": "draft"})
            cls.paused_program_ids = others.ids
            Tag = env["res.partner.category"]
            member = Tag.create({"name": "Two workers member (test)"})
            certified = Tag.create({"name": "Two workers certified (test)"})
            both = member | certified
            cls.tag_ids = both.ids
            program = Program.create(
                {
                    "name": "Two workers program (test)",
                    "partner_domain": repr([("category_id", "in", [member.id])]),
                    "period_unit": "year",
                    "review_frequency": "yearly",
                    "no_level_policy": "lowest",
                    "tz": "UTC",
                    "state": "running",
                }
            )
            cls.program_id = program.id
            Level = env["prm.status.level"]
            Level.create({"name": "Member", "program_id": program.id, "rank": 1})
            certified_level = Level.create(
                {"name": "Certified", "program_id": program.id, "rank": 2}
            )
            env["prm.status.rule"].create(
                {
                    "name": "Holds the certificate",
                    "level_id": certified_level.id,
                    "profile_domain": repr([("category_id", "in", [certified.id])]),
                }
            )
            partners = env["res.partner"].create(
                [
                    {"name": name, "is_company": True, "category_id": tags}
                    for name, tags in (
                        ("Two workers member (test)", [Command.set(member.ids)]),
                        ("Two workers certified A (test)", [Command.set(both.ids)]),
                        ("Two workers certified B (test)", [Command.set(both.ids)]),
                    )
                ]
            )
            cls.partner_ids = partners.ids
        # Committed above, when the cursor closed: remove it all at the end.
        cls.addClassCleanup(cls._remove_committed_data)

    def setUp(self):
        super().setUp()
        self.addCleanup(self._forget_reviews)

    @classmethod
    def _forget_reviews(cls):
        """Remove what the reviews of a test committed."""
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            statuses = env["prm.partner.status"].search(
                [("program_id", "=", cls.program_id)]
            )
            env["mail.message"].search(
                [("model", "=", "prm.partner.status"), ("res_id", "in", statuses.ids)]
            ).unlink()
            # History rows refuse deletion through the ORM, on purpose.
            cr.execute(
                SQL(
                    "DELETE FROM prm_status_history WHERE program_id = %s",
                    cls.program_id,
                )
            )
            statuses.unlink()
            env["prm.status.program"].browse(cls.program_id).write(
                {"last_review_date": False, "review_date_pending": False}
            )

    @classmethod
    def _remove_committed_data(cls):
        cls._forget_reviews()
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["prm.status.program"].browse(cls.program_id).unlink()
            env["res.partner"].browse(cls.partner_ids).unlink()
            env["res.partner.category"].browse(cls.tag_ids).unlink()
            env["prm.status.program"].browse(cls.paused_program_ids).write(
                {"state": "running"}
            )

    def history_rows(self):
        with self.registry.cursor() as cr:
            cr.execute(
                SQL(
                    "SELECT partner_id, COUNT(*) FROM prm_status_history "
                    "WHERE program_id = %s GROUP BY partner_id ORDER BY partner_id",
                    self.program_id,
                )
            )
            return cr.fetchall()

    def test_the_same_review_run_by_two_workers_writes_each_change_once(self):
        with (
            freeze_time(self.NEW_YEAR),
            self.registry.cursor() as worker_a,
            self.registry.cursor() as worker_b,
        ):
            programs_a = api.Environment(worker_a, SUPERUSER_ID, {})[
                "prm.status.program"
            ]
            programs_b = api.Environment(worker_b, SUPERUSER_ID, {})[
                "prm.status.program"
            ]
            run_a = programs_a._cron_review_yearly()
            run_b_meanwhile = programs_b._cron_review_yearly()
            worker_b.commit()
            worker_a.commit()
            run_b_later = programs_b._cron_review_yearly()
            worker_b.commit()

        self.assertEqual(run_a, (3, 0))
        self.assertEqual(run_b_meanwhile, (0, 1))
        self.assertEqual(run_b_later, (0, 0))
        self.assertEqual(
            self.history_rows(), [(partner_id, 1) for partner_id in self.partner_ids]
        )

    @mute_logger("odoo.sql_db", PROGRAM_LOGGER)
    def test_a_worker_that_read_before_the_other_committed_stops_and_retries(self):
        with (
            freeze_time(self.NEW_YEAR),
            self.registry.cursor() as worker_a,
            self.registry.cursor() as worker_b,
        ):
            programs_a = api.Environment(worker_a, SUPERUSER_ID, {})[
                "prm.status.program"
            ]
            programs_b = api.Environment(worker_b, SUPERUSER_ID, {})[
                "prm.status.program"
            ]
            # Worker B's transaction starts, and takes its snapshot, first.
            self.assertEqual(
                programs_b.browse(self.program_id).name, "Two workers program (test)"
            )
            programs_a._cron_review_yearly()
            worker_a.commit()
            # B cannot see what A wrote: its review must stop with the
            # concurrency error, which Odoo retries, not carry on.
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                programs_b._cron_review_yearly()
            worker_b.rollback()

        self.assertEqual(
            self.history_rows(), [(partner_id, 1) for partner_id in self.partner_ids]
        )
