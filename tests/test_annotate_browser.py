"""``affwild annotate`` in a real browser: Debian's Chromium driven by Playwright (no browser is
downloaded). Whole sessions as a person does them, with the keyboard and with a gamepad simulated
through the Gamepad API, then the trace on disk is checked; also drafts, going back, skipping ahead,
an unplayable video and the experts' validation page.

Chromium missing: these tests skip, saying how to install it; `.ci/run` installs it and sets
AFFWILD_REQUIRE_BROWSER=1, under which a missing browser fails instead.
"""
import json
import os
import shutil
import threading
import time

import numpy as np
import pytest

from affwild_lib.annotation_tool import BROWSER_FLAGS
from affwild_lib.datasets.affwild import read_raw_traces
from annotate_release import RELEASE_ANNOTATORS, SECONDS, make_release

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("AFFWILD_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    message = ("Chromium not found: install Debian's (apt-get install chromium) to run the "
               "annotation tool's browser tests")
    if os.environ.get("AFFWILD_REQUIRE_BROWSER") == "1":
        raise RuntimeError(message)
    pytest.skip(message, allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")


# A gamepad as the Gamepad API shows one; the test moves its stick through window.__pad.
FAKE_GAMEPAD = """
window.__pad = { axes: [0, 0, 0, 0], pressed: [false] };
const fakePad = () => ({
  id: "Simulated joystick (test)", index: 0, connected: true, mapping: "standard",
  timestamp: performance.now(), axes: window.__pad.axes.slice(),
  buttons: window.__pad.pressed.map((p) => ({ pressed: p, touched: p, value: p ? 1 : 0 })),
});
navigator.getGamepads = () => [fakePad(), null, null, null];
window.addEventListener("load", () => {
  const event = new Event("gamepadconnected");
  event.gamepad = fakePad();
  window.dispatchEvent(event);
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The tool on a free port of 127.0.0.1, serving a miniature release, in this process."""
    from werkzeug.serving import make_server

    from affwild_lib.annotation_tool.server import create_app

    release = make_release(tmp_path_factory.mktemp("data"))
    hosts: set[str] = set()
    app = create_app(release, allowed_hosts=hosts)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    hosts.add(f"127.0.0.1:{httpd.server_port}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{httpd.server_port}/", "release": release,
           "traces": app.config["TRACES_ROOT"]}
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(BROWSER_FLAGS))
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def log_in(page, url, annotator, dimension="valence", device="keyboard"):
    page.goto(url)
    page.check(f"input[name=dimension][value={dimension}]")
    page.check(f"input[name=input][value={device}]")
    page.fill("#annotator", annotator)
    page.click("#start")
    page.wait_for_selector("#lists:not([hidden])")


def open_video(page, video_id):
    page.click(f"#todo li[data-id='{video_id}']")
    page.wait_for_selector("#player:not([hidden])")
    page.wait_for_function("document.getElementById('video').readyState >= 1")


def current_time(page) -> float:
    return page.evaluate("document.getElementById('video').currentTime")


def play_until(page, seconds: float):
    page.wait_for_function(f"document.getElementById('video').currentTime >= {seconds}", timeout=20_000)


