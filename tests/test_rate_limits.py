"""Rate limits hold what they say whatever the number of web processes (issue 14): counters shared
through the configured store (a SQLite file by default), each hit taken in one atomic step."""
import re
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest

from bench.intake_stack import IntakeStack, post
from webapp.ratelimit_store import SQLiteStorage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """Gunicorn with four processes sharing one counter file, as the embedded default does."""
    stack = IntakeStack().prepare()
    stack.add_source("site", mode="triage", rate_limit="20 per minute")
    store = tmp_path_factory.mktemp("limits") / "ratelimit.db"
    server = stack.gunicorn(workers=4, env={"RELANCE_RATELIMIT_STORAGE_URL": f"sqlite:///{store}",
                                             "RELANCE_LOGIN_RATE_LIMIT": "10 per 5 minutes"}).start()
    stack.url = server.url
    try:
        yield stack
    finally:
        server.stop()
        stack.cleanup()


def _burst(count, send):
    barrier = threading.Barrier(count)

    def one(n):
        barrier.wait()
        return send(n)
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


class Browser:
    """A person at the login page: her own cookies, the form's CSRF token, then a post."""

    def __init__(self, url):
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()),
                                                  urllib.request.ProxyHandler({}))
        page = self.opener.open(f"{url}/login", timeout=30).read().decode()
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def sign_in(self, email, password) -> int:
        body = urlencode({"email": email, "password": password, "csrf_token": self.token}).encode()
        try:
            return self.opener.open(urllib.request.Request(f"{self.url}/login", data=body), timeout=60).status
        except urllib.error.HTTPError as error:
            return error.code


def test_ten_failed_logins_per_address_whatever_the_processes(live):
    people = [Browser(live.url) for _ in range(30)]
    statuses = _burst(30, lambda n: people[n].sign_in("secretaire@intake.test", "wrong-password-1"))
    assert statuses.count(401) == 10 and statuses.count(429) == 20, statuses
    assert Browser(live.url).sign_in("secretaire@intake.test", "intake-pass-42") == 429


def test_twenty_posts_per_minute_per_source_and_address_whatever_the_processes(live):
    statuses = _burst(35, lambda n: post(f"{live.url}/intake/site",
                                         urlencode({"tel": f"77 000 10 {n:02d}"}).encode(),
                                         "application/x-www-form-urlencoded", {"Accept": "application/json"})[0])
    assert statuses.count(202) == 20 and statuses.count(429) == 15, statuses
    assert live.sql("SELECT count(*) FROM inbound_request") == [(20,)]


def test_a_right_password_gives_its_attempt_back(tmp_path):
    """Counted before the check, returned after a good one: nine typos and a success leave room."""
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'limits.db'}")
    for _ in range(10):
        assert storage.acquire_entry("login/1.2.3.4", 10, 300)
    assert not storage.acquire_entry("login/1.2.3.4", 10, 300)
    storage.release_entry("login/1.2.3.4")
    assert storage.acquire_entry("login/1.2.3.4", 10, 300)
    assert storage.get_moving_window("login/1.2.3.4", 10, 300)[1] == 10
