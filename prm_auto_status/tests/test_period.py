"""Which dates a program measures, and in which timezone."""

from datetime import date

from odoo.tests import Form, freeze_time, tagged

from .common import APRIL_2, PrmStatusCase


@tagged("post_install", "-at_install")
class TestPeriodWindow(PrmStatusCase):
    def period(self, day, unit, mode="last", count=1):
        program = self.create_program(
            f"{unit} {mode} {count}",
            period_unit=unit,
            period_mode=mode,
            period_count=count,
        )
        return program._get_period(day)

    def test_last_closed_period_on_2_april_2026(self):
        self.assertEqual(
            self.period(APRIL_2, "month"), (date(2026, 3, 1), date(2026, 3, 31))
        )
        self.assertEqual(
            self.period(APRIL_2, "quarter"), (date(2026, 1, 1), date(2026, 3, 31))
        )
        self.assertEqual(
            self.period(APRIL_2, "year"), (date(2025, 1, 1), date(2025, 12, 31))
        )

    def test_last_three_months_on_2_april_2026(self):
        self.assertEqual(
            self.period(APRIL_2, "month", "last_n", 3),
            (date(2026, 1, 1), date(2026, 3, 31)),
        )

    def test_last_n_quarters_and_years_on_2_april_2026(self):
        # Q4 2025 and Q1 2026; then the years 2024 and 2025.
        self.assertEqual(
            self.period(APRIL_2, "quarter", "last_n", 2),
            (date(2025, 10, 1), date(2026, 3, 31)),
        )
        self.assertEqual(
            self.period(APRIL_2, "year", "last_n", 2),
            (date(2024, 1, 1), date(2025, 12, 31)),
        )

    def test_the_first_day_of_a_period_closes_the_one_before(self):
        first_of_april = date(2026, 4, 1)
        self.assertEqual(
            self.period(first_of_april, "month"), (date(2026, 3, 1), date(2026, 3, 31))
        )
        self.assertEqual(
            self.period(first_of_april, "quarter"),
            (date(2026, 1, 1), date(2026, 3, 31)),
        )

    def test_last_closed_period_across_the_year_boundary(self):
        mid_january = date(2026, 1, 15)
        self.assertEqual(
            self.period(mid_january, "month"), (date(2025, 12, 1), date(2025, 12, 31))
        )
        self.assertEqual(
            self.period(mid_january, "quarter"),
            (date(2025, 10, 1), date(2025, 12, 31)),
        )
        self.assertEqual(
            self.period(mid_january, "year"), (date(2025, 1, 1), date(2025, 12, 31))
        )

    def test_last_n_periods_across_the_year_boundary(self):
        mid_february = date(2026, 2, 15)
        self.assertEqual(
            self.period(mid_february, "month", "last_n", 3),
            (date(2025, 11, 1), date(2026, 1, 31)),
        )
        self.assertEqual(
            self.period(mid_february, "quarter", "last_n", 2),
            (date(2025, 7, 1), date(2025, 12, 31)),
        )

    def test_on_a_leap_day(self):
        leap_day = date(2024, 2, 29)
        self.assertEqual(
            self.period(leap_day, "month"), (date(2024, 1, 1), date(2024, 1, 31))
        )
        self.assertEqual(
            self.period(leap_day, "quarter"), (date(2023, 10, 1), date(2023, 12, 31))
        )
        self.assertEqual(
            self.period(leap_day, "year"), (date(2023, 1, 1), date(2023, 12, 31))
        )
        self.assertEqual(
            self.period(leap_day, "month", "last_n", 12),
            (date(2023, 2, 1), date(2024, 1, 31)),
        )

    def test_the_month_after_a_leap_february(self):
        self.assertEqual(
            self.period(date(2024, 3, 1), "month"),
            (date(2024, 2, 1), date(2024, 2, 29)),
        )
        self.assertEqual(
            self.period(date(2024, 3, 15), "month", "last_n", 12),
            (date(2023, 3, 1), date(2024, 2, 29)),
        )

    def test_the_last_closed_period_ignores_the_number_of_periods(self):
        self.assertEqual(
            self.period(APRIL_2, "month", "last", 3),
            (date(2026, 3, 1), date(2026, 3, 31)),
        )

    def test_the_evaluate_wizard_shows_the_period_of_its_date(self):
        wizard = Form(
            self.env["prm.status.evaluate.wizard"].with_context(
                default_program_id=self.program.id
            )
        )
        wizard.date = APRIL_2
        self.assertEqual(wizard.period_text, "2026-03-01 to 2026-03-31")
        wizard.date = date(2026, 1, 15)
        self.assertEqual(wizard.period_text, "2025-12-01 to 2025-12-31")


@tagged("post_install", "-at_install")
class TestPeriodTimezone(PrmStatusCase):
    """Period boundaries are local midnights of the program's timezone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.new_york_program = cls._sales_program("New York (test)", "America/New_York")
        cls.brussels_program = cls._sales_program("Brussels (test)", "Europe/Brussels")
        cls.utc_program = cls._sales_program("UTC (test)", "UTC")

    @classmethod
    def _sales_program(cls, name, tz):
        program = cls.create_program(name, tz=tz)
        level = cls.create_level(program, "Selling", 1)
        cls.create_rule(level, "Any sale", [(cls.sales_amount, ">", 0)])
        return program

    def sales(self, program, partner, day):
        return self.measured_values(program, partner, day)["sales_amount"]

    def test_late_evening_of_31_march_in_new_york_counts_for_march(self):
        late_buyer = self.create_partner("Late Buyer Inc.")
        # 23:30 on 31 March in New York (EDT, UTC-4) is 03:30 on 1 April UTC.
        self.create_order(late_buyer, 700.0, "2026-04-01 03:30:00")

        self.assertEqual(self.sales(self.new_york_program, late_buyer, APRIL_2), 700.0)
        self.assertEqual(
            self.sales(self.new_york_program, late_buyer, date(2026, 5, 2)), 0.0
        )

    def test_the_same_order_counts_for_april_in_utc(self):
        late_buyer = self.create_partner("Late Buyer Inc.")
        self.create_order(late_buyer, 700.0, "2026-04-01 03:30:00")

        self.assertEqual(self.sales(self.utc_program, late_buyer, APRIL_2), 0.0)
        self.assertEqual(
            self.sales(self.utc_program, late_buyer, date(2026, 5, 2)), 700.0
        )

    def test_just_after_midnight_of_1_april_in_brussels_counts_for_april(self):
        early_buyer = self.create_partner("Early Buyer SA")
        # 00:30 on 1 April in Brussels (CEST, UTC+2) is 22:30 on 31 March UTC.
        self.create_order(early_buyer, 400.0, "2026-03-31 22:30:00")

        self.assertEqual(self.sales(self.brussels_program, early_buyer, APRIL_2), 0.0)
        self.assertEqual(
            self.sales(self.brussels_program, early_buyer, date(2026, 5, 2)), 400.0
        )

    def test_a_program_without_timezone_uses_the_company_timezone(self):
        program = self.create_program("Resellers (company time)", tz=False)
        self.company.partner_id.tz = "America/New_York"
        self.assertEqual(program._get_tz().zone, "America/New_York")

        self.company.partner_id.tz = False
        self.assertEqual(program._get_tz().zone, "UTC")

    @freeze_time("2026-04-01 02:00:00")
    def test_today_is_the_local_date_of_the_program(self):
        self.assertEqual(self.new_york_program._today(), date(2026, 3, 31))
        self.assertEqual(self.brussels_program._today(), date(2026, 4, 1))
