// vlagent in the browser: search as you type, the timeline, an image with its text on it, questions
// about one image or about everything seen, and uploads (file picker, drag and drop, paste).
// Plain ES modules, no framework, no build step; every request goes to this server only.

import { OcrOverlay, highlightSegments, queryTerms } from "./ocr.js";
import { Timeline } from "./timeline.js";
import {
  copyText, el, fullWhen, getJSON, humanBytes, marked, post, readLines, t, thumb, toast, typing, when,
} from "./util.js";

const PAGE = 48; // a screenful and more; the rest loads as the list scrolls
const $ = (id) => document.getElementById(id);
const ui = {
  q: $("q"), results: $("results"), empty: $("empty"), more: $("more"), count: $("count"),
  searchView: $("search-view"), timelineView: $("timeline-view"),
  source: $("f-source"), seen: $("f-seen"), folder: $("f-folder"), sort: $("f-sort"),
  grid: $("v-grid"), list: $("v-list"), navSearch: $("nav-search"), navTimeline: $("nav-timeline"),
  detail: $("detail"), dTitle: $("d-title"), dImg: $("d-img"), dText: $("d-text"), dDesc: $("d-desc"),
  dAnswers: $("d-answers"), dDetails: $("d-details"), dBoxes: $("d-boxes"), boxes: $("boxes"),
  askForm: $("ask-form"), askQ: $("ask-q"), askBtn: $("ask-btn"), askOut: $("ask-out"),
  memory: $("memory"), mForm: $("m-form"), mQ: $("m-q"), mBtn: $("m-btn"), mOut: $("m-out"), mSources: $("m-sources"),
  file: $("file"), dropzone: $("dropzone"),
};

const state = {
  view: "search", hits: [], more: false, sel: -1, seq: 0, controller: null, loadingMore: false,
  detailId: null, detail: null, from: "search", folderOther: "", asking: null, memAsking: null,
  lastRender: null, // {q, t}: when the results of a query were last put on screen (tests, benchmark)
};

// --- search ------------------------------------------------------------------------------------
function filters() {
  const p = new URLSearchParams();
  if (ui.source.value) p.set("source", ui.source.value);
  if (ui.seen.value !== "") {
    const midnight = new Date(); midnight.setHours(0, 0, 0, 0);
    p.set("since", String(midnight.getTime() / 1000 - Number(ui.seen.value) * 86400));
  }
  const folder = ui.folder.value === "__other__" ? state.folderOther : ui.folder.value;
  if (folder) p.set("folder", folder);
  p.set("sort", ui.sort.value);
  return p;
}

function filtered() { return Boolean(ui.source.value || ui.seen.value || ui.folder.value); }

async function search({ append = false } = {}) {
  const q = ui.q.value;
  const p = filters();
  p.set("q", q);
  p.set("limit", String(PAGE));
  p.set("offset", String(append ? state.hits.length : 0));
  if (!append) { state.controller?.abort(); }
  const controller = new AbortController();
  state.controller = controller;
  const seq = ++state.seq;
  if (append) state.loadingMore = true;
  try {
    const data = await getJSON(`/web/api/search?${p}`, controller.signal);
    if (seq !== state.seq) return;
    if (append) state.hits.push(...data.hits); else { state.hits = data.hits; state.sel = -1; }
    state.more = data.more;
    renderResults(data, append);
    requestAnimationFrame(() => { state.lastRender = { q, t: performance.now(), n: state.hits.length, ms: data.ms }; });
  } catch (e) {
    if (e.name === "AbortError") return;
    if (seq === state.seq) ui.count.textContent = t("search_failed", { error: e.message });
  } finally {
    if (append) state.loadingMore = false;
  }
}

