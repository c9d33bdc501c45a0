#!/usr/bin/env node
// N stock ShareDB clients spread over several Docket nodes edit ONE
// document; each submits M single-character inserts at random positions.
// Prints one JSON line: latency from submit until every other client has
// the character (across nodes), acks, convergence. The bench helpers and
// the stock client come from ../shared/bench/peers (see bench-common.js).
//   node scripts/cluster-load.js --urls ws://A/api/live,ws://B/api/live --doc ID --token T
//        --clients N --ops M [--think MS] [--timeout S] [--seed K] [--cpu-pids-cmd CMD]
// --cpu-pids-cmd is a shell command that prints "GROUP PID" lines (such as
// "docket 123", "postgres 456"); it runs as the edit phase starts and
// again when it ends, and the output gains cpu_ms: {GROUP: utime+stime of
// the group's processes over the edit phase}. A process seen only at the
// end (a connection opened meanwhile) counts whole.
'use strict';
const path = require('path');
const C = require(path.join(__dirname, '..', '..', 'shared', 'bench', 'peers', 'bench-common.js'));

const opts = C.parseArgs(process.argv.slice(2), {
  urls: 'ws://127.0.0.1:8080/api/live', clients: 10, ops: 50, think: 100, timeout: 300, seed: 1,
  doc: '', token: '', collection: 'docs', 'cpu-pids-cmd': '',
});
const urls = String(opts.urls).split(',').filter(Boolean);
const N = opts.clients;
const M = opts.ops;
if (!opts.doc) throw new Error('--doc is required (an empty document made over the REST API)');

const WebSocket = C.peerRequire('ws');
const ShareDBClient = C.peerRequire('sharedb/lib/client');
const textUnicode = C.peerRequire('ot-text-unicode').type;
ShareDBClient.types.register(textUnicode);

const tracker = new C.Tracker(N, M);
const closes = {}; // "code reason" -> count

// reconnecting binds conn to a new socket to url 100 ms after ws closes,
// as an application does with the stock client (reconnecting-websocket):
// the client resends its op in flight and the server applies it once. A
// node closes a socket with 1013 when it could not store an op (such as
// after losing the race to commit on one document to other nodes too
// often); the op's latency includes the reconnect.
function reconnecting(conn, ws, url) {
  ws.on('error', () => {});
  ws.on('close', (code, reason) => {
    if (phase === 'done') return;
    const k = code + ' ' + reason;
    closes[k] = (closes[k] || 0) + 1;
    setTimeout(() => {
      const next = new WebSocket(url, { perMessageDeflate: false, headers: { Authorization: 'Bearer ' + opts.token } });
      reconnecting(conn, next, url);
      conn.bindToSocket(next);
    }, 100);
  });
}

// cpuSnapshot returns the CPU ms of every process --cpu-pids-cmd names, by
// pid, with its group.
function cpuSnapshot() {
  const out = new Map();
  if (!opts['cpu-pids-cmd']) return out;
  const lines = require('child_process').execSync(opts['cpu-pids-cmd'], { encoding: 'utf8', timeout: 10000 }).split('\n');
  for (const line of lines) {
    const [group, pid] = line.trim().split(/\s+/);
    const ms = pid ? C.procCpuMs(Number(pid)) : null;
    if (ms != null) out.set(pid, { group, ms });
  }
  return out;
}

// cpuSince returns the CPU ms per group from the snapshot before to now.
function cpuSince(before) {
  if (!opts['cpu-pids-cmd']) return null;
  const byGroup = {};
  for (const [pid, { group, ms }] of cpuSnapshot()) {
    const prev = before.get(pid);
    byGroup[group] = (byGroup[group] || 0) + ms - (prev ? prev.ms : 0);
  }
  return byGroup;
}
const ackAt = new Float64Array(N * M).fill(NaN);
const acked = new Uint32Array(N);
const errors = [];
const docs = [];
const conns = [];
let phase = 'connect';
let finish = null;
const done = new Promise((r) => { finish = r; });

