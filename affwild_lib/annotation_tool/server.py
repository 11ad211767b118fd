"""The annotation tool's web server: Flask, serving plain HTML/JS from ``static/``.

Two pages follow the paper: ``/`` is the annotation tool of Sect. 3.1 (Fig. 7: choose the
dimension, log in, choose the input, pick a video from the two lists, annotate it with the slider
while it plays) and ``/validate`` is the experts' pass of Sect. 3.4 (all traces of a video drawn
in sync with it, Fig. 9's look; the expert keeps the 2-4 that agree).

Security, for a server meant for one machine:

- it binds to 127.0.0.1 unless told otherwise, and answers only requests whose ``Host`` is the
  address it serves (a web page elsewhere cannot reach it by DNS rebinding);
- a request names a video by id, looked up in the list made at start, never by path: only the
  release's videos are served;
- annotator and expert ids are checked against :data:`~.traces.ANNOTATOR_ID`; an id that is
  one of the release's own annotators is refused, so nobody overwrites a trace they did not make;
- writes take a JSON body, which a cross-site form cannot send without a CORS preflight that this
  server never grants; each annotator writes only their own files, through a lock per file.
"""
from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, abort, jsonify, request, send_file

import numpy as np

from ..annotation import annotator_correlations, fuse, match_to_frames
from . import traces as tr
from ..datasets.errors import DatasetError
from .traces import TraceError

STATIC = Path(__file__).with_name("static")
MIME = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska",
        ".avi": "video/x-msvideo", ".mov": "video/quicktime", ".ogv": "video/ogg"}


