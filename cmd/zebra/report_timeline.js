// The script of zebra report's page: the figures, map and diff of any
// snapshot, from the JSON in <script id="data"> (reportData in
// report_data.go). The map is drawn as render draws its pictures
// (vmmap/render's layout: cells in address order, large free gaps and
// untouched reservations folded into bands) and the diff follows vmmap.Diff
// and vmmap.Change.String to the letter. Addresses are BigInts.
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const big = s => BigInt("0x" + s);
const REG = D.regions.map((r, id) => ({
  id, start: big(r[0]), end: big(r[1]), type: r[2], state: r[3], owner: D.strings[r[4]], path: D.strings[r[5]],
  block: r[6] ? big(r[6]) : big(r[0]), committed: big(r[7]), color: r[8], untouched: r[9] === 1,
}));
const last = D.frames.length - 1;
const byStart = (a, b) => a.start < b.start ? -1 : a.start > b.start ? 1 : 0;

// held returns the index of the frame that holds frame i's regions.
function heldIndex(i) {
  const f = D.frames[i];
  return f.ref === undefined ? i : f.ref;
}
const held = i => D.frames[heldIndex(i)];

// built keeps the last few frames' region lists: a frame stored as a
// difference is built from the one before it, so stepping the slider
// costs one difference, not a whole frame.
const built = new Map();

// regions returns frame i's regions (free ones left out), in address
// order, or null when the page holds no map of it (past its bound).
function regions(i) {
  const h = heldIndex(i), f = D.frames[h];
  if (f.nomap) return null;
  if (built.has(h)) return built.get(h);
  let out = [];
  if (f.from !== undefined) {
    const del = new Set(f.del || []);
    out = regions(f.from).filter(r => !del.has(r.id));
    for (const j of f.add || []) out.push(REG[j]);
    out.sort(byStart);
  } else {
    const runs = f.runs || [];
    for (let k = 0; k < runs.length; k += 2) {
      for (let j = runs[k]; j < runs[k] + runs[k + 1]; j++) out.push(REG[j]);
    }
  }
  built.set(h, out);
  if (built.size > 8) built.delete(built.keys().next().value);
  return out;
}

// ---- numbers as Go prints them ----

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

// fixed1 is Go's %.1f: the nearest tenth, a tie to the even one
// (toFixed takes the larger; ties are exactly x.25 and x.75).
function fixed1(v) {
  if (Number.isInteger(v * 4) && (v * 4) % 2 === 1) {
    let t = Math.floor(v * 10);
    if (t % 2 === 1) t++;
    return (t / 10).toFixed(1);
  }
  return v.toFixed(1);
}

// bytes is internal/units.Bytes.
function bytes(n) {
  if (n < 1024n) return n + " B";
  let v = Number(n), i = 0;
  while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i++; }
  if (v === Math.trunc(v)) return v.toFixed(0) + " " + UNITS[i];
  if (v >= 1023.95 && i < UNITS.length - 1) { v /= 1024; i++; }
  return fixed1(v) + " " + UNITS[i];
}

const hex = v => "0x" + v.toString(16);
const minB = (a, b) => a < b ? a : b, maxB = (a, b) => a > b ? a : b;

// ---- the diff: vmmap.Blocks, vmmap.Diff, vmmap.Change.String ----

function blocks(rs) {
  const out = [], at = new Map();
  for (const r of rs) {
    if (r.type === 0) continue;
    const k = r.type + ":" + r.block, i = at.get(k);
    if (i !== undefined) {
      const b = out[i];
      b.start = minB(b.start, r.start); b.end = maxB(b.end, r.end);
      b.committed += r.committed;
      continue;
    }
    at.set(k, out.length);
    out.push({start: r.start, end: r.end, type: r.type, owner: r.owner, path: r.path, committed: r.committed});
  }
  return out.sort(byStart); // stable, as Go's SortStableFunc
}

