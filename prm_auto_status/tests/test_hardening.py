"""Regression tests for the holes the breaker found: each test shows what
the addon now does with the input, the change or the user that got through
before."""

from datetime import date, datetime

from odoo import Command
from odoo.api import call_kw
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from .common import APRIL_2, IN_MARCH, PrmStatusCase

DATE_AS_TEXT_FILTER = "[('state', '=', 'sale'), ('date_order', '>', 'last year')]"
DATE_AS_TEXT_PROFILE = "[('create_date', '>', 'not a date')]"
# The database rejects such a domain; the constraint turns that into a refusal.
SQL_LOGGER = "odoo.sql_db"
NEXT_DAILY_RUN = "2026-04-11 04:00:00"
APRIL_11 = date(2026, 4, 11)
MAY_1 = date(2026, 5, 1)
# The monthly job fires at 03:00 UTC; Honolulu is ten hours behind.
MONTHLY_JOB_RUN = "2026-05-01 03:00:00"
HONOLULU_MIDNIGHT_UTC = datetime(2026, 5, 1, 10, 0)
AFTER_HONOLULU_MIDNIGHT = "2026-05-01 10:30:00"
# 23:00 on 30 April in Honolulu, 19:00 on 31 March in Honolulu.
LAST_HOUR_OF_APRIL_IN_HONOLULU = "2026-05-01 09:00:00"
LAST_HOURS_OF_MARCH_IN_HONOLULU = "2026-04-01 05:00:00"


