// The labeling page. It talks only to the local server (`tenun annotate`),
// which signs with the worker's key; nothing here is loaded from elsewhere.
//
// An answer goes to the server at once and waits there a few seconds as a
// draft (Undo takes it back) before the server commits it with others in
// one transaction: nobody waits for a block.
"use strict";

const $ = (id) => document.getElementById(id);
let state = null;
let busy = false;

// Keys for labels: 1..9, 0, then the top letter row (S, Z and M are taken).
const LABEL_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "q", "w", "e", "r", "t", "y"];
// Box colours, one per class.
const COLOURS = ["#dc2626", "#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d",
  "#7c3aed", "#ea580c", "#0d9488", "#4f46e5", "#be123c", "#15803d", "#a16207", "#1d4ed8"];

function tnn(utnn) {
  const whole = Math.floor(utnn / 1e6), frac = String(utnn % 1e6).padStart(6, "0");
  return `${whole}.${frac.replace(/0{1,4}$/, "")} TNN`;
}

// The server's per-run token, from the URL `tenun annotate` printed.
const token = new URLSearchParams(location.search).get("token") || "";

async function call(method, path, body) {
  const headers = { "Tenun-Token": token };
  if (body) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(text.trim() || res.statusText);
  }
  // 422: the action was refused, but the reply is the page state with the reason.
  if (!res.ok && res.status !== 422) throw new Error(data.error || res.statusText);
  return data;
}

const task = () => (state && state.job && state.job.task) || "choice";

// ---- the item on screen -------------------------------------------------

// Grid items are square images of gray levels (an 8x8 digit: 0..16),
// drawn dark on light like ink on paper.
function drawGridOn(ctx, px, w, h) {
  const n = Math.round(Math.sqrt(px.length)) || 1, cw = w / n, ch = h / n;
  const top = Math.max(16, ...px);
  px.forEach((v, i) => {
    const g = 255 - Math.round((255 * v) / top);
    ctx.fillStyle = `rgb(${g},${g},${g})`;
    ctx.fillRect((i % n) * cw, Math.floor(i / n) * ch, Math.ceil(cw), Math.ceil(ch));
  });
}

// Image items are fetched through the server, which checks each against
// its CID; the token travels as a header, so the image comes as a blob.
const imageCache = new Map();
async function loadImage(item) {
  if (imageCache.has(item)) return imageCache.get(item);
  const res = await fetch(`/api/image?item=${item}`, { headers: { "Tenun-Token": token } });
  if (!res.ok) throw new Error((await res.text()).trim());
  const img = new Image();
  img.src = URL.createObjectURL(await res.blob());
  await img.decode();
  if (imageCache.size > 16) imageCache.clear();
  imageCache.set(item, img);
  return img;
}

let shown = null; // the item whose editors are set up

function showItem(cur) {
  const key = `${state.job.id}/${cur.item}/${cur.draft ? JSON.stringify(cur.draft) : ""}`;
  if (shown === key) return;
  shown = key;
  $("itemno").textContent = `#${cur.item}`;
  $("skippedbadge").hidden = !cur.skipped;
  const t = task(), isGrid = Array.isArray(cur.pixels) && cur.pixels.length > 0, isImage = !!cur.image;
  $("text").hidden = isGrid || isImage;
  $("text").textContent = cur.text || "";
  $("grid").hidden = !(isGrid && t !== "box");
  $("image").hidden = !(isImage && t !== "box");
  $("stage").hidden = t !== "box";
  if (isGrid && t !== "box") {
    const c = $("grid"), ctx = c.getContext("2d");
    ctx.clearRect(0, 0, c.width, c.height);
    drawGridOn(ctx, cur.pixels, c.width, c.height);
  }
  if (isImage && t !== "box") {
    loadImage(cur.item).then((img) => ($("image").src = img.src)).catch((e) => ($("message").textContent = e.message));
  }
  // Editors start empty, or with the answer undo took back.
  const d = cur.draft || {};
  [...$("labels").children].forEach((b, i) => b.classList.toggle("prev", !!cur.draft && t === "choice" && d.label === i));
  if (t === "multi") setMask(d.label || 0);
  if (t === "rating") setRating(d.value !== undefined ? d.value : Math.round((state.job.rating_min + state.job.rating_max) / 2));
  if (t === "box") {
    box.boxes = (d.boxes || []).map((b) => ({ ...b }));
    box.sel = box.boxes.length ? box.boxes.length - 1 : -1;
    box.background = null;
    if (isImage) loadImage(cur.item).then((img) => { box.background = img; drawBoxes(); }).catch((e) => ($("message").textContent = e.message));
    else if (isGrid) box.background = { pixels: cur.pixels };
    setupStage();
  }
  document.body.dataset.item = String(cur.item);
}