def create_app(data_root: str | Path, root: str | Path | None = None,
               allowed_hosts: set[str] | None = None) -> Flask:
    """The tool for the Aff-Wild-layout release ``data_root``, keeping traces under ``root``
    (default :func:`~affwild_lib.annotation.traces_root`). ``allowed_hosts``: the ``host:port``
    values the ``Host`` header may take, a set the caller may fill once the port is known (None
    or empty: any, for Flask's test client)."""
    data_root = Path(data_root).resolve()
    root = Path(root).resolve() if root else tr.traces_root(data_root)
    if root == data_root or data_root in root.parents:
        raise TraceError(f"{root}: traces are not written inside the release {data_root}")
    videos = tr.list_videos(data_root)
    # The release is read-only while the tool runs: its annotators' ids are read once.
    taken = {(d, vid): tr.release_annotators(data_root, d, vid) for d in tr.DIMENSIONS for vid in videos}
    locks: dict[Path, threading.Lock] = {}
    locks_guard = threading.Lock()

    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config.update(DATA_ROOT=data_root, TRACES_ROOT=root, VIDEOS=videos,
                      MAX_CONTENT_LENGTH=64 * 1024 * 1024)

    def lock_for(path: Path) -> threading.Lock:
        with locks_guard:
            return locks.setdefault(path, threading.Lock())

    @app.before_request
    def check_host():
        if allowed_hosts and request.host not in allowed_hosts:
            abort(403)

    @app.after_request
    def headers(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(TraceError)
    @app.errorhandler(DatasetError)  # a malformed trace file: named with its line
    def refused(error):
        return jsonify(error=str(error)), 400

    def body() -> dict:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise TraceError("send a JSON object (Content-Type: application/json)")
        return data

    def video(video_id) -> tr.Video:
        if not isinstance(video_id, str) or video_id not in videos:
            raise TraceError(f"no video {video_id!r} in {data_root.name}")
        return videos[video_id]

    def annotator(args: dict, dimension: str, video_id: str | None = None) -> str:
        name = tr.check_id("annotator", args.get("annotator"))
        for vid in [video_id] if video_id else videos:
            if name.lower() in taken[dimension, vid]:
                raise TraceError(f"{name!r} is an annotator of the release itself: "
                                 "choose another identifier")
        return name

    def request_of(args: dict, person: bool = True):
        """The dimension, video and (for a person's own files) annotator a request names."""
        dimension, v = tr.check_dimension(args.get("dimension")), video(args.get("video"))
        return dimension, v, annotator(args, dimension, v.video_id) if person else None

    def describe(v: tr.Video, **extra) -> dict:
        return {"id": v.video_id, "split": v.split, "file": v.path.name, "codec": v.codec,
                "duration": None if v.duration_s != v.duration_s else round(v.duration_s, 3),
                **extra}

    @app.get("/")
    def index():
        return send_file(STATIC / "annotate.html")

    @app.get("/validate")
    def validate():
        return send_file(STATIC / "validate.html")

    @app.get("/api/info")
    def info():
        return jsonify(dataset=data_root.name, data_root=str(data_root), traces_root=str(root),
                       dimensions=list(tr.DIMENSIONS), k_min=tr.K_MIN, k_max=tr.K_MAX)

    @app.get("/api/catalog")
    def catalog():
        return jsonify(videos=[describe(v) for v in videos.values()])

    @app.post("/api/videos")
    def video_lists():
        """Fig. 7 (c): the videos still to annotate and those this person has annotated."""
        args = body()
        dimension = tr.check_dimension(args.get("dimension"))
        name = annotator(args, dimension)
        done, drafts = tr.annotated_by(root, dimension, name), tr.drafts_of(root, dimension, name)
        return jsonify(
            annotator=name, dimension=dimension,
            todo=[describe(v, draft=v.video_id in drafts) for v in videos.values() if v.video_id not in done],
            done=[describe(v) for v in videos.values() if v.video_id in done])

    @app.get("/video/<video_id>")
    def media(video_id):
        v = video(video_id)
        # conditional=True answers Range requests, which the browser needs to seek.
        return send_file(v.path, mimetype=MIME.get(v.path.suffix.lower(), "application/octet-stream"),
                         conditional=True)

    @app.post("/api/draft/load")
    def draft_load():
        dimension, v, name = request_of(body())
        return jsonify(draft=tr.load_draft(root, dimension, v.video_id, name))

    @app.post("/api/draft/save")
    def draft_save():
        args = body()
        dimension, v, name = request_of(args)
        with lock_for(tr.draft_path(root, dimension, v.video_id, name)):
            tr.save_draft(root, dimension, v.video_id, name, args)
        return jsonify(ok=True)

    @app.post("/api/draft/discard")
    def draft_discard():
        args = body()
        dimension, v, name = request_of(args)
        with lock_for(tr.draft_path(root, dimension, v.video_id, name)):
            tr.draft_path(root, dimension, v.video_id, name).unlink(missing_ok=True)
        return jsonify(ok=True)

    @app.post("/api/trace")
    def trace_save():
        """A finished session: checked whole (:func:`~.traces.check_trace`), then written."""
        args = body()
        dimension, v, name = request_of(args)
        path = tr.trace_path(root, dimension, v.video_id, name)
        with lock_for(path), lock_for(tr.draft_path(root, dimension, v.video_id, name)):
            tr.save_trace(root, dimension, v.video_id, name, args.get("times"), args.get("values"),
                          v.duration_s)
        return jsonify(ok=True, path=str(path), samples=len(args["times"]))

    @app.post("/api/traces")
    def all_traces():
        """Validation mode: every trace of a video, their agreement, and the choices so far."""
        dimension, v, _ = request_of(body(), person=False)
        found = tr.all_traces(data_root, dimension, v.video_id, root)
        result = {"video": v.video_id, "dimension": dimension,
                  "traces": {k: {"times": t.tolist(), "values": x.tolist()} for k, (t, x) in found.items()},
                  "human": sorted(tr.read_raw_traces(root, v.video_id, dimension)),
                  "selection": tr.read_selection(root, dimension, v.video_id),
                  "automatic": None, "correlation": None}
        if len(found) >= 2 and v.duration_s == v.duration_s:
            # On the video's frames, as prepare matches them (Sect. 3.3).
            names, frame_times = list(found), np.arange(int(round(v.duration_s * v.fps))) / v.fps
            matrix = np.stack([match_to_frames(*found[name], frame_times) for name in names])
            result["correlation"] = {"names": names,
                                     "matrix": annotator_correlations(matrix).round(3).tolist()}
            result["automatic"] = fuse(found, frame_times)[1]
        return jsonify(result)

    @app.post("/api/selection")
    def selection_save():
        args = body()
        dimension, v, _ = request_of(args, person=False)
        chosen = args.get("chosen")
        if not isinstance(chosen, list):
            raise TraceError("'chosen' must be a list of annotator names")
        path = tr.selection_path(root, dimension, v.video_id)
        with lock_for(path):
            tr.save_selection(data_root, root, dimension, v.video_id, chosen, args.get("expert"))
        return jsonify(ok=True, path=str(path))

    return app


class CannotListen(OSError):
    """The server could not bind its address (told apart from other OSErrors for the CLI)."""


def serve(data_root: str | Path, root: str | Path | None = None, host: str = "127.0.0.1",
          port: int = 8765, ready=None) -> None:
    """Run the tool until interrupted. ``ready(url, n_videos)`` is called once it listens."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # errors only, not every request
    hosts: set[str] = set()
    app = create_app(data_root, root, allowed_hosts=hosts)  # a bad DATA_DIR fails before binding
    try:
        server = make_server(host, port, app, threaded=True)
    except (OSError, SystemExit):  # taken port, foreign address (werkzeug prints why, then exits)
        raise CannotListen(f"cannot listen on {host}:{port}") from None
    bound = server.server_port
    if host in ("127.0.0.1", "localhost", "::1"):  # elsewhere the Host header can't be foreseen
        hosts.update({f"127.0.0.1:{bound}", f"localhost:{bound}", f"[::1]:{bound}"})
    if ready:
        ready(f"http://{host}:{bound}/", len(app.config["VIDEOS"]))
    try:
        server.serve_forever()
    finally:
        server.server_close()
