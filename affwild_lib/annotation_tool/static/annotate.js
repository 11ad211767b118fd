// The annotation tool of Sect. 3.1 (Fig. 7): log in, pick a video, move the slider while it plays.
//
// Sampling follows the paper's tool: a sample (video time, value) is taken when the value changes,
// so the rate varies, and time is the video's own clock (currentTime), not the wall clock: a
// stalled or paused video adds no time. Going back re-annotates from there (later samples are
// dropped); skipping ahead of the trace is refused, so a trace always covers [0, reached]. Only a
// trace that reached the video's end can be saved (the server checks again); until then the
// session is kept as a draft the lists show as unfinished.
"use strict";

const $ = (id) => document.getElementById(id);
const video = $("video");
const slider = $("slider");
const S = {
  dimension: null, annotator: null, input: "keyboard", video: null,
  times: [], values: [], reached: 0, value: 0, complete: false, dirty: false,
  padIndex: null, padButton: false, lastDraft: 0,
};
const KEY_STEP = { ArrowUp: 0.05, ArrowDown: -0.05, PageUp: 0.2, PageDown: -0.2 };
const DEAD_ZONE = 0.05;      // a resting stick reads a little off zero
const SKIP_SLACK_S = 0.3;    // a seek this far past the trace's end is a skip ahead
const SAME_TIME_S = 0.001;   // media times closer than this are one time
const END_SLACK_S = 0.5;     // as the server's COVERAGE_SLACK_S: this near the end is the end
const DRAFT_EVERY_MS = 3000;

// keepalive lets a request outlive the page (a draft sent as it closes), but Chromium refuses
// keepalive bodies over 64 KiB: only small ones get it.
async function api(path, body, keepalive = false) {
  const text = JSON.stringify(body);
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: text, keepalive: keepalive && text.length < 60000,
  });
  let data;
  try { data = await response.json(); } catch (e) { data = {}; }
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

function show(section) {
  for (const id of ["login", "lists", "player"]) $(id).hidden = id !== section;
}

function clamp(v) { return Math.max(-1, Math.min(1, v)); }