function hitNode(hit, i) {
  const th = el("div.th");
  if (hit.thumb) th.append(thumb(hit.id));
  else th.append(el("span.noimg", { text: `#${hit.id}` }));
  return el("a.hit", { href: `#/image/${hit.id}`, role: "option", "aria-selected": "false", tabIndex: -1,
                       "data-i": i, "data-id": hit.id, title: hit.path || hit.name },
    th,
    el("div.meta", {},
      el("div.name", { text: hit.name }),
      el("div.when", {}, when(hit.seen), hit.gone ? el("span.gone", { text: t("file_gone") }) : null),
      el("div.snip", {}, marked(hit.snippet))));
}

function renderResults(data, append) {
  const frag = document.createDocumentFragment();
  const start = append ? state.hits.length - data.hits.length : 0;
  data.hits.forEach((hit, j) => frag.append(hitNode(hit, start + j)));
  if (append) ui.results.append(frag); else { ui.results.replaceChildren(frag); ui.searchView.scrollTop = 0; }
  const n = state.hits.length;
  const q = ui.q.value.trim();
  let count = "";
  if (!q) count = n ? t("most_recent") : "";
  else if (data.total >= n && data.total_exact) count = data.total === 1 ? t("one_result") : t("n_results", { n: data.total.toLocaleString() });
  else count = state.more ? t("n_plus_results", { n: Math.max(n, data.total).toLocaleString() }) : (n === 1 ? t("one_result") : t("n_results", { n }));
  if (data.relaxed) count += ` · ${t("relaxed")}`;
  ui.count.textContent = count;
  ui.empty.hidden = n > 0;
  if (!n) {
    const [title, hint] = !q && !filtered() ? [t("nothing_indexed"), t("nothing_indexed_hint")]
      : q ? [t("no_results", { query: q }), t("no_results_hint")] : [t("no_filter_results"), ""];
    ui.empty.replaceChildren(el("h3", { text: title }), el("p", { text: hint }));
  }
}

new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting) && state.more && !state.loadingMore && state.view === "search") {
    search({ append: true });
  }
}, { root: ui.searchView, rootMargin: "600px" }).observe(ui.more);

ui.q.addEventListener("input", () => { if (state.view !== "search") go("#/"); search(); });
for (const s of [ui.source, ui.seen, ui.sort]) s.addEventListener("change", () => search());
ui.folder.addEventListener("change", () => {
  if (ui.folder.value === "__other__") {
    const folder = prompt(t("folder_prompt"), state.folderOther);
    if (folder === null || !folder.trim()) { ui.folder.value = ""; state.folderOther = ""; } else state.folderOther = folder.trim();
  }
  search();
});
function setLayout(mode) {
  ui.results.classList.toggle("grid", mode === "grid");
  ui.results.classList.toggle("list", mode === "list");
  ui.grid.setAttribute("aria-pressed", String(mode === "grid"));
  ui.list.setAttribute("aria-pressed", String(mode === "list"));
  try { localStorage.setItem("vlagent.layout", mode); } catch { /* private mode */ }
}
ui.grid.addEventListener("click", () => setLayout("grid"));
ui.list.addEventListener("click", () => setLayout("list"));
try { setLayout(localStorage.getItem("vlagent.layout") === "list" ? "list" : "grid"); } catch { setLayout("grid"); }

ui.results.addEventListener("click", (e) => {
  const a = e.target.closest(".hit");
  if (!a) return;
  e.preventDefault();
  select(Number(a.dataset.i));
  openDetail(Number(a.dataset.id), { from: "search" });
});

function select(i) {
  const nodes = ui.results.children;
  if (!nodes.length) return;
  i = Math.max(0, Math.min(i, nodes.length - 1));
  if (state.sel >= 0 && nodes[state.sel]) nodes[state.sel].setAttribute("aria-selected", "false");
  state.sel = i;
  const node = nodes[i];
  node.setAttribute("aria-selected", "true");
  node.focus({ preventScroll: true });
  node.scrollIntoView({ block: "nearest" });
  if (i >= nodes.length - 6 && state.more && !state.loadingMore) search({ append: true });
}

