"""Take a screenshot of a portal page in headless Chromium.

Usage: python3 scripts/portal_screenshot.py URL LOGIN PASSWORD OUTPUT.png

Logs in through Odoo's login form at the same host, opens URL and saves a
PNG of the whole page. Chromium is driven over its DevTools protocol with
the websocket-client package that Odoo's browser tests already need.
"""

import base64
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from urllib.parse import urlsplit

import websocket

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True
        )
        return result.get("result", {}).get("value")

    def goto(self, url, wait_for="document.readyState === 'complete'"):
        self.call("Page.navigate", url=url)
        self.wait(wait_for)

    def wait(self, expression, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.3)
        raise TimeoutError(expression)


def main(url, login, password, output, width=1200):
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    port = 9333
    with tempfile.TemporaryDirectory() as profile:
        browser = subprocess.Popen(
            [
                "chromium",
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--remote-debugging-port={port}",
                f"--window-size={width},900",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            ws_url = wait_for_page_target(port)
            page = Page(ws_url)
            page.call("Page.enable")
            page.goto(f"{base}/web/login")
            page.evaluate(
                "document.querySelector('input[name=login]').value = "
                f"{json.dumps(login)};"
                f"document.querySelector('input[name=password]').value = "
                f"{json.dumps(password)};"
                "document.querySelector('form.oe_login_form').submit();"
            )
            page.wait("!location.pathname.startsWith('/web/login')")
            page.goto(url)
            page.wait("document.readyState === 'complete'")
            time.sleep(1.5)
            height = page.evaluate("document.documentElement.scrollHeight") or 900
            page.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=int(height),
                deviceScaleFactor=1,
                mobile=False,
            )
            shot = page.call("Page.captureScreenshot", format="png")
            with open(output, "wb") as file:
                file.write(base64.b64decode(shot["data"]))
        finally:
            browser.terminate()
            browser.wait(10)


def wait_for_page_target(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as response:
                targets = json.load(response)
            for target in targets:
                if target.get("type") == "page":
                    return target["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError("Chromium did not open its DevTools port")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