function committedMoved(x, y, gran) {
  const hi = maxB(x, y), d = hi - minB(x, y);
  return d >= gran && d >= hi / 10n;
}

// diff returns the changes from frame a to frame b.
function diff(a, b) {
  const gran = BigInt(held(b).gran || held(a).gran || 4096);
  const key = x => x.start + ":" + x.type;
  const before = new Map(), seen = new Set(), out = [];
  const ba = blocks(regions(a));
  for (const x of ba) before.set(key(x), x);
  for (const y of blocks(regions(b))) {
    const k = key(y), x = before.get(k);
    seen.add(k);
    if (x === undefined) out.push({kind: "appeared", after: y, start: y.start});
    else if (y.end > x.end) out.push({kind: "grew", before: x, after: y, start: y.start});
    else if (y.end < x.end) out.push({kind: "shrank", before: x, after: y, start: y.start});
    else if (x.owner !== y.owner || committedMoved(x.committed, y.committed, gran)) {
      out.push({kind: "changed", before: x, after: y, start: y.start});
    }
  }
  for (const x of ba) {
    if (!seen.has(key(x))) out.push({kind: "vanished", before: x, start: x.start});
  }
  return out.sort(byStart);
}

function changeText(c) {
  const b = c.kind === "vanished" ? c.before : c.after;
  let what = D.types[b.type];
  if (b.owner) what += " " + b.owner;
  else if (b.path) what += " " + b.path;
  const head = c.kind.padEnd(8) + " " + hex(b.start) + "-" + hex(b.end) + " " + what;
  switch (c.kind) {
    case "grew": case "shrank":
      return head + ": " + bytes(c.before.end - c.before.start) + " -> " + bytes(c.after.end - c.after.start);
    case "changed": {
      let was = "";
      if (c.before.owner !== c.after.owner) {
        was = " (was " + D.types[c.before.type] + (c.before.owner ? " " + c.before.owner : "") + ")";
      }
      return head + was + ", committed " + bytes(c.before.committed) + " -> " + bytes(c.after.committed);
    }
  }
  return head + ", " + bytes(b.end - b.start);
}

// ---- the map: vmmap.Snapshot.Normalized and render's layout ----

const GiB4 = 4n << 30n, WIDTH = 720, TARGET_ROWS = 256n, TARGET_HEIGHT = 768, BAND = 18;

// normalized clips frame i's regions to its span and fills the gaps with
// free space.
function normalized(i) {
  const span = held(i).span.map(big), out = [];
  let at = span[0];
  const free = (s, e) => ({start: s, end: e, type: 0, state: 0, owner: "", color: D.freeColor, untouched: false});
  for (const r of regions(i)) {
    if (r.end <= span[0] || r.start >= span[1]) continue;
    const c = {...r, start: maxB(r.start, span[0]), end: minB(r.end, span[1])};
    if (c.start > at && at < span[1]) out.push(free(at, minB(c.start, span[1])));
    out.push(c);
    at = maxB(at, c.end);
  }
  if (at < span[1]) out.push(free(at, span[1]));
  return out;
}

