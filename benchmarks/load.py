"""A class on one server: many sessions clicking at once, with no browser per session.

Each simulated student is a `bokeh.client` session (the protocol a browser speaks): it pulls
the app's document over the websocket, then every `--interval` seconds presses E step or M step
(alternately) by sending the same `button_click` event the page sends, and waits for the server's
patch that moves the timeline: that wait is the click's latency. At the end it reads the numbers
panel its document shows; the benchmark replays the same clicks in-process and checks that every
session shows exactly what the replay shows (no session saw another's state, no click was lost).

    python benchmarks/load.py [--sessions 10,50,100] [--procs 1,2] [--duration 120] [--interval 2]
                              [--start together|on-connect] [--separate] [--prepared N]
                              [--clients documents|messages]

With `--start together` (the default) every session first opens its page and the clicking starts
once the whole class is in, as when a teacher has the students open the link before the
exercise; with `on-connect` each session clicks as soon as its own page is there, so early
clicks wait behind the pages still being built. With `--prepared N` each server process prepares
N pages of the class's link before the class arrives (explorer/app/prepared.py: README's class
command); the servers' CPU is counted from the class's arrival, so without that preparation.

Serves `panel serve apps/explorer.py --num-procs P` on 127.0.0.1 for each P (and only there; with
`--separate`, P servers of one process each on their own ports, each session sent to one of
them in turn, as a reverse proxy in front of them would),
runs the sessions from `--workers` processes of threads, and prints per (P, sessions), as each
run ends: the time to connect (pull the document: a page load without the browser), clicks,
clicks/s (while the sessions click), p50/p95/max latency, errors, sessions whose final state differs from the replay, and
the server's CPU (all its processes) per click, including what connecting cost, the pages that
came from the prepared ones (the servers' log), and the busiest
process's part of it (0.50 with two processes sharing the class evenly). Stops by itself: each session clicks for `--duration`
seconds and every wait has a time limit. Clients and server share this machine's cores, so the
figures are an upper bound on what a server with its own cores would show. With `--clients
documents` (the default) each client builds the page's document in Python (a browser's work,
0.25 s of CPU a page), with the app's own speed-up of Bokeh's defaults (page_speedup.py; 0.19 s)
unless `--plain-clients`: for 100 pages that is about 19 s of the two cores' time, which in a
class the students' own machines spend. With `--clients messages` each client reads the
messages as JSON and keeps the page's models as JSON (JsonPage: a few ms a page), clicks and
checks what it shows exactly as the other does, so the servers have the cores nearly to
themselves: the class as its server sees it.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_latency import cpu_seconds, free_port, percentile, serve, stop  # noqa: E402

WAIT = 30.0       # a click without an answer within this many seconds counts as an error
BARRIER_WAIT = 900.0   # the longest a connected session waits for the rest of the class
HANDSHAKE_WAIT = 240.0  # a browser waits minutes for a websocket to open; bokeh.client only 20 s


def find(doc, **props):
    return next(m for m in doc.models if all(getattr(m, k, None) == v for k, v in props.items()))


def readout_text(doc) -> str:
    """The numbers panel's HTML: the one HTML model that shows the status line."""
    return next(m.text for m in doc.models if "class=&#x27;status" in str(getattr(m, "text", ""))
                or "class='status" in str(getattr(m, "text", "")))


class JsonPage:
    """A page as the messages' JSON: each model's name and attributes by id, kept up to date
    from the server's patches, with no Bokeh model built in Python: what the browser holds,
    at the cost of reading the messages (a pulled page: 0.19 s of CPU as Bokeh's Python
    models, a few ms as JSON). `--clients messages`."""

    def __init__(self, doc_json: dict):
        self.models: dict[str, dict] = {}
        self._collect(doc_json["roots"])

    def _collect(self, value) -> None:
        if isinstance(value, dict):
            if value.get("type") == "object" and "id" in value and "name" in value:
                known = self.models.setdefault(value["id"], {"name": value["name"], "attributes": {}})
                known["attributes"].update(value.get("attributes", {}))
            for item in value.values():
                self._collect(item)
        elif isinstance(value, list) and value and not isinstance(value[0], (int, float)):   # not a column
            for item in value:
                self._collect(item)

    def apply(self, content: dict) -> None:
        """A PATCH-DOC's events: new models registered, changed attributes set."""
        for event in content["events"]:
            self._collect(event)
            if event["kind"] == "ModelChanged" and event["model"]["id"] in self.models:
                self.models[event["model"]["id"]]["attributes"][event["attr"]] = event["new"]

    def find(self, name: str, **attributes) -> str:
        return next(i for i, m in self.models.items()
                    if m["name"].rsplit(".", 1)[-1] == name and all(m["attributes"].get(k) == v for k, v in attributes.items()))

    def value(self, model_id: str, attr: str):
        return self.models[model_id]["attributes"].get(attr)

    def readout_text(self) -> str:
        return next(m["attributes"]["text"] for m in reversed(self.models.values())
                    if "class=&#x27;status" in str(m["attributes"].get("text", ""))
                    or "class='status" in str(m["attributes"].get("text", "")))

    @staticmethod
    def click(button_id: str) -> dict:
        """A PATCH-DOC's content pressing the button: the event the page sends."""
        return {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": {
            "type": "event", "name": "button_click",
            "values": {"type": "map", "entries": [["model", {"id": button_id}]]}}}]}


