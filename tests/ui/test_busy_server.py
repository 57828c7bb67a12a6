"""One link must not freeze everyone: while a session opens the heaviest link a session may open
(2·10⁵ synthetic points, the most a session holds, K = 8, and the most half steps its budget replays), another session's clicks
are answered within a second (the issue's bound; before, a click waited 14.7 s).

This is a property of the server asked for by the issue, so it is measured: the canary's worst
wait from a click to its new state on the page, over all its clicks while the link opens."""
import re
import time

from .conftest import PageWatch

HEAVIEST = "?model=gmm1d&data=synthetic&n=200000&K=8&steps=EM50"     # replay_limit(2·10⁵) = 100 half steps


def test_a_heavy_link_does_not_hold_up_another_session(app_url, browser):
    canary = browser.new_page()
    PageWatch(canary)
    canary.goto(f"{app_url}?model=linkage")
    canary.get_by_role("button", name="E step", exact=True).wait_for(timeout=60_000)
    heavy = browser.new_page()
    heavy_watch = PageWatch(heavy)
    heavy.goto(f"{app_url}{HEAVIEST}")
    heavy.get_by_text(re.compile("Opening the link")).first.wait_for(timeout=60_000)   # the page is there
    waits, state, deadline = [], 0, time.monotonic() + 180
    button = canary.get_by_role("button", name="E step", exact=True)
    while time.monotonic() < deadline:
        done = heavy.get_by_text(re.compile(r"State 100 of 100")).count() > 0
        started = time.monotonic()
        button.click()
        state += 1
        canary.get_by_text(re.compile(rf"State {state} of {state}\b")).first.wait_for(timeout=60_000)
        waits.append(time.monotonic() - started)
        if done:
            break
        canary.wait_for_timeout(200)
    assert heavy.get_by_text(re.compile(r"State 100 of 100")).count() > 0, "the heavy link did not open in 3 minutes"
    assert len(waits) >= 5
    assert max(waits) < 1.0, f"a click waited {max(waits):.2f} s (waits: {[round(w, 2) for w in waits]})"
    assert not [e for e in heavy_watch.errors if "page error" in e]
    heavy.close()
    canary.close()
