#!/usr/bin/env node
// Two stock sharedb clients against Docket's /api/live, end to end.
//   node e2e.js --url ws://127.0.0.1:PORT/api/live --token TOKEN --doc ID
// (or E2E_URL, E2E_TOKEN, E2E_DOC). The document must exist and be empty.
// Checks, in order:
//   1. both clients type concurrently and converge;
//   2. untyped presence on the channel 'docs.<id>' is relayed, and a cursor
//      sent for an old version is moved through the ops committed since;
//   3. a client whose socket dies with an op in flight (its ack lost)
//      reconnects, resends the op with the same src/seq, and the op is
//      applied exactly once; the other client sees its cursor cleared;
//   4. doc presence (connection.getDocPresence), with text-unicode given the
//      transformPresence it lacks, is relayed and moved by later ops.
// Prints one JSON line {"ok":true,"text":...,"version":...} and exits 0, or
// prints the failure and exits 1. run by server/sharedb_e2e_test.go.
'use strict';
const WebSocket = require('ws');
const ShareDB = require('sharedb/lib/client');
const textUnicode = require('ot-text-unicode').type;

// ot-text-unicode has no transformPresence, which the client's doc presence
// needs; the same type with one added (a cursor {index} moved like a
// position) is what an application registers to use doc presence.
const textWithPresence = Object.assign({}, textUnicode, {
  transformPresence(value, op) {
    if (!value || typeof value.index !== 'number') return value;
    return Object.assign({}, value, { index: textUnicode.transformPosition(value.index, op) });
  },
});
ShareDB.types.register(textWithPresence);
// The client logs warnings (such as "Invalid version from server") with
// console; any of them fails the test.
const warnings = [];
ShareDB.logger.setMethods({
  info: () => {},
  warn: (...args) => warnings.push(args.map(String).join(' ')),
  error: (...args) => warnings.push(args.map(String).join(' ')),
});

function arg(name, env) {
  const i = process.argv.indexOf('--' + name);
  const v = i >= 0 ? process.argv[i + 1] : process.env[env];
  if (!v) fail('missing --' + name);
  return v;
}

function fail(msg) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(msg), warnings }) + '\n');
  process.exit(1);
}

const url = arg('url', 'E2E_URL');
const token = arg('token', 'E2E_TOKEN');
const docId = arg('doc', 'E2E_DOC');
setTimeout(() => fail('timeout'), 15000).unref();

function socket() {
  return new WebSocket(url, { headers: { Authorization: 'Bearer ' + token }, perMessageDeflate: false });
}

function waitFor(cond, what, ms = 5000) {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    (function poll() {
      if (cond()) return resolve();
      if (Date.now() - start > ms) return reject(new Error('timed out waiting for ' + what));
      setTimeout(poll, 5);
    })();
  });
}

const p = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

function connect(name) {
  const conn = new ShareDB.Connection(socket());
  conn.on('error', (e) => fail(name + ' connection: ' + e.message));
  const doc = conn.get('docs', docId);
  doc.on('error', (e) => fail(name + ' doc: ' + e.message));
  return { name, conn, doc };
}

function settled(a, b) {
  return !a.doc.hasWritePending() && !b.doc.hasWritePending() &&
    a.doc.version === b.doc.version && a.doc.data === b.doc.data;
}

async function typeConcurrently(clients, n) {
  let rnd = 42;
  const random = () => ((rnd = (rnd * 1103515245 + 12345) % 2147483648) / 2147483648);
  const acks = [];
  for (let i = 0; i < n; i++) {
    for (const c of clients) {
      // ASCII only, so that string length counts code points.
      const pos = Math.floor(random() * (c.doc.data.length + 1));
      const ch = String.fromCharCode(c.name === 'A' ? 97 + (i % 26) : 65 + (i % 26));
      acks.push(p((cb) => c.doc.submitOp(pos === 0 ? [ch] : [pos, ch], cb)));
      if (random() < 0.3 && c.doc.data.length > 3) {
        const at = Math.floor(random() * (c.doc.data.length - 1));
        acks.push(p((cb) => c.doc.submitOp(at === 0 ? [{ d: 1 }] : [at, { d: 1 }], cb)));
      }
    }
    await new Promise((r) => setTimeout(r, random() < 0.5 ? 0 : 2));
  }
  await Promise.all(acks);
}

