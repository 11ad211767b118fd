"""The annotation tool's server and files without a browser (Flask's test client): what is
served, what is refused, what is written (Sects. 3.1, 3.4). How ``prepare`` fuses the traces
again is tested with :mod:`affwild_lib.annotation`, in test_annotation.py."""
import json
import re
import threading

import numpy as np
import pytest

from affwild_lib import annotation
from affwild_lib.annotation_tool import traces as tr
from affwild_lib.annotation_tool.server import create_app
from affwild_lib.datasets.affwild import read_raw_traces
from annotate_release import SECONDS, make_release, whole


@pytest.fixture
def release(tmp_path):
    return make_release(tmp_path)


@pytest.fixture
def client(release):
    return create_app(release).test_client()


def post(client, path, **body):
    response = client.post(path, json=body)
    return response.status_code, response.get_json()


def test_the_tool_reexports_what_fusion_reads():
    """Chapter 02 and the server take these from the tool's module; they are annotation's own."""
    for name in ("traces_root", "fuse_video", "all_traces", "read_selection", "trace_path",
                 "selection_path", "release_annotators", "TraceError", "K_MIN", "K_MAX"):
        assert getattr(tr, name) is getattr(annotation, name)


def test_traces_go_beside_the_release_never_into_it(release, tmp_path):
    assert tr.traces_root(release) == tmp_path / "annotations" / "synth" / "affwild"
    with pytest.raises(tr.TraceError, match="inside the release"):
        create_app(release, release / "mine")


def test_the_lists_and_a_saved_trace(client, release):
    status, lists = post(client, "/api/videos", dimension="valence", annotator="me")
    assert status == 200 and [v["id"] for v in lists["todo"]] == ["bad", "clip"]
    assert lists["done"] == []
    clip = next(v for v in lists["todo"] if v["id"] == "clip")
    assert clip["codec"] == "h264" and clip["duration"] == pytest.approx(SECONDS, abs=0.1)
    assert next(v for v in lists["todo"] if v["id"] == "bad")["codec"] == "mpeg4"

    status, saved = post(client, "/api/trace", dimension="valence", video="clip", annotator="me", **whole())
    assert status == 200 and saved["samples"] == 40
    t, v = read_raw_traces(tr.traces_root(release), "clip", "valence")["me"]
    assert len(t) == 40 and t[-1] == pytest.approx(SECONDS, abs=1e-3)
    _, lists = post(client, "/api/videos", dimension="valence", annotator="me")
    assert [v["id"] for v in lists["done"]] == ["clip"]
    _, other = post(client, "/api/videos", dimension="arousal", annotator="me")
    assert other["done"] == []                     # per dimension


@pytest.mark.parametrize("body, message", [
    (dict(times=[0.0, 1.0], values=[0.0, 0.1]), "play it to the end"),
    (dict(times=[0.0, 2.0, 1.0, 3.0], values=[0, 0, 0, 0]), "times go back at sample 3"),
    (dict(times=[0.0, 3.0], values=[0.0, 1.5]), r"\[-1, 1\]"),
    (dict(times=[0.0, 9.0], values=[0.0, 0.0]), "inside the video"),
    (dict(times=[0.0], values=[0.0]), "at least two"),
    (dict(times=[0.0, "x"], values=[0.0, 0.0]), "numbers"),
    (dict(times=[0.0, 3.0], values=[0.0]), "same length"),
])
def test_a_trace_that_is_not_whole_is_refused_and_nothing_written(client, release, body, message):
    status, answer = post(client, "/api/trace", dimension="valence", video="clip", annotator="me", **body)
    assert status == 400 and re.search(message, answer["error"])
    assert not tr.trace_path(tr.traces_root(release), "valence", "clip", "me").exists()


@pytest.mark.parametrize("annotator", ["../x", "a/b", "", ".hidden", "x" * 33, "A1", None, 7])
def test_bad_and_release_ids_are_refused(client, annotator):
    status, answer = post(client, "/api/videos", dimension="valence", annotator=annotator)
    assert status == 400 and ("not allowed" in answer["error"] or "release itself" in answer["error"])


def test_only_the_releases_videos_are_served(client, release):
    assert client.get("/video/clip").status_code == 200
    partial = client.get("/video/clip", headers={"Range": "bytes=0-99"})
    assert partial.status_code == 206 and len(partial.data) == 100  # seeking needs ranges
    for name in ["..%2F..%2Fannotations_raw", "../clip", "clip.mp4", "%2Fetc%2Fpasswd"]:
        assert client.get(f"/video/{name}").status_code in (400, 404)
    status, answer = post(client, "/api/trace", dimension="valence", video="../../x", annotator="me", **whole())
    assert status == 400 and "no video" in answer["error"]
    status, answer = post(client, "/api/videos", dimension="../valence", annotator="me")
    assert status == 400 and "dimension" in answer["error"]


def test_writes_need_a_json_body_and_the_host_must_be_ours(release):
    hosts = {"127.0.0.1:9999"}
    client = create_app(release, allowed_hosts=hosts).test_client()
    assert client.post("/api/videos", data="dimension=valence&annotator=me",
                       base_url="http://127.0.0.1:9999").status_code == 400
    assert client.get("/api/info", base_url="http://evil.example:9999").status_code == 403
    assert client.get("/api/info", base_url="http://127.0.0.1:9999").status_code == 200


