"""The partner portal at /my/status: a partner sees its own level, figures
and what is missing, and nothing of anybody else."""

from lxml import html

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common_policy import PolicyFixture

STATUS_URL = "/my/status"


def text_of(element):
    """The visible text of ``element`` on one line, spaces normalised."""
    return " ".join(element.text_content().replace("\xa0", " ").split())


@tagged("post_install", "-at_install")
class TestPortal(PolicyFixture, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_policy_fixture()
        cls.program.state = "running"
        # The figures are those of the last closed month before today.
        today = cls.program._today()
        cls.period_start = cls.program._get_period(today)[0]

        cls.northwind = cls.create_member("Northwind Traders")
        cls.southwind = cls.create_member("Southwind Traders")
        cls.contoso = cls.env["res.partner"].create(
            {"name": "Contoso Outsiders", "is_company": True}
        )
        cls.sell(cls.northwind, 3000, cls.period_start)
        cls.sell(cls.southwind, 1234.56, cls.period_start)
        cls.program._evaluate(day=today)
        cls.northwind_status = cls.status_of(cls.northwind)
        cls.northwind_history = cls.history_of(cls.northwind)
        cls.southwind_status = cls.status_of(cls.southwind)

        cls.northwind_user = cls.create_portal_user(cls.northwind, "Nora Northwind")
        cls.southwind_user = cls.create_portal_user(cls.southwind, "Sid Southwind")
        cls.contoso_user = cls.create_portal_user(cls.contoso, "Cleo Contoso")

    @classmethod
    def create_portal_user(cls, company, name):
        """A portal user for a contact of ``company``; password = login."""
        contact = cls.env["res.partner"].create(
            {"name": name, "parent_id": company.id, "type": "contact"}
        )
        login = f"{name.split()[0].lower()}_portal"
        return new_test_user(
            cls.env,
            login=login,
            name=name,
            partner_id=contact.id,
            groups="base.group_portal",
        )

    def status_page(self, user, url=STATUS_URL):
        self.authenticate(user.login, user.login)
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        return html.fromstring(response.text)

    def call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def condition_rows(self, page):
        """Per conditions table, its rows as lists of cell texts."""
        return [
            [[text_of(cell) for cell in row.xpath("./td")] for row in table]
            for table in page.xpath(
                "//table[contains(@class, 'o_prm_conditions')]/tbody"
            )
        ]

    # ------------------------------------------------------------------
    # The partner's own page
    # ------------------------------------------------------------------

    def test_a_partner_sees_its_level_values_and_missing_amounts(self):
        page = self.status_page(self.northwind_user)

        (level,) = page.xpath("//*[contains(@class, 'o_prm_level')]")
        self.assertEqual(text_of(level), "Silver")
        next_level, keep_level = self.condition_rows(page)
        self.assertEqual(
            next_level,
            [["Sales amount", "$ 3,000.00", ">= $ 5,000.00", "60%", "$ 2,000.00 more"]],
        )
        self.assertEqual(
            keep_level,
            [["Sales amount", "$ 3,000.00", ">= $ 1,000.00", "100%", "Reached"]],
        )
        (bar,) = page.xpath(
            "(//table[contains(@class, 'o_prm_conditions')])[1]"
            "//div[contains(@class, 'o_prm_progress')]"
        )
        self.assertEqual(bar.get("style"), "width: 60%;")
        history_rows = page.xpath("//table[contains(@class, 'o_prm_history')]/tbody/tr")
        # The template puts a line break before the colon; a browser shows
        # it as a space, which is not what this test is about.
        self.assertEqual(
            [
                text_of(cell).replace(" :", ":")
                for cell in history_rows[0].xpath("./td")
            ][1:],
            ["-", "Silver", "First assignment: Selling partner"],
        )

    def test_a_partner_of_no_program_is_told_so(self):
        page = self.status_page(self.contoso_user)

        (notice,) = page.xpath("//*[contains(@class, 'o_prm_no_program')]")
        self.assertEqual(
            text_of(notice),
            "Your company does not take part in a partner program yet.",
        )
        self.assertFalse(page.xpath("//*[contains(@class, 'o_prm_program')]"))

    def test_an_anonymous_visitor_is_sent_to_the_login_page(self):
        response = self.url_open(STATUS_URL, allow_redirects=False)

        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    def test_the_portal_page_in_a_browser(self):
        self.start_tour(
            STATUS_URL, "prm_status_portal_tour", login=self.northwind_user.login
        )

    # ------------------------------------------------------------------
    # Another partner's figures, by every door
    # ------------------------------------------------------------------

    def assertNoNorthwindFigure(self, text):
        for figure in ("Northwind", "3,000.00", "2,000.00", "3000"):
            self.assertNotIn(figure, text)

    def test_another_partner_sees_only_its_own_page(self):
        for url in (
            STATUS_URL,
            f"{STATUS_URL}?partner_id={self.northwind.id}",
            f"{STATUS_URL}?partner_id={self.northwind_user.partner_id.id}",
        ):
            with self.subTest(url=url):
                page = self.status_page(self.southwind_user, url)
                self.assertNoNorthwindFigure(page.text_content())
                self.assertIn("1,234.56", page.text_content())

    @mute_logger("odoo.http")
    def test_another_partner_reaches_no_status_by_its_id(self):
        self.authenticate(self.southwind_user.login, self.southwind_user.login)
        for url in (
            f"{STATUS_URL}/{self.northwind_status.id}",
            f"/web/content/prm.partner.status/{self.northwind_status.id}"
            "/explanation_html",
        ):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertIn(response.status_code, (403, 404))
                self.assertNoNorthwindFigure(response.text)

    @mute_logger("odoo.http")
    def test_another_partner_reads_no_status_or_history_by_json_rpc(self):
        self.authenticate(self.southwind_user.login, self.southwind_user.login)

        found = self.call_kw(
            "prm.partner.status",
            "search_read",
            [[("partner_id", "=", self.northwind.id)]],
            {"fields": ["level_id", "explanation_html"]},
        )
        self.assertEqual(found, [])
        found = self.call_kw(
            "prm.partner.status", "search_read", [[]], {"fields": ["partner_id"]}
        )
        self.assertEqual([row["id"] for row in found], self.southwind_status.ids)
        found = self.call_kw(
            "prm.status.history",
            "search_read",
            [[("partner_id", "=", self.northwind.id)]],
            {"fields": ["metric_values", "values_summary"]},
        )
        self.assertEqual(found, [])

        for model, ids, fields in (
            (
                "prm.partner.status",
                self.northwind_status.ids,
                ["level_id", "explanation_html"],
            ),
            (
                "prm.status.history",
                self.northwind_history.ids,
                ["metric_values", "values_summary"],
            ),
            ("res.partner", self.northwind.ids, ["prm_level_ids", "prm_status_ids"]),
        ):
            with (
                self.subTest(model=model),
                self.assertRaises(JsonRpcException) as refusal,
            ):
                self.call_kw(model, "read", [ids, fields])
            self.assertEqual(str(refusal.exception), "odoo.exceptions.AccessError")

    @mute_logger("odoo.http")
    def test_another_partner_gets_no_figure_from_the_engine_or_counts(self):
        self.authenticate(self.southwind_user.login, self.southwind_user.login)

        # The engine is not callable remotely: refused, not crashed.
        for method in ("explain", "evaluate"):
            with (
                self.subTest(method=method),
                self.assertRaises(JsonRpcException) as refusal,
            ):
                self.call_kw(
                    "prm.status.engine", method, [self.program.id, self.northwind.id]
                )
            self.assertEqual(str(refusal.exception), "odoo.exceptions.AccessError")
        (program,) = self.call_kw(
            "prm.status.program", "read", [self.program.ids, ["status_count"]]
        )
        self.assertEqual(program["status_count"], 1, "Northwind takes part too")
        (silver,) = self.call_kw(
            "prm.status.level", "read", [self.silver.ids, ["partner_count"]]
        )
        self.assertEqual(silver["partner_count"], 1, "Northwind is Silver too")

    # ------------------------------------------------------------------
    # Internal users without the manager group
    # ------------------------------------------------------------------

    def test_an_internal_user_without_the_manager_group_cannot_edit(self):
        seller = self.salesperson
        self.assertEqual(self.program.with_user(seller).name, "Policy program (test)")

        with self.assertRaises(AccessError):
            self.program.with_user(seller).write({"grace_reviews": 5})
        with self.assertRaises(AccessError):
            self.selling_partner.with_user(seller).write({"name": "Easy Silver"})
        with self.assertRaises(AccessError):
            self.selling_partner.condition_ids.with_user(seller).write({"value": 1})
        with self.assertRaises(AccessError):
            self.env["prm.status.rule"].with_user(seller).create(
                {"name": "Backdoor", "level_id": self.gold.id}
            )
        self.assertEqual(self.program.grace_reviews, 2)

    @mute_logger("odoo.http")
    def test_an_internal_user_without_the_manager_group_cannot_edit_by_rpc(self):
        self.authenticate(self.salesperson.login, self.salesperson.login)

        with self.assertRaises(JsonRpcException) as refusal:
            self.call_kw(
                "prm.status.rule",
                "write",
                [self.selling_partner.ids, {"name": "Easy Silver"}],
            )

        self.assertEqual(str(refusal.exception), "odoo.exceptions.AccessError")
        self.selling_partner.invalidate_recordset()
        self.assertEqual(self.selling_partner.name, "Selling partner")
