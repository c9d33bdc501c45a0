// The history replay: a slider over every version of a document. The
// page (#replay) works without this script: a form with a version number
// and links that load ?v=N. This script shows the slider and replays
// versions in place: moving it fetches the version (text, author, time
// and the change that made it) from /api/docs/:id/versions/:v, debounced
// while dragging, the previous request aborted, answers kept in a small
// cache, and the next version in the direction of travel fetched ahead.

import { element } from "./dom";

interface Part {
  k: "=" | "+" | "-";
  n?: number; // UTF-16 length in body, for = and +
  t?: string; // deleted text, for -
}

interface Version {
  version: number;
  latest: number;
  body: string;
  author?: string;
  time?: string;
  added: number;
  removed: number;
  change: Part[];
  html?: string;
}

interface Session {
  startVersion: number;
  endVersion: number;
  startedAt: string;
  endedAt?: string;
}

/** Marker is a moment of the decision process, listed in #replay-markers. */
interface Marker {
  version: number;
  kind: string;
  label: string;
  item: HTMLElement;
}

type Mode = "text" | "source";

const cacheSize = 200;

/** Replay runs the slider of one history page. */
class Replay {
  private docId: string;
  private latest: number;
  private names: Record<string, string>;
  private fmt: Intl.DateTimeFormat;
  private range: HTMLInputElement;
  private number: HTMLInputElement;
  private out: HTMLOutputElement;
  private meta: HTMLElement;
  private view: HTMLElement;
  private form: HTMLFormElement;
  private cache = new Map<string, Version>();
  private abort: AbortController | null = null;
  private timer: number | undefined;
  private v: number;
  private shown = -1;
  private shownMode: Mode;
  private mode: Mode;
  private dir = 1;
  private dragging = false;
  private sessions: Session[] = [];
  private markers: Marker[] = [];
  private cmpFrom: HTMLInputElement | null = null;
  private cmpTo: HTMLInputElement | null = null;
  private cmpTouched = false;
  private buttons: Record<"prev" | "next" | "prevSession" | "nextSession", HTMLButtonElement>;

