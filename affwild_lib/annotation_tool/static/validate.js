// Validation mode (Sect. 3.4, Fig. 9): every annotator's trace of a video drawn in sync with it;
// the expert ticks the 2-4 that agree and saves the choice, which prepare then uses.
"use strict";

const $ = (id) => document.getElementById(id);
const video = $("video");
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"];
const V = { info: null, videos: [], data: null, checked: new Set() };

async function api(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  let data;
  try { data = await response.json(); } catch (e) { data = {}; }
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

async function start() {
  V.info = await (await fetch("/api/info")).json();
  $("dataset").textContent = V.info.dataset;
  V.videos = (await (await fetch("/api/catalog")).json()).videos;
  for (const d of V.info.dimensions) $("dimension").append(new Option(d, d));
  for (const v of V.videos) $("video-id").append(new Option(`${v.id} (${v.split})`, v.id));
  $("dimension").addEventListener("change", load);
  $("video-id").addEventListener("change", load);
  $("expert").addEventListener("input", update);
  await load();
  requestAnimationFrame(tick);
}

let loads = 0;  // a reply to an earlier choice of video or dimension is dropped, not shown

async function load() {
  $("error").textContent = ""; $("status").textContent = "";
  const id = $("video-id").value, dimension = $("dimension").value;
  const mine = ++loads;
  const v = V.videos.find((x) => x.id === id);
  video.src = `/video/${encodeURIComponent(id)}`;
  video.onerror = () => {
    $("error").textContent = `Your browser can't play ${v.file} (codec: ${v.codec}); the traces are drawn all the same.`;
  };
  let data = null;
  try {
    data = await api("/api/traces", { dimension, video: id });
  } catch (error) {
    if (mine === loads) $("error").textContent = error.message;
  }
  if (mine !== loads) return;
  V.data = data;
  V.checked = new Set((V.data && (V.data.selection || V.data.automatic)) || []);
  legend();
  update();
}

function names() { return V.data ? Object.keys(V.data.traces) : []; }

function legend() {
  const box = $("legend");
  box.replaceChildren();
  names().forEach((name, i) => {
    const label = document.createElement("label");
    const tick = document.createElement("input");
    tick.type = "checkbox"; tick.value = name; tick.checked = V.checked.has(name);
    tick.addEventListener("change", () => {
      if (tick.checked) V.checked.add(name); else V.checked.delete(name);
      update();
    });
    const swatch = document.createElement("span");
    swatch.className = "swatch"; swatch.style.background = COLOURS[i % COLOURS.length];
    const human = V.data.human.includes(name) ? " (tool)" : "";
    label.append(tick, swatch, `${name}${human}`);
    box.append(label);
  });
  const c = V.data && V.data.correlation;
  const corr = $("corr");
  corr.replaceChildren();
  if (c) {
    const table = document.createElement("table");
    table.className = "corr";
    const head = table.insertRow();
    head.insertCell().textContent = "r";
    c.names.forEach((n) => { head.insertCell().textContent = n; });
    c.matrix.forEach((row, i) => {
      const tr = table.insertRow();
      tr.insertCell().textContent = c.names[i];
      row.forEach((r) => { tr.insertCell().textContent = r.toFixed(2); });
    });
    corr.append("Correlation between annotators, on the video's frames:", table);
  }
}

function update() {
  const n = V.checked.size, k = V.info ? [V.info.k_min, V.info.k_max] : [2, 4];
  const sel = V.data && V.data.selection;
  const auto = V.data && V.data.automatic;
  $("choice-note").textContent = !V.data ? "" : names().length < 2
    ? "This video has fewer than two traces: nothing to validate."
    : `${n} chosen. ` + (sel ? `Saved expert choice: ${sel.join(", ")}. ` : "No expert choice saved yet. ") +
      (auto ? `Automatic choice: ${auto.join(", ")}.` : "");
  $("save-selection").disabled = !(n >= k[0] && n <= k[1] && $("expert").value.trim());
}

$("save-selection").addEventListener("click", async () => {
  try {
    const r = await api("/api/selection", {
      dimension: V.data.dimension, video: V.data.video,
      expert: $("expert").value.trim(), chosen: [...V.checked],
    });
    $("status").textContent = `Saved to ${r.path}`;
    V.data.selection = [...V.checked];
    update();
  } catch (error) {
    $("error").textContent = error.message;
  }
});

function tick() {
  draw();
  requestAnimationFrame(tick);
}

function draw() {
  const canvas = $("plot"), g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  g.clearRect(0, 0, W, H);
  if (!V.data) return;
  const v = V.videos.find((x) => x.id === $("video-id").value);
  const d = Number.isFinite(video.duration) ? video.duration : (v.duration || 1);
  const x = (t) => (t / d) * W, y = (val) => ((1 - val) / 2) * H;
  g.strokeStyle = "#ccc"; g.lineWidth = 1; g.beginPath(); g.moveTo(0, y(0)); g.lineTo(W, y(0)); g.stroke();
  g.fillStyle = "#666"; g.font = "11px sans-serif";
  g.fillText("+1", 2, 11); g.fillText("0", 2, y(0) - 2); g.fillText("-1", 2, H - 3);
  for (let t = 1; t < d; t += 1) { g.fillText(t % 5 ? "" : `${t} s`, x(t) + 2, H - 3); }
  names().forEach((name, i) => {
    const { times, values } = V.data.traces[name];
    g.strokeStyle = COLOURS[i % COLOURS.length];
    g.lineWidth = V.checked.has(name) ? 2.5 : 1;
    g.globalAlpha = V.checked.has(name) ? 1 : 0.35;
    g.beginPath();
    times.forEach((t, j) => { if (j === 0) g.moveTo(x(t), y(values[j])); else g.lineTo(x(t), y(values[j])); });
    g.stroke();
  });
  g.globalAlpha = 1;
  g.strokeStyle = "#000"; g.lineWidth = 1.5; g.beginPath();
  g.moveTo(x(video.currentTime), 0); g.lineTo(x(video.currentTime), H); g.stroke();
}

start().catch((error) => { $("error").textContent = error.message; });