// ---- single choice ---------------------------------------------------------

function renderLabels(labels) {
  const box = $("labels");
  if (box.dataset.labels === labels.join("\u0000")) return;
  box.dataset.labels = labels.join("\u0000");
  box.replaceChildren();
  labels.forEach((name, i) => {
    const b = document.createElement("button");
    b.className = "labelbtn";
    b.id = `label-${i}`;
    const k = document.createElement("kbd");
    k.textContent = LABEL_KEYS[i].toUpperCase();
    b.append(k, name);
    b.addEventListener("click", () => choose(i));
    box.append(b);
  });
}

function choose(i) {
  if (!state || !state.current || i >= state.job.labels.length) return;
  answer({ label: i });
}

// ---- multi-label: each label a yes/no question ---------------------------

let mask = 0;
function renderMulti(labels) {
  const box = $("multi");
  if (box.dataset.labels !== labels.join("\u0000")) {
    box.dataset.labels = labels.join("\u0000");
    box.replaceChildren();
    labels.forEach((name, i) => {
      const l = document.createElement("label");
      l.className = "check";
      l.id = `check-${i}`;
      const cb = document.createElement("input");
      cb.type = "checkbox";
      cb.addEventListener("change", () => setMask(cb.checked ? mask | (1 << i) : mask & ~(1 << i)));
      const k = document.createElement("kbd");
      k.textContent = LABEL_KEYS[i].toUpperCase();
      l.append(cb, k, name);
      box.append(l);
    });
  }
}
function setMask(m) {
  mask = m;
  [...$("multi").children].forEach((l, i) => {
    const on = (mask >> i) & 1;
    l.querySelector("input").checked = !!on;
    l.classList.toggle("on", !!on);
  });
  document.body.dataset.mask = String(mask);
}

// ---- ratings: a slider and a typed value ----------------------------------

function renderRating(j) {
  const s = $("ratingslider"), v = $("ratingvalue");
  s.min = v.min = j.rating_min;
  s.max = v.max = j.rating_max;
  $("ratingrange").textContent = `${j.rating_min} to ${j.rating_max}`;
}
function setRating(x) {
  const j = state.job;
  x = Math.max(j.rating_min, Math.min(j.rating_max, Math.round(Number(x) || 0)));
  $("ratingslider").value = x;
  $("ratingvalue").value = x;
  document.body.dataset.rating = String(x);
}
$("ratingslider").addEventListener("input", (e) => setRating(e.target.value));
$("ratingvalue").addEventListener("change", (e) => setRating(e.target.value));

// ---- boxes on an image: draw, move, resize with the mouse or the keys -----

const box = { boxes: [], sel: -1, cls: 0, drag: null, background: null };
const HANDLE = 8; // screen pixels around a corner that grab it

function setupStage() {
  const c = $("boxcanvas"), j = state.job;
  if (c.width !== j.width || c.height !== j.height) {
    c.width = j.width;
    c.height = j.height;
  }
  // Shown at least 480 pixels wide, in image pixels underneath.
  c.style.width = `${Math.min(640, Math.max(480, j.width))}px`;
  renderBoxList();
  drawBoxes();
}

function renderClasses(labels) {
  const el = $("classes");
  if (el.dataset.labels !== labels.join("\u0000")) {
    el.dataset.labels = labels.join("\u0000");
    el.replaceChildren();
    labels.forEach((name, i) => {
      const b = document.createElement("button");
      b.className = "classbtn";
      b.id = `class-${i}`;
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = COLOURS[i % COLOURS.length];
      const k = document.createElement("kbd");
      k.textContent = LABEL_KEYS[i].toUpperCase();
      b.append(sw, k, name);
      b.addEventListener("click", () => pickClass(i));
      el.append(b);
    });
  }
  [...el.children].forEach((b, i) => b.classList.toggle("on", i === box.cls));
}

