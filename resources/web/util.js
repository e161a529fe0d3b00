// Small helpers shared by the page's modules: words, requests, streams, elements, toasts.

const STRINGS = JSON.parse(document.getElementById("strings").textContent);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
export const LANG = document.documentElement.lang || "en";

/** The page's words; {name} placeholders filled from vars. */
export function t(key, vars) {
  let s = STRINGS[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

export class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function failure(r) {
  let message = `${r.status} ${r.statusText}`;
  try { message = (await r.json()).error.message || message; } catch { /* not JSON */ }
  if (r.status === 401) location.assign("/login");
  return new HttpError(r.status, message);
}

/** GET JSON (same origin, the session cookie goes along). */
export async function getJSON(url, signal) {
  const r = await fetch(url, { signal, credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!r.ok) throw await failure(r);
  return r.json();
}

/** POST with the CSRF token; body: an object (sent as JSON) or FormData. */
export async function post(url, body, signal) {
  const headers = { "X-CSRF-Token": CSRF };
  let data = body;
  if (!(body instanceof FormData)) { headers["Content-Type"] = "application/json"; data = JSON.stringify(body ?? {}); }
  const r = await fetch(url, { method: "POST", body: data, headers, signal, credentials: "same-origin" });
  if (!r.ok) throw await failure(r);
  return r;
}

/** Read an NDJSON response, calling onEvent with each object as it arrives. */
export async function readLines(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onEvent(JSON.parse(line));
    }
  }
  if (buf.trim()) onEvent(JSON.parse(buf));
}

/** An element: el("div.cls#id", {attr: v, onclick: fn}, children…) — text children become text nodes. */
export function el(spec, attrs, ...children) {
  const m = spec.match(/^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i);
  const node = document.createElement(m[1] || "div");
  for (const part of m[2].match(/[.#][\w-]+/g) || []) {
    if (part[0] === ".") node.classList.add(part.slice(1)); else node.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else if (k in node && k !== "list") node[k] = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** A lazily loaded thumbnail that says which image it is when it cannot be shown. */
export function thumb(id, cls) {
  const img = el(cls ? `img.${cls}` : "img", { src: `/web/thumb/${id}`, alt: "", loading: "lazy", decoding: "async" });
  img.addEventListener("error", () => img.replaceWith(el("span.noimg", { text: `#${id}` })), { once: true });
  return img;
}

/** Highlighted text as nodes: segments [[text, highlighted], …]. */
export function marked(segments) {
  return segments.map(([text, hl]) => (hl ? el("mark", { text }) : document.createTextNode(text)));
}

export function toast(message, bad = false, ms = 2600) {
  const node = el("div.toast", { text: message, role: bad ? "alert" : "status" });
  if (bad) node.classList.add("bad");
  document.getElementById("toasts").append(node);
  setTimeout(() => node.remove(), ms);
}

const dateFmt = new Intl.DateTimeFormat(LANG, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
                                                 minute: "2-digit", hour12: false });
const timeFmt = new Intl.DateTimeFormat(LANG, { hour: "2-digit", minute: "2-digit", hour12: false });
const dayFmt = new Intl.DateTimeFormat(LANG, { weekday: "short", year: "numeric", month: "long", day: "numeric" });

export function when(ts) {
  if (!ts) return "";
  const d = new Date(ts * 1000);
  return d.toDateString() === new Date().toDateString() ? timeFmt.format(d) : dateFmt.format(d);
}
export const fullWhen = (ts) => (ts ? dateFmt.format(new Date(ts * 1000)) : "");
export const dayLabel = (ts) => dayFmt.format(new Date(ts * 1000));

export function humanBytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

/** Copy text to the clipboard (the async API on a secure origin, else a hidden textarea). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el("textarea", { value: text, readOnly: true });
    area.style.position = "fixed"; area.style.opacity = "0";
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch { ok = false; }
    area.remove();
    return ok;
  }
}

/** Whether the user is typing somewhere (keys then belong to that field). */
export function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}