function columns() {
  const nodes = ui.results.children;
  if (ui.results.classList.contains("list") || nodes.length < 2) return 1;
  const top = nodes[0].offsetTop;
  let n = 0;
  while (n < nodes.length && nodes[n].offsetTop === top) n++;
  return Math.max(1, n);
}

// --- views and the address ---------------------------------------------------------------------
const timeline = new Timeline(ui.timelineView, $("tl-space"), $("tl-empty"), (id) => openDetail(id, { from: "timeline" }));

function go(hash) { if (location.hash !== hash) location.hash = hash; else route(); }

function showView(view) {
  state.view = view;
  document.body.classList.toggle("timeline", view === "timeline");
  ui.searchView.hidden = view !== "search";
  ui.timelineView.hidden = view !== "timeline";
  ui.navSearch.toggleAttribute("aria-current", view === "search");
  ui.navTimeline.toggleAttribute("aria-current", view === "timeline");
  if (view === "search") ui.navSearch.setAttribute("aria-current", "page");
  if (view === "timeline") {
    ui.navTimeline.setAttribute("aria-current", "page");
    if (!timeline.loaded) timeline.load().catch((e) => toast(t("error", { error: e.message }), true));
    else timeline.relayout();
  }
}

function route() {
  const h = location.hash || "#/";
  const m = h.match(/^#\/image\/(\d+)/);
  if (m) {
    showView(state.from === "timeline" ? "timeline" : state.view);
    openDetail(Number(m[1]), { push: false, from: state.from });
    return;
  }
  closeDetail({ fromRoute: true });
  if (h.startsWith("#/timeline")) showView("timeline"); else showView("search");
}
window.addEventListener("hashchange", route);

// --- the detail view ---------------------------------------------------------------------------
const overlay = new OcrOverlay($("stage"), ui.boxes, $("band"));
const stageWrap = $("stage-wrap");

/** Size the picture to the space it has: small screenshots are shown up to twice their size. */
function fitImage() {
  const img = ui.dImg;
  if (!img.naturalWidth || ui.detail.hidden) return;
  const hint = stageWrap.querySelector(".hint");
  const w = stageWrap.clientWidth - 24, h = stageWrap.clientHeight - 24 - (hint ? hint.offsetHeight + 8 : 0);
  const scale = Math.min(w / img.naturalWidth, h / img.naturalHeight, 2);
  img.style.width = `${Math.max(1, Math.floor(img.naturalWidth * scale))}px`;
  img.style.height = `${Math.max(1, Math.floor(img.naturalHeight * scale))}px`;
}
ui.dImg.addEventListener("load", fitImage);
new ResizeObserver(fitImage).observe(stageWrap);
ui.dBoxes.addEventListener("change", () => ui.boxes.classList.toggle("off", !ui.dBoxes.checked));

async function openDetail(id, { push = true, replace = false, from = state.view, focusAsk = false } = {}) {
  state.from = from;
  // The address names the image (a link to it, Back closes it); stepping through images replaces it.
  if (push && location.hash !== `#/image/${id}`) history[replace ? "replaceState" : "pushState"](null, "", `#/image/${id}`);
  const same = !ui.detail.hidden && state.detail && state.detail.id === id;
  state.detailId = id;
  ui.detail.hidden = false;
  if (focusAsk) ui.askQ.focus(); else if (!same) $("d-close").focus({ preventScroll: true });
  if (same) return;
  resetAsk();
  ui.dTitle.textContent = t("image_n", { id });
  ui.dImg.removeAttribute("src");
  overlay.clear();
  ui.dText.textContent = t("loading");
  ui.dDesc.textContent = ""; ui.dAnswers.replaceChildren(); ui.dDetails.replaceChildren();
  let d;
  try {
    d = await getJSON(`/web/api/image/${id}`);
  } catch (e) {
    if (state.detailId === id) ui.dText.textContent = t("error", { error: e.message });
    return;
  }
  if (state.detailId !== id) return;
  state.detail = d;
  renderDetail(d);
}

function renderDetail(d) {
  const terms = state.from === "search" ? queryTerms(ui.q.value) : [];
  ui.dTitle.textContent = d.name;
  ui.dTitle.title = d.path || "";
  ui.dImg.src = `/web/image/${d.id}`;
  ui.dImg.alt = d.name;
  overlay.show(d.ocr ? d.ocr.lines : [], d.w, d.h, terms);
  if (d.ocr && d.ocr.text.trim()) ui.dText.replaceChildren(...marked(highlightSegments(d.ocr.text, terms)));
  else ui.dText.textContent = t("no_text");
  ui.dDesc.textContent = d.description ? d.description.text : t("no_description");
  ui.dDesc.classList.toggle("muted", !d.description);
  renderAnswers(d.answers);
  const rows = [
    [t("source_label"), t(`src_${d.source}`)],
    [t("first_seen"), fullWhen(d.first_seen)],
    d.taken_at ? [t("taken"), fullWhen(d.taken_at)] : null,
    [t("size"), `${d.w ?? "?"} × ${d.h ?? "?"} · ${humanBytes(d.bytes)}`],
    [t("format"), d.format || ""],
    [t("files"), d.locations.length ? d.locations.map((l) => `${l.path}${l.gone_at ? ` ${t("gone")}` : ""}`).join("\n") : "—"],
    [t("sha"), d.sha256],
    d.jobs.length ? [t("jobs"), d.jobs.map((j) => `${j.kind}: ${j.state}${j.error ? ` (${j.error})` : ""}`).join("\n")] : null,
    d.ocr ? ["OCR:", `${d.ocr.engine}${d.ocr.latency_ms ? ` · ${Math.round(d.ocr.latency_ms)} ms` : ""}`] : null,
  ].filter(Boolean);
  ui.dDetails.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
}

function renderAnswers(answers) {
  if (!answers.length) { ui.dAnswers.replaceChildren(el("p.muted", { text: t("no_answers") })); return; }
  ui.dAnswers.replaceChildren(...answers.slice().reverse().map((a) => el("div.qa", {},
    el("div.q", { text: a.question }), el("div.a", { text: a.text }), el("div.w", { text: fullWhen(a.at) }))));
}

function closeDetail({ fromRoute = false } = {}) {
  if (ui.detail.hidden) return;
  ui.detail.hidden = true;
  state.asking?.abort();
  state.detailId = null; state.detail = null;
  ui.dImg.removeAttribute("src");
  overlay.clear();
  if (!fromRoute) history.replaceState(null, "", state.from === "timeline" ? "#/timeline" : "#/");
  if (state.from === "search" && state.sel >= 0) ui.results.children[state.sel]?.focus({ preventScroll: true });
}

async function stepDetail(delta) {
  if (state.from === "timeline") {
    const id = await timeline.step(delta);
    if (id) openDetail(id, { from: "timeline", replace: true });
    return;
  }
  if (!state.hits.length) return;
  const i = state.hits.findIndex((h) => h.id === state.detailId);
  const next = i < 0 ? 0 : i + delta;
  if (next < 0 || next >= state.hits.length) return;
  select(next);
  openDetail(state.hits[next].id, { from: "search", replace: true });
}

$("d-close").addEventListener("click", () => closeDetail());
$("d-prev").addEventListener("click", () => stepDetail(-1));
$("d-next").addEventListener("click", () => stepDetail(1));
ui.detail.addEventListener("click", (e) => { if (e.target === ui.detail) closeDetail(); });
$("copy-all").addEventListener("click", async () => {
  const text = state.detail?.ocr?.text || "";
  if (text) toast((await copyText(text)) ? t("copied") : t("copy_failed"), false);
});

// --- asking: one image, and everything --------------------------------------------------------
function resetAsk() {
  state.asking?.abort();
  state.asking = null;
  ui.askOut.hidden = true;
  ui.askOut.replaceChildren();
  ui.askQ.value = "";
  ui.askBtn.textContent = t("ask");
}

/** Stream an answer into out: returns the final event. */
async function stream(url, body, out, controller, onDone) {
  const qNode = el("div.q", { text: `${t("you")}: ${body.question}` });
  const text = el("div.a", { text: t("thinking") });
  out.classList.remove("err");
  out.replaceChildren(qNode, text);
  out.hidden = false;
  let got = "";
  let last = null;
  try {
    const r = await post(url, body, controller.signal);
    await readLines(r, (ev) => {
      if (ev.token !== undefined) { got += ev.token; text.textContent = got; }
      if (ev.done) { last = ev; text.textContent = ev.text || got; }
      if (ev.error) { last = ev; out.classList.add("err"); text.textContent = got ? `${got}\n${ev.error}` : t("error", { error: ev.error }); }
    });
  } catch (e) {
    if (e.name === "AbortError") { text.textContent = got || t("stop"); return null; }
    out.classList.add("err");
    text.textContent = t("error", { error: e.message });
    return null;
  }
  if (last && last.done) onDone?.(last);
  return last;
}

ui.askForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (state.asking) { state.asking.abort(); return; }
  const question = ui.askQ.value.trim();
  const id = state.detailId;
  if (!question || !id) return;
  const controller = new AbortController();
  state.asking = controller;
  ui.askBtn.textContent = t("stop");
  await stream("/web/api/ask", { image_id: id, question }, ui.askOut, controller, async () => {
    try {
      const d = await getJSON(`/web/api/image/${id}`);
      if (state.detailId === id) { state.detail = d; renderAnswers(d.answers); }
    } catch { /* the streamed answer is on screen anyway */ }
  });
  if (state.asking === controller) { state.asking = null; ui.askBtn.textContent = t("ask"); ui.askQ.value = ""; }
});