def messages_session(url: str, arguments: dict):
    """A `bokeh.client` session that pulls the page as JSON (JsonPage) instead of building its
    document; patches go to the JsonPage. Returns (session, page)."""
    from bokeh.client.session import ClientSession
    from bokeh.util.token import generate_session_id

    session = ClientSession(generate_session_id(), websocket_url=url.replace("http", "ws", 1) + "/ws",
                            arguments=arguments)
    connection = session._connection
    connection.connect()
    if not connection.connected:
        raise RuntimeError(f"cannot connect: {connection.error_detail or connection.error_reason}")
    reply = connection._send_message_wait_for_reply(connection._protocol.create("PULL-DOC-REQ"))
    if reply is None or reply.header["msgtype"] == "ERROR":
        raise RuntimeError("the page did not arrive" + (f": {reply.content['text']}" if reply else ""))
    page = JsonPage(reply.content["doc"])
    session._handle_patch = lambda message: page.apply(message.content)
    return session, page


def send_click(session, button_id: str) -> None:
    from bokeh.protocol.messages.patch_doc import patch_doc
    message = patch_doc(patch_doc.create_header(), {}, JsonPage.click(button_id))
    connection = session._connection
    connection._loop.add_callback(connection.send_message, message)


def student(urls: list, model: str, duration: float, interval: float, seed: int, out: list, barrier=None,
            messages: bool = False):
    """One session: connect (to one of the servers' `urls`, as a proxy spreading the class
    would), (wait for the class, with `barrier`), click every `interval` s for `duration` s, report.
    With `messages`, the page is read as JSON (JsonPage) instead of built as a Bokeh document."""
    import panel  # noqa: F401 - registers Panel's models, so the client can read the document
    import explorer.app.app  # noqa: F401 - and the app's own page components
    from bokeh.client import pull_session
    from bokeh.events import ButtonClick
    from tornado.httpclient import HTTPRequest

    # A page waits in the server's queue while others are built (about 2 s each): as patient as
    # a browser, or a busy server's queue would count as failed connections.
    HTTPRequest._DEFAULTS.update(connect_timeout=HANDSHAKE_WAIT, request_timeout=HANDSHAKE_WAIT)

    asyncio.set_event_loop(asyncio.new_event_loop())
    result = {"latencies": [], "errors": 0, "clicks": 0, "final": None, "failed": None, "connect": None,
              "clicking": None}
    try:
        start = time.perf_counter()
        if messages:
            session, page = messages_session(urls[seed % len(urls)], {"model": model})
        else:
            session = pull_session(url=urls[seed % len(urls)], arguments={"model": model})
        result["connect"] = time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - a refused connection is a result to report
        result["failed"] = f"connect: {exc}"
        out.append(result)
        if barrier is not None:
            barrier.wait(BARRIER_WAIT)
        return
    connection = session._connection            # the client's own loop, run until an answer arrives
    if messages:
        buttons = [page.find("Button", label="E step"), page.find("Button", label="M step")]
        timeline_id = page.find("Slider", title="Timeline (state)")
        press = functools.partial(send_click, session)
        position = functools.partial(page.value, timeline_id, "value")
        shown_text = page.readout_text
    else:
        doc = session.document
        buttons = [find(doc, label="E step"), find(doc, label="M step")]
        timeline = find(doc, title="Timeline (state)")

        def press(button):
            doc.callbacks.send_event(ButtonClick(button))

        def position():
            return timeline.value

        def shown_text():
            return readout_text(doc)
    if barrier is not None:
        barrier.wait(BARRIER_WAIT)
    rng = random.Random(seed)
    time.sleep(rng.uniform(0, interval))          # students do not click in step
    end = time.perf_counter() + duration
    result["clicking"] = [time.time(), None]
    while time.perf_counter() < end:
        tick = time.perf_counter()
        target = position() + 1
        press(buttons[result["clicks"] % 2])
        result["clicks"] += 1
        timer = connection._loop.call_later(WAIT, connection._loop.stop)
        connection._loop_until(lambda: position() >= target)
        timer.cancel()
        if position() >= target:
            result["latencies"].append(time.perf_counter() - tick)
        else:
            result["errors"] += 1
        time.sleep(max(0.0, interval - (time.perf_counter() - tick)))
    result["clicking"][1] = time.time()
    shown = f"State {result['clicks']} of {result['clicks']}"          # the last click's numbers arrived
    timer = connection._loop.call_later(WAIT, connection._loop.stop)
    connection._loop_until(lambda: shown in shown_text())
    timer.cancel()
    result["final"] = shown_text()
    session.close()
    out.append(result)


