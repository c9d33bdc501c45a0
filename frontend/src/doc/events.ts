// Pushed updates: the document's events (threads, comments, reviews,
// transitions, owner changes) from GET /api/docs/:id/events/stream, a
// server-sent event stream. Each event's seq is its SSE id, so the
// browser's own reconnection resumes with Last-Event-ID; when this code
// reopens the stream itself (after it was closed while the tab was hidden,
// or refused) it passes after=<last seq>. Events arrive in batches to the
// callback, a moment after the first of them, so a burst makes one
// refresh.

/** An event as the API sends it. */
export interface DocEvent {
  seq: number;
  type: string;
  actorId?: string;
  docId?: string;
  threadId?: string;
  commentId?: string;
}

/** Events that change what the threads or the review panel show. */
const panelTypes = new Set([
  "thread.created",
  "thread.resolved",
  "thread.reopened",
  "comment.created",
  "comment.edited",
  "comment.deleted",
  "suggestion.created",
  "suggestion.applied",
  "suggestion.rejected",
  "review.created",
  "doc.transitioned",
  "doc.owner",
  "doc.updated",
]);

/** Whether any of the events changes the page's panels. */
export function touchesPanels(evs: DocEvent[]): boolean {
  return evs.some((e) => panelTypes.has(e.type));
}

/** How long a hidden tab keeps its stream open. */
const hiddenGrace = 60_000;
/** The batching delay. */
const batchDelay = 120;

/** DocEvents follows the event stream of one document. */
export class DocEvents {
  private es: EventSource | null = null;
  private last: number | null;
  private stopped = false;
  private batch: DocEvent[] = [];
  private batchTimer: number | undefined;
  private hiddenTimer: number | undefined;
  private retryTimer: number | undefined;
  private retryDelay = 2000;

  /**
   * Opens the stream of docId after the event seq `after` (the newest
   * event when the page was made; null starts at the newest now).
   */
  constructor(
    private docId: string,
    after: number | null,
    private onEvents: (evs: DocEvent[]) => void,
    private onRevoked: () => void = () => {},
    private onMembers: () => void = () => {},
  ) {
    this.last = after;
    document.addEventListener("visibilitychange", () => this.visibility());
    window.addEventListener("online", () => this.open());
    this.open();
  }

  /** The seq of the last event received. */
  get lastSeq(): number | null {
    return this.last;
  }

  private url(): string {
    const base = `/api/docs/${encodeURIComponent(this.docId)}/events/stream`;
    return this.last === null ? base : `${base}?after=${this.last}`;
  }

  private open(): void {
    if (this.stopped || this.es || document.hidden) return;
    window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const es = new EventSource(this.url());
    this.es = es;
    es.onopen = () => {
      this.retryDelay = 2000;
    };
    es.onmessage = (m) => {
      let ev: DocEvent;
      try {
        ev = JSON.parse(m.data);
      } catch {
        return;
      }
      if (typeof ev.seq !== "number" || (this.last !== null && ev.seq <= this.last)) return;
      this.last = ev.seq;
      this.batch.push(ev);
      if (this.batchTimer === undefined) {
        this.batchTimer = window.setTimeout(() => this.deliver(), batchDelay);
      }
    };
    es.addEventListener("members", () => this.onMembers());
    es.addEventListener("revoked", () => {
      this.stop();
      this.onRevoked();
    });
    es.onerror = () => {
      // The browser reconnects by itself (with Last-Event-ID) unless the
      // server refused; then try again later, from the last event seen.
      if (es.readyState !== EventSource.CLOSED) return;
      if (this.es === es) this.es = null;
      if (this.stopped) return;
      this.retryTimer = window.setTimeout(() => this.open(), this.retryDelay * (0.75 + Math.random() / 2));
      this.retryDelay = Math.min(this.retryDelay * 2, 60_000);
    };
  }

  private close(): void {
    this.es?.close();
    this.es = null;
  }

  private deliver(): void {
    this.batchTimer = undefined;
    const evs = this.batch;
    this.batch = [];
    if (evs.length) this.onEvents(evs);
  }

  /**
   * A tab hidden for a while gives its stream up (browsers allow few
   * connections per server over HTTP/1.1); shown again, it reopens after
   * the last event it saw, and what it missed is replayed.
   */
  private visibility(): void {
    window.clearTimeout(this.hiddenTimer);
    this.hiddenTimer = undefined;
    if (document.hidden) {
      this.hiddenTimer = window.setTimeout(() => this.close(), hiddenGrace);
    } else {
      this.open();
    }
  }

  /** Stops following the stream for good. */
  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.hiddenTimer);
    this.close();
  }
}
