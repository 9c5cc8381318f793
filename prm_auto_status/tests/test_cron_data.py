from odoo.tests import TransactionCase, tagged
from odoo.tools import convert_file


@tagged("post_install", "-at_install")
class TestShippedJobs(TransactionCase):
    """An admin's choices about the shipped jobs survive a module upgrade."""

    def reload_job_data(self):
        # What an upgrade of the module does with this data file.
        convert_file(
            self.env,
            "prm_auto_status",
            "data/ir_cron_data.xml",
            {},
            mode="update",
            noupdate=True,
        )

    def test_a_deleted_job_comes_back_on_upgrade(self):
        self.env.ref("prm_auto_status.ir_cron_prm_review_monthly").unlink()

        self.reload_job_data()

        job = self.env.ref("prm_auto_status.ir_cron_prm_review_monthly")
        self.assertEqual(job.code, "model._cron_review_monthly()")
        self.assertTrue(job.active)

    def test_a_deactivated_job_stays_off_on_upgrade(self):
        job = self.env.ref("prm_auto_status.ir_cron_prm_review_weekly")
        job.active = False

        self.reload_job_data()

        self.assertFalse(job.active)

    def test_an_hour_changed_by_an_admin_survives_the_upgrade(self):
        job = self.env.ref("prm_auto_status.ir_cron_prm_review_quarterly")
        job.nextcall = "2027-01-01 05:30:00"

        self.reload_job_data()

        self.assertEqual(str(job.nextcall), "2027-01-01 05:30:00")

    def test_the_jobs_run_on_their_schedule(self):
        jobs = {
            xmlid: self.env.ref(f"prm_auto_status.ir_cron_prm_review_{xmlid}")
            for xmlid in (
                "weekly",
                "monthly",
                "quarterly",
                "yearly",
                "changed_profiles",
            )
        }
        self.assertEqual(
            {
                name: (job.interval_number, job.interval_type)
                for name, job in jobs.items()
            },
            {
                "weekly": (1, "weeks"),
                "monthly": (1, "months"),
                "quarterly": (3, "months"),
                "yearly": (12, "months"),
                "changed_profiles": (1, "days"),
            },
        )
        self.assertEqual(jobs["weekly"].nextcall.weekday(), 0)
        self.assertEqual(jobs["monthly"].nextcall.day, 1)
        self.assertEqual(jobs["quarterly"].nextcall.day, 1)
        self.assertIn(jobs["quarterly"].nextcall.month, (1, 4, 7, 10))
        self.assertEqual(
            (jobs["yearly"].nextcall.month, jobs["yearly"].nextcall.day), (1, 1)
        )