def worker(urls, model, duration, interval, seeds, queue, barrier, plain=False, messages=False):
    if not plain:     # the harness's own cost, not the server's: see --plain-clients
        from explorer.app.page_speedup import remember_class_defaults
        remember_class_defaults()
    results, threads = [], []
    for seed in seeds:
        thread = threading.Thread(target=student, args=(urls, model, duration, interval, seed, results, barrier,
                                                        messages), daemon=True)
        thread.start()
        threads.append(thread)
        time.sleep(0.05)                          # a class arrives over a few seconds, not in one instant
    for thread in threads:
        thread.join(duration + 6 * WAIT + 10 * len(seeds))
    queue.put(results)


def replayed_readout(model: str, clicks: int) -> str:
    """The numbers panel after `clicks` alternate E and M steps, in this process."""
    from bokeh.document import Document

    from explorer.app import App
    app = App(model)
    doc = Document()
    app.template().server_doc(doc)
    for i in range(clicks):
        (app.state.e_step if i % 2 == 0 else app.state.m_step)()
    return readout_text(doc)


def process_cpu(root_pids: list) -> dict:
    """CPU seconds of each server process: the servers and the processes they forked."""
    pids = list(root_pids)
    for root in root_pids:
        children = Path(f"/proc/{root}/task/{root}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
    return {pid: cpu_seconds(pid) for pid in pids}


def preparing(args) -> list:
    """The server's options to prepare `--prepared` pages per process for the class's link."""
    if not args.prepared:
        return []
    return ["--setup", str(ROOT / "apps" / "prepare_pages.py"), "--args", "--prepared-pages", str(args.prepared),
            "--prepare-for", f"model={args.model}"]


def quiet(servers, still: float, limit: float) -> None:
    """Wait until the servers' CPU stops growing for `still` seconds (at most `limit`)."""
    end, last, since = time.time() + limit, None, time.time()
    while time.time() < end:
        time.sleep(0.5)
        now = sum(process_cpu([s.pid for s in servers]).values())
        if now != last:
            last, since = now, time.time()
        elif time.time() - since >= still:
            return


def run(procs: int, sessions: int, args) -> dict:
    """One server with `--num-procs procs`, or with `--separate` `procs` servers on ports of
    their own, the sessions spread evenly over them."""
    log = tempfile.TemporaryFile("w+")        # the servers' log: how many pages came prepared
    if args.separate:
        ports = [free_port() for _ in range(procs)]
        servers = [serve(port, preparing(args), log=log) for port in ports]
    else:
        ports = [free_port()]
        servers = [serve(ports[0], (["--num-procs", str(procs)] if procs > 1 else []) + preparing(args), log=log)]
    urls = [f"http://127.0.0.1:{port}/explorer" for port in ports]
    try:
        time.sleep(2 if procs == 1 or args.separate else 6)
        if args.prepared:                  # the class arrives once the pages are prepared
            quiet(servers, still=3.0, limit=30 + args.prepared)
        cpu0, wall0 = process_cpu([s.pid for s in servers]), time.perf_counter()
        queue = multiprocessing.Queue()
        barrier = multiprocessing.Barrier(sessions) if args.start == "together" else None
        groups = [list(range(w, sessions, args.workers)) for w in range(min(args.workers, sessions))]
        workers = [multiprocessing.Process(target=worker, args=(urls, args.model, args.duration, args.interval,
                                                                seeds, queue, barrier, args.plain_clients,
                                                                args.clients == "messages"))
                   for seeds in groups]
        for w in workers:
            w.start()
        limit = args.duration + 8 * WAIT + 10 * sessions      # connecting a class takes a while too
        results = [r for _ in workers for r in queue.get(timeout=limit)]
        for w in workers:
            w.join(10)
        cpu1, wall = process_cpu([s.pid for s in servers]), time.perf_counter() - wall0
        by_process = [cpu1[pid] - cpu0.get(pid, 0.0) for pid in cpu1]
        cpu = sum(by_process)
    finally:
        for server in servers:
            stop(server)
        log.seek(0)
        taken = log.read().count("from the prepared ones")
        log.close()
    latencies = [x * 1000 for r in results for x in r["latencies"]]
    replays: dict[int, str] = {}
    differ = 0
    for r in results:
        if r["final"] is None:
            continue
        if r["clicks"] not in replays:
            replays[r["clicks"]] = replayed_readout(args.model, r["clicks"])
        differ += r["final"] != replays[r["clicks"]]
    clicks = sum(r["clicks"] for r in results)
    spans = [r["clicking"] for r in results if r["clicking"] and r["clicking"][1]]
    clicking = (max(e for _, e in spans) - min(b for b, _ in spans)) if spans else wall
    connects = sorted(r["connect"] for r in results if r["connect"] is not None)
    return {"procs": f"{procs}×1" if args.separate else procs, "sessions": sessions, "connect50": percentile(connects, 50) if connects else float("nan"),
            "connect_max": max(connects, default=float("nan")), "connected": sum(r["failed"] is None for r in results),
            "clicks": clicks, "rate": clicks / clicking, "p50": percentile(latencies, 50) if latencies else float("nan"),
            "p95": percentile(latencies, 95) if latencies else float("nan"),
            "max": max(latencies, default=float("nan")),
            "errors": sum(r["errors"] for r in results) + sum(r["failed"] is not None for r in results),
            "differ": differ, "cpu_per_click": 1000 * cpu / max(clicks, 1), "cpu_share": cpu / wall,
            "busiest": max(by_process) / cpu if cpu > 0 else float("nan"), "prepared": taken}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="10,50,100")
    parser.add_argument("--procs", default="1,2")
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--model", default="linkage")
    parser.add_argument("--prepared", type=int, default=0, metavar="N",
                        help="serve with --setup apps/prepare_pages.py --args --prepared-pages N --prepare-for "
                             "model=MODEL, and start the class once the pages are prepared (default: none)")
    parser.add_argument("--workers", type=int, default=4, help="client processes (each runs threads)")
    parser.add_argument("--clients", choices=["documents", "messages"], default="documents",
                        help="documents: each client builds the page's Bokeh document in Python (0.19 s of CPU a "
                             "page, on the cores the servers share); messages: each reads the messages as JSON "
                             "(JsonPage, a few ms a page), so the servers have the cores nearly to themselves, "
                             "as with a class's browsers on their own machines")
    parser.add_argument("--plain-clients", action="store_true",
                        help="clients build their documents with Bokeh as it is (by default they remember Bokeh's "
                             "class defaults as the served app does: a document pulled in 0.19 s of CPU instead of "
                             "0.25, on the cores the server shares with them)")
    parser.add_argument("--separate", action="store_true",
                        help="P servers on ports of their own (sessions spread evenly, as by a proxy) instead of "
                             "one server with --num-procs P")
    parser.add_argument("--start", choices=["together", "on-connect"], default="together",
                        help="start clicking once every session is connected, or each as soon as it is")
    args = parser.parse_args()
    print(f"model {args.model}, one click per session every {args.interval:g} s for {args.duration:g} s after "
          f"{'the whole class has connected' if args.start == 'together' else 'it connects'}; clients on the "
          f"same {os.cpu_count()} cores ("
          f"{'pages read as JSON' if args.clients == 'messages' else 'Bokeh as it is' if args.plain_clients else 'documents built with the app’s Bokeh defaults'})",
          flush=True)
    print(f"{'procs':>5s} {'sessions':>8s} {'connected':>9s} {'connect p50/max s':>17s} {'clicks':>7s} {'clicks/s':>8s} "
          f"{'p50 ms':>7s} {'p95 ms':>7s} {'max ms':>7s} {'errors':>6s} {'differ':>6s} {'srv CPU ms/click':>16s} "
          f"{'srv cores':>9s} {'busiest':>7s} {'prepared':>8s}", flush=True)
    for procs in [int(p) for p in args.procs.split(",")]:
        for sessions in [int(s) for s in args.sessions.split(",")]:
            r = run(procs, sessions, args)
            print(f"{r['procs']!s:>5s} {r['sessions']:8d} {r['connected']:9d} "
                  f"{r['connect50']:8.1f}/{r['connect_max']:<8.1f} {r['clicks']:7d} {r['rate']:8.1f} "
                  f"{r['p50']:7.0f} {r['p95']:7.0f} {r['max']:7.0f} {r['errors']:6d} {r['differ']:6d} "
                  f"{r['cpu_per_click']:16.1f} {r['cpu_share']:9.2f} {r['busiest']:7.2f} {r['prepared']:8d}", flush=True)


if __name__ == "__main__":
    main()
