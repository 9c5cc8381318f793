"""How rules place partners on levels."""

from itertools import product

from odoo.tests import tagged

from .common import APRIL_2, IN_MARCH, PrmStatusCase


@tagged("post_install", "-at_install")
class TestRules(PrmStatusCase):
    def test_every_condition_of_a_rule_must_hold(self):
        two_deals = self.create_partner("Two Big Deals (test)")
        self.create_order(two_deals, 3000.0, IN_MARCH)
        self.create_order(two_deals, 3000.0, IN_MARCH)
        three_deals = self.create_partner("Three Deals (test)")
        for amount in (2000.0, 2000.0, 2000.0):
            self.create_order(three_deals, amount, IN_MARCH)

        self.program._evaluate(two_deals | three_deals, APRIL_2)

        # 6,000 of sales but only 2 deals: "Volume reseller" wants 3.
        self.assertEqual(self.level_of(two_deals), self.silver)
        self.assertEqual(self.status_of(two_deals).rule_id, self.selling_partner)
        self.assertEqual(self.level_of(three_deals), self.gold)
        self.assertEqual(self.status_of(three_deals).rule_id, self.volume_reseller)

    def test_any_rule_of_a_level_is_enough(self):
        seller = self.create_partner("Seller Only (test)")
        self.create_order(seller, 1200.0, IN_MARCH)
        prospector = self.create_partner("Prospector Only (test)")
        for _index in range(3):
            self.create_lead(prospector, IN_MARCH)

        self.program._evaluate(seller | prospector, APRIL_2)

        self.assertEqual(self.level_of(seller), self.silver)
        self.assertEqual(self.status_of(seller).rule_id, self.selling_partner)
        self.assertEqual(self.level_of(prospector), self.silver)
        self.assertEqual(self.status_of(prospector).rule_id, self.active_prospector)

    def test_a_profile_domain_opens_a_rule_to_matching_partners_only(self):
        certified = self.create_partner(
            "Certified Seller (test)", tags=[self.certified_tag.id]
        )
        self.create_order(certified, 2500.0, IN_MARCH)
        uncertified = self.create_partner("Uncertified Seller (test)")
        self.create_order(uncertified, 2500.0, IN_MARCH)

        self.program._evaluate(certified | uncertified, APRIL_2)

        self.assertEqual(self.level_of(certified), self.gold)
        self.assertEqual(self.status_of(certified).rule_id, self.certified_seller)
        self.assertEqual(self.level_of(uncertified), self.silver)

    def test_a_rule_with_only_a_profile_domain(self):
        program = self.create_program("Certification program (test)")
        self.create_level(program, "Member", 1)
        certified_level = self.create_level(program, "Certified", 2)
        by_tag = self.create_rule(
            certified_level,
            "Holds the certificate",
            [],
            profile_domain=[("category_id", "in", [self.certified_tag.id])],
        )
        certified = self.create_partner(
            "Certified Shop (test)", tags=[self.certified_tag.id]
        )
        plain = self.create_partner("Plain Shop (test)")

        program._evaluate(certified | plain, APRIL_2)

        self.assertEqual(self.level_of(certified, program), certified_level)
        self.assertEqual(self.status_of(certified, program).rule_id, by_tag)
        self.assertEqual(self.level_of(plain, program).name, "Member")

    def test_the_highest_level_whose_rule_holds_wins(self):
        big_seller = self.create_partner("Big Seller (test)")
        for amount in (2000.0, 2000.0, 2000.0):
            self.create_order(big_seller, amount, IN_MARCH)
        for _index in range(3):
            self.create_lead(big_seller, IN_MARCH)

        decisions = self.program._evaluate(big_seller, APRIL_2)

        # Both Silver rules and "Volume reseller" hold: Gold wins.
        self.assertEqual(decisions[0].new_level, self.gold)
        self.assertEqual(self.level_of(big_seller), self.gold)

    def test_partners_meeting_no_rule_start_on_the_lowest_level(self):
        newcomer = self.create_partner("Newcomer (test)")
        self.create_order(newcomer, 999.99, IN_MARCH)

        self.program._evaluate(newcomer, APRIL_2)

        self.assertEqual(self.level_of(newcomer), self.registered)
        self.assertFalse(self.status_of(newcomer).rule_id)

    def test_partners_meeting_no_rule_have_no_level_when_the_program_says_so(self):
        self.program.no_level_policy = "none"
        newcomer = self.create_partner("Newcomer (test)")
        self.create_order(newcomer, 999.99, IN_MARCH)

        decisions = self.program._evaluate(newcomer, APRIL_2)

        self.assertFalse(decisions[0].new_level)
        self.assertEqual(len(self.status_of(newcomer)), 1)
        self.assertFalse(self.level_of(newcomer))
        self.assertFalse(self.history_of(newcomer))

    def test_the_ladder_qualifies_as_its_rules_hold(self):
        # Ladder.qualify writes out holds() for speed; both must agree on
        # values near and away from the thresholds, with and without the
        # profile filter of "Certified seller".
        certified = self.create_partner(
            "Certified (test)", tags=[self.certified_tag.id]
        )
        other = self.create_partner("Not Certified (test)")
        ladder = self.env["prm.status.engine"]._ladder(self.program, certified | other)

        def by_rules(partner_id, values):
            for level_id in reversed(ladder.level_ids):
                rule_id = ladder.first_rule(level_id, partner_id, values)
                if rule_id:
                    return level_id, rule_id
            return ladder.start_level_id, False

        grid = (0.0, 2.0, 2.995, 3.0, 999.99, 1000.0, 2000.004, 4999.995, 5000.0, 1e6)
        outcomes = set()
        for partner in certified | other:
            for sales, deals, leads in product(grid, repeat=3):
                values = {
                    self.sales_amount.id: sales,
                    self.deal_count.id: deals,
                    self.lead_count.id: leads,
                }
                expected = by_rules(partner.id, values)
                self.assertEqual(ladder.qualify(partner.id, values), expected, values)
                outcomes.add(expected)
        # The grid reaches every rule of the ladder.
        self.assertEqual(
            {rule_id for _level_id, rule_id in outcomes} - {False},
            set(self.program.level_ids.rule_ids.ids),
        )

    def test_a_threshold_is_met_at_exactly_its_value(self):
        exact = self.create_partner("Exactly 1000 (test)")
        self.create_order(exact, 1000.0, IN_MARCH)

        self.program._evaluate(exact, APRIL_2)

        self.assertEqual(self.level_of(exact), self.silver)

    def test_partners_outside_the_participants_are_not_evaluated(self):
        outsider = self.env["res.partner"].create(
            {"name": "Not a Reseller (test)", "is_company": True}
        )
        self.create_order(outsider, 9000.0, IN_MARCH)

        decisions = self.program._evaluate(outsider, APRIL_2)

        self.assertEqual(decisions, [])
        self.assertFalse(self.status_of(outsider))

    def test_explain_tells_what_the_next_level_needs(self):
        seller = self.create_partner("Seller (test)")
        self.create_order(seller, 1500.0, IN_MARCH)
        self.program._evaluate(seller, APRIL_2)

        explanation = self.env["prm.status.engine"].explain(
            self.program, seller, APRIL_2
        )

        self.assertEqual(explanation["current_level"], self.silver)
        self.assertEqual(explanation["next_level"], self.gold)
        volume = explanation["next_rules"][0]
        self.assertEqual(volume["rule"], self.volume_reseller)
        self.assertFalse(volume["met"])
        self.assertEqual(
            [(row["metric"], row["value"], row["gap"]) for row in volume["conditions"]],
            [(self.sales_amount, 1500.0, 3500.0), (self.deal_count, 1, 2.0)],
        )
        certified = explanation["next_rules"][1]
        self.assertTrue(certified["profile_required"])
        self.assertFalse(certified["profile_ok"])
