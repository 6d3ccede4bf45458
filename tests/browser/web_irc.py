"""A real web IRC client over `text.ircv3.net` (issue 19): Kiwi IRC's IRC library, npm
`irc-framework`, in its prebuilt browser bundle, run by headless Chromium (Selenium) from a
page on another origin (allowed with `--ws-origin`, as a site serving a web IRC client would
be). It connects to `/ws` with the `text.ircv3.net` subprotocol, negotiates capabilities,
logs in with SASL PLAIN, joins a channel where a line user on `nc` is, and messages go both
ways (channel, action, DM); WHOIS and QUIT work.

Run: tests/browser/web_irc.sh (fetches the npm package, builds the server, runs this).
"""

import functools
import http.server
import os
import shutil
import sys
import tempfile
import threading

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from test_page import WAIT, Line, Server, browser

HERE = os.path.dirname(os.path.abspath(__file__))


def serve(directory):
    """The client's page on an origin of its own (127.0.0.1, another port)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=directory)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def logged(driver, what):
    """Wait for a line of the client's log containing `what`; returns it."""
    def find(d):
        for li in d.find_elements(By.CSS_SELECTOR, "#log li"):
            if what in li.text:
                return li.text
        return None
    try:
        return WebDriverWait(driver, WAIT).until(find)
    except Exception:
        lines = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#log li")]
        console = [e.get("message") for e in driver.get_log("browser")]
        raise AssertionError(f"the client never logged {what!r}; it logged {lines}; "
                             f"the browser's console: {console}")


def main(bundle):
    site = tempfile.mkdtemp(prefix="web-irc-")
    for name in ("index.html", "shim.js", "client.js"):
        shutil.copy(os.path.join(HERE, "web_irc", name), site)
    shutil.copy(bundle, os.path.join(site, "irc-framework.js"))
    httpd = serve(site)
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    server = Server(["--ws-origin", origin])
    driver = None
    passed = 0
    try:
        luke = Line(server.ports[""], use_nc=True)
        luke.expect("Username: ")
        luke.send("login luke jedi")
        luke.expect("Welcome to the greatest")
        luke.send("open-chatroom den public")
        luke.expect("Chatroom den opened")
        luke.send("enter-chatroom den")
        luke.expect("You entered chatroom den")

        driver = browser()
        http_port = server.ports["http"]
        driver.get(f"{origin}/index.html#port={http_port}&nick=hans&password=falcon*solo")
        registered = logged(driver, "registered hans")
        for cap in ("sasl", "server-time", "message-tags"):
            assert cap in registered, f"{cap} negotiated: {registered}"
        passed += 1
        logged(driver, "loggedin hans")  # SASL PLAIN: 900
        luke.expect("hans logged in")
        passed += 1
        logged(driver, "join #den hans")
        logged(driver, "userlist #den hans,luke")
        passed += 1

        luke.send("Hello from the line, Kiwi")
        logged(driver, "privmsg #den luke: Hello from the line, Kiwi time=yes")
        passed += 1
        driver.execute_script("irc.say('#den', 'Hello from irc-framework in a browser')")
        luke.expect("<hans>: Hello from irc-framework in a browser")
        passed += 1
        driver.execute_script("irc.action('#den', 'waves over a WebSocket')")
        luke.expect("hans waves over a WebSocket")
        passed += 1
        luke.send("/message hans psst, only you")
        logged(driver, "privmsg hans luke: psst, only you")
        driver.execute_script("irc.say('luke', 'a DM back')")
        luke.expect("hans: a DM back")
        passed += 1
        driver.execute_script("irc.whois('luke')")
        logged(driver, "whois luke")
        passed += 1
        driver.execute_script("irc.quit('done here')")
        luke.expect("hans logged out")
        logged(driver, "close")
        passed += 1
        print(f"web irc client test: {passed} passed, 0 failed")
    finally:
        if driver:
            driver.quit()
        server.stop()
        httpd.shutdown()
        shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