// -- 1. log in --------------------------------------------------------------------------------
$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  S.dimension = form.get("dimension");
  S.input = form.get("input");
  S.annotator = String(form.get("annotator") || "").trim();
  $("login-error").textContent = "";
  try {
    await loadLists();
    show("lists");
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

$("logout").addEventListener("click", () => { S.annotator = null; show("login"); });

// -- 2. the two lists -------------------------------------------------------------------------
async function loadLists() {
  const data = await api("/api/videos", { dimension: S.dimension, annotator: S.annotator });
  $("who").textContent = `(${data.annotator}, ${data.dimension}, ${S.input === "gamepad" ? "joystick" : "mouse and keyboard"})`;
  fill($("todo"), data.todo, "Nothing left: every video is annotated.");
  fill($("done"), data.done, "None yet.");
}

function fill(list, videos, empty) {
  list.replaceChildren();
  if (!videos.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = empty;
    list.append(li);
  }
  for (const v of videos) {
    const li = document.createElement("li");
    li.dataset.id = v.id;
    li.textContent = v.id;
    const meta = document.createElement("span");
    meta.className = "meta";
    const length = v.duration === null ? "length unknown" : `${v.duration.toFixed(1)} s`;
    meta.textContent = `${v.split} · ${length} · ${v.codec}${v.draft ? " · unfinished" : ""}`;
    li.append(meta);
    li.addEventListener("click", () => openVideo(v));
    list.append(li);
  }
}

// -- 3. the player ----------------------------------------------------------------------------
async function openVideo(v) {
  S.video = v;
  reset();
  $("title").textContent = `${v.id} (${S.dimension})`;
  $("player-error").textContent = "";
  $("help-keyboard").hidden = S.input !== "keyboard";
  $("help-gamepad").hidden = S.input !== "gamepad";
  slider.disabled = S.input === "gamepad";
  show("player");
  const { draft } = await api("/api/draft/load", { dimension: S.dimension, video: v.id, annotator: S.annotator });
  if (draft && draft.times.length) {
    const upTo = draft.times[draft.times.length - 1];
    if (confirm(`Resume your unfinished session of ${v.id} (annotated up to ${upTo.toFixed(1)} s)?\n` +
                "OK resumes it; Cancel starts over.")) {
      S.times = draft.times; S.values = draft.values; S.reached = upTo;
      S.dirty = true;
      // A session that had reached the end and was closed unsaved: ready to save as it was.
      if (v.duration && upTo >= v.duration - END_SLACK_S) finish();
      setValue(S.values[S.values.length - 1], false);
    } else {
      await api("/api/draft/discard", { dimension: S.dimension, video: v.id, annotator: S.annotator });
    }
  }
  video.src = `/video/${encodeURIComponent(v.id)}`;
  video.addEventListener("loadedmetadata", () => {
    // Audio the browser decodes, video it can't: no error event, only an empty picture.
    if (!video.videoWidth) unplayable();
    else if (S.reached > 0) video.currentTime = S.reached;
  }, { once: true });
  status();
}

function reset() {
  Object.assign(S, { times: [], values: [], reached: 0, complete: false, dirty: false });
  setValue(0, false);
  $("save").disabled = true;
  $("play").disabled = false;
}

function setValue(v, sampleNow = true) {
  S.value = Math.round(clamp(Number(v)) * 100) / 100;
  slider.value = S.value;
  $("value").textContent = S.value.toFixed(2);
  if (sampleNow && !video.paused) sample(false);
}

// A sample at the video's current time (or at ``at``): always when forced (play, pause), else on
// change only.
function sample(force, at) {
  // During a seek currentTime is already the target, not a time the person watched.
  if (!S.video || S.complete || (at === undefined && video.seeking)) return;
  const t = at === undefined ? video.currentTime : at;
  const n = S.times.length;
  if (n && t < S.times[n - 1]) return;  // the clock never runs back while playing
  if (!force && n && S.values[n - 1] === S.value) return;
  if (n && t === S.times[n - 1]) S.values[n - 1] = S.value;
  else { S.times.push(t); S.values.push(S.value); }
  S.reached = Math.max(S.reached, t);
  S.dirty = true;
}

video.addEventListener("play", () => sample(true));
video.addEventListener("pause", () => {
  if (video.ended || !S.times.length) return;
  // At the last time seen playing: by now currentTime may already be a seek's target.
  sample(true, S.reached);
  saveDraft();
});
video.addEventListener("ended", () => {
  if (S.complete) return;
  // The last sample stands at the end of the video, so the trace covers all of it.
  const end = video.duration;
  const n = S.times.length;
  if (n && end > S.times[n - 1]) { S.times.push(end); S.values.push(S.value); }
  S.reached = end;
  S.dirty = true;
  finish();
  saveDraft();
});

function finish() {
  S.complete = true;
  $("save").disabled = false;
  $("play").disabled = true;
  status();
}
video.addEventListener("seeking", () => {
  const t = video.currentTime;
  if (t > S.reached + SKIP_SLACK_S) {
    $("player-error").textContent = "You can't skip ahead of your trace: annotate the video in order.";
    video.currentTime = S.reached;
    return;
  }
  const n = S.times.length;
  // A seek to where the trace stops can land a hair earlier (the media clock's rounding): not back.
  if (n && t < S.times[n - 1] - SAME_TIME_S) {
    // Going back: what follows t will be annotated again, so it is dropped now.
    let keep = 0;
    while (keep < n && S.times[keep] <= t + SAME_TIME_S) keep++;
    const first = S.values[0];
    S.times.length = keep; S.values.length = keep;
    // The slider goes back to the trace's value there (before the first sample: its first value).
    if (S.input === "keyboard") setValue(keep ? S.values[keep - 1] : first, false);
    S.reached = t;
    S.complete = false;
    S.dirty = true;
    $("save").disabled = true;
    $("play").disabled = false;
  }
  status();
});
video.addEventListener("error", unplayable);
function unplayable() {
  const v = S.video;
  if (!v) return;
  $("player-error").textContent =
    `Your browser can't play ${v.file} (codec: ${v.codec}). Convert it to H.264 MP4 or WebM, ` +
    `e.g. ffmpeg -i ${v.file} -c:v libx264 -pix_fmt yuv420p ${v.id}.mp4, put that in place of it ` +
    "in the release, and start the tool again.";
  $("play").disabled = true;
}

function togglePlay() {
  if (S.complete || $("player").hidden || $("play").disabled) return;
  if (video.paused) video.play().catch((e) => { $("player-error").textContent = `Can't play: ${e.message}`; });
  else video.pause();
}

$("play").addEventListener("click", togglePlay);
$("back").addEventListener("click", () => { video.currentTime = Math.max(0, video.currentTime - 5); });
$("redo").addEventListener("click", async () => {
  if (S.times.length && !confirm("Drop your trace of this video and annotate it again from the start?")) return;
  video.pause();
  reset();  // first, so that a draft still queued finds nothing to send
  const v = S.video;
  await enqueue(() => api("/api/draft/discard", { dimension: S.dimension, video: v.id, annotator: S.annotator }));
  video.currentTime = 0;
  status();
});
$("save").addEventListener("click", async () => {
  $("save").disabled = true;
  const body = { dimension: S.dimension, video: S.video.id, annotator: S.annotator,
                 times: S.times.slice(), values: S.values.slice() };
  try {
    // After any draft still on its way, so that none lands after the trace replaced it.
    const r = await enqueue(() => api("/api/trace", body));
    S.dirty = false;
    $("status").textContent = `Saved ${r.samples} samples to ${r.path}`;
    await loadLists();
  } catch (error) {
    $("player-error").textContent = error.message;
    $("save").disabled = false;
  }
});
$("close").addEventListener("click", async () => {
  video.pause();
  if (S.dirty) await saveDraft();  // finished but not saved is kept too, and resumes finished
  video.removeAttribute("src");
  video.load();
  S.video = null;
  await loadLists();
  show("lists");
});
slider.addEventListener("input", () => { if (S.input === "keyboard") setValue(slider.value); });

window.addEventListener("keydown", (event) => {
  if ($("player").hidden || event.target.tagName === "INPUT" && event.target.type === "text") return;
  if (event.key === " ") { event.preventDefault(); togglePlay(); return; }
  if (event.key === "b" || event.key === "B") { event.preventDefault(); $("back").click(); return; }
  if (event.key in KEY_STEP && S.input === "keyboard") {
    event.preventDefault();
    setValue(S.value + KEY_STEP[event.key]);
  }
});

// Drafts, discards and the final save go to the server one after the other, each with the state
// of its turn, so an older one can never land after a newer one.
let queue = Promise.resolve();
function enqueue(job) {
  const run = queue.then(job);
  queue = run.catch(() => null);
  return run;
}
function saveDraft(keepalive = false) {
  S.lastDraft = performance.now();
  return enqueue(async () => {
    if (!S.video || !S.dirty || !S.times.length) return;
    try {
      await api("/api/draft/save", {
        dimension: S.dimension, video: S.video.id, annotator: S.annotator,
        times: S.times.slice(), values: S.values.slice(), position: S.reached,
      }, keepalive);
    } catch (error) {
      $("player-error").textContent = `Could not keep your unfinished session: ${error.message}`;
    }
  });
}
window.addEventListener("beforeunload", () => { if (S.dirty) saveDraft(true); });

// -- the joystick (Gamepad API), polled once per animation frame --------------------------------
window.addEventListener("gamepadconnected", (event) => { S.padIndex = event.gamepad.index; });
window.addEventListener("gamepaddisconnected", () => { S.padIndex = null; });

function pollPad() {
  const pads = navigator.getGamepads ? Array.from(navigator.getGamepads()).filter(Boolean) : [];
  const pad = pads.find((p) => p.index === S.padIndex) || pads[0];
  if (!pad) {
    $("pad-state").textContent = "No gamepad yet: connect one and press any of its buttons.";
    return;
  }
  $("pad-state").textContent = `Using ${pad.id}.`;
  const y = -(pad.axes[1] || 0);  // a stick reads -1 when pushed up
  setValue(Math.abs(y) < DEAD_ZONE ? 0 : y);
  const pressed = Boolean(pad.buttons[0] && pad.buttons[0].pressed);
  if (pressed && !S.padButton) togglePlay();
  S.padButton = pressed;
}

// -- the loop: device, samples, drafts, drawing ---------------------------------------------------
function tick() {
  if (!$("player").hidden && S.video) {
    if (S.input === "gamepad") pollPad();
    if (!video.paused && !video.ended && !video.seeking) {
      sample(false);
      S.reached = Math.max(S.reached, video.currentTime);
      if (performance.now() - S.lastDraft > DRAFT_EVERY_MS) saveDraft();
    }
    status();
    draw();
  }
  requestAnimationFrame(tick);
}
requestAnimationFrame(tick);

function status() {
  if (!S.video) return;
  const d = Number.isFinite(video.duration) ? video.duration : S.video.duration;
  const of = d ? ` of ${d.toFixed(2)} s` : "";
  $("status").dataset.samples = S.times.length;
  if (!$("status").textContent.startsWith("Saved") || S.dirty) {
    $("status").textContent = `${S.times.length} samples · annotated 0.00-${S.reached.toFixed(2)} s${of}` +
      (S.complete ? " · finished: press Save" : "");
  }
}

function draw() {
  const canvas = $("trace");
  const g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const d = Number.isFinite(video.duration) ? video.duration : (S.video.duration || 1);
  const x = (t) => (t / d) * W, y = (v) => ((1 - v) / 2) * H;
  g.clearRect(0, 0, W, H);
  g.strokeStyle = "#ccc"; g.beginPath(); g.moveTo(0, y(0)); g.lineTo(W, y(0)); g.stroke();
  g.strokeStyle = "#1f77b4"; g.lineWidth = 2; g.beginPath();
  S.times.forEach((t, i) => {
    if (i === 0) g.moveTo(x(t), y(S.values[i]));
    else { g.lineTo(x(t), y(S.values[i - 1])); g.lineTo(x(t), y(S.values[i])); }
  });
  if (S.times.length && !S.complete) g.lineTo(x(S.reached), y(S.values[S.values.length - 1]));
  g.stroke();
  g.strokeStyle = "#d62728"; g.lineWidth = 1; g.beginPath();
  g.moveTo(x(video.currentTime), 0); g.lineTo(x(video.currentTime), H); g.stroke();
}

fetch("/api/info").then((r) => r.json()).then((info) => { $("dataset").textContent = info.dataset; });
