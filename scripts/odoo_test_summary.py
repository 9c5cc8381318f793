#!/usr/bin/env python3
"""Summarise an Odoo 18 test run from its log; exit non-zero if it is not green.

Usage: odoo_test_summary.py [--odoo-exit-code N] [--summary-file F] LOGFILE

The log is Odoo's default text log (``--log-level=info``), whose records look
like (one line)::

    2026-01-01 10:00:00,000 4242 INFO mydb odoo.addons.mod.tests.test_x:
    Starting TestX.test_a ...

and whose continuation lines (tracebacks) carry no prefix. What is read, with
where Odoo 18 writes it:

* ``<test module logger>: Starting Class.method ...`` (INFO)
  odoo/tests/result.py OdooTestResult.startTest: one per test run (it also
  increments ``testsRun``).
* ``<test module logger>: FAIL: Class.method`` / ``ERROR: Class.method`` (ERROR)
  result.py logError, from addFailure/addError; the description is
  ``Subtest Class.method (params)`` for a failing subTest and
  ``setUpClass (odoo.addons.mod.tests.test_x.Class)`` for a class-level error.
* ``<test module logger>: skipped Class.method : reason`` (INFO) result.py
  addSkip; class-level skips use ``setUpClass (...)`` as description.
* ``odoo.tests.result: X failed, Y error(s) of Z tests when loading database
  'db'`` odoo/service/server.py ThreadedServer.run, once per database at the
  end of a --stop-after-init run (ERROR if not successful, WARNING if no test
  ran, INFO otherwise). It has no skip count; a missing line means Odoo did not
  get to the end (e.g. the registry failed to load: ``odoo.service.server:
  Failed to initialize database`` CRITICAL and exit code 255).
* Test bookkeeping ERROR lines which are not extra problems:
  ``odoo.modules.loading: Module M: N failures, N errors of N tests``,
  ``odoo.modules.loading: At least one test failed when loading the modules.``,
  ``odoo.tests.result: Test suite halted: max failed tests already reached``,
  ``odoo.service.server: <file>: at least one error occurred in a test``.
* Browser tests (HttpCase.browser_js / start_tour) are *skipped*, not failed,
  by odoo/tests/common.py when Chrome cannot be used: ``Chrome executable not
  found`` (no google-chrome/chromium/chromium-browser/google-chrome-stable in
  PATH), ``websocket-client module is not installed`` (also logged as a
  WARNING), ``<exe> not found``, ``Failed to detect chrome devtools port
  after ...``, ``Error during Chrome headless connection``, ``Error during
  Chrome connection: never found 'page' target``, ``Cannot connect to chrome
  dev tools``. Such a skip is counted as a failure here.
* ``odoo.modules.loading: Module M demo data failed to install, installed
  without demo data`` is only a WARNING in Odoo; counted as a failure here.
* Any other ERROR/CRITICAL record: while a test is running it fails that test
  (Odoo's own test retry treats an error log as a failure too: BaseCase.run,
  had_error_log); outside tests (e.g. a broken XML file during install) each
  record counts as one failure.

Closing line, alone on the last line of output::

    N passed, N failed[, N skipped]

Exit status is 1 when anything failed, when no test ran, when Odoo's final
count line is missing or when Odoo's own exit code was non-zero.
"""

import argparse
import re
import sys
from dataclasses import dataclass, field

ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
RECORD_RE = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) (?P<pid>\d+) "
    r"(?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>[^\s:]+): ?(?P<msg>.*)$"
)
START_RE = re.compile(r"^Starting (?P<desc>.+) \.\.\.$")
FAIL_RE = re.compile(r"^(?P<kind>FAIL|ERROR): (?P<desc>.+)$")
SKIP_RE = re.compile(r"^skipped (?P<desc>.+?) : (?P<reason>.*)$")
FINAL_RE = re.compile(
    r"^(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<run>\d+) tests "
    r"when loading database"
)
DEMO_FAILED_RE = re.compile(r"^Module (?P<module>\S+) demo data failed to install")
WEBSOCKET_MISSING = "websocket-client module is not installed"
BROWSER_SKIP_RE = re.compile(
    r"Chrome executable not found"
    r"|websocket-client module is not installed"
    r"|Failed to detect chrome devtools port"
    r"|Error during Chrome"
    r"|Cannot connect to chrome dev tools"
    r"|chrom\S* not found"  # '<executable path> not found' (OSError on spawn)
    r"|google-chrome\S* not found",
    re.IGNORECASE,
)
# ERROR records that only report test results already counted from the
# FAIL/ERROR records themselves.
BOOKKEEPING = [
    ("odoo.modules.loading", re.compile(r"^Module \S+: \d+ failures, \d+ errors")),
    ("odoo.modules.loading", re.compile(r"^At least one test failed when loading")),
    ("odoo.tests.result", FINAL_RE),
    ("odoo.tests.result", re.compile(r"^Test suite halted: max failed tests")),
    ("odoo.service.server", re.compile(r"at least one error occurred in a test$")),
]
# Records from these loggers mean no test is running any more.
TEST_WINDOW_CLOSERS = (
    "odoo.modules.loading",
    "odoo.modules.registry",
    "odoo.service.server",
    "odoo.tests.result",
    "odoo.tests.stats",
)


