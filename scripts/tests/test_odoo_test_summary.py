"""Unit tests of scripts/odoo_test_summary.py on synthetic Odoo 18 logs.

The record texts are copied from real Odoo 18.0 runs (see the docstring of
odoo_test_summary.py for where Odoo writes each of them).
"""

import io
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import odoo_test_summary as summary  # noqa: E402

PREFIX = "2026-12-04 15:33:36,419 9612 {level} prm_test {logger}: "
MOD = "odoo.addons.prm_probe.tests.test_probe"
HTTP = "odoo.addons.prm_probe.tests.test_probe_http"


def rec(level, logger, msg):
    return PREFIX.format(level=level, logger=logger) + msg + " \n"


def start(desc, logger=MOD):
    return rec("INFO", logger, f"Starting {desc} ...")


def final(failed, errors, run, level="INFO"):
    return rec(
        level,
        "odoo.tests.result",
        f"{failed} failed, {errors} error(s) of {run} tests when loading "
        "database 'prm_test'",
    )


def run(lines, odoo_exit_code=0):
    outcome = summary.evaluate(summary.parse(lines), odoo_exit_code)
    stream = io.StringIO()
    summary.render(outcome, stream)
    return outcome, stream.getvalue()


class TestSummary(unittest.TestCase):
    def assertClosing(self, output, expected):
        self.assertEqual(output.rstrip("\n").split("\n")[-1], expected)

    def test_all_green(self):
        lines = [
            rec("INFO", "odoo.modules.loading", "Loading module prm_probe (8/13)"),
            start("TestProbe.test_a"),
            start("TestProbe.test_b"),
            rec("INFO", "odoo.modules.loading", "Module prm_probe loaded in 0.15s"),
            rec("INFO", "odoo.service.server", "Starting post tests"),
            start("TestProbeHttp.test_browser", HTTP),
            rec(
                "INFO", HTTP + ".TestProbeHttp.test_browser.browser", "test successful"
            ),
            rec("INFO", "odoo.service.server", "1 post-tests in 18.97s, 318 queries"),
            rec("INFO", "odoo.tests.stats", "prm_probe: 7 tests 0.89s 26 queries"),
            final(0, 0, 3),
        ]
        outcome, output = run(lines)
        self.assertEqual(outcome.status, 0)
        self.assertClosing(output, "3 passed, 0 failed")

    def test_fail_error_skip(self):
        lines = [
            start("TestProbe.test_error"),
            rec("INFO", MOD, "=" * 70),
            rec("ERROR", MOD, "ERROR: TestProbe.test_error"),
            "Traceback (most recent call last):\n",
            "RuntimeError: deliberate error\n",
            start("TestProbe.test_fail"),
            rec("ERROR", MOD, "FAIL: TestProbe.test_fail"),
            "AssertionError: 1 != 2 : deliberate failure\n",
            start("TestProbe.test_pass"),
            start("TestProbe.test_skipped"),
            rec("INFO", MOD, "skipped TestProbe.test_skipped : deliberately skipped"),
            rec("INFO", "odoo.modules.loading", "Module prm_probe loaded in 0.15s"),
            rec(
                "ERROR",
                "odoo.modules.loading",
                "Module prm_probe: 1 failures, 1 errors of 4 tests",
            ),
            rec(
                "ERROR",
                "odoo.modules.loading",
                "At least one test failed when loading the modules.",
            ),
            final(1, 1, 4, "ERROR"),
        ]
        outcome, output = run(lines, odoo_exit_code=1)
        self.assertEqual(outcome.status, 1)
        self.assertClosing(output, "1 passed, 2 failed, 1 skipped")

    def test_subtests_count_once(self):
        lines = [
            start("TestProbe.test_sub"),
            rec("ERROR", MOD, "FAIL: Subtest TestProbe.test_sub (i=1)"),
            rec("ERROR", MOD, "FAIL: Subtest TestProbe.test_sub (i=2)"),
            final(2, 0, 1, "ERROR"),
        ]
        outcome, output = run(lines, odoo_exit_code=1)
        self.assertClosing(output, "0 passed, 1 failed")

    def test_setupclass_error_and_class_skip(self):
        lines = [
            start("TestA.test_a"),
            rec(
                "ERROR",
                "odoo.tests.suite",
                f"ERROR: setUpClass ({MOD}.TestB)",
            ),
            rec(
                "INFO",
                "odoo.tests.suite",
                f"skipped setUpClass ({MOD}.TestC) : not today",
            ),
            final(0, 1, 1, "ERROR"),
        ]
        outcome, output = run(lines, odoo_exit_code=1)
        self.assertEqual(outcome.status, 1)
        self.assertClosing(output, "1 passed, 1 failed, 1 skipped")

    def test_browser_skipped_no_chrome(self):
        lines = [
            start("TestProbe.test_a"),
            start("TestProbeHttp.test_browser", HTTP),
            rec(
                "INFO",
                HTTP,
                "skipped TestProbeHttp.test_browser : Chrome executable not found",
            ),
            final(0, 0, 2),
        ]
        outcome, output = run(lines)
        self.assertEqual(outcome.status, 1)
        self.assertIn("Browser tests SKIPPED", output)
        self.assertClosing(output, "1 passed, 1 failed")

    def test_browser_skipped_no_websocket(self):
        lines = [
            start("TestProbeHttp.test_browser", HTTP),
            rec(
                "WARNING",
                HTTP + ".TestProbeHttp.test_browser",
                "websocket-client module is not installed",
            ),
            rec(
                "INFO",
                HTTP,
                "skipped TestProbeHttp.test_browser : "
                "websocket-client module is not installed",
            ),
            final(0, 0, 1),
        ]
        outcome, output = run(lines)
        self.assertEqual(outcome.status, 1)
        self.assertClosing(output, "0 passed, 1 failed")

    def test_broken_xml_during_install(self):
        lines = [
            rec("INFO", "odoo.modules.loading", "loading prm_probe/data/x.xml"),
            rec("ERROR", "odoo.modules.registry", "Failed to load registry"),
            rec(
                "CRITICAL",
                "odoo.service.server",
                "Failed to initialize database `prm_test`.",
            ),
            "Traceback (most recent call last):\n",
            "lxml.etree.XMLSyntaxError: Opening and ending tag mismatch\n",
        ]
        outcome, output = run(lines, odoo_exit_code=255)
        self.assertEqual(outcome.status, 1)
        self.assertIn("XMLSyntaxError", output)
        self.assertIn("PROBLEM: no test ran", output)
        self.assertClosing(output, "0 passed, 2 failed")

    def test_no_test_ran(self):
        outcome, output = run([final(0, 0, 0, "WARNING")])
        self.assertEqual(outcome.status, 1)
        self.assertClosing(output, "0 passed, 0 failed")

    def test_error_logged_during_test_fails_it(self):
        lines = [
            start("TestProbe.test_a"),
            rec("ERROR", "odoo.http", "Exception during request handling."),
            start("TestProbe.test_b"),
            final(0, 0, 2),
        ]
        outcome, output = run(lines)
        self.assertEqual(outcome.status, 1)
        self.assertClosing(output, "1 passed, 1 failed")

    def test_error_outside_tests(self):
        lines = [
            rec("ERROR", "odoo.addons.base.models.ir_ui_view", "broken view"),
            start("TestProbe.test_a"),
            rec("INFO", "odoo.modules.loading", "Module prm_probe loaded"),
            final(0, 0, 1),
        ]
        outcome, output = run(lines)
        self.assertEqual(outcome.status, 1)
        self.assertClosing(output, "1 passed, 1 failed")

    def test_demo_data_failure(self):
        lines = [
            rec(
                "WARNING",
                "odoo.modules.loading",
                "Module prm_probe demo data failed to install, installed without "
                "demo data",
            ),
            start("TestProbe.test_a"),
            final(0, 0, 1),
        ]
        outcome, output = run(lines)
        self.assertEqual(outcome.status, 1)
        self.assertClosing(output, "1 passed, 1 failed")

    def test_odoo_exit_code(self):
        outcome, output = run([start("TestProbe.test_a"), final(0, 0, 1)], 1)
        self.assertEqual(outcome.status, 1)
        self.assertIn("PROBLEM: Odoo exited with status 1", output)

    def test_colored_log(self):
        line = rec("INFO", MOD, "Starting TestProbe.test_a ...")
        colored = line.replace(" INFO ", " \x1b[1;32m\x1b[1;49mINFO\x1b[0m ")
        outcome, output = run([colored, final(0, 0, 1)])
        self.assertEqual(outcome.status, 0)
        self.assertClosing(output, "1 passed, 0 failed")


if __name__ == "__main__":
    unittest.main()