function openMemory() {
  ui.memory.hidden = false;
  ui.mQ.focus();
  ui.mQ.select();
}
function closeMemory() { ui.memory.hidden = true; state.memAsking?.abort(); }
$("ask-all-btn").addEventListener("click", openMemory);
$("m-close").addEventListener("click", closeMemory);
ui.memory.addEventListener("click", (e) => { if (e.target === ui.memory) closeMemory(); });
ui.mForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (state.memAsking) { state.memAsking.abort(); return; }
  const question = ui.mQ.value.trim();
  if (!question) return;
  const controller = new AbortController();
  state.memAsking = controller;
  ui.mBtn.textContent = t("stop");
  ui.mSources.replaceChildren();
  await stream("/web/api/memory", { question }, ui.mOut, controller, (ev) => {
    if (!ev.sources.length) { ui.mSources.replaceChildren(el("p.muted", { text: t("no_sources") })); return; }
    ui.mSources.replaceChildren(...ev.sources.map((s) => {
      const node = hitNode({ id: s.id, name: s.name, path: s.path, seen: s.first_seen, thumb: true,
                             snippet: [[s.snippet || "", false]] }, 0);
      if (s.cited) node.classList.add("cited");
      node.addEventListener("click", (ev2) => { ev2.preventDefault(); closeMemory(); openDetail(s.id, { from: state.view }); });
      return node;
    }));
  });
  if (state.memAsking === controller) { state.memAsking = null; ui.mBtn.textContent = t("ask"); }
});