// A class key picks the class of new boxes and relabels the selected box.
function pickClass(i) {
  if (i >= state.job.labels.length) return;
  box.cls = i;
  if (box.sel >= 0) box.boxes[box.sel].class = i;
  renderClasses(state.job.labels);
  renderBoxList();
  drawBoxes();
}

function imagePoint(e) {
  const c = $("boxcanvas"), r = c.getBoundingClientRect();
  return {
    x: Math.max(0, Math.min(c.width, Math.round(((e.clientX - r.left) * c.width) / r.width))),
    y: Math.max(0, Math.min(c.height, Math.round(((e.clientY - r.top) * c.height) / r.height))),
    scale: c.width / r.width,
  };
}

function hit(p) {
  const grab = HANDLE * p.scale;
  for (let i = box.boxes.length - 1; i >= 0; i--) {
    const b = box.boxes[i];
    const corners = [[b.x, b.y], [b.x + b.w, b.y], [b.x, b.y + b.h], [b.x + b.w, b.y + b.h]];
    for (const [cx, cy] of corners) {
      if (Math.abs(p.x - cx) <= grab && Math.abs(p.y - cy) <= grab) {
        // Resize from the opposite corner.
        return { i, mode: "resize", ax: cx === b.x ? b.x + b.w : b.x, ay: cy === b.y ? b.y + b.h : b.y };
      }
    }
    if (p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h) return { i, mode: "move" };
  }
  return null;
}

function clampBox(b) {
  const j = state.job;
  b.w = Math.max(1, Math.min(b.w, j.width));
  b.h = Math.max(1, Math.min(b.h, j.height));
  b.x = Math.max(0, Math.min(b.x, j.width - b.w));
  b.y = Math.max(0, Math.min(b.y, j.height - b.h));
  return b;
}

$("boxcanvas").addEventListener("mousedown", (e) => {
  e.preventDefault();
  const p = imagePoint(e), h = hit(p);
  if (h) {
    box.sel = h.i;
    const b = box.boxes[h.i];
    box.cls = b.class;
    box.drag = h.mode === "move" ? { mode: "move", dx: p.x - b.x, dy: p.y - b.y } : { mode: "resize", ax: h.ax, ay: h.ay };
  } else if (box.boxes.length < state.job.max_boxes) {
    box.boxes.push({ x: p.x, y: p.y, w: 1, h: 1, class: box.cls });
    box.sel = box.boxes.length - 1;
    box.drag = { mode: "resize", ax: p.x, ay: p.y, fresh: true };
  } else {
    $("message").textContent = `At most ${state.job.max_boxes} boxes per image.`;
  }
  renderClasses(state.job.labels);
  renderBoxList();
  drawBoxes();
});
window.addEventListener("mousemove", (e) => {
  if (!box.drag || box.sel < 0) return;
  const p = imagePoint(e), b = box.boxes[box.sel], d = box.drag;
  if (d.mode === "move") {
    b.x = p.x - d.dx;
    b.y = p.y - d.dy;
  } else {
    b.x = Math.min(d.ax, p.x);
    b.y = Math.min(d.ay, p.y);
    b.w = Math.abs(p.x - d.ax);
    b.h = Math.abs(p.y - d.ay);
  }
  clampBox(b);
  renderBoxList();
  drawBoxes();
});
window.addEventListener("mouseup", () => {
  if (!box.drag) return;
  const b = box.boxes[box.sel];
  // A click without a drag draws no box.
  if (box.drag.fresh && b && (b.w < 3 || b.h < 3)) {
    box.boxes.splice(box.sel, 1);
    box.sel = box.boxes.length - 1;
  }
  box.drag = null;
  renderBoxList();
  drawBoxes();
});