// layout places the regions on a stream of cells WIDTH to a row.
function layout(rs) {
  const size = r => r.end - r.start;
  let foldAbove = -1n; // never
  if (rs[rs.length - 1].end - rs[0].start > GiB4) {
    let used = 0n;
    for (const r of rs) if (r.type !== 0 && !r.untouched) used += size(r);
    foldAbove = maxB(used / 4n, 16n << 20n);
  }
  const folds = r => foldAbove >= 0n && (r.type === 0 || r.untouched) && size(r) > foldAbove;
  let drawn = 0n;
  for (const r of rs) if (!folds(r)) drawn += size(r);
  const cells = BigInt(WIDTH) * TARGET_ROWS, per = (drawn + cells - 1n) / cells;
  let bpp = 1n;
  while (bpp < per) bpp *= 2n;
  const placed = [], bands = [];
  let next = 0, segStart = rs[0].start, segCell = 0, folded = 0n;
  for (const r of rs) {
    const p = {r, fold: -1};
    if (folds(r)) {
      folded += size(r);
      p.first = next;
      if (placed.length && placed[placed.length - 1].fold >= 0) {
        p.fold = bands.length - 1; // folds in a row share one band
        bands[p.fold].last = r;
      } else {
        next = Math.ceil(next / WIDTH) * WIDTH;
        p.fold = bands.length;
        bands.push({before: next / WIDTH, first: r, last: r});
      }
      p.end = next;
      segStart = r.end; segCell = next;
    } else {
      const cellOf = a => segCell + Number((a - segStart) / bpp);
      p.first = Math.max(cellOf(r.start), next);
      p.end = Math.max(cellOf(r.end), p.first + 1);
      next = p.end;
    }
    placed.push(p);
  }
  const rows = Math.ceil(next / WIDTH);
  return {placed, bands, rows, bpp, folded, rowH: Math.max(1, Math.min(16, Math.floor(TARGET_HEIGHT / Math.max(1, rows))))};
}

// foldText names what a band stands for, as render's pictures do.
function foldText(l, b) {
  let free = 0n, reserved = 0n;
  const names = [];
  for (const p of l.placed) {
    if (p.fold !== b) continue;
    const r = p.r;
    if (r.type === 0) { free += r.end - r.start; continue; }
    reserved += r.end - r.start;
    const n = r.owner || D.types[r.type];
    if (!names.includes(n)) names.push(n);
  }
  const what = [];
  if (reserved > 0n) what.push(bytes(reserved) + " reserved, untouched (" + names.join(", ") + ")");
  if (free > 0n) what.push(bytes(free) + " free");
  const band = l.bands[b];
  return "folded: " + what.join(" + ") + ", " + hex(band.first.start) + "-" + hex(band.last.end) + ", not to scale";
}

// draw draws frame i on the canvas and fills in its caption and legend.
function draw(i) {
  const cv = document.getElementById("map");
  const fig = document.getElementById("mapcap"), leg = document.getElementById("legend");
  leg.textContent = "";
  if (regions(i) === null) { cv.height = 0; fig.textContent = "frame " + i + ": no map in this page (" + D.bound + ")"; return; }
  const rs = normalized(i);
  if (!rs.length) { cv.height = 0; fig.textContent = "frame " + i + ": nothing to draw"; return; }
  const l = layout(rs);
  const rowY = r => r * l.rowH + BAND * l.bands.filter(b => b.before <= r).length;
  cv.width = WIDTH;
  cv.height = l.rows * l.rowH + l.bands.length * BAND;
  const g = cv.getContext("2d");
  const span = (first, end, color) => { // cells [first, end), row by row
    g.fillStyle = color;
    for (let c = first; c < end;) {
      const row = Math.floor(c / WIDTH), stop = Math.min(end, (row + 1) * WIDTH);
      g.fillRect(c - row * WIDTH, rowY(row), stop - c, l.rowH);
      c = stop;
    }
  };
  const present = new Set();
  for (const p of l.placed) {
    if (p.fold >= 0) { span(p.first, p.end, D.fold[0]); continue; }
    span(p.first, p.end, D.colors[p.r.color][0]);
    present.add(p.r.color);
  }
  g.font = "11px system-ui, sans-serif";
  l.bands.forEach((b, k) => {
    const y = b.before * l.rowH + k * BAND;
    g.fillStyle = D.fold[0]; g.fillRect(0, y, WIDTH, BAND);
    g.fillStyle = D.fold[1];
    for (let x = 0; x < WIDTH; x++) {
      const d = x % 8 > 4 ? 8 - x % 8 : x % 8;
      g.fillRect(x, y + d, 1, 1); g.fillRect(x, y + BAND - 1 - d, 1, 1);
    }
    const t = foldText(l, k), w = g.measureText(t).width;
    g.fillStyle = D.fold[0]; g.fillRect(6, y + 4, w + 12, BAND - 8);
    g.fillStyle = "#202020"; g.fillText(t, 12, y + 13);
  });
  const f = D.frames[i];
  fig.textContent = D.strings[held(i).source || 0] + " at " + f.t + " · 1 px = " + bytes(l.bpp) + " · 1 row = " + bytes(l.bpp * BigInt(WIDTH)) +
    (l.folded > 0n ? " · folded " + bytes(l.folded) : "");
  const add = (color, name) => {
    const s = document.createElement("span"), b = document.createElement("b");
    b.style.background = color; s.append(b, name); leg.append(s);
  };
  for (const c of [...present].sort((a, b) => a - b)) add(D.colors[c][0], D.colors[c][1]);
  if (l.bands.length) add(D.fold[0], "folded: free space, untouched reservations");
}