// --- uploads: the file picker, drag and drop, paste ---------------------------------------------
async function upload(files) {
  const images = [...files].filter((f) => f.type.startsWith("image/") || /\.(png|jpe?g|gif|webp|bmp|tiff?|avif|heic|heif)$/i.test(f.name));
  let last = null;
  for (const file of images) {
    const name = file.name || "clipboard.png";
    toast(t("uploading", { name }), false, 4000);
    const form = new FormData();
    form.append("file", file, name);
    try {
      const r = await post("/web/api/upload", form);
      const data = await r.json();
      last = data.image_id;
      toast(t("uploaded", { name }));
    } catch (e) {
      toast(t("upload_failed", { name, error: e.message }), true, 6000);
    }
  }
  if (last) {
    if (state.view === "search") search();
    else if (timeline.loaded) timeline.load();
    openDetail(last, { from: state.view, focusAsk: true });
  }
}

ui.file.addEventListener("change", () => { upload(ui.file.files).finally(() => { ui.file.value = ""; }); });
let dragDepth = 0;
const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
document.addEventListener("dragenter", (e) => { if (!hasFiles(e)) return; dragDepth++; ui.dropzone.hidden = false; });
document.addEventListener("dragleave", (e) => { if (!hasFiles(e)) return; if (--dragDepth <= 0) { dragDepth = 0; ui.dropzone.hidden = true; } });
document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
document.addEventListener("drop", (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth = 0;
  ui.dropzone.hidden = true;
  upload(e.dataTransfer.files);
});
document.addEventListener("paste", (e) => {
  const files = [...(e.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
  if (!files.length) return;
  e.preventDefault();
  upload(files);
});

// --- keys ----------------------------------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key === "Escape") {
    if (!ui.memory.hidden) { closeMemory(); e.preventDefault(); return; }
    if (!ui.detail.hidden) { closeDetail(); e.preventDefault(); return; }
    if (e.target === ui.q && ui.q.value) { ui.q.value = ""; search(); e.preventDefault(); }
    return;
  }
  if (!ui.memory.hidden) return;
  const inField = typing(e.target);
  if (e.key === "/" && !inField) { e.preventDefault(); ui.q.focus(); ui.q.select(); return; }
  if (!inField && ui.detail.hidden && e.key.length === 1 && e.key !== " ") { ui.q.focus(); return; } // type to search
  if (!ui.detail.hidden) {
    if (inField) return;
    if (e.key === "ArrowLeft" || e.key === "ArrowUp") { e.preventDefault(); stepDetail(-1); }
    if (e.key === "ArrowRight" || e.key === "ArrowDown") { e.preventDefault(); stepDetail(1); }
    return;
  }
  if (state.view === "timeline") {
    if (inField && e.target !== ui.q) return;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (moves[e.key] && !(inField && (e.key === "ArrowLeft" || e.key === "ArrowRight"))) {
      e.preventDefault();
      if (inField) ui.q.blur();
      timeline.move(...moves[e.key]);
    } else if (e.key === "Enter" && !inField) {
      const id = timeline.currentId();
      if (id) { e.preventDefault(); openDetail(id, { from: "timeline" }); }
    }
    return;
  }
  if (e.target === ui.q) {
    if (e.key === "ArrowDown" && state.hits.length) { e.preventDefault(); select(Math.max(0, state.sel)); }
    else if (e.key === "Enter" && state.hits.length) { e.preventDefault(); select(Math.max(0, state.sel)); openDetail(state.hits[state.sel].id, { from: "search" }); }
    return;
  }
  if (inField) return;
  const cols = columns();
  const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols };
  if (e.key in moves && state.hits.length) {
    e.preventDefault();
    if (e.key === "ArrowUp" && state.sel - cols < 0) { ui.q.focus(); return; }
    select(state.sel < 0 ? 0 : state.sel + moves[e.key]);
  } else if (e.key === "Enter" && state.sel >= 0 && state.hits[state.sel]) {
    e.preventDefault();
    openDetail(state.hits[state.sel].id, { from: "search" });
  }
});

// --- signing out, start ----------------------------------------------------------------------------
const logout = $("logout");
if (document.querySelector('meta[name="vlagent-auth"]').content !== "1") logout.hidden = true;
logout.addEventListener("click", async () => {
  try { await post("/logout", {}); } finally { location.assign("/login"); }
});

// For the tests and the benchmark (read-only views of the page's state).
window.vlagent = { state, timeline, search };

const startHash = location.hash;
if (startHash.startsWith("#/timeline")) state.from = "timeline";
search().then(() => { state.booted = true; });
route();
if (!startHash.startsWith("#/image/")) ui.q.focus();
