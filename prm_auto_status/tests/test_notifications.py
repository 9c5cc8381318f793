"""What follows a change of level: the chatter message, the email from the
program's template, the salesperson's activity, and the level's pricelist and
tags."""

from unittest.mock import patch

from markupsafe import Markup

from odoo import Command
from odoo.tests import freeze_time, tagged

from .common_policy import (
    APR_1,
    FEB_1,
    IN_APRIL,
    IN_FEBRUARY,
    IN_JANUARY,
    IN_MARCH,
    MAR_1,
    MAY_1,
    PolicyCase,
)

ENGINE_MODULE = "odoo.addons.prm_auto_status.models.prm_status_engine"
HISTORY_LOGGER = "odoo.addons.prm_auto_status.models.prm_status_history"


@tagged("post_install", "-at_install")
class TestNotifications(PolicyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Silver on 1 February, Gold on 1 March, Silver again on 1 April.
        cls.partner = cls.create_member("Lagoon Partners")
        cls.sell(cls.partner, 2000, IN_JANUARY)
        cls.sell(cls.partner, 6000, IN_FEBRUARY)
        cls.sell(cls.partner, 2000, IN_MARCH)

    def messages_of(self, partner):
        """Messages posted on the partner's chatter (not the notices Odoo
        sends a user about an activity assigned to them)."""
        return self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("message_type", "=", "notification"),
            ],
            order="id",
        )

    def emails_of(self, partner):
        """Emails queued for the partner, once the email job has run (reviews
        only record which email a change sends)."""
        self.env["prm.status.history"]._cron_follow_up_changes()
        status = self.status_of(partner)
        return self.env["mail.mail"].search(
            [("model", "=", "prm.partner.status"), ("res_id", "=", status.id)],
            order="id",
        )

    def activities_of(self, partner):
        return self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", partner.id)],
            order="id",
        )

    # ------------------------------------------------------------------
    # Chatter
    # ------------------------------------------------------------------

    def test_an_upgrade_is_posted_on_the_partner_with_from_and_to(self):
        self.review(FEB_1)
        before = self.messages_of(self.partner)

        self.review(MAR_1)

        message = self.messages_of(self.partner) - before
        self.assertRecordValues(
            message,
            [
                {
                    "body": Markup(
                        "<p>Policy program (test): level changed from Silver to "
                        "Gold. Rule met: Volume reseller.</p>"
                    ),
                    "message_type": "notification",
                    "subtype_id": self.env.ref("mail.mt_note").id,
                }
            ],
        )

    def test_a_downgrade_is_posted_on_the_partner_with_from_and_to(self):
        self.review(FEB_1)
        self.review(MAR_1)
        before = self.messages_of(self.partner)

        self.review(APR_1)

        message = self.messages_of(self.partner) - before
        self.assertEqual(
            message.body,
            Markup(
                "<p>Policy program (test): level changed from Gold to Silver. "
                "Rule met: Selling partner.</p>"
            ),
        )

    def test_no_message_when_the_level_stays(self):
        steady = self.create_member("Steady Partners")
        self.sell(steady, 2000, IN_JANUARY)
        self.sell(steady, 2000, IN_FEBRUARY)
        self.review(FEB_1)
        before = self.messages_of(steady)

        self.review(MAR_1)

        self.assertEqual(self.status_of(steady).level_id, self.silver)
        self.assertEqual(self.messages_of(steady), before)

    # ------------------------------------------------------------------
    # Emails
    # ------------------------------------------------------------------

    def test_an_upgrade_queues_the_upgrade_email(self):
        self.review(FEB_1)
        before = self.emails_of(self.partner)

        self.review(MAR_1)

        email = self.emails_of(self.partner) - before
        self.assertRecordValues(
            email,
            [
                {
                    "subject": "Policy program (test): welcome to Gold",
                    "state": "outgoing",
                    "recipient_ids": [self.partner.id],
                }
            ],
        )
        self.assertIn("you are now", email.body_html)

    def test_a_downgrade_queues_the_downgrade_email(self):
        self.review(FEB_1)
        self.review(MAR_1)
        before = self.emails_of(self.partner)

        self.review(APR_1)

        email = self.emails_of(self.partner) - before
        self.assertRecordValues(
            email,
            [
                {
                    "subject": "Policy program (test): your level is now Silver",
                    "state": "outgoing",
                    "recipient_ids": [self.partner.id],
                }
            ],
        )

    def test_an_edited_template_is_the_one_sent(self):
        template = self.program.upgrade_template_id.copy(
            {"subject": "Well done: {{ object.level_id.name }}"}
        )
        self.program.upgrade_template_id = template
        self.review(FEB_1)
        before = self.emails_of(self.partner)

        self.review(MAR_1)

        self.assertEqual(
            (self.emails_of(self.partner) - before).subject, "Well done: Gold"
        )

    def test_a_review_leaves_the_email_to_the_email_job(self):
        self.review(FEB_1)
        self.emails_of(self.partner)
        mails_before = self.env["mail.mail"].search_count([])

        self.review(MAR_1)

        change = self.history_of(self.partner)[-1]
        self.assertEqual(
            (change.email_template_id, change.email_pending),
            (self.program.upgrade_template_id, True),
        )
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)
        self.assertEqual(
            self.env["prm.status.history"]._cron_follow_up_changes(), (1, 0)
        )
        self.assertFalse(change.email_pending)
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before + 1)

    def test_no_upgrade_email_when_the_program_switches_it_off(self):
        self.program.notify_upgrade = False
        self.review(FEB_1)
        messages_before = self.messages_of(self.partner)

        self.review(MAR_1)

        self.assertFalse(self.emails_of(self.partner))
        self.assertEqual(len(self.messages_of(self.partner) - messages_before), 1)

    def test_upgrade_switched_off_leaves_the_downgrade_email(self):
        self.program.notify_upgrade = False
        self.review(FEB_1)
        self.review(MAR_1)

        self.review(APR_1)

        self.assertEqual(
            self.emails_of(self.partner).mapped("subject"),
            ["Policy program (test): your level is now Silver"],
        )

    # ------------------------------------------------------------------
    # Activities for the salesperson
    # ------------------------------------------------------------------

    def test_a_downgrade_asks_the_salesperson_to_follow_up(self):
        self.review(FEB_1)
        self.review(MAR_1)
        self.assertFalse(self.activities_of(self.partner))

        self.review(APR_1)

        self.assertRecordValues(
            self.activities_of(self.partner),
            [
                {
                    "user_id": self.salesperson.id,
                    "summary": "Downgraded in Policy program (test)",
                    "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
                }
            ],
        )

    def test_a_partner_without_salesperson_goes_to_the_program_manager(self):
        self.partner.user_id = False
        self.review(FEB_1)
        self.review(MAR_1)

        self.review(APR_1)

        self.assertEqual(self.activities_of(self.partner).user_id, self.manager)

    def test_a_partner_at_risk_asks_the_salesperson_to_follow_up_once(self):
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 3})
        self.sell(self.partner, 2000, IN_APRIL)
        self.review(FEB_1)
        self.review(MAR_1)

        self.review(APR_1)
        self.review(MAY_1)

        self.assertRecordValues(
            self.activities_of(self.partner),
            [
                {
                    "user_id": self.salesperson.id,
                    "summary": "At risk of a downgrade in Policy program (test)",
                    "note": Markup(
                        "<p>Keeps Gold, at risk: failed 1 of 3 reviews.</p>"
                    ),
                }
            ],
        )
        self.assertEqual(self.status_of(self.partner).grace_failures, 2)

    # ------------------------------------------------------------------
    # A large review leaves notes and activities to the follow-up job
    # ------------------------------------------------------------------

    def large_review(self, day):
        """A review as one with more changes than the engine follows up
        itself (patched down from its real limit)."""
        with patch(f"{ENGINE_MODULE}.FOLLOW_UP_INLINE_LIMIT", 0):
            return self.review(day)

    def follow_up(self):
        return self.env["prm.status.history"]._cron_follow_up_changes()

    def test_a_large_review_leaves_notes_and_activities_to_the_job(self):
        self.review(FEB_1)
        self.review(MAR_1)
        self.follow_up()  # the emails of those reviews
        messages_before = self.messages_of(self.partner)

        self.large_review(APR_1)

        change = self.history_of(self.partner)[-1]
        self.assertEqual(
            (change.old_level_id, change.new_level_id, change.followup_pending),
            (self.gold, self.silver, True),
        )
        self.assertEqual(self.messages_of(self.partner), messages_before)
        self.assertFalse(self.activities_of(self.partner))

        # The note and the downgrade's activity, then its email.
        self.assertEqual(self.follow_up(), (2, 0))

        self.assertFalse(change.followup_pending)
        self.assertEqual(
            (self.messages_of(self.partner) - messages_before).body,
            Markup(
                "<p>Policy program (test): level changed from Gold to Silver. "
                "Rule met: Selling partner.</p>"
            ),
        )
        self.assertRecordValues(
            self.activities_of(self.partner),
            [
                {
                    "user_id": self.salesperson.id,
                    "summary": "Downgraded in Policy program (test)",
                    "note": Markup("<p>Rule met: Selling partner.</p>"),
                }
            ],
        )
        # A second run finds nothing left to do.
        self.assertEqual(self.follow_up(), (0, 0))
        self.assertEqual(len(self.activities_of(self.partner)), 1)

    def test_the_job_schedules_the_activity_of_a_partner_newly_at_risk(self):
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 3})
        self.sell(self.partner, 2000, IN_APRIL)
        self.review(FEB_1)
        self.review(MAR_1)
        self.follow_up()

        self.large_review(APR_1)
        self.large_review(MAY_1)

        status = self.status_of(self.partner)
        self.assertEqual(
            (status.at_risk, status.grace_failures, status.at_risk_activity_pending),
            (True, 2, True),
        )
        self.assertFalse(self.activities_of(self.partner))

        self.assertEqual(self.follow_up(), (1, 0))

        self.assertFalse(status.at_risk_activity_pending)
        # The same activity as a small review schedules at once, with the
        # failures counted when the job runs.
        self.assertRecordValues(
            self.activities_of(self.partner),
            [
                {
                    "user_id": self.salesperson.id,
                    "summary": "At risk of a downgrade in Policy program (test)",
                    "note": Markup(
                        "<p>Keeps Gold, at risk: failed 2 of 3 reviews.</p>"
                    ),
                }
            ],
        )

    def test_the_job_posts_every_change_of_a_partner_it_holds(self):
        self.large_review(FEB_1)
        self.large_review(MAR_1)
        self.large_review(APR_1)

        self.follow_up()

        self.assertEqual(
            self.messages_of(self.partner).mapped("body"),
            [
                Markup(
                    "<p>Policy program (test): level changed from none to "
                    "Silver. Rule met: Selling partner.</p>"
                ),
                Markup(
                    "<p>Policy program (test): level changed from Silver to "
                    "Gold. Rule met: Volume reseller.</p>"
                ),
                Markup(
                    "<p>Policy program (test): level changed from Gold to "
                    "Silver. Rule met: Selling partner.</p>"
                ),
            ],
        )

    def test_a_downgrade_stays_one_when_the_levels_are_ranked_anew(self):
        self.review(FEB_1)
        self.review(MAR_1)
        self.follow_up()
        self.large_review(APR_1)

        # Before the job runs, Gold is moved below Silver.
        self.gold.rank = 0
        self.follow_up()

        self.assertEqual(
            self.activities_of(self.partner).summary,
            "Downgraded in Policy program (test)",
        )

    def test_a_deleted_template_does_not_stop_the_job(self):
        self.review(FEB_1)
        change = self.history_of(self.partner)[-1]
        self.assertTrue(change.email_pending)
        mails_before = self.env["mail.mail"].search_count([])

        self.program.upgrade_template_id.unlink()

        self.assertEqual(self.follow_up(), (1, 0))
        self.assertFalse(change.email_pending)
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)

    def test_a_template_that_fails_to_render_holds_back_nothing_else(self):
        self.review(FEB_1)
        self.follow_up()
        self.program.upgrade_template_id.body_html = (
            '<p><t t-out="object.partner_id.no_such_field"/></p>'
        )
        messages_before = self.messages_of(self.partner)

        self.large_review(MAR_1)
        with self.assertLogs(HISTORY_LOGGER, "WARNING") as logs:
            result = self.follow_up()

        self.assertEqual(result, (2, 0))

        change = self.history_of(self.partner)[-1]
        self.assertEqual(
            (change.followup_pending, change.email_pending), (False, False)
        )
        self.assertEqual(len(self.messages_of(self.partner) - messages_before), 1)
        self.assertIn("not sent", logs.output[0])

    def test_the_job_works_in_bounded_batches(self):
        self.review(FEB_1)
        self.review(MAR_1)
        self.follow_up()
        self.large_review(APR_1)
        self.env["ir.config_parameter"].sudo().set_param(
            "prm_auto_status.review_batch_size", "1"
        )

        # Note and activity first, then the email.
        self.assertEqual(self.follow_up(), (1, 1))
        self.assertEqual(len(self.activities_of(self.partner)), 1)
        self.assertEqual(self.follow_up(), (1, 0))
        self.assertEqual(self.follow_up(), (0, 0))


