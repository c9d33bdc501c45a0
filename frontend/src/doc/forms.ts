// The page's forms in #threads and #review work without JavaScript (they
// post to the page routes). With it, they are sent to the JSON API with
// fetch and the sections are reloaded from a fresh copy of the page, so
// the markup stays the server's. Which API call a form makes comes from
// its data-api attribute or, failing that, from the end of its action:
//
//   .../threads                      POST /api/docs/:doc/threads   {body}
//   .../threads/:id/comments|reply   POST /api/threads/:id/comments {body}
//   .../threads/:id/resolve|reopen   POST /api/threads/:id/resolve  {note?}
//   .../transition                   POST /api/docs/:doc/transition {to, due?, reviewers?, decision?: {summary}, supersededBy?, amend?}
//   .../reviews                      POST /api/docs/:doc/reviews    {verdict, body?}
//   .../owner                        POST /api/docs/:doc/owner      {user}
//
// Field names: body, note, to, due (a date, a datetime-local value or RFC
// 3339), reviewers (one per field or separated by commas or spaces),
// summary, supersededBy, amend ("true"), verdict, user. A submit button's name and value
// count (a "to" or "verdict" button). Other forms submit as usual.

import { element } from "../dom";

type Kind = "thread" | "comment" | "resolve" | "reopen" | "transition" | "reviews" | "owner";

interface Call {
  path: string;
  kind: Kind;
}

/** callFor maps a form to its API call, or null to let it submit natively. */
export function callFor(form: HTMLFormElement, docId: string): Call | null {
  const doc = `/api/docs/${encodeURIComponent(docId)}`;
  const api = form.dataset.api;
  let path: string;
  if (api) {
    path = api;
  } else {
    const action = form.getAttribute("action");
    if (!action || (form.method || "get").toLowerCase() !== "post") return null;
    path = new URL(action, location.href).pathname;
  }
  path = path.replace(/\/+$/, "");
  let m = path.match(/\/threads\/([^/]+)\/(comments|reply|replies)$/);
  if (m) return { path: `/api/threads/${m[1]}/comments`, kind: "comment" };
  m = path.match(/\/threads\/([^/]+)\/(resolve|reopen)$/);
  if (m) return { path: `/api/threads/${m[1]}/${m[2]}`, kind: m[2] as Kind };
  if (/\/threads$/.test(path)) return { path: `${doc}/threads`, kind: "thread" };
  if (/\/transition$/.test(path)) return { path: `${doc}/transition`, kind: "transition" };
  if (/\/reviews?$/.test(path)) return { path: `${doc}/reviews`, kind: "reviews" };
  if (/\/owner$/.test(path)) return { path: `${doc}/owner`, kind: "owner" };
  return null;
}

function str(fd: FormData, ...names: string[]): string {
  for (const n of names) {
    const v = fd.get(n);
    if (typeof v === "string" && v.trim() !== "") return v.trim();
  }
  return "";
}

/** A date, datetime-local value or RFC 3339 time as RFC 3339. */
export function dueTime(v: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const [y, m, d] = v.split("-").map(Number);
    return new Date(y, m - 1, d, 23, 59, 0).toISOString(); // the end of that day, here
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v)) return new Date(v).toISOString();
  return v;
}

/** body builds the JSON body of a call from the form's fields. */
export function bodyFor(kind: Kind, fd: FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  switch (kind) {
    case "thread":
    case "comment":
      out.body = str(fd, "body");
      break;
    case "resolve": {
      const note = str(fd, "note");
      if (note) out.note = note;
      break;
    }
    case "reopen":
      break;
    case "transition": {
      out.to = str(fd, "to");
      const due = str(fd, "due");
      if (due) out.due = dueTime(due);
      const reviewers = fd
        .getAll("reviewers")
        .flatMap((v) => (typeof v === "string" ? v.split(/[\s,;]+/) : []))
        .filter(Boolean);
      if (reviewers.length) out.reviewers = reviewers;
      const summary = str(fd, "summary", "decision.summary", "decision[summary]", "decision");
      if (summary) out.decision = { summary };
      const sup = str(fd, "supersededBy", "superseded_by");
      if (sup) out.supersededBy = sup;
      if (str(fd, "amend") === "true") out.amend = true;
      break;
    }
    case "reviews": {
      out.verdict = str(fd, "verdict");
      const body = str(fd, "body");
      if (body) out.body = body;
      break;
    }
    case "owner":
      out.user = str(fd, "user", "owner");
      break;
  }
  return out;
}

/** Sends a JSON request; throws an Error with the server's message. */
export async function postJSON(path: string, body: unknown): Promise<any> {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data?.error?.message || `The server answered ${res.status}.`);
  return data;
}

/** A fresh copy of this page, parsed. */
export async function freshPage(): Promise<Document | null> {
  try {
    const res = await fetch(location.pathname + location.search, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" },
    });
    if (!res.ok) return null;
    return new DOMParser().parseFromString(await res.text(), "text/html");
  } catch {
    return null;
  }
}

