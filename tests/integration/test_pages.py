"""Download pages in a real browser (Debian's chromium headless through selenium), through the
nginx website front over the moto bucket, and without JavaScript (HTTP + html.parser)."""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from servers import REPO, run_alba
from workloads import nix_images

ARTIFACTS = REPO / "test-artifacts"  # screenshots of every page, kept by the test run (git-ignored)
LINUX_X64 = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
MAC_ARM = "Mozilla/5.0 (Macintosh; ARM Mac OS X 14_0; arm64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"


def page_errors(driver) -> list[dict]:
    """What the page itself logged as errors. Chromium asks the server for /favicon.ico on
    its own, sometimes, and logs the 404: that request is not the page's."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "/favicon.ico " not in e["message"]]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for binary in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        assert Path(binary).exists(), f"{binary} is missing: .ci/setup installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1100,1000",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def open_page(driver, url: str, user_agent: str = LINUX_X64, dark: bool = False, width: int = 1100):
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": user_agent})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
    driver.set_window_size(width, 1000)
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    return driver


def shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    total = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(driver.get_window_size()["width"], min(max(total + 40, 600), 2400))
    assert driver.save_screenshot(str(path))
    return path


def tree(root: Path, files: dict[str, bytes] | None = None) -> Path:
    files = files or {f"{os}/{arch}/tool{'.exe' if os == 'windows' else ''}": f"{os} {arch}\n".encode() * 30
                      for os, arch in (("linux", "amd64"), ("linux", "arm64"), ("darwin", "arm64"), ("windows", "amd64"))}
    for rel, data in files.items():
        (root / "df" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "df" / rel).write_bytes(data)
    return root / "df"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links, self.scripts, self.h2 = [], 0, []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.links.append(dict(attrs)["href"])
        self.scripts += tag == "script"
        self._in_h2 = self._in_h2 or tag == "h2"
        if tag == "h2":
            self.h2.append("")

    def handle_endtag(self, tag):
        self._in_h2 = self._in_h2 and tag != "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.h2[-1] += data


def parse(url: str) -> Links:
    parser = Links()
    parser.feed(urllib.request.urlopen(url, timeout=10).read().decode())
    return parser


def check_links(page_url: str, hrefs: list[str], moto, bucket: str) -> int:
    """Every link answers 200 through nginx with the object's own Content-Type."""
    client = moto.client()
    for href in hrefs:
        url = urllib.parse.urljoin(page_url, href).split("#")[0]
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url
            key = urllib.parse.unquote(urllib.parse.urlsplit(url).path.lstrip("/"))
            key = key + "index.html" if key.endswith("/") else key
            expected = client.head_object(Bucket=bucket, Key=key)["ContentType"]
            assert response.headers["Content-Type"] == expected, (url, expected)
    return len(hrefs)


def test_download_pages_in_a_browser(moto, bucket, website, tmp_path, browser):
    name, url = bucket
    src = tree(tmp_path)
    for tag in ("1.0", "1.1", "2.0"):
        r = run_alba("static", "push", "-t", f"tool:{tag}", src, url)
        assert r.returncode == 0, r.stderr
    assert run_alba("container", "push", "-t", "tool:2.0", nix_images(tmp_path / "docker"), url).returncode == 0
    assert run_alba("static", "page", "-t", "tool", url).returncode == 0  # images are in the bucket now
    page = f"http://{website}/df-dist-v1/tool/"

    driver = open_page(browser, page)
    assert page_errors(driver) == []
    from selenium.webdriver.common.by import By

    headings = [h.text.replace(" (latest)", "") for h in driver.find_elements(By.CSS_SELECTOR, "section h2[id^=tag-]")]
    assert headings == json.loads(moto.client().get_object(Bucket=name, Key="df-dist-v1/tool")["Body"].read())["tags"]
    assert headings == ["2.0", "1.1", "1.0"]
    yours = driver.find_elements(By.CSS_SELECTOR, "tr.yours")
    assert yours and {r.get_attribute("data-os") + "/" + r.get_attribute("data-arch") for r in yours} == {"linux/amd64"}
    assert "docker pull tool:2.0" in driver.page_source and driver.find_elements(By.CSS_SELECTOR, "button.copy")
    hrefs = [a.get_attribute("href") for a in driver.find_elements(By.TAG_NAME, "a")]
    assert check_links(page, hrefs, moto, name) >= 3 * 4 + 1
    shot(driver, "name-page-light")

    driver = open_page(browser, page, MAC_ARM, dark=True)
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.yours")
    assert {r.get_attribute("data-os") + "/" + r.get_attribute("data-arch") for r in rows} == {"darwin/arm64"}
    assert driver.execute_script("return getComputedStyle(document.body).backgroundColor") != "rgb(255, 255, 255)"
    shot(driver, "name-page-dark")

    driver = open_page(browser, page, WINDOWS, width=360)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 360  # nothing wider than a phone
    assert {r.get_attribute("data-os") for r in driver.find_elements(By.CSS_SELECTOR, "tr.yours")} == {"windows"}
    from selenium.webdriver.common.keys import Keys

    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.tag_name in ("a", "button")  # keyboard reachable
    shot(driver, "name-page-360px")

    index = f"http://{website}/df-dist-v1/"
    driver = open_page(browser, index)
    assert page_errors(driver) == []
    assert "tool" in driver.find_element(By.TAG_NAME, "table").text and "2.0" in driver.page_source
    check_links(index, [a.get_attribute("href") for a in driver.find_elements(By.TAG_NAME, "a")], moto, name)
    shot(driver, "index-page")

    # Without JavaScript: the same links are in the HTML itself.
    assert {urllib.parse.urljoin(page, h) for h in parse(page).links} == set(hrefs)
    v2 = urllib.request.urlopen(f"http://{website}/v2/", timeout=10)
    assert v2.status == 200  # registry clients still get their 200