function drawBoxes() {
  const c = $("boxcanvas"), ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  const bg = box.background;
  if (bg instanceof HTMLImageElement) ctx.drawImage(bg, 0, 0, c.width, c.height);
  else if (bg && bg.pixels) drawGridOn(ctx, bg.pixels, c.width, c.height);
  document.body.dataset.background = bg ? "shown" : "loading";
  const px = c.width / (c.getBoundingClientRect().width || c.width);
  box.boxes.forEach((b, i) => {
    const col = COLOURS[b.class % COLOURS.length];
    ctx.lineWidth = (i === box.sel ? 3 : 2) * px;
    ctx.strokeStyle = col;
    ctx.strokeRect(b.x, b.y, b.w, b.h);
    ctx.fillStyle = col;
    ctx.font = `${12 * px}px system-ui, sans-serif`;
    ctx.fillText(state.job.labels[b.class] || String(b.class), b.x + 3 * px, b.y + 13 * px);
    if (i === box.sel) {
      const s = 4 * px;
      for (const [x, y] of [[b.x, b.y], [b.x + b.w, b.y], [b.x, b.y + b.h], [b.x + b.w, b.y + b.h]]) ctx.fillRect(x - s, y - s, 2 * s, 2 * s);
    }
  });
  document.body.dataset.boxes = JSON.stringify(box.boxes);
}

function renderBoxList() {
  const ol = $("boxlist");
  ol.replaceChildren();
  box.boxes.forEach((b, i) => {
    const li = document.createElement("li");
    li.textContent = `${state.job.labels[b.class]} at (${b.x}, ${b.y}) ${b.w}×${b.h}`;
    li.className = i === box.sel ? "sel" : "";
    li.addEventListener("click", () => { box.sel = i; renderBoxList(); drawBoxes(); });
    ol.append(li);
  });
}

// Keys on the selected box: arrows move it, Shift+arrows resize it, Tab
// selects the next box, Delete removes it, N adds one in the middle.
function boxKey(e) {
  const j = state.job, step = e.altKey ? 1 : 5;
  if (e.key === "n" && box.boxes.length < j.max_boxes) {
    const w = Math.max(4, Math.round(j.width / 4)), h = Math.max(4, Math.round(j.height / 4));
    box.boxes.push(clampBox({ x: Math.round((j.width - w) / 2), y: Math.round((j.height - h) / 2), w, h, class: box.cls }));
    box.sel = box.boxes.length - 1;
  } else if (e.key === "Tab" && box.boxes.length) {
    box.sel = (box.sel + 1) % box.boxes.length;
    box.cls = box.boxes[box.sel].class;
    renderClasses(j.labels);
  } else if ((e.key === "Delete" || e.key === "Backspace") && box.sel >= 0) {
    box.boxes.splice(box.sel, 1);
    box.sel = box.boxes.length - 1;
  } else if (e.key.startsWith("Arrow") && box.sel >= 0) {
    const b = box.boxes[box.sel];
    const dx = e.key === "ArrowLeft" ? -step : e.key === "ArrowRight" ? step : 0;
    const dy = e.key === "ArrowUp" ? -step : e.key === "ArrowDown" ? step : 0;
    if (e.shiftKey) { b.w += dx; b.h += dy; } else { b.x += dx; b.y += dy; }
    clampBox(b);
  } else {
    return false;
  }
  renderBoxList();
  drawBoxes();
  return true;
}

// ---- answering, skipping, undoing ------------------------------------------

function submitTyped() {
  const t = task();
  if (t === "multi") answer({ label: mask });
  else if (t === "rating") answer({ value: Number($("ratingvalue").value) });
  else if (t === "box") answer({ boxes: box.boxes.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, class: b.class })) });
}