/** The page's panels fragment (GET /d/:id/panels), parsed. */
export async function fetchPanels(path: string): Promise<Document | null> {
  try {
    const res = await fetch(path, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } });
    if (!res.ok) return null;
    return new DOMParser().parseFromString(await res.text(), "text/html");
  } catch {
    return null;
  }
}

/**
 * Replaces the sections with those ids by the fresh page's, in place:
 * children that did not change stay (so does the focus in them), changed
 * ones are replaced, and what the reader was typing in a form field, with
 * the focus and the selection, is carried over to the new field.
 */
export function swapSections(fresh: Document, ids: string[]): void {
  for (const id of ids) {
    const now = document.getElementById(id);
    const next = fresh.getElementById(id);
    if (!now || !next) continue;
    const fields = saveFields(now);
    const active = now.querySelector<HTMLElement>(".dk-active")?.id;
    for (const a of [...now.attributes]) if (!next.hasAttribute(a.name) && a.name !== "id") now.removeAttribute(a.name);
    for (const a of [...next.attributes]) if (now.getAttribute(a.name) !== a.value) now.setAttribute(a.name, a.value);
    morphChildren(now, next);
    restoreFields(now, fields);
    if (active) document.getElementById(active)?.classList.add("dk-active");
  }
}

/** A key that pairs an element with its counterpart in a fresh copy. */
function childKeys(parent: Element): Map<string, Element> {
  const out = new Map<string, Element>();
  const seen = new Map<string, number>();
  for (const el of parent.children) {
    let key = el.id ? "#" + el.id : el.tagName + "." + [...el.classList].filter((c) => !c.startsWith("dk-")).join(".");
    if (!el.id) {
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      key += "/" + n;
    }
    out.set(key, el);
  }
  return out;
}

/** Whether an element shows the same as a fresh one, apart from what the page script added. */
function sameAs(cur: Element, fresh: Element): boolean {
  const c = cur.cloneNode(true) as Element;
  for (const x of c.querySelectorAll(".dk-form-error, .dk-countdown")) x.remove();
  for (const x of [c, ...c.querySelectorAll("*")]) {
    for (const c of [...x.classList]) if (c.startsWith("dk-")) x.classList.remove(c);
    x.removeAttribute("style"); // set by the margin layout
    if (x.classList.length === 0) x.removeAttribute("class");
    x.removeAttribute("aria-busy");
    if (x.tagName === "ARTICLE") x.removeAttribute("tabindex");
  }
  return c.isEqualNode(fresh);
}

/** Makes now's children those of next, keeping the unchanged ones in place. */
function morphChildren(now: Element, next: Element): void {
  const old = childKeys(now);
  const fresh = childKeys(next);
  const reuse = new Map<Element, Element>(); // fresh -> current
  for (const [k, el] of fresh) {
    const cur = old.get(k);
    if (cur && sameAs(cur, el)) reuse.set(el, cur);
  }
  const out: Node[] = [];
  for (const n of [...next.childNodes]) {
    const kept = n instanceof Element ? reuse.get(n) : undefined;
    out.push(kept ?? document.importNode(n, true));
  }
  // What the page script keeps (a comment being written) stays after the
  // heading.
  const pinned = [...now.children].filter((c) => c.classList.contains("dk-keep"));
  if (pinned.length) {
    const at = out.findIndex((n) => n instanceof Element) + 1;
    out.splice(at, 0, ...pinned);
  }
  const keep = new Set(out);
  for (const c of [...now.childNodes]) if (!keep.has(c)) c.remove();
  let ref = now.firstChild;
  for (const n of out) {
    if (n === ref) {
      ref = ref.nextSibling;
      continue;
    }
    now.insertBefore(n, ref);
  }
}

type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

interface FieldState {
  value: string;
  checked: boolean;
  changed: boolean;
  focused: boolean;
  start: number | null;
  end: number | null;
}

function fieldKey(el: Field): string {
  if (el.id) return "#" + el.id;
  const f = el.form;
  const form = f ? f.id || f.getAttribute("aria-labelledby") || f.getAttribute("action") || "" : "";
  const v = el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio") ? el.value : "";
  return `${form}|${el.name}|${v}`;
}

function fieldsOf(root: Element): Field[] {
  return [...root.querySelectorAll<Field>("textarea, select, input:not([type=hidden]):not([type=submit])")];
}