def test_pages_follow_rm_gc_and_races(moto, bucket, website, garage_like, tmp_path):
    from servers import s3_url

    name, url = bucket
    src = tree(tmp_path)
    for tag in ("a1", "a2", "a3"):
        assert run_alba("static", "push", "-t", f"tool:{tag}", src, url).returncode == 0
    page = f"http://{website}/df-dist-v1/tool/"
    assert parse(page).h2 == ["a3 (latest)", "a2", "a1"]
    assert run_alba("static", "rm", "-t", "tool:a2", url).returncode == 0
    assert parse(page).h2 == ["a3 (latest)", "a1"]
    assert run_alba("static", "gc", "-t", "tool", "--keep", "1", url).returncode == 0
    assert parse(page).h2 == ["a3 (latest)"]

    proxied = s3_url(name, garage_like.port)
    results: list = [None] * 4
    barrier = threading.Barrier(4)

    def one(i: int) -> None:
        barrier.wait()
        results[i] = run_alba("static", "push", "-t", f"tool:r{i}", src, proxied)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    listed = json.loads(moto.client().get_object(Bucket=name, Key="df-dist-v1/tool")["Body"].read())["tags"]
    assert sorted(listed) == ["a3", "r0", "r1", "r2", "r3"]
    assert [h.replace(" (latest)", "") for h in parse(page).h2] == listed


def test_names_and_file_names_are_escaped(moto, bucket, website, tmp_path):
    name, url = bucket
    evil = ['a<b>"c"&d e é.txt', "<script>alert(1)</script>.txt", "x' onmouseover='alert(2).txt"]
    src = tree(tmp_path, {f"linux/amd64/{f}": b"x" for f in evil})
    r = run_alba("static", "push", "-t", "tool:1", src, url)
    assert r.returncode == 0, r.stderr
    page = f"http://{website}/df-dist-v1/tool/"
    parsed = parse(page)
    assert parsed.scripts == 1  # only the page's own script
    html = urllib.request.urlopen(page, timeout=10).read().decode()
    assert "<script>alert" not in html and "onmouseover='" not in html
    assert "a&lt;b&gt;&quot;c&quot;&amp;d e é.txt" in html
    files = [h for h in parsed.links if ".txt" in h]
    assert len(files) == 3
    check_links(page, files, moto, name)
    for f, href in zip(sorted(evil), sorted(files, key=urllib.parse.unquote)):
        assert urllib.parse.unquote(href).endswith(f)


def test_no_page_and_reserved_name(moto, bucket, tmp_path):
    name, url = bucket
    src = tree(tmp_path)
    assert run_alba("static", "push", "-t", "tool:1", "--no-page", src, url).returncode == 0
    keys = [o["Key"] for o in moto.client().list_objects_v2(Bucket=name).get("Contents", [])]
    assert not [k for k in keys if k.endswith("index.html")]
    r = run_alba("static", "push", "-t", "tool:index.html", src, url)
    assert r.returncode == 2 and "download page" in r.stderr


def test_readme_screenshot_is_one_the_tests_take():
    """The README shows a screenshot; the browser test above makes the same one each run."""
    readme = (REPO / "README.md").read_text()
    assert "docs/screenshots/name-page-light.png" in readme
    assert (REPO / "docs/screenshots/name-page-light.png").stat().st_size > 10_000