function answer(a) {
  const item = state.current.item;
  act(() => call("POST", "/api/answer", { item, ...a }));
}
function skip() {
  if (state && state.current) act(() => call("POST", "/api/skip", { item: state.current.item }));
}
function undo() {
  act(() => call("POST", "/api/undo"));
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || !state || !state.job) return;
  const typing = e.target instanceof HTMLInputElement && e.target.type === "number";
  const t = task();
  if (!state.current) {
    if (e.key === "m" && !$("morebtn").hidden) { e.preventDefault(); act(() => call("POST", "/api/more")); }
    else if (e.key === "z") { e.preventDefault(); undo(); }
    return;
  }
  if (e.key === "Enter" && t !== "choice") { e.preventDefault(); submitTyped(); return; }
  if (typing) return; // digits go into the typed rating
  if (t === "box" && boxKey(e)) { e.preventDefault(); return; }
  if (e.key === "s") { e.preventDefault(); skip(); return; }
  if (e.key === "z") { e.preventDefault(); undo(); return; }
  const i = LABEL_KEYS.indexOf(e.key.toLowerCase());
  if (t === "rating" && (e.key === "ArrowLeft" || e.key === "ArrowRight" || e.key === "ArrowUp" || e.key === "ArrowDown")) {
    e.preventDefault();
    const span = state.job.rating_max - state.job.rating_min;
    const step = e.shiftKey ? Math.max(1, Math.round(span / 10)) : 1;
    setRating(Number($("ratingvalue").value) + (e.key === "ArrowLeft" || e.key === "ArrowDown" ? -step : step));
    return;
  }
  if (i < 0 || i >= state.job.labels.length) return;
  e.preventDefault();
  if (t === "choice") choose(i);
  else if (t === "multi") setMask(mask ^ (1 << i));
  else if (t === "box") pickClass(i);
});
$("submitbtn").addEventListener("click", submitTyped);
$("skipbtn").addEventListener("click", skip);
$("undobtn").addEventListener("click", undo);
$("joinbtn").addEventListener("click", () => act(() => call("POST", "/api/join")));
$("morebtn").addEventListener("click", () => act(() => call("POST", "/api/more")));

// ---- the rest of the page ----------------------------------------------------

function describe(a) {
  const j = state.job, t = task();
  if (t === "choice") return j.labels[a.label] ?? String(a.label);
  if (t === "multi") return j.labels.filter((_, i) => (a.label >> i) & 1).join(", ") || "none";
  if (t === "rating") return String(a.value || 0);
  const boxes = a.boxes || [];
  return boxes.length ? `${boxes.length} box${boxes.length > 1 ? "es" : ""}: ` + boxes.map((b) => j.labels[b.class]).join(", ") : "no boxes";
}

function renderReview(s) {
  const tb = $("review").querySelector("tbody");
  tb.replaceChildren();
  for (const r of s.review) {
    const tr = document.createElement("tr");
    const td = (text, cls) => { const c = document.createElement("td"); c.textContent = text; if (cls) c.className = cls; tr.append(c); };
    td(`#${r.item}`);
    td(r.answer ? describe(r.answer) : "?");
    td(r.state === "draft" ? "waiting (undo with Z)" : r.state, `state-${r.state}`);
    tb.append(tr);
  }
  $("reviewcard").hidden = s.review.length === 0;
}

function minutes(blocks, ms) {
  if (!ms) return `${blocks} blocks`;
  const m = (blocks * ms) / 60000;
  return `${m < 10 ? m.toFixed(1) : Math.round(m)} min (${blocks} blocks)`;
}

function renderDeadline(s) {
  const j = s.job;
  const open = j.status === "open" && s.height < j.commit_end;
  const left = Math.max(0, j.commit_end - s.height);
  $("deadline").textContent = open ? `Answers close in about ${minutes(left, s.block_ms)}.` : "";
  // Warn in the last tenth of the window, or the last five minutes.
  const window = Math.max(1, j.commit_end - j.created);
  const warn = open && s.joined && (left * 10 <= window || (s.block_ms && left * s.block_ms <= 5 * 60000));
  $("deadlinewarn").hidden = !warn;
  $("deadlinewarn").textContent = warn ? `Hurry: this job stops taking answers in about ${minutes(left, s.block_ms)}. Answers waiting to commit go out at once.` : "";
}