@tagged("post_install", "-at_install")
class TestBenefits(PolicyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Tag = cls.env["res.partner.category"]
        cls.silver_tag = Tag.create({"name": "Silver partner (test)"})
        cls.gold_tag = Tag.create({"name": "Gold partner (test)"})
        cls.key_account_tag = Tag.create({"name": "Key account (test)"})
        cls.silver.tag_ids = cls.silver_tag
        cls.gold.write(
            {
                "tag_ids": [Command.set(cls.gold_tag.ids)],
                "pricelist_id": cls.gold_prices.id,
            }
        )
        # Silver on 1 February, Gold on 1 March, Silver again on 1 April.
        cls.partner = cls.create_member("Reef Partners", tags=[cls.key_account_tag.id])
        cls.sell(cls.partner, 2000, IN_JANUARY)
        cls.sell(cls.partner, 6000, IN_FEBRUARY)
        cls.sell(cls.partner, 2000, IN_MARCH)

    def test_a_partner_gets_the_pricelist_and_tags_of_its_new_level(self):
        self.review(FEB_1)
        self.assertEqual(self.partner.property_product_pricelist, self.standard_prices)

        self.review(MAR_1)

        self.assertEqual(
            self.partner.category_id,
            self.member_tag | self.key_account_tag | self.gold_tag,
        )
        self.assertEqual(self.partner.property_product_pricelist, self.gold_prices)
        self.assertEqual(self.status_of(self.partner).granted_tag_ids, self.gold_tag)
        self.assertEqual(
            self.history_of(self.partner)[-1].benefits,
            "tags added: Gold partner (test); tags removed: Silver partner (test); "
            "pricelist: Gold prices (test) (USD)",
        )

    def test_leaving_a_level_takes_its_benefits_and_leaves_hand_set_tags(self):
        self.review(FEB_1)
        self.review(MAR_1)

        self.review(APR_1)

        self.assertEqual(
            self.partner.category_id,
            self.member_tag | self.key_account_tag | self.silver_tag,
        )
        self.assertEqual(self.partner.property_product_pricelist, self.standard_prices)
        self.assertEqual(self.status_of(self.partner).granted_tag_ids, self.silver_tag)

    def test_a_level_tag_set_by_hand_stays_when_the_level_goes(self):
        self.partner.category_id = [Command.link(self.gold_tag.id)]
        self.review(FEB_1)
        self.review(MAR_1)

        self.review(APR_1)

        self.assertIn(self.gold_tag, self.partner.category_id)
        self.assertEqual(self.status_of(self.partner).granted_tag_ids, self.silver_tag)

    def test_an_override_records_the_benefits_it_changes(self):
        self.review(FEB_1)
        status = self.status_of(self.partner).with_user(self.manager)

        with freeze_time("2025-02-10 12:00:00"):
            status._set_override(self.gold, "Launch partner")

        self.assertEqual(self.partner.property_product_pricelist, self.gold_prices)
        self.assertRecordValues(
            self.history_of(self.partner)[-1],
            [
                {
                    "trigger": "override",
                    "benefits": "tags added: Gold partner (test); tags removed: "
                    "Silver partner (test); pricelist: Gold prices (test) (USD)",
                }
            ],
        )
