// The labeling page. It talks only to the local server (`tenun annotate`),
// which signs with the worker's key; nothing here is loaded from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);
let state = null;
let busy = false;

function tnn(utnn) {
  const whole = Math.floor(utnn / 1e6), frac = String(utnn % 1e6).padStart(6, "0");
  return `${whole}.${frac.replace(/0{1,4}$/, "")} TNN`;
}

// The server's per-run token, from the URL `tenun annotate` printed.
const token = new URLSearchParams(location.search).get("token") || "";

async function call(method, path, body) {
  const headers = { "Tenun-Token": token };
  if (body) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

// Grid items are square images of gray levels (an 8x8 digit: 0..16),
// drawn dark on light like ink on paper.
function drawGrid(px) {
  const c = $("grid"), ctx = c.getContext("2d");
  const n = Math.round(Math.sqrt(px.length)) || 1, cell = c.width / n;
  const top = Math.max(16, ...px);
  ctx.clearRect(0, 0, c.width, c.height);
  px.forEach((v, i) => {
    const g = 255 - Math.round((255 * v) / top);
    ctx.fillStyle = `rgb(${g},${g},${g})`;
    ctx.fillRect((i % n) * cell, Math.floor(i / n) * cell, cell, cell);
  });
}

function renderLabels(labels) {
  const box = $("labels");
  if (box.dataset.labels === labels.join("\u0000")) return;
  box.dataset.labels = labels.join("\u0000");
  box.replaceChildren();
  labels.forEach((name, i) => {
    const b = document.createElement("button");
    b.className = "labelbtn";
    b.id = `label-${i}`;
    const key = i < 9 ? String(i + 1) : i === 9 ? "0" : "";
    if (key) {
      const k = document.createElement("kbd");
      k.textContent = key;
      b.append(k);
    }
    b.append(name);
    b.addEventListener("click", () => choose(i));
    box.append(b);
  });
}

function render(s) {
  state = s;
  $("address").textContent = s.address;
  $("height").textContent = s.height;
  $("message").textContent = s.message || "";
  const j = s.job;
  $("title").textContent = j ? j.title : "No open job yet";
  if (j) {
    const left = Math.max(0, j.commit_end - s.height);
    $("jobmeta").textContent =
      `Job ${j.id} · ${j.item_count} items · ${j.labels.length} labels · ` +
      `${tnn(j.reward)} per answer · ${j.status}` + (j.status === "open" ? ` · ${left} blocks left to label` : "");
    $("stake").textContent = tnn(j.stake);
    renderLabels(j.labels);
  }
  const open = j && j.status === "open" && s.height < j.commit_end;
  $("join").hidden = !(open && !s.joined);
  $("work").hidden = !s.current;
  $("idle").hidden = !(s.joined && !s.current);
  if (s.current) {
    $("itemno").textContent = `#${s.current.item}`;
    document.body.dataset.item = String(s.current.item);
    const isGrid = Array.isArray(s.current.pixels) && s.current.pixels.length > 0;
    $("grid").hidden = !isGrid;
    $("text").hidden = isGrid;
    if (isGrid) drawGrid(s.current.pixels);
    else $("text").textContent = s.current.text;
  } else {
    delete document.body.dataset.item;
    $("idletext").textContent = !open
      ? "The job no longer takes labels. Your reveals and pay settle on chain."
      : "No item waiting. Ask for more, or wait for items other workers disagreed on.";
    $("morebtn").hidden = !open;
  }
  $("done").textContent = s.done;
  $("assigned").textContent = s.assigned;
  $("revealed").textContent = s.revealed;
  $("bar").style.width = s.assigned ? `${(100 * s.done) / s.assigned}%` : "0";
  $("earnings").textContent = s.settled
    ? `${tnn(s.paid)} paid` + (s.slashed ? `, ${tnn(s.slashed)} slashed` : "")
    : `${tnn(s.expected)} expected`;
  $("balance").textContent = tnn(s.balance);
  $("bonded").textContent = tnn(s.bonded);
  document.body.dataset.done = String(s.done);
  document.body.dataset.revealed = String(s.revealed);
}

async function act(fn) {
  if (busy) return;
  busy = true;
  document.querySelectorAll("button").forEach((b) => (b.disabled = true));
  try {
    render(await fn());
  } catch (e) {
    $("message").textContent = e.message;
  } finally {
    busy = false;
    document.querySelectorAll("button").forEach((b) => (b.disabled = false));
  }
}

function choose(i) {
  if (!state || !state.current || !state.job || i >= state.job.labels.length) return;
  const item = state.current.item;
  act(() => call("POST", "/api/label", { item, label: i }));
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key >= "1" && e.key <= "9") choose(Number(e.key) - 1);
  else if (e.key === "0") choose(9);
});
$("joinbtn").addEventListener("click", () => act(() => call("POST", "/api/join")));
$("morebtn").addEventListener("click", () => act(() => call("POST", "/api/more")));

async function poll() {
  if (!busy) {
    try {
      render(await call("GET", "/api/state"));
    } catch (e) {
      $("message").textContent = e.message;
    }
  }
  setTimeout(poll, 1500);
}
poll();