function render(s) {
  state = s;
  $("address").textContent = s.address;
  $("height").textContent = s.height;
  $("message").textContent = s.message || "";
  const j = s.job;
  $("title").textContent = j ? j.title : "No open job yet";
  if (!j) return;
  const t = task();
  document.body.dataset.task = t;
  const what = { choice: "choose one label", multi: "tick every label that applies", rating: `rate from ${j.rating_min} to ${j.rating_max}`, box: "draw a box around each object" }[t];
  $("jobmeta").textContent = `Job ${j.id} · ${j.item_count} items · ${what} · ${tnn(j.reward)} per answer · ${j.status}`;
  renderDeadline(s);
  $("instructions").hidden = !(j.instructions || (j.examples || []).length);
  $("instructtext").textContent = j.instructions || "";
  const ex = $("examples");
  if (ex.dataset.n !== String((j.examples || []).length)) {
    ex.dataset.n = String((j.examples || []).length);
    ex.replaceChildren(...(j.examples || []).map((x) => { const li = document.createElement("li"); li.textContent = x; return li; }));
  }
  $("stake").textContent = tnn(j.stake);
  $("labels").hidden = t !== "choice";
  $("multi").hidden = t !== "multi";
  $("rating").hidden = t !== "rating";
  $("boxtools").hidden = t !== "box";
  $("submitbtn").hidden = t === "choice";
  if (t === "choice") renderLabels(j.labels);
  if (t === "multi") renderMulti(j.labels);
  if (t === "rating") renderRating(j);
  if (t === "box") renderClasses(j.labels);

  const open = j.status === "open" && s.height < j.commit_end;
  $("join").hidden = !(open && !s.joined);
  $("work").hidden = !s.current;
  $("idle").hidden = !(s.joined && !s.current);
  if (s.current) showItem(s.current);
  else {
    shown = null;
    delete document.body.dataset.item;
    $("idletext").textContent = !open
      ? "The job no longer takes answers. Your reveals and pay settle on chain."
      : s.drafts
        ? "All your items are answered; the last answers are being committed."
        : "No item waiting. Ask for more, or wait for items other workers disagreed on.";
    $("morebtn").hidden = !open;
  }
  $("hint").textContent = {
    choice: "Keys: the key on each label chooses it; S skips; Z undoes the last answer while it waits to commit.",
    multi: "Keys: the key on each label ticks or unticks it; Enter submits; S skips; Z undoes.",
    rating: "Keys: arrows change the rating by 1 (Shift: a tenth of the range), or type it; Enter submits; S skips; Z undoes.",
    box: "Mouse: drag on the image to draw a box, drag a box to move it, drag a corner to resize. Keys: a label's key picks the class (and relabels the selected box), N adds a box, Tab selects the next, arrows move it (Shift+arrows resize, Alt: by 1 pixel), Delete removes it, Enter submits, S skips, Z undoes.",
  }[t];

  $("done").textContent = s.done;
  $("assigned").textContent = s.assigned;
  $("drafts").textContent = s.drafts;
  $("committed").textContent = s.committed;
  $("revealed").textContent = s.revealed;
  $("bar").style.width = s.assigned ? `${(100 * s.done) / s.assigned}%` : "0";
  const fb = s.feedback;
  $("agreement").textContent = fb && fb.compared
    ? `${fb.agreed} of ${fb.compared} agree with other workers (${Math.round((100 * fb.agreed) / fb.compared)}%)`
    : "no revealed items shared yet";
  $("gold").textContent = fb && fb.gold
    ? `${fb.gold.correct} of ${fb.gold.answers} gold right · score ${(fb.gold.score_ppm / 1e4).toFixed(1)}%` + (fb.gold.reason ? ` · ${fb.gold.reason}` : "")
    : "sealed until the close";
  $("earnings").textContent = s.settled
    ? `${tnn(s.paid)} paid` + (s.slashed ? `, ${tnn(s.slashed)} slashed` : "")
    : `${tnn(s.expected)} expected`;
  $("balance").textContent = tnn(s.balance);
  $("bonded").textContent = tnn(s.bonded);
  renderReview(s);
  document.body.dataset.done = String(s.done);
  document.body.dataset.drafts = String(s.drafts);
  document.body.dataset.committed = String(s.committed);
  document.body.dataset.revealed = String(s.revealed);
}

async function act(fn) {
  if (busy) return;
  busy = true;
  try {
    render(await fn());
  } catch (e) {
    $("message").textContent = e.message;
  } finally {
    busy = false;
  }
}

async function poll() {
  if (!busy) {
    try {
      render(await call("GET", "/api/state"));
    } catch (e) {
      $("message").textContent = e.message;
    }
  }
  setTimeout(poll, 1000);
}
poll();