@dataclass
class Record:
    level: str
    logger: str
    msg: str
    lineno: int


@dataclass
class Summary:
    """What was read from the log."""

    started: dict = field(default_factory=dict)  # (logger, desc) -> lineno
    failed: dict = field(default_factory=dict)  # key -> list of reasons
    skipped: dict = field(default_factory=dict)  # key -> reason
    class_failures: list = field(default_factory=list)  # descriptions
    class_skips: list = field(default_factory=list)  # (desc, reason)
    outside_errors: list = field(default_factory=list)  # one line each
    demo_failures: list = field(default_factory=list)  # module names
    final_lines: list = field(default_factory=list)  # (failed, errors, run)
    websocket_warnings: list = field(default_factory=list)


def iter_records(lines):
    """Yield Records; continuation lines are appended to the previous msg."""
    current = None
    for lineno, raw in enumerate(lines, 1):
        line = ANSI_RE.sub("", raw.rstrip("\n"))
        match = RECORD_RE.match(line)
        if match:
            if current:
                yield current
            current = Record(
                match["level"], match["logger"], match["msg"].rstrip(), lineno
            )
        elif current:
            current.msg += "\n" + line
    if current:
        yield current


def _first_line(text):
    return text.split("\n", 1)[0]


def _last_line(text):
    lines = [line for line in text.split("\n") if line.strip()]
    return lines[-1].strip() if lines else ""


def _is_bookkeeping(record, first):
    return any(
        record.logger == logger and regex.search(first) for logger, regex in BOOKKEEPING
    )


def _on_skip(s, rec, match):
    key = (rec.logger, match["desc"])
    if key in s.started:
        s.skipped[key] = match["reason"]
    else:
        s.class_skips.append((match["desc"], match["reason"]))


def _on_error(s, rec, first, current):
    match = FAIL_RE.match(first)
    if match:
        desc = match["desc"]
        parent = desc
        if desc.startswith("Subtest "):
            parent = desc[len("Subtest ") :].split(" ", 1)[0]
        key = (rec.logger, parent)
        if key in s.started:
            s.failed.setdefault(key, []).append(f"{match['kind']}: {desc}")
        else:
            s.class_failures.append(f"{match['kind']}: {desc}")
        return
    if _is_bookkeeping(rec, first):
        return
    text = f"{rec.level} {rec.logger}: {first}"
    last = _last_line(rec.msg)
    if last != first:
        text += f" | {last}"
    if current:
        s.failed.setdefault(current, []).append(f"logged {text}")
    else:
        s.outside_errors.append(f"line {rec.lineno}: {text}")


def parse(lines):
    s = Summary()
    current = None  # key of the running test, if any
    for rec in iter_records(lines):
        first = _first_line(rec.msg)
        if rec.logger.startswith(TEST_WINDOW_CLOSERS):
            current = None
        if rec.logger == "odoo.tests.result" and (m := FINAL_RE.match(first)):
            s.final_lines.append((int(m["failed"]), int(m["errors"]), int(m["run"])))
        if rec.level == "INFO" and (m := START_RE.match(first)):
            if ".tests" in rec.logger:
                current = (rec.logger, m["desc"])
                s.started.setdefault(current, rec.lineno)
        elif rec.level == "INFO" and (m := SKIP_RE.match(first)):
            _on_skip(s, rec, m)
        elif rec.level in ("ERROR", "CRITICAL"):
            _on_error(s, rec, first, current)
        elif rec.level == "WARNING" and (m := DEMO_FAILED_RE.match(first)):
            s.demo_failures.append(m["module"])
        elif rec.level == "WARNING" and WEBSOCKET_MISSING in first:
            s.websocket_warnings.append(f"{rec.logger}: {first}")
    return s