def wait_for(predicate, seconds=5.0):
    """Poll ``predicate`` (a file the page's last request writes, say) until it holds."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"{predicate} did not hold in {seconds} s"
        time.sleep(0.05)


def check_trace(times, values, n_min=6):
    """What every saved trace must be: monotone times inside the video, values in [-1, 1]."""
    assert len(times) > n_min
    assert np.all(np.diff(times) >= 0)
    assert times[0] >= 0 and times[0] <= 0.5
    assert times[-1] <= SECONDS + 0.5 and times[-1] >= SECONDS - 0.5
    assert np.all(np.abs(values) <= 1)


def test_keyboard_session_with_pause_going_back_and_save(server, page):
    traces = server["traces"]
    log_in(page, server["url"], "student-1")
    assert page.locator("#todo li[data-id=clip]").count() == 1
    assert page.locator("#done li.empty").count() == 1
    open_video(page, "clip")

    page.keyboard.press("Space")           # play
    play_until(page, 0.4)
    for _ in range(6):
        page.keyboard.press("ArrowUp")     # +0.30 in all
    play_until(page, 1.2)
    page.keyboard.press("Space")           # pause: a half session is a draft, not a trace
    page.wait_for_function("document.getElementById('video').paused")
    paused_at = current_time(page)
    draft = traces / "annotations_drafts" / "valence" / "clip" / "student-1.json"
    wait_for(lambda: draft.is_file() and abs(json.loads(draft.read_text())["times"][-1] - paused_at) < 0.05)
    assert not (traces / "annotations_raw").exists() or not read_raw_traces(traces, "clip", "valence")

    page.keyboard.press("b")               # back 5 s: to the start, the trace after it dropped
    page.wait_for_function("Number(document.getElementById('status').dataset.samples) <= 1")
    assert current_time(page) < 0.1
    page.keyboard.press("Space")
    play_until(page, 0.8)
    for _ in range(4):
        page.keyboard.press("ArrowUp")
    play_until(page, 1.6)
    for _ in range(10):
        page.keyboard.press("ArrowDown")
    page.wait_for_selector("#save:not([disabled])", timeout=20_000)  # played to the end
    page.click("#save")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Saved')")

    found = read_raw_traces(traces, "clip", "valence")
    times, values = found["student-1"]
    check_trace(times, values)
    assert values.max() == pytest.approx(0.2, abs=0.01)   # 4 x 0.05 after going back, not 6
    assert values[-1] == pytest.approx(-0.3, abs=0.01)
    assert not draft.exists()
    page.wait_for_selector("#done li[data-id=clip]", state="attached")   # the lists, reloaded
    assert page.locator("#todo li[data-id=clip]").count() == 0
    assert "student-1" not in read_raw_traces(server["release"], "clip", "valence")  # release untouched


def test_gamepad_session(server, page):
    page.add_init_script(FAKE_GAMEPAD)
    log_in(page, server["url"], "pad-user", dimension="arousal", device="gamepad")
    open_video(page, "clip")
    page.wait_for_function("document.getElementById('pad-state').textContent.startsWith('Using')")
    page.evaluate("window.__pad.pressed[0] = true")    # button A plays
    page.wait_for_function("!document.getElementById('video').paused")
    page.evaluate("window.__pad.pressed[0] = false")
    # The stick swings up and back (a half sine, peak +0.8) for 1.2 s, then rests pushed down.
    page.evaluate("""() => {
        const start = performance.now();
        window.__swing = setInterval(() => {
            const t = (performance.now() - start) / 1000;
            window.__pad.axes[1] = t < 1.2 ? -0.8 * Math.sin(Math.PI * t / 1.2) : 0.5;
        }, 40);
    }""")
    page.wait_for_selector("#save:not([disabled])", timeout=20_000)
    page.evaluate("clearInterval(window.__swing)")
    page.click("#save")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Saved')")

    times, values = read_raw_traces(server["traces"], "clip", "arousal")["pad-user"]
    check_trace(times, values, n_min=10)                  # a sample at each change of the stick
    assert 0.7 <= values.max() <= 0.8
    assert values[-1] == pytest.approx(-0.5, abs=0.01)
    rising = values[: int(np.argmax(values)) + 1]
    assert len(rising) > 5 and np.all(np.diff(rising) >= 0)  # followed the swing up, in order


def test_an_unfinished_session_resumes_and_skipping_ahead_is_refused(server, page):
    log_in(page, server["url"], "student-2")
    open_video(page, "clip")
    page.keyboard.press("Space")
    play_until(page, 0.5)
    page.keyboard.press("ArrowDown")
    play_until(page, 1.0)
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('video').paused")
    page.evaluate("document.getElementById('video').currentTime = 2.8")  # try to skip ahead
    # (at once, while the pause may still be in the event queue: a seek is never taken as watched)
    page.wait_for_function("document.getElementById('player-error').textContent.includes('skip ahead')")
    assert current_time(page) < 1.5
    page.click("#close")                                              # leave it unfinished
    page.wait_for_selector("#todo li[data-id=clip] .meta:has-text('unfinished')")

    page.once("dialog", lambda dialog: dialog.accept())               # resume
    page.click("#todo li[data-id=clip]")
    page.wait_for_function("document.getElementById('video').currentTime > 0.9")
    assert int(page.get_attribute("#status", "data-samples")) >= 2
    assert read_raw_traces(server["traces"], "clip", "valence").get("student-2") is None


def test_a_video_the_browser_cannot_play_says_so(server, page):
    log_in(page, server["url"], "student-3")
    page.click("#todo li[data-id='bad']")
    page.wait_for_function("document.getElementById('player-error').textContent.includes(\"can't play\")")
    text = page.text_content("#player-error")
    assert "bad.avi" in text and "mpeg4" in text and "ffmpeg" in text


def test_release_ids_and_bad_ids_are_refused_at_login(server, page):
    page.goto(server["url"])
    page.fill("#annotator", RELEASE_ANNOTATORS[0])
    page.click("#start")
    page.wait_for_function("document.getElementById('login-error').textContent.includes('annotator of the release')")
    page.fill("#annotator", "../../etc")
    page.click("#start")
    page.wait_for_function("document.getElementById('login-error').textContent.includes('not allowed')")
    assert page.is_hidden("#lists")


def test_validation_page_saves_the_experts_choice(server, page):
    page.goto(server["url"] + "validate")
    page.select_option("#dimension", "valence")
    page.select_option("#video-id", "clip")
    page.wait_for_selector("#legend input[value=A1]")
    names = page.eval_on_selector_all("#legend input", "els => els.map(e => e.value)")
    assert set(RELEASE_ANNOTATORS) <= set(names)
    for box in page.query_selector_all("#legend input"):  # start from nothing ticked
        if box.is_checked():
            box.uncheck()
    page.check("#legend input[value=A1]")
    assert page.is_disabled("#save-selection")  # one is not 2-4
    page.check("#legend input[value=A2]")
    page.fill("#expert", "expert-1")
    page.click("#save-selection")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Saved')")
    saved = json.loads((server["traces"] / "annotations_validation" / "valence" / "clip.json").read_text())
    assert saved["chosen"] == ["A1", "A2"] and saved["expert"] == "expert-1"


def test_redo_drops_the_trace_and_a_finished_unsaved_session_resumes_finished(server, page):
    traces = server["traces"]
    draft = traces / "annotations_drafts" / "valence" / "clip" / "student-4.json"
    log_in(page, server["url"], "student-4")
    open_video(page, "clip")
    page.keyboard.press("Space")
    play_until(page, 0.6)
    page.keyboard.press("ArrowUp")
    play_until(page, 1.0)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#redo")                                   # pauses, drops the draft
    page.wait_for_function("Number(document.getElementById('status').dataset.samples) === 0")
    page.wait_for_timeout(500)                            # any late draft would have landed by now
    assert not draft.exists()

    page.keyboard.press("Space")                          # annotate to the end, then leave unsaved
    page.wait_for_selector("#save:not([disabled])", timeout=20_000)
    page.click("#close")
    page.wait_for_selector("#todo li[data-id=clip] .meta:has-text('unfinished')")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#todo li[data-id=clip]")
    page.wait_for_selector("#save:not([disabled])")       # resumed as finished: Save, not Play
    assert page.is_disabled("#play")
    page.click("#save")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Saved')")
    times, values = read_raw_traces(traces, "clip", "valence")["student-4"]
    check_trace(times, values, n_min=1)
    assert not draft.exists()


def test_a_long_session_saves(server, page):
    """A trace far over the 64 KiB a keepalive request may carry (an hour of joystick at 60 Hz
    is ~200,000 samples): sent whole, checked and written."""
    log_in(page, server["url"], "student-5")
    open_video(page, "clip")
    page.evaluate("""() => {
        const n = 20000;
        S.times = Array.from({length: n}, (_, i) => i * 3.0 / (n - 1));
        S.values = S.times.map((t) => Math.round(Math.sin(7 * t) * 100) / 100);
        S.reached = 3.0; S.dirty = true; finish();
    }""")
    page.click("#save")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Saved')")
    times, values = read_raw_traces(server["traces"], "clip", "valence")["student-5"]
    assert len(times) == 20000
