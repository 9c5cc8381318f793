"""The scale benchmark's own code, run at a tiny scale: no timing here, only
that the data it generates is what it claims and that the review, the
lower-bound queries and the naive evaluation it compares agree."""

from datetime import date

from odoo.tests import TransactionCase, tagged

from odoo.addons.prm_auto_status.tools import benchmark_data, benchmark_measure

# 50 companies, 100 contacts, 1,100 orders, 250 leads, 50 bills.
TINY_SCALE = 0.0025
REVIEW_DAY = date(2026, 4, 1)


@tagged("post_install", "-at_install")
class TestBenchmarkTools(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.data = benchmark_data.generate(cls.env, TINY_SCALE, REVIEW_DAY)
        cls.program = cls.data.program

    def test_generated_volumes(self):
        participants = self.program._get_participants()
        self.assertEqual(len(participants), 50)
        self.assertEqual(len(participants.child_ids), 100)
        orders = self.env["sale.order"].search(
            [("partner_id.commercial_partner_id", "in", participants.ids)]
        )
        self.assertEqual(len(orders.filtered(lambda o: o.state == "sale")), 1000)
        self.assertEqual(len(orders.filtered(lambda o: o.state == "cancel")), 100)
        self.assertEqual(len(orders.order_line), 2200)
        self.assertEqual(
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search_count(
                [("partner_id.commercial_partner_id", "in", participants.ids)]
            ),
            250,
        )

    def test_review_agrees_with_lower_bound_on_every_partner(self):
        decisions = self.program._evaluate(day=REVIEW_DAY, apply=False)
        review = benchmark_measure.review_values(self.program, decisions)
        lower_bound = benchmark_measure.lower_bound_values(self.program, REVIEW_DAY)
        partner_ids = [decision.partner_id for decision in decisions]

        self.assertEqual(len(partner_ids), 50)
        self.assertEqual(
            benchmark_measure.mismatches(
                self.program, lower_bound, review, partner_ids
            ),
            [],
        )
        # Agreement on zeros proves nothing: every metric has values.
        for metric in benchmark_measure.program_metrics(self.program):
            with self.subTest(metric=metric.code):
                self.assertTrue(any(review[metric.id].values()))

    def test_naive_evaluation_agrees_with_lower_bound(self):
        sample = benchmark_measure.sample_partners(self.program, 10)
        naive = benchmark_measure.naive_values(self.program, sample.ids, REVIEW_DAY)
        lower_bound = benchmark_measure.lower_bound_values(self.program, REVIEW_DAY)

        self.assertEqual(len(sample), 10)
        self.assertEqual(
            benchmark_measure.mismatches(self.program, lower_bound, naive, sample.ids),
            [],
        )

    def test_marking_leaves_exactly_the_given_partners_marked(self):
        partners = benchmark_measure.sample_partners(self.program, 5)
        benchmark_measure.mark_for_profile_review(self.env, partners)

        done, remaining = self.env["prm.status.program"]._cron_review_changed_profiles(
            day=REVIEW_DAY
        )

        self.assertEqual((done, remaining), (5, 0))

    def test_refuses_a_scale_that_is_not_a_positive_number(self):
        for text in ("0", "-1", "abc", "", "nan", "inf", "0.0001"):
            with self.subTest(scale=text), self.assertRaises(ValueError):
                benchmark_data.parse_scale(text)
        self.assertEqual(benchmark_data.parse_scale("0.05"), 0.05)
