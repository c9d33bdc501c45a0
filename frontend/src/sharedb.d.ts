// The parts of the stock sharedb client (npm sharedb@7.0.0, which ships no
// types) that Docket's page script uses.
declare module "sharedb/lib/client" {
  export type Op = unknown[];
  export type Callback = (err?: ShareDBError | null) => void;

  export interface ShareDBError extends Error {
    code: string;
  }

  export interface OpEntry {
    op: Op;
    src?: string;
    seq?: number;
  }

  /** The socket a Connection speaks through: a WebSocket or one like it. */
  export interface Socket {
    readyState: number;
    send(data: string): void;
    close(code?: number, reason?: string): void;
    onmessage: ((ev: { data: unknown }) => void) | null;
    onopen: ((ev?: unknown) => void) | null;
    onclose: ((ev?: unknown) => void) | null;
    onerror: ((ev?: unknown) => void) | null;
  }

  export interface Emitter {
    on(event: string, fn: (...args: any[]) => void): this;
    once(event: string, fn: (...args: any[]) => void): this;
    off(event: string, fn: (...args: any[]) => void): this;
    removeListener(event: string, fn: (...args: any[]) => void): this;
  }

  export interface Doc extends Emitter {
    id: string;
    collection: string;
    version: number | null;
    type: { uri: string; name: string } | null;
    data: any;
    inflightOp: OpEntry | null;
    pendingOps: OpEntry[];
    subscribed: boolean;
    subscribe(cb?: Callback): void;
    submitOp(op: Op, options?: { source?: unknown }, cb?: Callback): void;
    /** Sends the first pending op now if none is in flight. */
    flush(): void;
    hasWritePending(): boolean;
    hasPending(): boolean;
    whenNothingPending(cb: () => void): void;
    destroy(cb?: Callback): void;
  }

  export interface LocalPresence {
    value: unknown;
    submit(value: unknown, cb?: Callback): void;
    destroy(cb?: Callback): void;
  }

  export interface Presence extends Emitter {
    remotePresences: Record<string, any>;
    subscribe(cb?: Callback): void;
    create(id?: string): LocalPresence;
  }

  export class Connection implements Emitter {
    constructor(socket: Socket);
    id: string | null;
    state: "connecting" | "connected" | "disconnected" | "closed" | "stopped";
    canSend: boolean;
    socket: Socket;
    bindToSocket(socket: Socket): void;
    get(collection: string, id: string): Doc;
    getPresence(channel: string): Presence;
    ping(): void;
    close(): void;
    on(event: string, fn: (...args: any[]) => void): this;
    once(event: string, fn: (...args: any[]) => void): this;
    off(event: string, fn: (...args: any[]) => void): this;
    removeListener(event: string, fn: (...args: any[]) => void): this;
  }

  export const types: { register(type: unknown): void };
  export const logger: { setMethods(m: Record<string, (...args: unknown[]) => void>): void };

  const ShareDB: {
    Connection: typeof Connection;
    types: typeof types;
    logger: typeof logger;
  };
  export default ShareDB;
}