function result(extra) {
  const acks = [];
  for (let i = 0; i < ackAt.length; i++) if (!Number.isNaN(ackAt[i])) acks.push(ackAt[i] - tracker.submitAt[i]);
  acks.sort((a, b) => a - b);
  const pct = (p) => (acks.length ? C.round(acks[Math.min(acks.length - 1, Math.ceil(p / 100 * acks.length) - 1)]) : null);
  return Object.assign({ system: 'docket-cluster', nodes: urls.length, clients: N, ops_per_client: M, think_ms: opts.think },
    tracker.summary(), { ack_p50_ms: pct(50), ack_p99_ms: pct(99), closes, errors: errors.length, first_error: errors[0] || null }, extra);
}

const hardStop = setTimeout(() => {
  process.stdout.write(JSON.stringify(result({ converged: false, failed_in: phase, reason: 'timeout' })) + '\n');
  process.exit(1);
}, opts.timeout * 1000);

function checkDone() {
  if (!tracker.allSeen()) return;
  for (let i = 0; i < N; i++) if (acked[i] !== M || docs[i].hasWritePending()) return;
  if (Number.isNaN(tracker.endAt)) tracker.endAt = C.performance.now();
  finish();
}

async function runClient(i) {
  const rnd = C.prng(opts.seed * 7919 + i);
  const doc = docs[i];
  for (let k = 0; k < M; k++) {
    const pos = Math.floor(rnd() * (doc.data.length + 1));
    const opId = i * M + k;
    tracker.submitted(opId);
    doc.submitOp(pos === 0 ? [C.opChar(opId)] : [pos, C.opChar(opId)], (err) => {
      if (err) errors.push(err.message);
      ackAt[opId] = C.performance.now();
      acked[i]++;
      checkDone();
    });
    if (opts.think > 0) await C.sleep(opts.think * (0.5 + rnd()));
    else await new Promise((r) => setImmediate(r));
  }
}

(async () => {
  for (let i = 0; i < N; i++) {
    const ws = new WebSocket(urls[i % urls.length], { perMessageDeflate: false, headers: { Authorization: 'Bearer ' + opts.token } });
    const conn = new ShareDBClient.Connection(ws);
    reconnecting(conn, ws, urls[i % urls.length]);
    conn.on('error', (e) => errors.push('conn: ' + e.message));
    conns.push(conn);
  }
  await C.waitFor(() => conns.every((c) => c.state === 'connected'), 30000, 'connections');
  phase = 'subscribe';
  for (let i = 0; i < N; i++) {
    const d = conns[i].get(opts.collection, opts.doc);
    docs.push(d);
    d.subscribe((e) => { if (e) errors.push('subscribe: ' + e.message); });
  }
  await C.waitFor(() => docs.every((d) => d.type && d.data === ''), 30000, 'subscriptions');
  docs.forEach((d, i) => {
    d.on('error', (e) => errors.push('doc: ' + e.message));
    d.on('op', (op, source) => {
      if (source) return;
      for (const c of op) if (typeof c === 'string') tracker.remoteInsert(i, c);
      checkDone();
    });
  });
  phase = 'edit';
  const cpuBefore = cpuSnapshot();
  await Promise.all(docs.map((_, i) => runClient(i)));
  await done;
  phase = 'done';
  clearTimeout(hardStop);
  const cpuMs = cpuSince(cpuBefore);
  const check = C.checkTexts(docs.map((d) => d.data), N * M);
  const versions = new Set(docs.map((d) => d.version));
  const out = result({ converged: check.ok && versions.size === 1, text_len: check.text_len, identical: check.identical, cpu_ms: cpuMs });
  process.stdout.write(JSON.stringify(out) + '\n');
  for (const c of conns) c.close();
  setTimeout(() => process.exit(out.converged ? 0 : 1), 200);
})().catch((e) => {
  process.stdout.write(JSON.stringify(result({ converged: false, failed_in: phase, reason: String(e && e.message) })) + '\n');
  process.exit(1);
});