/** The fields under root that the reader changed or is in. */
function saveFields(root: Element): Map<string, FieldState> {
  const out = new Map<string, FieldState>();
  const focus = document.activeElement;
  for (const el of fieldsOf(root)) {
    let changed: boolean;
    if (el instanceof HTMLSelectElement) changed = [...el.options].some((o) => o.selected !== o.defaultSelected);
    else if (el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio")) changed = el.checked !== el.defaultChecked;
    else changed = el.value !== el.defaultValue;
    const focused = el === focus;
    if (!changed && !focused) continue;
    let start: number | null = null;
    let end: number | null = null;
    if (!(el instanceof HTMLSelectElement)) {
      try {
        start = el.selectionStart;
        end = el.selectionEnd;
      } catch {
        // inputs without a selection (checkboxes, dates)
      }
    }
    const checked = el instanceof HTMLInputElement ? el.checked : false;
    out.set(fieldKey(el), { value: el.value, checked, changed, focused, start, end });
  }
  return out;
}

function restoreFields(root: Element, saved: Map<string, FieldState>): void {
  if (!saved.size) return;
  for (const el of fieldsOf(root)) {
    const st = saved.get(fieldKey(el));
    if (!st) continue;
    if (st.changed) {
      if (el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio")) el.checked = st.checked;
      else if (el.value !== st.value) el.value = st.value;
    }
    if (st.focused && document.activeElement !== el) {
      el.focus({ preventScroll: true });
      if (st.start !== null && !(el instanceof HTMLSelectElement)) {
        try {
          el.setSelectionRange(st.start, st.end ?? st.start);
        } catch {
          // not a text field
        }
      }
    }
  }
}

/**
 * Enhances the forms under root: submits them through the API and calls
 * done afterwards (to reload the sections).
 */
export function enhanceForms(root: HTMLElement, docId: string, done: (kind: Kind, result: any) => Promise<void>): void {
  root.addEventListener("submit", (ev) => {
    const form = ev.target as HTMLFormElement;
    if (!form.closest("#threads, #review")) return;
    const call = callFor(form, docId);
    if (!call) return;
    ev.preventDefault();
    const submitter = (ev as SubmitEvent).submitter as HTMLButtonElement | null;
    void send(form, submitter, call, done);
  });
}

async function send(
  form: HTMLFormElement,
  submitter: HTMLButtonElement | null,
  call: Call,
  done: (kind: Kind, result: any) => Promise<void>,
): Promise<void> {
  if (form.getAttribute("aria-busy") === "true") return;
  let fd: FormData;
  try {
    fd = new FormData(form, submitter);
  } catch {
    fd = new FormData(form);
    if (submitter?.name) fd.append(submitter.name, submitter.value);
  }
  const body = bodyFor(call.kind, fd);
  let err = form.querySelector<HTMLElement>(".dk-form-error");
  if (!err) {
    err = element("p", { className: "dk-form-error" });
    err.setAttribute("role", "alert");
    form.append(err);
  }
  err.hidden = true;
  err.textContent = "";
  form.setAttribute("aria-busy", "true");
  const buttons = [...form.querySelectorAll<HTMLButtonElement>("button, input[type=submit]")];
  for (const b of buttons) b.disabled = true;
  try {
    const result = await postJSON(call.path, body);
    form.reset();
    await done(call.kind, result);
    showWarnings(result);
  } catch (e) {
    err.textContent = (e as Error).message || "That did not work.";
    err.hidden = false;
  } finally {
    form.removeAttribute("aria-busy");
    for (const b of buttons) b.disabled = false;
  }
}

let countdownTimer: number | undefined;

/**
 * Shows a live countdown after each <time data-countdown datetime=...> on
 * the page: "(in 3 days)", "(overdue, 2 hours ago)".
 */
export function countdowns(): void {
  const fmt = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const tick = () => {
    const now = Date.now();
    for (const el of document.querySelectorAll<HTMLTimeElement>("time[data-countdown]")) {
      const t = Date.parse(el.getAttribute("datetime") || "");
      if (!Number.isFinite(t)) continue;
      let span = el.nextElementSibling as HTMLElement | null;
      if (!span || !span.classList.contains("dk-countdown")) {
        span = element("span", { className: "dk-countdown" });
        el.after(span);
      }
      const diff = t - now;
      const abs = Math.abs(diff);
      const [n, unit]: [number, Intl.RelativeTimeFormatUnit] =
        abs >= 86400000
          ? [Math.round(diff / 86400000), "day"]
          : abs >= 3600000
            ? [Math.round(diff / 3600000), "hour"]
            : [Math.round(diff / 60000), "minute"];
      span.textContent = `(${diff < 0 ? "overdue, " : ""}${fmt.format(n, unit)})`;
      span.classList.toggle("dk-overdue", diff < 0);
    }
  };
  tick();
  if (countdownTimer === undefined) countdownTimer = window.setInterval(tick, 30000);
}

/**
 * showWarnings puts the warnings of an answer (an @name of someone who
 * cannot read the space, who was not notified) under the heading of
 * #threads, with an Invite link when the section names one (for those
 * who may add members).
 */
function showWarnings(result: unknown): void {
  const warnings = (result as { warnings?: unknown } | null)?.warnings;
  const threads = document.getElementById("threads");
  if (!threads || !Array.isArray(warnings)) return;
  const invite = threads.dataset.invite;
  const heading = threads.querySelector("h2");
  for (const w of warnings as { code?: unknown; user?: unknown }[]) {
    if (w?.code !== "mention_not_member" || typeof w.user !== "string") continue;
    const p = element("p", { className: "notice mention-warning" });
    p.setAttribute("role", "status");
    p.append(`@${w.user} cannot read this space and was not notified. `);
    if (invite) p.append(element("a", { className: "button", href: invite, textContent: "Invite" }));
    else p.append("Ask a space admin to invite them.");
    if (heading) heading.after(p);
    else threads.prepend(p);
  }
}
