// The image with its text on it: OCR line boxes over the picture. Click a line to copy it, drag
// a rectangle to select several (copied in reading order), the search's words highlighted in place.

import { copyText, el, t, toast } from "./util.js";

/** The words of a search query to look for in lines (no operators, no excluded words). */
export function queryTerms(q) {
  const out = [];
  for (const m of (q || "").matchAll(/"([^"]+)"|(\S+)/g)) {
    const word = (m[1] ?? m[2]).trim();
    if (!word || word === "OR" || (m[2] && word.length > 1 && word[0] === "-")) continue;
    out.push(word.toLowerCase());
  }
  return out;
}

export function matches(text, terms) {
  const low = text.toLowerCase();
  return terms.some((term) => low.includes(term));
}

/** Text split into [[text, highlighted], …] where the terms occur. */
export function highlightSegments(text, terms) {
  if (!terms.length) return [[text, false]];
  const low = text.toLowerCase();
  const marks = [];
  for (const term of terms) {
    let i = low.indexOf(term);
    while (i >= 0) { marks.push([i, i + term.length]); i = low.indexOf(term, i + term.length); }
  }
  marks.sort((a, b) => a[0] - b[0]);
  const out = [];
  let pos = 0;
  for (const [s, e] of marks) {
    if (e <= pos) continue;
    const start = Math.max(s, pos);
    if (start > pos) out.push([text.slice(pos, start), false]);
    out.push([text.slice(start, e), true]);
    pos = e;
  }
  if (pos < text.length) out.push([text.slice(pos), false]);
  return out;
}

export class OcrOverlay {
  constructor(stage, layer, band) {
    this.stage = stage; this.layer = layer; this.band = band;
    this.lines = []; this.boxes = []; this.drag = null; this.flash = 0;
    stage.addEventListener("pointerdown", (e) => this.down(e));
    stage.addEventListener("pointermove", (e) => this.move(e));
    stage.addEventListener("pointerup", (e) => this.up(e));
    stage.addEventListener("pointercancel", () => this.cancel());
  }

  /** Show the lines of an image of size w×h (the OCR's coordinates), highlighting the terms. */
  show(lines, w, h, terms) {
    this.lines = lines || [];
    this.layer.replaceChildren();
    this.boxes = [];
    if (!w || !h) return;
    for (const [i, line] of this.lines.entries()) {
      const [l, tp, r, b] = line.b;
      const box = el("div.ocr-box", { title: line.text, "data-i": i, role: "button", "aria-label": line.text });
      box.style.left = `${(l / w) * 100}%`; box.style.top = `${(tp / h) * 100}%`;
      box.style.width = `${((r - l) / w) * 100}%`; box.style.height = `${((b - tp) / h) * 100}%`;
      if (terms.length && matches(line.text, terms)) box.classList.add("hit");
      this.layer.append(box);
      this.boxes.push(box);
    }
  }

  clear() { this.show([], 0, 0, []); }

  point(e) {
    const r = this.stage.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  /** Mark these boxes selected (the others not); with ms, unmark them after that long. */
  mark(boxes, ms = 0) {
    clearTimeout(this.flash);
    for (const b of this.boxes) b.classList.toggle("sel", boxes.includes(b));
    if (ms) this.flash = setTimeout(() => this.mark([]), ms);
  }

  down(e) {
    if (e.button !== 0) return;
    this.mark([]);
    this.drag = { start: this.point(e), moved: false, target: e.target, chosen: [] };
    try { this.stage.setPointerCapture(e.pointerId); } catch { /* a synthetic event: no capture needed */ }
    e.preventDefault();
  }

  move(e) {
    if (!this.drag) return;
    const [x, y] = this.point(e);
    const [x0, y0] = this.drag.start;
    if (!this.drag.moved && Math.hypot(x - x0, y - y0) < 5) return;
    this.drag.moved = true;
    const rect = { l: Math.min(x, x0), t: Math.min(y, y0), r: Math.max(x, x0), b: Math.max(y, y0) };
    Object.assign(this.band.style, { left: `${rect.l}px`, top: `${rect.t}px`, width: `${rect.r - rect.l}px`,
                                     height: `${rect.b - rect.t}px` });
    this.band.hidden = false;
    const s = this.stage.getBoundingClientRect();
    this.drag.chosen = this.boxes.filter((box) => {
      const b = box.getBoundingClientRect();
      return b.right - s.left >= rect.l && b.left - s.left <= rect.r && b.bottom - s.top >= rect.t &&
        b.top - s.top <= rect.b;
    });
    this.mark(this.drag.chosen);
  }

  async up(e) {
    const drag = this.drag;
    this.drag = null;
    if (!drag) return;
    this.band.hidden = true;
    if (drag.moved) {
      const chosen = drag.chosen; // in reading order: the order OCR gave the lines
      if (!chosen.length) return;
      this.mark(chosen, 900);
      await this.copy(chosen.map((b) => this.lines[Number(b.dataset.i)].text).join("\n"), chosen.length);
      return;
    }
    const box = drag.target.closest?.(".ocr-box");
    if (box) {
      this.mark([box], 600);
      await this.copy(this.lines[Number(box.dataset.i)].text, 1);
    }
  }

  cancel() {
    this.drag = null;
    this.band.hidden = true;
    this.mark([]);
  }

  async copy(text, n) {
    const ok = await copyText(text);
    if (ok) toast(n === 1 ? `${t("copied")}: ${text.length > 60 ? text.slice(0, 59) + "…" : text}` : t("copied_lines", { n }));
    else toast(t("copy_failed"), true);
    this.stage.dispatchEvent(new CustomEvent("copied", { detail: { text, ok } }));
  }
}
