"""The embedded page in a real browser (issue 19): headless Chromium driven by Selenium.

Two browser users (yoda logs in, leia registers with the keyboard alone), a line user on `nc`
(luke) and an IRC user (hans) meet in one room; DMs go both ways between the page and nc; an
offline message waits for leia's next login; the XSS line shows as text; the server restarts
and the page reconnects and logs in again by itself. Saves docs/browser.png (README shows it)
and docs/browser-phone.png (360 px wide).

Run: tests/browser/run.sh (builds the server, makes a venv with selenium, runs this).
"""

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.environ.get("CHATSERVER", os.path.join(ROOT, "target", "release", "chatserver"))
SAMPLE = "yoda wise\nhans falcon*solo\nluke jedi\n"
WAIT = 15


class Server:
    """chatserver in a directory of its own; ports fixed after the first start so the page
    reconnects to the same address after a restart."""

    def __init__(self, extra=()):
        self.extra = list(extra)
        self.dir = tempfile.mkdtemp(prefix="chatserver-browser-")
        with open(os.path.join(self.dir, "credentials.txt"), "w") as f:
            f.write(SAMPLE)
        self.ports = {"": 0, "http": 0, "irc": 0}
        self.proc = None
        self.start()

    def start(self):
        args = [SERVER, "--bind", "127.0.0.1", "--no-admin-socket", "--hash-cost", "1000",
                "--http-port", str(self.ports["http"]), "--irc-port", str(self.ports["irc"]),
                *self.extra, str(self.ports[""])]
        log = open(os.path.join(self.dir, "server.log"), "a")
        self.proc = subprocess.Popen(args, cwd=self.dir, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=log, text=True)
        for _ in range(3):
            line = self.proc.stdout.readline().strip()
            name, addr = line[len("chatserver "):].split("listening on ")
            self.ports[name.strip()] = int(addr.rsplit(":", 1)[1])

    def restart(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)
        time.sleep(1.5)  # the page notices, waits, retries
        self.start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Line:
    """A client speaking lines: `nc` for the line user, a socket for IRC."""

    def __init__(self, port, use_nc):
        self.lines = queue.Queue()
        if use_nc:
            self.proc = subprocess.Popen(["nc", "127.0.0.1", str(port)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, bufsize=1)
            self.write = lambda s: (self.proc.stdin.write(s), self.proc.stdin.flush())
            reader = self.proc.stdout
        else:
            self.sock = socket.create_connection(("127.0.0.1", port))
            self.write = lambda s: self.sock.sendall(s.encode())
            reader = self.sock.makefile("r", encoding="utf-8", newline="\n")
        threading.Thread(target=self.pump, args=(reader,), daemon=True).start()

    def pump(self, reader):
        buf = ""
        while True:
            ch = reader.read(1)
            if not ch:
                return
            buf += ch
            if ch == "\n" or buf in ("Username: ", "Password: "):
                self.lines.put(buf.rstrip("\r\n"))
                buf = ""

    def send(self, line):
        self.write(line + "\n")

    def expect(self, text):
        deadline = time.time() + WAIT
        seen = []
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"never saw {text!r}; saw {seen}")


def browser(width=1100, height=720, phone=False):
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    if phone:
        # A phone's screen: headless windows are never narrower than 500 px otherwise.
        metrics = {"width": width, "height": height, "pixelRatio": 2.0}
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)


def wait_for(driver, what, check):
    try:
        # The page re-renders its lists as events arrive (several may come in one write): an
        # element found a moment ago may be gone when its text is read; look again.
        return WebDriverWait(driver, WAIT, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: check(d))
    except Exception:
        texts = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#messages li")]
        status = driver.find_element(By.ID, "status").text
        raise AssertionError(f"{what}: status {status!r}, messages {texts[-8:]}")


def shows(driver, text):
    return wait_for(driver, f"a message with {text!r}",
                    lambda d: any(text in e.text for e in d.find_elements(By.CSS_SELECTOR, "#messages li")))


def login(driver, port, user, password):
    driver.get(f"http://127.0.0.1:{port}/")
    wait_for(driver, "connected", lambda d: d.find_element(By.ID, "status").text == "connected")
    driver.find_element(By.ID, "login-user").send_keys(user)
    driver.find_element(By.ID, "login-password").send_keys(password + Keys.ENTER)
    wait_for(driver, "logged in", lambda d: d.find_element(By.ID, "me").text == user)


def open_conversation(driver, label):
    def find(d):
        for b in d.find_elements(By.CSS_SELECTOR, "#conversations button"):
            if b.text == label:
                return b
        return None
    wait_for(driver, f"conversation {label}", find).click()


def join_room(driver, room):
    field = driver.find_element(By.ID, "room-name")
    field.send_keys(room + Keys.ENTER)
    wait_for(driver, f"in #{room}", lambda d: d.find_element(By.ID, "title").text == f"#{room}")


def say(driver, text):
    driver.find_element(By.ID, "text").send_keys(text + Keys.ENTER)


