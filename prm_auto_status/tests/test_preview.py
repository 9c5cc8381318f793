"""The preview runs the engine and writes nothing; the review that follows
does what the preview listed."""

from odoo.tests import Form, tagged

from .common_policy import FEB_1, IN_FEBRUARY, IN_JANUARY, MAR_1, PolicyCase


@tagged("post_install", "-at_install")
class TestPreview(PolicyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.riser = cls.create_member("Riser Networks")
        cls.faller = cls.create_member("Faller Networks")
        cls.steady = cls.create_member("Steady Networks")
        cls.newcomer = cls.create_member("Newcomer Networks")
        cls.members = cls.riser | cls.faller | cls.steady | cls.newcomer
        for partner, january, february in (
            (cls.riser, 2000, 6000),
            (cls.faller, 6000, 2000),
            (cls.steady, 2000, 2000),
            (cls.newcomer, 0, 1500),
        ):
            if january:
                cls.sell(partner, january, IN_JANUARY)
            cls.sell(partner, february, IN_FEBRUARY)

    def first_review_without_the_newcomer(self):
        """Riser and steady Silver, faller Gold; the newcomer has no status."""
        self.review(FEB_1, self.riser | self.faller | self.steady)

    def preview(self, day, user=None):
        """Open the preview from the program's button and run it, as
        ``user`` (default: the administrator of the tests) does."""
        env = self.env(user=user) if user else self.env
        action = self.program.with_env(env).action_preview()
        wizard_form = Form(env[action["res_model"]].with_context(**action["context"]))
        wizard_form.date = day
        wizard = wizard_form.save()
        wizard.action_preview()
        return wizard

    def saved_state(self):
        """Everything a review could write, read back from the database."""
        self.env.invalidate_all()
        Status = self.env["prm.partner.status"]
        stored = [name for name, field in Status._fields.items() if field.store]
        partner_domain = [("res_id", "in", self.members.ids)]
        return {
            "statuses": Status.search([("program_id", "=", self.program.id)])
            .sorted("id")
            .read(stored),
            "history": self.env["prm.status.history"].search_count([]),
            "messages": self.env["mail.message"].search_count(
                [("model", "=", "res.partner"), *partner_domain]
            ),
            "mails": self.env["mail.mail"].search_count([]),
            "activities": self.env["mail.activity"].search_count(
                [("res_model", "=", "res.partner"), *partner_domain]
            ),
            "tags": {partner.id: partner.category_id.ids for partner in self.members},
            "program": self.program.read(["state", "last_review_date"]),
        }

    def preview_lines(self, wizard):
        return {
            (line.partner_id, line.old_level_id, line.new_level_id)
            for line in wizard.line_ids
        }

    def test_preview_writes_nothing(self):
        self.first_review_without_the_newcomer()
        before = self.saved_state()

        self.preview(MAR_1)

        self.assertEqual(self.saved_state(), before)

    def test_preview_lists_the_changes_and_the_count_per_level(self):
        self.first_review_without_the_newcomer()

        wizard = self.preview(MAR_1)

        self.assertTrue(wizard.previewed)
        self.assertEqual(wizard.result_text, "3 of 4 partners would change level.")
        self.assertRecordValues(
            wizard.line_ids.sorted(lambda line: line.partner_id.name),
            [
                {
                    "partner_id": self.faller.id,
                    "old_level_id": self.gold.id,
                    "new_level_id": self.silver.id,
                    "outcome": "downgrade",
                    "values_summary": "Sales amount: 2,000.00",
                },
                {
                    "partner_id": self.newcomer.id,
                    "old_level_id": False,
                    "new_level_id": self.silver.id,
                    "outcome": "first",
                    "values_summary": "Sales amount: 1,500.00",
                },
                {
                    "partner_id": self.riser.id,
                    "old_level_id": self.silver.id,
                    "new_level_id": self.gold.id,
                    "outcome": "upgrade",
                    "values_summary": "Sales amount: 6,000.00",
                },
            ],
        )
        self.assertEqual(
            {count.level_id: count.partner_count for count in wizard.level_count_ids},
            {self.gold: 1, self.silver: 3},
        )

    def test_the_review_then_does_what_the_preview_listed(self):
        self.first_review_without_the_newcomer()
        history_before = self.env["prm.status.history"].search([])
        wizard = self.preview(MAR_1)
        previewed = self.preview_lines(wizard)

        wizard.action_evaluate()

        rows = self.env["prm.status.history"].search([]) - history_before
        self.assertEqual(
            {(row.partner_id, row.old_level_id, row.new_level_id) for row in rows},
            previewed,
        )
        self.assertEqual(
            {partner: self.status_of(partner).level_id for partner in self.members},
            {
                self.riser: self.gold,
                self.faller: self.silver,
                self.steady: self.silver,
                self.newcomer: self.silver,
            },
        )

    def test_preview_shows_partners_at_risk_as_the_review_marks_them(self):
        self.program.write({"downgrade_policy": "grace", "grace_reviews": 2})
        self.first_review_without_the_newcomer()

        wizard = self.preview(MAR_1)

        at_risk = wizard.line_ids.filtered(lambda line: line.outcome == "at_risk")
        self.assertRecordValues(
            at_risk,
            [
                {
                    "partner_id": self.faller.id,
                    "old_level_id": self.gold.id,
                    "new_level_id": self.gold.id,
                    "reason": "Keeps Gold, at risk: failed 1 of 2 reviews.",
                }
            ],
        )
        self.assertEqual(wizard.result_text, "2 of 4 partners would change level.")
        self.assertFalse(self.status_of(self.faller).at_risk)

        self.review(MAR_1)

        self.assertRecordValues(
            self.status_of(self.faller),
            [{"level_id": self.gold.id, "at_risk": True, "grace_failures": 1}],
        )

    def test_preview_works_on_a_draft_program_before_its_first_review(self):
        self.assertEqual(self.program.state, "draft")
        before = self.saved_state()

        wizard = self.preview(FEB_1)

        self.assertEqual(wizard.result_text, "4 of 4 partners would change level.")
        self.assertEqual(
            self.preview_lines(wizard),
            {
                (self.riser, self.env["prm.status.level"], self.silver),
                (self.faller, self.env["prm.status.level"], self.gold),
                (self.steady, self.env["prm.status.level"], self.silver),
                (self.newcomer, self.env["prm.status.level"], self.registered),
            },
        )
        self.assertEqual(set(wizard.line_ids.mapped("outcome")), {"first"})
        self.assertEqual(self.saved_state(), before)
        self.assertFalse(self.status_of(self.riser))

    def test_a_program_manager_can_preview(self):
        self.first_review_without_the_newcomer()

        wizard = self.preview(MAR_1, user=self.manager)

        self.assertEqual(wizard.result_text, "3 of 4 partners would change level.")

    def test_a_program_manager_can_evaluate_now(self):
        self.first_review_without_the_newcomer()
        wizard = self.preview(MAR_1)
        self.env.invalidate_all()  # nothing the administrator read is reused

        wizard.with_user(self.manager).action_evaluate()

        self.assertEqual(self.status_of(self.riser).level_id, self.gold)