def _name(key):
    logger, desc = key
    return f"{logger.removeprefix('odoo.addons.')} {desc}"


def _is_browser(reason):
    return bool(BROWSER_SKIP_RE.search(reason))


@dataclass
class Outcome:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    sections: list = field(default_factory=list)  # (title, [lines])
    problems: list = field(default_factory=list)  # make it fail, not counted
    notes: list = field(default_factory=list)

    def add(self, title, items, count_as=None):
        items = list(items)
        if not items:
            return
        self.sections.append((title, items))
        if count_as == "failed":
            self.failed += len(items)
        elif count_as == "skipped":
            self.skipped += len(items)

    @property
    def status(self):
        return 1 if (self.failed or self.problems) else 0

    @property
    def closing(self):
        line = f"{self.passed} passed, {self.failed} failed"
        return line + (f", {self.skipped} skipped" if self.skipped else "")


def evaluate(s, odoo_exit_code=None):
    """Turn what was read into counts, listed details and problems."""
    out = Outcome()
    order = s.started.get
    failing = sorted(s.failed, key=order)
    skipped = {k: r for k, r in s.skipped.items() if k not in s.failed}
    out.passed = len(set(s.started) - set(s.failed) - set(skipped))

    out.add(
        "Failed tests:",
        (f"{_name(k)}: {'; '.join(s.failed[k])}" for k in failing),
        "failed",
    )
    out.add(
        "Failures outside a test method (setUpClass, tearDownClass, ...):",
        s.class_failures,
        "failed",
    )
    browser = [(_name(k), r) for k, r in skipped.items() if _is_browser(r)]
    browser += [(d, r) for d, r in s.class_skips if _is_browser(r)]
    out.add(
        "Browser tests SKIPPED, counted as failed (Chromium/websocket-client):",
        (f"{d}: {r}" for d, r in browser),
        "failed",
    )
    out.add(
        "ERROR/CRITICAL records outside tests, each counted as failed:",
        s.outside_errors,
        "failed",
    )
    out.add(
        "Demo data failed to install, counted as failed:", s.demo_failures, "failed"
    )
    plain = [(_name(k), r) for k, r in skipped.items() if not _is_browser(r)]
    plain += [(d, r) for d, r in s.class_skips if not _is_browser(r)]
    out.add("Skipped tests:", (f"{d}: {r}" for d, r in plain), "skipped")

    if s.websocket_warnings and not browser:
        out.problems.extend(s.websocket_warnings)
    final_failed = sum(f + e for f, e, _ in s.final_lines)
    final_run = sum(r for _, _, r in s.final_lines)
    if not s.final_lines:
        out.problems.append(
            "Odoo never logged its closing 'N failed, N error(s) of N tests when "
            "loading database' line: it did not finish loading the database"
        )
    elif final_run != len(s.started):
        out.notes.append(
            f"Odoo counted {final_run} tests run; {len(s.started)} 'Starting' "
            "records found in the log"
        )
    if final_failed and not (s.failed or s.class_failures):
        out.problems.append(
            f"Odoo counted {final_failed} failure(s)/error(s) not found in the log"
        )
        out.failed += final_failed
    if odoo_exit_code and not out.failed and not out.problems:
        out.problems.append(f"Odoo exited with status {odoo_exit_code}")
    if not s.started:
        out.problems.append("no test ran")
    return out


def render(out, stream=sys.stdout):
    for title, items in out.sections:
        print(title, file=stream)
        for item in items:
            print(f"  {item}", file=stream)
    for note in out.notes:
        print(f"note: {note}", file=stream)
    for problem in out.problems:
        print(f"PROBLEM: {problem}", file=stream)
    print(out.closing, file=stream)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("logfile")
    parser.add_argument(
        "--odoo-exit-code",
        type=int,
        default=None,
        help="exit status of the Odoo process; non-zero makes the run fail",
    )
    parser.add_argument(
        "--summary-file",
        help="also write the closing line to this file",
    )
    args = parser.parse_args(argv)
    with open(args.logfile, encoding="utf-8", errors="replace") as f:
        summary = parse(f)
    outcome = evaluate(summary, args.odoo_exit_code)
    render(outcome)
    if args.summary_file:
        with open(args.summary_file, "w", encoding="utf-8") as f:
            f.write(outcome.closing + "\n")
    return outcome.status


if __name__ == "__main__":
    sys.exit(main())
