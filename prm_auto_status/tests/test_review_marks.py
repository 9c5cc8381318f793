"""The marks of the daily job hold under merges and concurrent changes."""

from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestMergeKeepsMarks(TransactionCase):
    def test_merging_marked_partners_marks_the_kept_one(self):
        Partner = self.env["res.partner"]
        kept, first, second = Partner.create(
            [
                {"name": name, "email": "twice@example.com", "is_company": True}
                for name in ("Kept (test)", "First Copy (test)", "Second Copy (test)")
            ]
        )
        Mark = self.env["prm.review.mark"]
        Mark._unmark(kept.ids)
        self.assertEqual(
            Mark._marked_partner_ids((kept | first | second).ids), [first.id, second.id]
        )

        merged_ids = (kept | first | second).ids
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        wizard._merge(merged_ids, kept)

        self.assertFalse((first | second).exists())
        self.assertEqual(Mark._marked_partner_ids(merged_ids), [kept.id])
        self.assertTrue(kept.prm_review_needed)


@tagged("post_install", "-at_install")
class TestConcurrentMarks(TransactionCase):
    """Real transactions on a partner of the database (committed, so that
    other connections see it); each test removes what it committed."""

    def setUp(self):
        super().setUp()
        self.partner_id = self.env.ref("base.main_partner").id
        self.cursors = []
        self.addCleanup(self._close_and_unmark)

    def _env(self):
        cr = self.registry.cursor()
        self.cursors.append(cr)
        return api.Environment(cr, SUPERUSER_ID, {})

    def _close_and_unmark(self):
        for cr in self.cursors:
            cr.rollback()
            cr.close()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["prm.review.mark"]._unmark([self.partner_id])

    def test_a_change_during_the_daily_job_keeps_its_mark(self):
        setup = self._env()
        setup["prm.review.mark"]._mark([self.partner_id])
        setup.cr.commit()

        job, user = self._env(), self._env()
        # The job has read the mark and evaluates the old profile...
        self.assertIn(self.partner_id, job["prm.review.mark"]._marked_partner_ids())
        # ...when a user changes the profile again and commits.
        user["prm.review.mark"]._mark([self.partner_id])
        user.cr.commit()

        # The job cannot remove the newer mark: it fails, and the scheduler
        # runs it again.
        with (
            self.assertRaises(SerializationFailure),
            mute_logger("odoo.sql_db"),
            job.cr.savepoint(),
        ):
            job["prm.review.mark"]._unmark([self.partner_id])
        job.cr.rollback()

        check = self._env()
        self.assertEqual(
            check["prm.review.mark"]._marked_partner_ids([self.partner_id]),
            [self.partner_id],
        )

    def test_the_daily_job_removes_a_mark_nobody_renewed(self):
        setup = self._env()
        setup["prm.review.mark"]._mark([self.partner_id])
        setup.cr.commit()

        job = self._env()
        self.assertIn(self.partner_id, job["prm.review.mark"]._marked_partner_ids())
        job["prm.review.mark"]._unmark([self.partner_id])
        job.cr.commit()

        check = self._env()
        self.assertEqual(
            check["prm.review.mark"]._marked_partner_ids([self.partner_id]), []
        )