@tagged("post_install", "-at_install")
class TestHardening(PrmStatusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Program = cls.env["prm.status.program"]
        cls.other_company = cls.env["res.company"].create({"name": "Faraway Ltd"})
        cls.manager = new_test_user(
            cls.env,
            login="hardening_manager",
            name="Harriet Manager",
            groups="base.group_user,prm_auto_status.group_prm_manager",
            tz="UTC",
        )
        cls.salesperson = new_test_user(
            cls.env,
            login="hardening_salesperson",
            name="Sol Seller",
            groups="sales_team.group_sale_salesman",
            tz="UTC",
        )
        cls.faraway_user = new_test_user(
            cls.env,
            login="hardening_faraway",
            name="Fay Faraway",
            groups="base.group_user,prm_auto_status.group_prm_manager",
            company_id=cls.other_company.id,
            company_ids=[Command.set(cls.other_company.ids)],
        )
        cls.preferred_tag = cls.env["res.partner.category"].create(
            {"name": "Preferred reseller (test)"}
        )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def assertCreateRefused(
        self, model, values, message_part, error=ValidationError, user=None
    ):
        """Creating a ``model`` record with ``values`` (as ``user`` when
        given) raises ``error`` whose message contains ``message_part``, and
        no record is added."""
        Model = self.env[model].with_context(active_test=False)
        count = Model.search_count([])
        with self.assertRaises(error) as refusal:
            (Model.with_user(user) if user else Model).create(values)
        self.assertIn(message_part, str(refusal.exception))
        self.assertEqual(Model.search_count([]), count)

    def field_id(self, model, name):
        return self.env["ir.model.fields"]._get(model, name).id

    def order_metric_values(self, **values):
        return {
            "name": "Hardening metric (test)",
            "model_id": self.env["ir.model"]._get_id("sale.order"),
            "partner_field_id": self.field_id("sale.order", "partner_id"),
            "date_field_id": self.field_id("sale.order", "date_order"),
            "aggregation": "count",
            **values,
        }

    def silver_reseller(self, name="Azure Interior (test)"):
        """A reseller on Silver since the evaluation of 2 April."""
        partner = self.create_partner(name)
        self.create_order(partner, 1500.0, IN_MARCH)
        self.program._evaluate(partner, APRIL_2)
        self.assertEqual(self.level_of(partner), self.silver)
        return partner

    def create_portal_user(self, company, name):
        contact = self.create_contact(company, name)
        return new_test_user(
            self.env,
            login=f"{name.split()[0].lower()}_hardening_portal",
            name=name,
            partner_id=contact.id,
            groups="base.group_portal",
        )

    # ------------------------------------------------------------------
    # 1. Domains are run once: a value of the wrong type is refused
    # ------------------------------------------------------------------

    @mute_logger(SQL_LOGGER)
    def test_a_metric_filter_comparing_a_date_with_text_is_refused(self):
        self.assertCreateRefused(
            "prm.metric",
            self.order_metric_values(domain=DATE_AS_TEXT_FILTER),
            "The domain of the filter of metric “Hardening metric (test)” is not "
            "valid for sale.order",
        )

    @mute_logger(SQL_LOGGER)
    def test_changing_a_metric_filter_to_compare_a_date_with_text_is_refused(self):
        with self.assertRaises(ValidationError):
            self.deal_count.write({"domain": DATE_AS_TEXT_FILTER})
        self.assertEqual(self.deal_count.domain, "[('state', '=', 'sale')]")

    @mute_logger(SQL_LOGGER)
    def test_participants_comparing_a_date_with_text_are_refused(self):
        self.assertCreateRefused(
            "prm.status.program",
            {"name": "Bad participants (test)", "partner_domain": DATE_AS_TEXT_PROFILE},
            "The domain of the participants of program “Bad participants (test)” is "
            "not valid for res.partner",
        )

    @mute_logger(SQL_LOGGER)
    def test_changing_participants_to_compare_a_date_with_text_is_refused(self):
        before = self.program.partner_domain

        with self.assertRaises(ValidationError):
            self.program.write({"partner_domain": DATE_AS_TEXT_PROFILE})

        self.assertEqual(self.program.partner_domain, before)

    @mute_logger(SQL_LOGGER)
    def test_a_rule_profile_comparing_a_date_with_text_is_refused(self):
        self.assertCreateRefused(
            "prm.status.rule",
            {
                "name": "Long-standing reseller",
                "level_id": self.gold.id,
                "profile_domain": DATE_AS_TEXT_PROFILE,
            },
            "The domain of the partner profile of rule “Long-standing reseller” is "
            "not valid for res.partner",
        )

    def test_empty_participants_are_refused(self):
        for domain in ("", "   "):
            with self.subTest(domain=domain):
                self.assertCreateRefused(
                    "prm.status.program",
                    {"name": "No participants (test)", "partner_domain": domain},
                    "The domain of the participants of program “No participants "
                    "(test)” is empty. Write [] to select all records.",
                )

    def test_emptying_the_participants_of_a_program_is_refused(self):
        before = self.program.partner_domain

        with self.assertRaises(ValidationError) as refusal:
            self.program.write({"partner_domain": ""})

        self.assertIn(
            "is empty. Write [] to select all records.", str(refusal.exception)
        )
        self.assertEqual(self.program.partner_domain, before)

    # ------------------------------------------------------------------
    # 2. The currency rate field must hold a number
    # ------------------------------------------------------------------

    def test_a_currency_rate_field_that_is_not_a_number_is_refused(self):
        self.assertCreateRefused(
            "prm.metric",
            self.order_metric_values(
                aggregation="sum",
                value_field_id=self.field_id("sale.order", "amount_untaxed"),
                currency_rate_field_id=self.field_id("sale.order", "name"),
            ),
            "Metric “Hardening metric (test)”: the currency rate field “name” is "
            "not a number.",
        )

    # ------------------------------------------------------------------
    # 3. A company that becomes a contact of another company
    # ------------------------------------------------------------------

    def make_contact_of_another_company(self, partner):
        group = self.env["res.partner"].create(
            {"name": "Big Holding (test)", "is_company": True}
        )
        partner.write({"is_company": False, "parent_id": group.id})
        self.assertEqual(partner.commercial_partner_id, group)
        return group

    def test_the_daily_job_takes_the_level_of_a_company_become_contact(self):
        azure = self.silver_reseller()
        group = self.make_contact_of_another_company(azure)

        with freeze_time(NEXT_DAILY_RUN):
            self.Program._cron_review_changed_profiles()

        self.assertFalse(self.level_of(azure))
        self.assertFalse(self.status_of(group))
        row = self.history_of(azure)[-1]
        self.assertEqual(
            (
                row.old_level_id,
                row.new_level_id,
                row.direction,
                row.trigger,
                row.evaluation_date,
            ),
            (self.silver, self.env["prm.status.level"], "down", "profile", APRIL_11),
        )

    def test_the_scheduled_review_takes_the_level_of_a_company_become_contact(self):
        azure = self.silver_reseller()
        self.make_contact_of_another_company(azure)

        with freeze_time(MONTHLY_JOB_RUN):
            self.Program._cron_review_monthly()

        self.assertFalse(self.level_of(azure))
        self.assertEqual(self.status_of(azure).last_review_date, MAY_1)
        row = self.history_of(azure)[-1]
        self.assertEqual(
            (
                row.old_level_id,
                row.new_level_id,
                row.direction,
                row.trigger,
                row.evaluation_date,
            ),
            (self.silver, self.env["prm.status.level"], "down", "review", MAY_1),
        )

    # ------------------------------------------------------------------
    # 4. What the history needs cannot be deleted
    # ------------------------------------------------------------------

    def test_a_program_with_history_cannot_be_deleted(self):
        azure = self.silver_reseller()
        rows = self.history_of(azure)

        with self.assertRaises(UserError) as refusal:
            self.program.unlink()

        self.assertIn(
            "Program “Resellers (test)” has a status history, which must be kept.",
            str(refusal.exception),
        )
        self.assertTrue(self.program.exists())
        self.assertEqual(self.history_of(azure), rows)
        self.assertEqual(rows.new_level_id, self.silver)

    def test_a_level_partners_hold_cannot_be_deleted(self):
        self.silver_reseller()

        with self.assertRaises(UserError) as refusal:
            self.silver.unlink()

        self.assertIn("Partners are on level “Silver”.", str(refusal.exception))
        self.assertTrue(self.silver.exists())

    def test_a_level_the_history_mentions_cannot_be_deleted(self):
        azure = self.silver_reseller()
        # Azure leaves the program: nobody holds Silver any more.
        azure.category_id = [Command.unlink(self.reseller_tag.id)]
        self.program._evaluate(azure, APRIL_2)
        self.assertFalse(self.level_of(azure))

        with self.assertRaises(UserError) as refusal:
            self.silver.unlink()

        self.assertIn(
            "The status history mentions level “Silver” and must stay readable.",
            str(refusal.exception),
        )
        self.assertTrue(self.silver.exists())
        self.assertEqual(self.history_of(azure).mapped("old_level_id.name"), ["Silver"])

    def test_a_metric_used_by_a_condition_cannot_be_deleted(self):
        quotes_sent = self.env["prm.metric"].create(
            self.order_metric_values(
                name="Quotes sent (test)", domain="[('state', '=', 'sent')]"
            )
        )
        rule = self.create_rule(self.gold, "Quote machine", [(quotes_sent, ">=", 10)])

        with self.assertRaises(UserError) as refusal:
            quotes_sent.unlink()

        self.assertIn(
            "Metric “Quotes sent (test)” is used by rule “Quote machine”.",
            str(refusal.exception),
        )
        self.assertTrue(quotes_sent.exists())
        self.assertEqual(rule.condition_ids.metric_id, quotes_sent)

    # ------------------------------------------------------------------
    # 5. Internal notes are hidden from the portal
    # ------------------------------------------------------------------

    def overridden_reseller(self):
        """A Silver reseller set on Gold by hand, with a reason."""
        azure = self.silver_reseller()
        self.status_of(azure)._set_override(self.gold, "Promised a trade fair deal")
        return azure

    def test_a_portal_user_cannot_read_the_internal_notes(self):
        azure = self.overridden_reseller()
        portal = self.create_portal_user(azure, "Paloma Azure")
        status = self.status_of(azure).with_user(portal)
        history = self.history_of(azure).with_user(portal)
        program = self.program.with_user(portal)

        for records, field_name in (
            (status, "override_reason"),
            (status, "override_user_id"),
            (status, "proposed_level_id"),
            (history, "reason"),
            (history, "user_id"),
            (program, "partner_domain"),
        ):
            with (
                self.subTest(model=records._name, field=field_name),
                self.assertRaises(AccessError) as refusal,
            ):
                records.read([field_name])
            self.assertIn(
                f'You do not have enough rights to access the fields "{field_name}"',
                str(refusal.exception),
            )
        # The record itself stays readable: only the notes are hidden.
        self.assertEqual(status.read(["level_id"])[0]["level_id"][0], self.gold.id)

    def test_a_salesperson_still_reads_the_internal_notes(self):
        azure = self.overridden_reseller()
        status = self.status_of(azure).with_user(self.salesperson)
        override_row = self.history_of(azure)[-1].with_user(self.salesperson)

        [values] = status.read(
            ["override_reason", "override_user_id", "proposed_level_id"]
        )
        [row_values] = override_row.read(["reason", "user_id"])
        [program_values] = self.program.with_user(self.salesperson).read(
            ["partner_domain"]
        )

        self.assertEqual(
            (
                values["override_reason"],
                values["override_user_id"][0],
                values["proposed_level_id"],
            ),
            ("Promised a trade fair deal", self.env.user.id, False),
        )
        self.assertEqual(
            (row_values["reason"], row_values["user_id"][0]),
            ("Promised a trade fair deal", self.env.user.id),
        )
        self.assertEqual(
            program_values["partner_domain"],
            repr([("category_id", "in", [self.reseller_tag.id])]),
        )

    # ------------------------------------------------------------------
    # 6. A status manager edits metrics
    # ------------------------------------------------------------------

    def test_a_status_manager_creates_and_edits_a_metric_in_the_form(self):
        Metric = self.env["prm.metric"].with_user(self.manager)
        IrModel = self.env["ir.model"].with_user(self.manager)
        sale_order = IrModel.search([("model", "=", "sale.order")])
        self.assertEqual(sale_order.name, "Sales Order")

        form = Form(Metric)
        form.name = "Quotation amount (test)"
        form.code = "quotation_amount_test"
        form.model_id = sale_order
        form.partner_field_id = self.env["ir.model.fields"]._get(
            "sale.order", "partner_id"
        )
        form.date_field_id = self.env["ir.model.fields"]._get(
            "sale.order", "date_order"
        )
        form.aggregation = "sum"
        form.value_field_id = self.env["ir.model.fields"]._get(
            "sale.order", "amount_untaxed"
        )
        metric = form.save()
        with Form(metric) as edit:
            edit.domain = "[('state', '=', 'sent')]"

        self.assertEqual(
            (metric.model_name, metric.value_field_id.name, metric.domain),
            ("sale.order", "amount_untaxed", "[('state', '=', 'sent')]"),
        )

    def test_a_status_manager_duplicates_a_metric_without_its_code(self):
        metric = self.sales_amount.with_user(self.manager)

        duplicate = metric.copy()

        self.assertNotEqual(duplicate, metric)
        self.assertEqual(
            (
                duplicate.code,
                duplicate.name,
                duplicate.model_name,
                duplicate.value_field_id,
                duplicate.currency_rate_field_id,
                duplicate.domain,
            ),
            (
                False,
                "Sales amount",
                "sale.order",
                self.sales_amount.value_field_id,
                self.sales_amount.currency_rate_field_id,
                "[('state', '=', 'sale')]",
            ),
        )
        self.assertEqual(self.sales_amount.code, "sales_amount")

    # ------------------------------------------------------------------
    # 7. Condition values are finite numbers
    # ------------------------------------------------------------------

    def test_condition_values_that_are_not_finite_are_refused(self):
        for value in ("inf", "-inf", "nan", "1e400", float("inf")):
            with self.subTest(value=value):
                self.assertCreateRefused(
                    "prm.status.condition",
                    {
                        "rule_id": self.selling_partner.id,
                        "metric_id": self.deal_count.id,
                        "value": value,
                    },
                    f"The value “{value}” of a condition is not a number.",
                )

    def test_a_keep_value_that_is_not_finite_is_refused(self):
        self.assertCreateRefused(
            "prm.status.condition",
            {
                "rule_id": self.selling_partner.id,
                "metric_id": self.sales_amount.id,
                "value": 1000,
                "has_keep_value": True,
                "keep_value": "inf",
            },
            "The value “inf” of a condition is not a number.",
        )

    def test_changing_a_condition_value_to_infinity_is_refused(self):
        condition = self.selling_partner.condition_ids

        with self.assertRaises(ValidationError) as refusal:
            condition.write({"value": "-inf"})

        self.assertIn("“-inf” of a condition is not a number", str(refusal.exception))
        self.assertEqual(condition.value, 1000.0)

    # ------------------------------------------------------------------
    # 8. Ranks swapped in the program form
    # ------------------------------------------------------------------

    def test_two_levels_swap_ranks_in_the_program_form(self):
        # The form lists the levels by rank: Registered, Silver, Gold.
        with Form(self.program) as form:
            with form.level_ids.edit(1) as silver:
                silver.rank = 3
            with form.level_ids.edit(2) as gold:
                gold.rank = 2

        self.assertEqual((self.silver.rank, self.gold.rank), (3, 2))
        self.assertEqual(
            self.program._get_levels().mapped("name"), ["Registered", "Gold", "Silver"]
        )

    def test_two_levels_swap_ranks_in_one_write(self):
        self.program.write(
            {
                "level_ids": [
                    Command.update(self.registered.id, {"rank": 3}),
                    Command.update(self.gold.id, {"rank": 1}),
                ]
            }
        )

        self.assertEqual((self.registered.rank, self.gold.rank), (3, 1))

    def test_two_levels_ending_on_the_same_rank_are_refused(self):
        with self.assertRaises(ValidationError) as refusal:
            self.program.write(
                {
                    "level_ids": [
                        Command.update(self.silver.id, {"rank": 3}),
                        Command.update(self.gold.id, {"rank": 3}),
                    ]
                }
            )

        self.assertIn("both have rank 3", str(refusal.exception))
        self.assertEqual((self.silver.rank, self.gold.rank), (2, 3))

    # ------------------------------------------------------------------
    # 9. The pricelists of the levels follow the program's company
    # ------------------------------------------------------------------

    def test_moving_a_program_away_from_its_levels_pricelist_company_is_refused(self):
        gold_prices = self.env["product.pricelist"].create(
            {"name": "Gold prices (test)", "company_id": self.company.id}
        )
        self.gold.pricelist_id = gold_prices

        with self.assertRaises(ValidationError) as refusal:
            self.program.write({"company_id": self.other_company.id})

        self.assertIn(
            "Level “Gold”: the pricelist “Gold prices (test)",
            str(refusal.exception),
        )
        self.assertIn(
            "not to the program's company Faraway Ltd", str(refusal.exception)
        )
        self.assertEqual(self.program.company_id, self.company)

    def test_a_shared_pricelist_follows_the_program_to_another_company(self):
        shared_prices = self.env["product.pricelist"].create(
            {"name": "Shared prices (test)", "company_id": False}
        )
        self.gold.pricelist_id = shared_prices

        self.program.write({"company_id": self.other_company.id})

        ladder = self.program.level_ids
        self.assertEqual(
            (
                ladder.company_id,
                ladder.rule_ids.company_id,
                ladder.rule_ids.condition_ids.company_id,
            ),
            (self.other_company, self.other_company, self.other_company),
        )

    # ------------------------------------------------------------------
    # 10. A tag given by two programs
    # ------------------------------------------------------------------

    def two_programs_giving_the_preferred_tag(self):
        """Silver of the resellers and Agent of the agents both give the
        "Preferred reseller" tag; Azure (1,500 in March) holds both."""
        self.silver.tag_ids = self.preferred_tag
        agents = self.create_program("Agents (test)")
        self.create_level(agents, "Listed", 1)
        agent = self.create_level(agents, "Agent", 2, tag_ids=self.preferred_tag.ids)
        self.create_rule(agent, "Agent seller", [(self.sales_amount, ">=", 500)])
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 1500.0, IN_MARCH)
        self.program._evaluate(azure, APRIL_2)
        agents._evaluate(azure, APRIL_2)
        self.assertEqual(self.level_of(azure, agents), agent)
        self.assertIn(self.preferred_tag, azure.category_id)
        return azure, agents

    def drop(self, partner, program):
        """Raise every entry value of ``program`` out of reach and evaluate
        ``partner`` again: it falls to the start level."""
        program.level_ids.rule_ids.condition_ids.write({"value": 1_000_000})
        program._evaluate(partner, APRIL_2)

    def test_a_tag_stays_while_another_program_still_gives_it(self):
        azure, agents = self.two_programs_giving_the_preferred_tag()

        self.drop(azure, self.program)

        self.assertEqual(self.level_of(azure), self.registered)
        self.assertEqual(self.level_of(azure, agents).name, "Agent")
        self.assertIn(self.preferred_tag, azure.category_id)

    def test_a_tag_leaves_with_the_last_program_that_gives_it(self):
        azure, agents = self.two_programs_giving_the_preferred_tag()
        self.drop(azure, self.program)

        self.drop(azure, agents)

        self.assertEqual(self.level_of(azure, agents).name, "Listed")
        self.assertNotIn(self.preferred_tag, azure.category_id)

    def test_a_tag_leaves_when_the_programs_drop_in_the_other_order(self):
        azure, agents = self.two_programs_giving_the_preferred_tag()
        self.drop(azure, agents)
        self.assertIn(self.preferred_tag, azure.category_id)

        self.drop(azure, self.program)

        self.assertNotIn(self.preferred_tag, azure.category_id)

    # ------------------------------------------------------------------
    # 11. Levels are set by the engine only
    # ------------------------------------------------------------------

    def test_writing_a_level_on_a_status_is_refused_even_to_managers(self):
        status = self.status_of(self.silver_reseller())
        admin = self.env.ref("base.user_admin")

        for user in (self.manager, admin):
            for level in (self.gold, self.env["prm.status.level"]):
                with (
                    self.subTest(user=user.login, level=level.name),
                    self.assertRaises(UserError) as refusal,
                ):
                    status.with_user(user).write({"level_id": level.id})
                self.assertIn(
                    "A partner's level is set by the reviews", str(refusal.exception)
                )
        self.assertEqual(status.level_id, self.silver)
        self.assertEqual(len(self.history_of(status.partner_id)), 1)

    def test_creating_a_status_with_a_level_is_refused_even_to_managers(self):
        deco = self.create_partner("Deco Addict (test)")

        for user in (self.manager, self.env.ref("base.user_admin")):
            with self.subTest(user=user.login):
                self.assertCreateRefused(
                    "prm.partner.status",
                    {
                        "partner_id": deco.id,
                        "program_id": self.program.id,
                        "level_id": self.gold.id,
                    },
                    "A partner's level is set by the reviews",
                    error=UserError,
                    user=user,
                )
        self.assertFalse(self.status_of(deco))

    def test_the_engine_context_sent_by_a_client_does_not_unlock_the_level(self):
        """A web client chooses the context of its calls: a manager sending
        the engine's own flag must not write a level that no history row
        records."""
        status = self.status_of(self.silver_reseller())
        Status = self.env["prm.partner.status"].with_user(self.manager)

        with self.assertRaises(UserError):
            call_kw(
                Status,
                "write",
                [[status.id], {"level_id": self.gold.id}],
                {"context": {"prm_engine": True}},
            )

        self.assertEqual(status.level_id, self.silver)
        self.assertEqual(len(self.history_of(status.partner_id)), 1)

    def test_setting_the_level_by_hand_still_works_for_a_manager(self):
        azure = self.silver_reseller()
        status = self.status_of(azure).with_user(self.manager)

        status._set_override(self.gold, "Promised a trade fair deal")

        self.assertEqual(status.level_id, self.gold)
        row = self.history_of(azure)[-1]
        self.assertEqual(
            (row.old_level_id, row.new_level_id, row.trigger, row.user_id),
            (self.silver, self.gold, "override", self.manager),
        )

    def test_an_override_ending_in_the_past_is_refused(self):
        status = self.status_of(self.silver_reseller()).with_user(self.manager)

        with freeze_time("2026-04-10 12:00:00"):
            with self.assertRaises(ValidationError) as refusal:
                status.write(
                    {"override_active": True, "override_until": date(2026, 4, 9)}
                )

        self.assertIn(
            "The override cannot end in the past (2026-04-09).", str(refusal.exception)
        )
        self.assertEqual(
            (status.override_active, status.override_until), (False, False)
        )

    def test_a_status_manager_cannot_write_history_rows(self):
        azure = self.silver_reseller()
        History = self.env["prm.status.history"].with_user(self.manager)
        count = History.search_count([])

        with self.assertRaises(AccessError) as refusal:
            History.create(
                {
                    "partner_id": azure.id,
                    "program_id": self.program.id,
                    "old_level_id": self.silver.id,
                    "new_level_id": self.gold.id,
                    "trigger": "manual",
                }
            )

        self.assertIn("You are not allowed to create", str(refusal.exception))
        self.assertEqual(History.search_count([]), count)

    # ------------------------------------------------------------------
    # 12. Other companies' ladders are private
    # ------------------------------------------------------------------

    def test_a_user_of_another_company_does_not_read_the_ladder(self):
        faraway = self.faraway_user
        own_program = self.create_program(
            "Faraway resellers (test)", company_id=self.other_company.id
        )
        own_level = self.create_level(own_program, "Faraway member", 1)
        ladder = {
            "prm.status.level": self.program.level_ids,
            "prm.status.rule": self.program.level_ids.rule_ids,
            "prm.status.condition": self.program.level_ids.rule_ids.condition_ids,
        }

        for model, records in ladder.items():
            with self.subTest(model=model):
                self.assertTrue(records)
                Model = self.env[model].with_user(faraway)
                self.assertFalse(Model.search([("id", "in", records.ids)]))
                with self.assertRaises(AccessError):
                    records.with_user(faraway).read(["display_name"])
        self.assertEqual(
            self.env["prm.status.level"]
            .with_user(faraway)
            .search([("program_id", "in", (self.program | own_program).ids)]),
            own_level,
        )

    # ------------------------------------------------------------------
    # 13. Reviews at local midnight west of UTC
    # ------------------------------------------------------------------

    def test_a_program_west_of_utc_is_reviewed_at_its_local_midnight(self):
        honolulu = self.program
        honolulu.tz = "Pacific/Honolulu"
        brussels = self.create_program(
            "Brussels resellers (test)", tz="Europe/Brussels"
        )
        self.create_level(brussels, "Member", 1)
        azure = self.create_partner("Azure Interior (test)")
        self.create_order(azure, 1500.0, LAST_HOUR_OF_APRIL_IN_HONOLULU)
        self.create_order(azure, 700.0, LAST_HOURS_OF_MARCH_IN_HONOLULU)
        monthly_job = self.env.ref("prm_auto_status.ir_cron_prm_review_monthly")
        Trigger = self.env["ir.cron.trigger"]
        earlier_triggers = Trigger.search([("cron_id", "=", monthly_job.id)])

        with freeze_time(MONTHLY_JOB_RUN):
            self.Program._cron_review_monthly()

        # 17:00 on 30 April in Honolulu: April is not over, nothing moves.
        self.assertFalse(self.status_of(azure, honolulu))
        self.assertEqual(
            (honolulu.last_review_date, honolulu.review_date_pending), (False, False)
        )
        triggers = Trigger.search([("cron_id", "=", monthly_job.id)]) - earlier_triggers
        self.assertEqual(triggers.mapped("call_at"), [HONOLULU_MIDNIGHT_UTC])
        # 05:00 on 1 May in Brussels: reviewed at once.
        self.assertEqual(brussels.last_review_date, MAY_1)
        self.assertEqual(self.status_of(azure, brussels).last_review_date, MAY_1)

        with freeze_time(AFTER_HONOLULU_MIDNIGHT):
            self.Program._cron_review_monthly()

        self.assertEqual(honolulu.last_review_date, MAY_1)
        self.assertEqual(self.level_of(azure, honolulu), self.silver)
        row = self.history_of(azure, honolulu)
        self.assertEqual(
            (
                row.evaluation_date,
                row.period_start,
                row.period_end,
                row.metric_values["sales_amount"],
            ),
            (MAY_1, date(2026, 4, 1), date(2026, 4, 30), 1500.0),
        )
        self.assertEqual(len(self.history_of(azure, brussels)), 1)