  constructor(private root: HTMLElement) {
    this.docId = root.dataset.docId ?? "";
    this.latest = Number(root.dataset.latest ?? "0");
    try {
      this.names = JSON.parse(root.dataset.names ?? "{}") as Record<string, string>;
    } catch {
      this.names = {};
    }
    this.fmt = timeFormat(root.dataset.tz);
    this.range = root.querySelector<HTMLInputElement>("#replay-range")!;
    this.number = root.querySelector<HTMLInputElement>("#replay-v")!;
    this.out = root.querySelector<HTMLOutputElement>("#replay-out")!;
    this.meta = root.querySelector<HTMLElement>("#replay-meta")!;
    this.view = root.querySelector<HTMLElement>("#replay-view")!;
    this.form = root.querySelector<HTMLFormElement>("form.replay-form")!;
    this.v = Number(this.range.value);
    this.shown = this.v;
    this.mode = this.checkedMode();
    this.shownMode = this.mode;

    // The steps: buttons that keep their place (and focus) while the
    // version changes, instead of the page's links.
    const nav = root.querySelector<HTMLElement>(".replay-steps")!;
    const button = (label: string, cls: string, go: () => void): HTMLButtonElement => {
      const b = element("button", { type: "button", className: "button " + cls, textContent: label });
      b.addEventListener("click", go);
      return b;
    };
    this.buttons = {
      prev: button("← Previous", "replay-prev", () => this.go(this.v - 1)),
      next: button("Next →", "replay-next", () => this.go(this.v + 1)),
      prevSession: button("Previous session", "replay-prev-session", () => this.go(this.sessionStep(-1))),
      nextSession: button("Next session", "replay-next-session", () => this.go(this.sessionStep(1))),
    };
    nav.replaceChildren(this.buttons.prev, this.buttons.next, this.buttons.prevSession, this.buttons.nextSession);

    root.querySelector<HTMLElement>(".replay-slider")!.hidden = false;
    this.form.querySelector<HTMLButtonElement>("button[type=submit]")?.classList.add("visually-hidden");
    this.range.addEventListener("pointerdown", () => { this.dragging = true; });
    window.addEventListener("pointerup", () => {
      if (!this.dragging) return;
      this.dragging = false;
      this.schedule(0);
    });
    this.range.addEventListener("input", () => this.moved(Number(this.range.value)));
    this.number.addEventListener("change", () => {
      if (this.number.checkValidity()) this.go(Number(this.number.value));
    });
    this.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (this.number.checkValidity()) this.go(Number(this.number.value));
    });
    this.form.addEventListener("change", (ev) => {
      if ((ev.target as HTMLInputElement).name !== "view") return;
      this.mode = this.checkedMode();
      this.schedule(0);
    });
    // Links to a version anywhere on the page (the versions table, the
    // sessions) move the slider instead of loading the page.
    document.addEventListener("click", (ev) => {
      const a = (ev.target as Element).closest<HTMLAnchorElement>("a[data-v]");
      if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
      ev.preventDefault();
      this.go(Number(a.dataset.v));
      this.root.scrollIntoView({ block: "start" });
      this.range.focus({ preventScroll: true });
    });
    // The compare form follows the slider until the reader edits it.
    this.cmpFrom = document.querySelector<HTMLInputElement>("#cmp-from");
    this.cmpTo = document.querySelector<HTMLInputElement>("#cmp-to");
    for (const input of [this.cmpFrom, this.cmpTo]) {
      input?.addEventListener("input", () => { this.cmpTouched = true; });
    }
    this.markers = this.placeMarkers();
    this.updateControls();
    void this.loadSessions();
  }

  /**
   * placeMarkers reads the page's list of review rounds, approvals, last
   * calls and decisions and puts a tick for each on the slider's track.
   * The ticks are for the eye and the pointer; the list's links are
   * what keyboards and screen readers use.
   */
  private placeMarkers(): Marker[] {
    const markers: Marker[] = [];
    for (const li of this.root.querySelectorAll<HTMLElement>("#replay-markers li[data-v]")) {
      const version = Number(li.dataset.v);
      if (!Number.isFinite(version) || version < 0 || version > this.latest) continue;
      const label = li.querySelector("a")?.textContent ?? "";
      markers.push({ version, kind: li.dataset.kind ?? "", label, item: li });
    }
    if (markers.length === 0) return markers;
    const track = element("div", { className: "replay-ticks" });
    track.setAttribute("aria-hidden", "true");
    for (const m of markers) {
      const tick = element("span", { className: `tick tick-${m.kind}`, title: `${m.label} · version ${m.version}` });
      tick.dataset.v = String(m.version);
      tick.style.left = `${this.latest > 0 ? (m.version / this.latest) * 100 : 0}%`;
      tick.addEventListener("click", () => this.go(m.version));
      track.append(tick);
    }
    this.range.after(track);
    return markers;
  }

  private checkedMode(): Mode {
    const r = this.form.querySelector<HTMLInputElement>("input[name=view]:checked");
    return r?.value === "source" ? "source" : "text";
  }

  /** go moves the slider to version v and shows it. */
  go(v: number): void {
    if (!Number.isFinite(v)) return;
    v = Math.max(0, Math.min(this.latest, Math.round(v)));
    this.range.value = String(v);
    this.moved(v);
    this.schedule(0);
  }

  /** moved follows the slider at once; the version loads a moment later. */
  private moved(v: number): void {
    if (v !== this.v) this.dir = v > this.v ? 1 : -1;
    this.v = v;
    this.out.value = String(v);
    this.number.value = String(v);
    this.range.setAttribute("aria-valuetext", `Version ${v} of ${this.latest}`);
    if (this.cmpFrom && this.cmpTo && !this.cmpTouched) {
      // As the server does (compareWith): v against the current version,
      // or at the current version the change that made it.
      const [from, to] = v < this.latest ? [v, this.latest] : [Math.max(v - 1, 0), v];
      this.cmpFrom.value = String(from);
      this.cmpTo.value = String(to);
    }
    this.updateControls();
    const hit = this.cache.get(this.key(v, this.mode));
    if (hit) {
      this.show(hit);
      return;
    }
    // Keys step one version at a time: load at once. A drag passes
    // through many: wait until it rests.
    this.schedule(this.dragging ? 150 : 60);
  }

  private schedule(delay: number): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      void this.load(this.v, this.mode);
    }, delay);
  }

  private key(v: number, mode: Mode): string {
    return `${v}:${mode}`;
  }

  private async fetchVersion(v: number, mode: Mode, signal?: AbortSignal): Promise<Version> {
    const key = this.key(v, mode);
    const hit = this.cache.get(key) ?? (mode === "source" ? this.cache.get(this.key(v, "text")) : undefined);
    if (hit) return hit;
    const url = `/api/docs/${encodeURIComponent(this.docId)}/versions/${v}?change=1${mode === "text" ? "&html=1" : ""}`;
    const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal });
    if (!res.ok) {
      let msg = `${res.status} ${res.statusText}`;
      try {
        msg = ((await res.json()) as { error?: { message?: string } }).error?.message ?? msg;
      } catch { /* not JSON */ }
      throw new Error(msg);
    }
    const data = (await res.json()) as Version;
    this.cache.set(key, data);
    if (this.cache.size > cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return data;
  }

  private async load(v: number, mode: Mode): Promise<void> {
    if (v === this.shown && mode === this.shownMode) return;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.root.setAttribute("aria-busy", "true");
    try {
      const data = await this.fetchVersion(v, mode, abort.signal);
      if (v !== this.v || mode !== this.mode) return; // moved on meanwhile
      this.show(data);
      this.prefetch(v + this.dir, mode);
    } catch (err) {
      if (abort.signal.aborted) return;
      this.meta.replaceChildren(`Version ${v} could not be loaded: ${(err as Error).message}`);
    } finally {
      if (this.abort === abort) {
        this.abort = null;
        this.root.removeAttribute("aria-busy");
      }
    }
  }

  /** prefetch fetches the next version in the direction of travel. */
  private prefetch(v: number, mode: Mode): void {
    if (v < 0 || v > this.latest || this.cache.has(this.key(v, mode))) return;
    const idle = window.requestIdleCallback ?? ((fn: () => void) => window.setTimeout(fn, 50));
    idle(() => { this.fetchVersion(v, mode).catch(() => {}); });
  }

  private show(d: Version): void {
    this.shown = d.version;
    this.shownMode = this.mode;
    this.renderMeta(d);
    if (this.mode === "text" && d.html !== undefined) {
      const article = element("article", { id: "replay-text", className: "markdown" });
      article.setAttribute("aria-label", `Text of version ${d.version}`);
      // Sanitised on the server, like the document page's preview.
      article.innerHTML = d.html;
      this.view.replaceChildren(article);
    } else {
      this.view.replaceChildren(this.sourceView(d));
    }
    const url = new URL(location.href);
    url.searchParams.set("v", String(d.version));
    if (this.mode === "source") url.searchParams.set("view", "source");
    else url.searchParams.delete("view");
    history.replaceState(null, "", url);
  }

  private renderMeta(d: Version): void {
    const parts: (string | Node)[] = [];
    parts.push(element("strong", { textContent: `Version ${d.version}` }));
    let label = `Version ${d.version} of ${d.latest}`;
    if (d.author && d.time) {
      const name = this.names[d.author] ?? "someone";
      const t = element("time", { dateTime: d.time, textContent: this.fmt.format(new Date(d.time)) });
      parts.push(` · by ${name} · `, t);
      label += `, by ${name}, ${t.textContent}`;
    } else {
      parts.push(" · before the first text");
    }
    if (d.added + d.removed > 0) {
      parts.push(" ·");
      for (const [n, cls, sign] of [[d.added, "added", "+"], [d.removed, "removed", "−"]] as const) {
        if (n === 0) continue;
        parts.push(" ", element("span", { className: cls, textContent: `${sign}${n}` }));
      }
      parts.push(" characters");
    }
    for (const m of this.markers) {
      if (m.version !== d.version) continue;
      parts.push(" · ", element("span", { className: `badge marker-badge marker-${m.kind}`, textContent: m.label }));
      label += `, ${m.label}`;
    }
    if (d.version === d.latest) {
      parts.push(" · ", element("span", { className: "badge", textContent: "Current" }));
    }
    this.meta.replaceChildren(...parts);
    this.range.setAttribute("aria-valuetext", label);
  }

  /** sourceView is the markdown with the version's change marked. */
  private sourceView(d: Version): HTMLElement {
    const pre = element("pre", { id: "replay-source", className: "source-view replay-source", tabIndex: 0 });
    pre.setAttribute("aria-label", `Markdown of version ${d.version} with its change`);
    const code = element("code");
    let at = 0;
    let first: HTMLElement | null = null;
    for (const p of d.change) {
      if (p.k === "-") {
        const del = element("del", { textContent: p.t ?? "" });
        code.append(del);
        first ??= del;
        continue;
      }
      const text = d.body.slice(at, at + (p.n ?? 0));
      at += p.n ?? 0;
      if (p.k === "+") {
        const ins = element("ins", { textContent: text });
        code.append(ins);
        first ??= ins;
      } else {
        code.append(text);
      }
    }
    if (d.change.length === 0) code.append(d.body);
    pre.append(code);
    if (first) {
      const mark = first;
      requestAnimationFrame(() => {
        pre.scrollTop = Math.max(0, mark.offsetTop - pre.clientHeight / 3);
      });
    }
    return pre;
  }

  private async loadSessions(): Promise<void> {
    try {
      const res = await fetch(`/api/docs/${encodeURIComponent(this.docId)}/sessions`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!res.ok) return;
      this.sessions = ((await res.json()) as { sessions: Session[] }).sessions ?? [];
    } catch {
      return;
    }
    this.updateControls();
  }

  /** sessionStep is the nearest session start or end before or after v. */
  private sessionStep(dir: -1 | 1): number {
    let best = -1;
    for (const s of this.sessions) {
      for (const b of [s.startVersion, s.endVersion]) {
        if (b > this.latest) continue;
        if (dir < 0 && b < this.v && b > best) best = b;
        if (dir > 0 && b > this.v && (best < 0 || b < best)) best = b;
      }
    }
    return best;
  }

  private updateControls(): void {
    const { prev, next, prevSession, nextSession } = this.buttons;
    prev.disabled = this.v <= 0;
    next.disabled = this.v >= this.latest;
    const ps = this.sessionStep(-1);
    const ns = this.sessionStep(1);
    prevSession.hidden = nextSession.hidden = this.sessions.length === 0;
    prevSession.disabled = ps < 0;
    nextSession.disabled = ns < 0;
    prevSession.title = ps < 0 ? "No earlier live session" : `The start or end of a live session: version ${ps}`;
    nextSession.title = ns < 0 ? "No later live session" : `The start or end of a live session: version ${ns}`;
    for (const m of this.markers) {
      m.item.classList.toggle("is-current", m.version === this.v);
    }
    for (const li of document.querySelectorAll<HTMLElement>("#sessions li[data-start]")) {
      const inside = Number(li.dataset.start) <= this.v && this.v <= Number(li.dataset.end);
      li.classList.toggle("is-current", inside);
    }
  }
}

/** timeFormat formats times like the server: "2 Jan 2026, 15:04" in the reader's zone. */
function timeFormat(tz: string | undefined): Intl.DateTimeFormat {
  const opts: Intl.DateTimeFormatOptions = {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  };
  try {
    return new Intl.DateTimeFormat("en-GB", { ...opts, timeZone: tz || undefined });
  } catch {
    return new Intl.DateTimeFormat("en-GB", opts);
  }
}

/** start enhances the history page's #replay section. */
export function start(root: HTMLElement): void {
  new Replay(root);
}
