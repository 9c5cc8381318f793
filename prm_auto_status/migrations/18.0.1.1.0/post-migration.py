"""18.0.1.1.0: the email job became the follow-up job (notes, activities,
emails), under a new XML id; its records are ``noupdate``, so the old job
would stay and call a method that no longer exists."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    old_job = env.ref(
        "prm_auto_status.ir_cron_prm_send_level_emails", raise_if_not_found=False
    )
    if old_job:
        new_job = env.ref("prm_auto_status.ir_cron_prm_follow_up_changes")
        # Keep the admin's choices: active or not, when and how often.
        new_job.write(
            {
                field: old_job[field]
                for field in (
                    "active",
                    "nextcall",
                    "interval_number",
                    "interval_type",
                    "priority",
                )
            }
        )
        old_job.unlink()
    env["ir.model.data"].search(
        [
            ("module", "=", "prm_auto_status"),
            ("name", "=", "ir_cron_prm_send_level_emails"),
        ]
    ).unlink()