def test_drafts_are_kept_apart_and_never_read_as_traces(client, release):
    status, _ = post(client, "/api/draft/save", dimension="valence", video="clip", annotator="me",
                     times=[0.0, 0.5], values=[0.1, 0.2], position=0.5)
    assert status == 200
    root = tr.traces_root(release)
    assert read_raw_traces(root, "clip", "valence") == {}
    _, lists = post(client, "/api/videos", dimension="valence", annotator="me")
    assert next(v for v in lists["todo"] if v["id"] == "clip")["draft"] is True
    _, loaded = post(client, "/api/draft/load", dimension="valence", video="clip", annotator="me")
    assert loaded["draft"]["times"] == [0.0, 0.5]
    post(client, "/api/trace", dimension="valence", video="clip", annotator="me", **whole())
    assert not tr.draft_path(root, "valence", "clip", "me").exists()  # the whole one replaced it


def test_two_annotators_saving_at_once_keep_their_own_traces(client, release):
    def save(name, level):
        for _ in range(5):
            post(client, "/api/trace", dimension="valence", video="clip", annotator=name, **whole(level=level))

    threads = [threading.Thread(target=save, args=(f"p{i}", 0.1 * (i + 1))) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = read_raw_traces(tr.traces_root(release), "clip", "valence")
    assert sorted(found) == ["p0", "p1", "p2", "p3"]
    for i in range(4):
        t, v = found[f"p{i}"]
        np.testing.assert_allclose(v, np.round(0.1 * (i + 1) * np.sin(t), 4), atol=2e-4)
    assert not list(tr.traces_root(release).rglob("*.tmp*"))  # atomic's names: .x.csv.<id>.tmp.csv


def test_the_validation_view_and_an_experts_choice(client, release):
    post(client, "/api/trace", dimension="valence", video="clip", annotator="me", **whole())
    status, view = post(client, "/api/traces", dimension="valence", video="clip")
    assert status == 200 and sorted(view["traces"]) == ["A1", "A2", "A3", "me"]
    assert view["human"] == ["me"] and view["selection"] is None
    assert set(view["automatic"][:2]) == {"A1", "A2"}   # the two that agree (A3 is noisy)
    assert len(view["correlation"]["matrix"]) == 4

    assert post(client, "/api/selection", dimension="valence", video="clip", expert="e",
                chosen=["A1"])[0] == 400
    assert post(client, "/api/selection", dimension="valence", video="clip", expert="e",
                chosen=["A1", "nobody"])[0] == 400
    assert post(client, "/api/selection", dimension="valence", video="clip", expert="../e",
                chosen=["A1", "A3"])[0] == 400
    status, _ = post(client, "/api/selection", dimension="valence", video="clip", expert="e",
                     chosen=["A1", "A3", "me"])
    assert status == 200
    assert post(client, "/api/traces", dimension="valence", video="clip")[1]["selection"] == ["A1", "A3", "me"]


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_the_command_prints_its_address_and_serves_until_stopped(release, stop):
    """Stopped by Ctrl-C's signal or a plain kill, even when started with SIGINT ignored (as a
    background job of a shell is, which a CI runner may be)."""
    import signal
    import subprocess
    import sys
    import urllib.request

    process = subprocess.Popen([sys.executable, "-m", "affwild_lib", "annotate", str(release), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        first = process.stdout.readline()
        assert "2 videos" in first and str(tr.traces_root(release)) in first
        url = process.stdout.readline().split("annotate:")[1].strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "api/info", timeout=10) as answer:
            assert json.load(answer)["dataset"] == "affwild"
    finally:
        process.send_signal(getattr(signal, stop))
        process.wait(timeout=20)
    assert process.returncode == 0


def test_the_command_refuses_a_folder_that_is_not_a_release(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "affwild_lib", "annotate", str(tmp_path), "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "videos: no such folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_taken_port_is_said_plainly(release):
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "affwild_lib", "annotate", str(release), "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_bodies_and_files_get_a_400_not_a_500(client, release):
    assert post(client, "/api/draft/save", dimension="valence", video="clip", annotator="me",
                times=["a", None], values=[0, 0])[0] == 400
    assert post(client, "/api/selection", dimension="valence", video="clip", expert="e",
                chosen=[["A1"], {"x": 1}])[0] == 400
    broken = release / "annotations_raw" / "valence" / "clip" / "A2.csv"
    broken.write_text("time_s,value\n0.0,0.1\n0.1,oops\n")
    status, answer = post(client, "/api/traces", dimension="valence", video="clip")
    assert status == 400 and "A2.csv:3" in answer["error"]


def test_an_id_differing_only_in_case_is_refused(client, release):
    assert post(client, "/api/videos", dimension="valence", annotator="a1")[0] == 400
    assert post(client, "/api/trace", dimension="valence", video="clip", annotator="Jane", **whole())[0] == 200
    status, answer = post(client, "/api/trace", dimension="valence", video="clip", annotator="jane", **whole())
    assert status == 400 and "only in case" in answer["error"]
