// The live connection: a stock ShareDB Connection over a WebSocket to
// /api/live that comes back by itself. ShareDB keeps the ops typed while
// the socket is down (the one in flight keeps its src/seq, so the server
// applies it once even if it had already committed it) and sends them
// after the next handshake; this module only supplies new sockets.

import ShareDB from "sharedb/lib/client";
import type { Connection, Socket } from "sharedb/lib/client";
import { type as textUnicode } from "ot-text-unicode";

let registered = false;

function registerType(): void {
  if (registered) return;
  registered = true;
  ShareDB.types.register(textUnicode);
}

/**
 * A socket as ShareDB wants it, over one WebSocket. close() takes effect at
 * once: the connection hears that the socket closed without waiting for a
 * closing handshake that a dead network never completes.
 */
class LiveSocket implements Socket {
  readyState = 0;
  onmessage: Socket["onmessage"] = null;
  onopen: Socket["onopen"] = null;
  onclose: Socket["onclose"] = null;
  onerror: Socket["onerror"] = null;
  private ws: WebSocket | null;

  constructor(url: string) {
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.readyState = 1;
      this.onopen?.();
    };
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.onmessage?.(ev);
    };
    ws.onerror = (ev) => {
      if (this.ws === ws) this.onerror?.(ev);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.readyState = 3;
      this.onclose?.(ev);
    };
  }

  send(data: string): void {
    if (this.ws && this.readyState === 1) this.ws.send(data);
  }

  close(): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    this.readyState = 3;
    try {
      ws.close();
    } catch {
      // already closing
    }
    this.onclose?.({ code: 4000, reason: "closed by the client" });
  }
}

/** How the connection is doing, for the status indicator. */
export type LinkState = "connecting" | "connected" | "reconnecting" | "offline";

/** Live owns the Connection and reconnects it with backoff. */
export class Live {
  readonly connection: Connection;
  private attempt = 0;
  private timer: number | undefined;
  private everConnected = false;
  private lastHeard = Date.now();
  private pingAt = 0;
  private listeners: (() => void)[] = [];

  constructor(private url: string) {
    registerType();
    this.connection = new ShareDB.Connection(new LiveSocket(url));
    this.connection.on("error", (err: Error) => console.warn("docket live:", err));
    this.connection.on("receive", () => {
      this.lastHeard = Date.now();
      this.pingAt = 0;
    });
    this.connection.on("state", (state: string) => {
      if (state === "connected") {
        this.everConnected = true;
        this.attempt = 0;
      } else if (state === "disconnected") {
        this.schedule();
      }
      this.changed();
    });
    window.addEventListener("offline", () => {
      // Sending into a dead network loses nothing (ShareDB resends), but
      // the socket would only notice much later: let go of it now.
      this.drop();
      this.changed();
    });
    window.addEventListener("online", () => {
      this.attempt = 0;
      this.reconnectNow();
    });
    window.setInterval(() => this.heartbeat(), 2000);
  }

  /** Calls fn whenever the link state may have changed. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  get state(): LinkState {
    const s = this.connection.state;
    if (s === "connected") return "connected";
    if (!navigator.onLine) return "offline";
    return this.everConnected ? "reconnecting" : "connecting";
  }

  /** Closes the socket; the connection comes back after a backoff. */
  drop(): void {
    if (this.connection.state === "connecting" || this.connection.state === "connected") {
      this.connection.socket.close();
    }
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  private schedule(): void {
    window.clearTimeout(this.timer);
    // 0.25 s, 0.5 s, 1 s ... at most 15 s, with jitter so that a restarted
    // server is not met by every client at once.
    const base = Math.min(15000, 250 * 2 ** this.attempt);
    this.attempt++;
    this.timer = window.setTimeout(() => this.reconnectNow(), base / 2 + Math.random() * (base / 2));
  }

  private reconnectNow(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.connection.state !== "disconnected") return;
    this.lastHeard = Date.now();
    this.pingAt = 0;
    this.connection.bindToSocket(new LiveSocket(this.url));
    this.changed();
  }

  /**
   * Notices a socket that died without closing: when nothing was heard for
   * a while (or an op waits for its ack) it pings, and drops the socket if
   * the pong does not come.
   */
  private heartbeat(): void {
    if (this.connection.state !== "connected") return;
    const now = Date.now();
    if (this.pingAt) {
      if (now - this.pingAt > 8000) this.drop();
      return;
    }
    const waiting = this.waitingForAck?.() ?? false;
    if (now - this.lastHeard > 25000 || (waiting && now - this.lastHeard > 4000)) {
      this.pingAt = now;
      try {
        this.connection.ping();
      } catch {
        this.drop();
      }
    }
  }

  /** Set by the page: whether an op is waiting for its ack. */
  waitingForAck?: () => boolean;
}

/** The WebSocket URL of /api/live on this page's origin. */
export function liveURL(): string {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/api/live`;
}