// ---- the page ----

const s = document.getElementById("frame"), da = document.getElementById("da"), db = document.getElementById("db");
s.max = da.max = db.max = last;
s.value = db.value = last; // the page opens at the last frame, and the diff from the first to it

function show() {
  const i = +s.value, f = D.frames[i];
  const rows = [["frame", i + " at " + f.t + (f.same ? " (unchanged)" : "")], ["phase", f.phase || "–"], ["VMAs", f.vmas],
    ["committed", f.committed], ["resident", f.resident], ["largest free", f.largest], ["zebra score", f.zebra],
    ["stripes", f.stripes || "–"]];
  const t = document.getElementById("fig");
  t.textContent = "";
  for (const [k, v] of rows) { const r = t.insertRow(); r.insertCell().textContent = k; r.insertCell().textContent = v; }
  draw(i);
  const end = parseFloat(D.frames[last].t);
  for (const c of document.querySelectorAll("svg.chart")) {
    const x = 70 + 640 * (end ? parseFloat(f.t) / end : 0);
    const l = c.querySelector(".cursor"); l.setAttribute("x1", x); l.setAttribute("x2", x);
  }
}

function showDiff() {
  const a = +da.value, b = +db.value, o = document.getElementById("diff");
  document.getElementById("dat").textContent = "at " + D.frames[a].t;
  document.getElementById("dbt").textContent = "at " + D.frames[b].t;
  if (a === b) { o.textContent = "the same snapshot"; return; }
  for (const i of [a, b]) {
    if (regions(i) === null) { o.textContent = "frame " + i + " has no map in this page (" + D.bound + ")"; return; }
  }
  const cs = diff(a, b), lines = cs.slice(0, D.diffLines).map(changeText);
  o.textContent = (lines.length ? lines.join("\n") + "\n" : "") +
    (cs.length > lines.length ? "… and " + (cs.length - lines.length) + " more\n" : "") +
    cs.length + (cs.length === 1 ? " change" : " changes");
}

// #frame=N&from=A&to=B in the address opens the page at frame N and the
// diff from A to B; the page keeps it up to date.
function fromHash() {
  const q = new URLSearchParams(location.hash.slice(1)), clamp = v => String(Math.min(Math.max(+v || 0, 0), last));
  if (q.has("frame")) s.value = clamp(q.get("frame"));
  if (q.has("from")) da.value = clamp(q.get("from"));
  if (q.has("to")) db.value = clamp(q.get("to"));
}
function toHash() {
  history.replaceState(null, "", "#frame=" + s.value + "&from=" + da.value + "&to=" + db.value);
}
window.onhashchange = () => { fromHash(); show(); showDiff(); };
s.oninput = () => { toHash(); show(); };
da.oninput = db.oninput = () => { toHash(); showDiff(); };
document.getElementById("seta").onclick = () => { da.value = s.value; toHash(); showDiff(); };
document.getElementById("setb").onclick = () => { db.value = s.value; toHash(); showDiff(); };
fromHash(); show(); showDiff();