def main():
    server = Server()
    http = server.ports["http"]
    yoda = leia = None
    try:
        yoda = browser()
        leia = browser(360, 740, phone=True)
        login(yoda, http, "yoda", "wise")

        # leia registers with the keyboard alone: name, Tab, password, Tab, Space ticks
        # "New user", Enter submits.
        leia.get(f"http://127.0.0.1:{http}/")
        wait_for(leia, "connected", lambda d: d.find_element(By.ID, "status").text == "connected")
        active = leia.switch_to.active_element
        assert active.get_attribute("id") == "login-user", "the name field has the focus"
        active.send_keys("leia")
        leia.switch_to.active_element.send_keys(Keys.TAB + "alderaan")
        leia.switch_to.active_element.send_keys(Keys.TAB + Keys.SPACE)
        leia.switch_to.active_element.send_keys(Keys.ENTER)
        wait_for(leia, "leia registered", lambda d: d.find_element(By.ID, "me").text == "leia")
        with open(os.path.join(server.dir, "credentials.txt")) as f:
            assert any(l.startswith("leia ") for l in f), "the new account is stored"

        luke = Line(server.ports[""], use_nc=True)
        luke.expect("Username: ")
        luke.send("login luke jedi")
        luke.expect("Welcome to the greatest")
        luke.send("open-chatroom den public")
        luke.expect("Chatroom den opened")
        luke.send("enter-chatroom den")
        luke.expect("You entered chatroom den")

        hans = Line(server.ports["irc"], use_nc=False)
        hans.send("PASS falcon*solo")
        hans.send("NICK hans")
        hans.send("USER hans 0 * :Han Solo")
        hans.expect(" 001 hans ")
        hans.send("JOIN #den")
        hans.expect("JOIN #den")

        join_room(yoda, "den")
        # Said before leia is in the room: her page loads it when the room opens (replay_latest).
        luke.send("Said before leia came")
        shows(yoda, "Said before leia came")
        leia.find_element(By.ID, "menu-toggle").click()
        join_room(leia, "den")
        shows(leia, "Said before leia came")

        luke.send("Welcome to den, everyone")
        shows(yoda, "Welcome to den, everyone")
        shows(leia, "Welcome to den, everyone")
        hans.expect("PRIVMSG #den :Welcome to den, everyone")
        hans.send("PRIVMSG #den :Hans here, over IRC")
        shows(yoda, "Hans here, over IRC")
        luke.expect("<hans>: Hans here, over IRC")
        say(leia, "Leia from a phone browser")
        shows(yoda, "Leia from a phone browser")
        luke.expect("<leia>: Leia from a phone browser")
        hans.expect("PRIVMSG #den :Leia from a phone browser")

        # The XSS line is text: no element made from it, no script run.
        luke.send("<img src=x onerror=alert(1)>")
        shows(yoda, "<img src=x onerror=alert(1)>")
        assert not yoda.find_elements(By.CSS_SELECTOR, "#messages img"), "no img element"
        try:
            yoda.switch_to.alert
            raise AssertionError("an alert ran")
        except NoAlertPresentException:
            pass
        say(yoda, "Do or do not. There is no try.")
        shows(leia, "Do or do not. There is no try.")

        # DMs both ways between the page and nc.
        luke.send("/message yoda psst, only you")
        wait_for(yoda, "a DM conversation with luke",
                 lambda d: any(b.text == "luke" for b in d.find_elements(By.CSS_SELECTOR, "#conversations button")))
        badge = yoda.find_elements(By.CSS_SELECTOR, "#conversations .badge")
        assert badge and badge[0].text == "1", "an unread count"
        yoda.save_screenshot(os.path.join(ROOT, "docs", "browser.png"))
        open_conversation(yoda, "luke")
        shows(yoda, "psst, only you")
        say(yoda, "Seen. Patience, young one.")
        luke.expect("yoda: Seen. Patience, young one.")

        # An offline message, shown after the next login.
        leia.find_element(By.ID, "logout").click()
        luke.expect("leia logged out")
        luke.send("/message leia Help me, you are my only hope")
        login(leia, http, "leia", "alderaan")
        leia.find_element(By.ID, "menu-toggle").click()
        open_conversation(leia, "luke")
        shows(leia, "Help me, you are my only hope")
        leia.save_screenshot(os.path.join(ROOT, "docs", "browser-phone.png"))

        # The server restarts; the page reconnects and logs in again by itself.
        server.restart()
        shows(yoda, "Connection to the server lost; reconnecting")
        wait_for(yoda, "the page reconnected", lambda d: d.find_element(By.ID, "status").text == "connected")
        luke2 = Line(server.ports[""], use_nc=True)
        luke2.expect("Username: ")
        luke2.send("login luke jedi")
        luke2.expect("Welcome to the greatest")
        deadline = time.time() + WAIT
        while True:  # yoda's page logs in again by itself
            luke2.send("whoelse")
            try:
                luke2.expect("yoda")
                break
            except AssertionError:
                assert time.time() < deadline, "yoda never came back"
        luke2.send("message yoda back after the restart")
        open_conversation(yoda, "luke")
        shows(yoda, "back after the restart")
        print("browser test: 10 passed, 0 failed")
    finally:
        for d in (yoda, leia):
            if d:
                d.quit()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
