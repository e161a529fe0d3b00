// The timeline: everything seen, grouped by day, newest first, as one virtual thumbnail grid.
//
// The server gives the days and their counts first (GET /web/api/timeline), so the whole
// timeline is laid out before any image is read: its height, where each day and row starts.
// Only the rows near the viewport exist in the DOM (created as they scroll in, removed as they
// scroll away), and their images' records are read in slices of the whole timeline's order
// (GET /web/api/timeline/items?offset=…) kept in a small LRU cache; thumbnails load lazily. A
// 100k-image timeline costs the same DOM and memory as a 1k one.

import { dayLabel, el, getJSON, t, thumb } from "./util.js";

const TARGET_TILE = 150; // px, before fitting columns to the width
const GAP = 8;
const HEADER = 46; // a day's heading
const DAY_GAP = 14;
const CHUNK = 120; // images per request
const MAX_CHUNKS = 48; // cached slices (≈ 5,800 images' records)
const MAX_INFLIGHT = 4;
const OVERSCAN = 1.0; // screens above and below the viewport that are rendered too

export class Timeline {
  constructor(scroller, space, empty, onOpen) {
    this.scroller = scroller; this.space = space; this.empty = empty; this.onOpen = onOpen;
    this.days = []; this.tops = []; this.cols = 1; this.tile = TARGET_TILE; this.rowH = TARGET_TILE + GAP;
    this.rows = new Map(); // key "d:r" → element (headers: "d:h")
    this.chunks = new Map(); // slice number → items array | "queued" | "loading"
    this.queue = []; this.inflight = 0; this.loaded = false; this.frame = 0;
    this.cur = null; // {d, i}: the keyboard cursor
    this.generation = 0; // a reload's answers are not mixed with the one before
    this.requests = 0; this.received = 0; // for the tests and the benchmark: item requests made, items read
    scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.relayout()).observe(scroller);
    space.addEventListener("click", (e) => {
      const tile = e.target.closest(".tl-tile");
      if (!tile || !tile.dataset.id) return;
      e.preventDefault();
      this.cur = { d: Number(tile.dataset.d), i: Number(tile.dataset.i) };
      this.paintCursor();
      this.onOpen(Number(tile.dataset.id));
    });
  }

  async load() {
    const data = await getJSON("/web/api/timeline");
    let first = 0;
    this.days = data.days.map(([day, count]) => {
      const [y, m, dd] = day.split("-").map(Number);
      const out = { day, count, first, noon: new Date(y, m - 1, dd, 12).getTime() / 1000 };
      first += count;
      return out;
    });
    this.total = data.total;
    this.chunks.clear();
    this.queue = [];
    this.generation++;
    for (const node of this.rows.values()) node.remove();
    this.rows.clear();
    this.loaded = true;
    this.empty.hidden = this.days.length > 0;
    this.relayout(true);
  }

  // --- layout ----------------------------------------------------------------------------
  relayout(force = false) {
    if (!this.loaded) return;
    const width = this.space.clientWidth;
    if (!width) return;
    const cols = Math.max(2, Math.floor((width + GAP) / (TARGET_TILE + GAP)));
    if (!force && cols === this.cols && width === this.width) { this.schedule(); return; }
    const anchor = this.anchor();
    this.width = width; this.cols = cols;
    this.tile = Math.floor((width - GAP * (cols - 1)) / cols);
    this.rowH = this.tile + GAP;
    let y = 0;
    this.tops = this.days.map((day) => {
      const top = y;
      y += HEADER + Math.ceil(day.count / cols) * this.rowH + DAY_GAP;
      return top;
    });
    this.space.style.height = `${y}px`;
    for (const node of this.rows.values()) node.remove();
    this.rows.clear();
    if (anchor) this.scroller.scrollTop = this.yOf(anchor.d, anchor.i) - anchor.dy;
    this.render();
  }

  yOf(d, i) { return this.tops[d] + HEADER + Math.floor(i / this.cols) * this.rowH; }

  dayAt(y) { // the last day whose top is at or above y
    let lo = 0, hi = this.days.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.tops[mid] <= y) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  anchor() { // the first visible image, and how far below the viewport's top it is
    if (!this.days.length || !this.tops.length) return null;
    const top = this.scroller.scrollTop;
    const d = this.dayAt(top);
    const r = Math.max(0, Math.floor((top - this.tops[d] - HEADER) / this.rowH));
    const i = Math.min(r * this.cols, this.days[d].count - 1);
    return { d, i, dy: this.yOf(d, i) - top };
  }

  // --- rendering ---------------------------------------------------------------------------
  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  render() {
    if (!this.loaded || !this.days.length || this.scroller.hidden || this.scroller.offsetParent === null) return;
    const h = this.scroller.clientHeight;
    const lo = Math.max(0, this.scroller.scrollTop - OVERSCAN * h);
    const hi = this.scroller.scrollTop + h + OVERSCAN * h;
    const want = new Set();
    for (let d = this.dayAt(lo); d < this.days.length && this.tops[d] < hi; d++) {
      const top = this.tops[d];
      if (top + HEADER > lo) this.header(d, want);
      const rows = Math.ceil(this.days[d].count / this.cols);
      const first = Math.max(0, Math.floor((lo - top - HEADER) / this.rowH));
      const last = Math.min(rows, Math.ceil((hi - top - HEADER) / this.rowH));
      for (let r = first; r < last; r++) this.row(d, r, want);
    }
    for (const [key, node] of this.rows) {
      if (!want.has(key)) { node.remove(); this.rows.delete(key); }
    }
    this.pump();
  }

  header(d, want) {
    const key = `${d}:h`;
    want.add(key);
    if (this.rows.has(key)) return;
    const day = this.days[d];
    const node = el("div.tl-day", {}, el("span", { text: dayLabel(day.noon) }),
                    el("span.n", { text: day.count === 1 ? t("one_image") : t("n_images", { n: day.count.toLocaleString() }) }));
    node.style.top = `${this.tops[d]}px`; node.style.height = `${HEADER - 8}px`;
    this.space.append(node);
    this.rows.set(key, node);
  }

  row(d, r, want) {
    const key = `${d}:${r}`;
    want.add(key);
    let node = this.rows.get(key);
    if (node && node.dataset.filled === "1") return;
    const day = this.days[d];
    const first = r * this.cols;
    const n = Math.min(this.cols, day.count - first);
    const items = [];
    for (let j = 0; j < n; j++) items.push(this.item(d, first + j));
    const ready = items.every((x) => x);
    if (node && !ready) return; // still waiting for its slice
    const fresh = el("div.tl-row", { role: "row", "data-filled": ready ? "1" : "0" });
    fresh.style.top = `${this.yOf(d, first)}px`; fresh.style.height = `${this.tile}px`;
    for (let j = 0; j < n; j++) fresh.append(this.tileNode(d, first + j, items[j]));
    if (node) node.replaceWith(fresh); else this.space.append(fresh);
    this.rows.set(key, fresh);
  }

  tileNode(d, i, item) {
    if (!item) {
      const ph = el("div.tl-tile.ph");
      ph.style.width = ph.style.height = `${this.tile}px`;
      return ph;
    }
    const [id, , w, h, hasThumb] = item;
    const a = el("a.tl-tile", { href: `#/image/${id}`, "data-id": id, "data-d": d, "data-i": i, role: "gridcell",
                                tabIndex: -1, title: `#${id}${w ? ` · ${w}×${h}` : ""}` });
    a.style.width = a.style.height = `${this.tile}px`;
    if (hasThumb) a.append(thumb(id));
    else a.append(el("span.noimg", { text: `#${id}` }));
    if (this.cur && this.cur.d === d && this.cur.i === i) a.classList.add("cur");
    return a;
  }

  // --- data --------------------------------------------------------------------------------
  item(d, i) {
    const g = this.days[d].first + i; // its place in the whole timeline
    const k = Math.floor(g / CHUNK);
    const got = this.chunks.get(k);
    if (Array.isArray(got)) {
      this.chunks.delete(k); this.chunks.set(k, got); // most recently used last
      return got[g - k * CHUNK] || null;
    }
    if (!got) { this.chunks.set(k, "queued"); this.queue.push(k); }
    return null;
  }

  pump() {
    this.queue.sort((a, b) => b - a); // the topmost first (popped from the end)
    while (this.inflight < MAX_INFLIGHT && this.queue.length) {
      const k = this.queue.pop();
      if (this.chunks.get(k) !== "queued") continue;
      if (!this.visibleSlice(k)) { this.chunks.delete(k); continue; } // scrolled past before its turn
      this.chunks.set(k, "loading");
      const generation = this.generation;
      this.inflight++;
      this.requests++;
      getJSON(`/web/api/timeline/items?offset=${k * CHUNK}&limit=${CHUNK}`).then((data) => {
        if (generation !== this.generation) return;
        this.received += data.items.length;
        this.chunks.set(k, data.items);
        this.evict();
      }, () => { if (generation === this.generation) this.chunks.delete(k); })
        .finally(() => { this.inflight--; this.schedule(); });
    }
  }

  visibleSlice(k) { // whether a slice's images are within two screens of the viewport
    const h = this.scroller.clientHeight;
    const lo = this.scroller.scrollTop - 2 * h, hi = this.scroller.scrollTop + 3 * h;
    const g0 = k * CHUNK, g1 = g0 + CHUNK - 1;
    const top = this.yOfGlobal(g0), bottom = this.yOfGlobal(g1) + this.rowH;
    return bottom > lo && top < hi;
  }

  yOfGlobal(g) {
    let lo = 0, hi = this.days.length - 1; // the day holding image g
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.days[mid].first <= g) lo = mid; else hi = mid - 1;
    }
    return this.yOf(lo, Math.min(g - this.days[lo].first, this.days[lo].count - 1));
  }

  evict() {
    for (const key of this.chunks.keys()) {
      if (this.chunks.size <= MAX_CHUNKS) break;
      if (Array.isArray(this.chunks.get(key))) this.chunks.delete(key);
    }
  }

  // --- keyboard ------------------------------------------------------------------------------
  move(dx, dy) {
    if (!this.days.length) return;
    if (!this.cur) { const a = this.anchor(); this.cur = { d: a.d, i: a.i }; this.paintCursor(); this.reveal(); return; }
    let { d, i } = this.cur;
    if (dx) {
      i += dx;
      if (i < 0 && d > 0) { d--; i = this.days[d].count - 1; }
      if (i >= this.days[d].count && d < this.days.length - 1) { d++; i = 0; }
    } else if (dy) {
      const col = i % this.cols;
      i += dy * this.cols;
      if (i < 0 && d > 0) { d--; const rows = Math.ceil(this.days[d].count / this.cols); i = Math.min((rows - 1) * this.cols + col, this.days[d].count - 1); }
      else if (i >= this.days[d].count) {
        const lastRow = Math.floor((this.days[d].count - 1) / this.cols);
        if (Math.floor(this.cur.i / this.cols) < lastRow) i = this.days[d].count - 1;
        else if (d < this.days.length - 1) { d++; i = Math.min(col, this.days[d].count - 1); }
      }
    }
    this.cur = { d, i: Math.max(0, Math.min(i, this.days[d].count - 1)) };
    this.paintCursor();
    this.reveal();
  }

  reveal() {
    const y = this.yOf(this.cur.d, this.cur.i);
    const top = this.scroller.scrollTop, h = this.scroller.clientHeight;
    if (y - HEADER < top) this.scroller.scrollTop = y - HEADER - 4;
    else if (y + this.rowH > top + h) this.scroller.scrollTop = y + this.rowH - h + 4;
    this.render();
  }

  paintCursor() {
    this.space.querySelectorAll(".tl-tile.cur").forEach((n) => n.classList.remove("cur"));
    if (!this.cur) return;
    const node = this.space.querySelector(`.tl-tile[data-d="${this.cur.d}"][data-i="${this.cur.i}"]`);
    if (node) node.classList.add("cur");
  }

  currentId() {
    if (!this.cur) return null;
    const item = this.item(this.cur.d, this.cur.i);
    return item ? item[0] : null;
  }

  /** The image delta places away from the cursor (for the detail view's previous/next). */
  async step(delta) {
    if (!this.cur) return null;
    this.move(delta, 0);
    for (let tries = 0; tries < 50; tries++) {
      const id = this.currentId();
      if (id) return id;
      this.pump();
      await new Promise((r) => setTimeout(r, 40));
    }
    return null;
  }

  /** For tests and the benchmark: how much of the timeline is in the page now. */
  stats() {
    let cached = 0;
    for (const v of this.chunks.values()) if (Array.isArray(v)) cached += v.length;
    return { rows: this.rows.size, tiles: this.space.querySelectorAll(".tl-tile").length,
             nodes: document.getElementsByTagName("*").length, requests: this.requests, received: this.received,
             cachedItems: cached,
             total: this.total, height: this.space.offsetHeight };
  }
}