(async () => {
  const A = connect('A');
  const B = connect('B');
  await Promise.all([p((cb) => A.doc.subscribe(cb)), p((cb) => B.doc.subscribe(cb))]);
  if (A.doc.type !== textWithPresence || A.doc.data !== '' || B.doc.data !== '') {
    fail('unexpected snapshot: ' + JSON.stringify({ type: A.doc.type && A.doc.type.uri, a: A.doc.data, b: B.doc.data }));
  }

  // 1. Concurrent typing converges.
  await typeConcurrently([A, B], 60);
  await waitFor(() => settled(A, B), 'convergence');

  // 2. Presence.
  const channel = 'docs.' + docId;
  const presA = A.conn.getPresence(channel);
  const presB = B.conn.getPresence(channel);
  await Promise.all([p((cb) => presA.subscribe(cb)), p((cb) => presB.subscribe(cb))]);
  const cursorA = presA.create('cursor-a');
  await p((cb) => cursorA.submit({ index: 2, v: A.doc.version }, cb));
  await waitFor(() => presB.remotePresences['cursor-a'] && presB.remotePresences['cursor-a'].index === 2, 'presence relayed');
  // A cursor at an old version: B inserts three characters at the start
  // and is acked; A then reports index 2 at the version before that op.
  const old = A.doc.version;
  await p((cb) => B.doc.submitOp(['XYZ'], cb));
  await p((cb) => cursorA.submit({ index: 2, v: old }, cb));
  await waitFor(() => presB.remotePresences['cursor-a'].index === 5, 'presence moved through the op');
  const moved = presB.remotePresences['cursor-a'];
  if (moved.v !== old + 1) fail('moved presence has v ' + moved.v + '; want ' + (old + 1));
  await waitFor(() => settled(A, B), 'convergence after presence');

  // 3. An op in flight when the socket dies, its ack lost, is resent after
  // the reconnect and applied once.
  let blackhole = false;
  A.conn.on('receive', (request) => { if (blackhole) request.data = null; });
  const mark = 'MARK-' + process.pid;
  let resent = 0;
  A.conn.on('send', (m) => { if (m.a === 'op' && m.src && JSON.stringify(m.op).includes(mark)) resent++; });
  blackhole = true;
  const acked = p((cb) => A.doc.submitOp([mark], cb));
  // B sees the op committed, then types while A is away.
  await waitFor(() => B.doc.data.includes(mark), 'the op committed');
  const oldSocket = A.conn.socket;
  oldSocket.close();
  await waitFor(() => A.conn.state === 'disconnected', 'A disconnected');
  // A's cursor is cleared for B when A's connection ends.
  await waitFor(() => !('cursor-a' in presB.remotePresences), 'presence cleared on disconnect');
  await p((cb) => B.doc.submitOp(['b'], cb));
  await p((cb) => B.doc.submitOp([B.doc.data.length, 'e'], cb));
  blackhole = false;
  A.conn.bindToSocket(socket());
  await acked;
  await waitFor(() => settled(A, B), 'convergence after the reconnect');
  if (resent !== 1) fail('the op was resent ' + resent + ' times; want 1');
  const count = A.doc.data.split(mark).length - 1;
  if (count !== 1) fail('the resent op was applied ' + count + ' times');

  // 4. Doc presence, on two fresh connections (a connection has one
  // presence object per channel, and A and B use plain presence on it).
  const C = connect('C');
  const D = connect('D');
  await Promise.all([p((cb) => C.doc.subscribe(cb)), p((cb) => D.doc.subscribe(cb))]);
  const dpC = C.conn.getDocPresence('docs', docId);
  const dpD = D.conn.getDocPresence('docs', docId);
  await Promise.all([p((cb) => dpC.subscribe(cb)), p((cb) => dpD.subscribe(cb))]);
  const cursorC = dpC.create('doc-cursor-c');
  await p((cb) => cursorC.submit({ index: 1 }, cb));
  await waitFor(() => dpD.remotePresences['doc-cursor-c'] && dpD.remotePresences['doc-cursor-c'].index === 1, 'doc presence relayed');
  await p((cb) => D.doc.submitOp(['QQ'], cb));
  await waitFor(() => dpD.remotePresences['doc-cursor-c'].index === 3, 'doc presence moved through the op');
  await waitFor(() => settled(C, D) && C.doc.data === D.doc.data, 'convergence after doc presence');
  await waitFor(() => A.doc.version === C.doc.version, 'A caught up');
  C.conn.close();
  D.conn.close();

  if (warnings.length) fail('client warnings: ' + warnings.join('; '));

  const out = { ok: true, text: A.doc.data, version: A.doc.version, warnings };
  A.conn.close();
  B.conn.close();
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
})().catch((e) => fail(e && e.stack || e));
