#!/usr/bin/env node
// Stock sharedb clients spread over the nodes of a Docket cluster co-edit
// one document; a client whose node goes away moves to the next URL of the
// list and carries on (the stock client resends its op in flight, and the
// cluster applies it once). Run by cmd/docket/cluster_test.go.
//   node cluster.js --urls ws://A/api/live,ws://B/api/live,... --token T --doc ID
//        [--clients 6] [--ops 40] [--think 40] [--timeout 40]
// The document must exist and be empty. Client i starts on urls[i % n].
// Every op inserts one character of its own (U+4E00 + op number), so the
// final text tells which ops it holds. Prints JSON lines:
//   {"a":"ack","c":i,"ch":"…"}        an op acknowledged (durable)
//   {"a":"moved","c":i,"url":"…"}     a client reconnecting to another node
//   {"a":"done","converged":bool,"text":"…","version":v,"errors":[…]}
// and exits 0 when every client had every op acknowledged and all
// converged, 1 otherwise.
'use strict';
const WebSocket = require('ws');
const ShareDB = require('sharedb/lib/client');
const textUnicode = require('ot-text-unicode').type;

ShareDB.types.register(textUnicode);
const errors = [];
ShareDB.logger.setMethods({
  info: () => {},
  warn: (...args) => errors.push('warn: ' + args.map(String).join(' ')),
  error: (...args) => errors.push('error: ' + args.map(String).join(' ')),
});

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  if (i >= 0) return process.argv[i + 1];
  if (def === undefined) finish(false, 'missing --' + name);
  return def;
}

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let finished = false;
function finish(converged, reason, extra) {
  if (finished) return;
  finished = true;
  out(Object.assign({ a: 'done', converged, reason: reason || null, errors }, extra || {}));
  process.exit(converged ? 0 : 1);
}

const urls = arg('urls').split(',').filter(Boolean);
const token = arg('token');
const docId = arg('doc');
const N = Number(arg('clients', '6'));
const M = Number(arg('ops', '40'));
const think = Number(arg('think', '40'));
setTimeout(() => finish(false, 'timeout'), Number(arg('timeout', '40')) * 1000).unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond, what, ms) {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error('timed out waiting for ' + what);
    await sleep(10);
  }
}

// client binds a stock Connection to urls[start], and on every close to
// the next URL of the list, round and round, until the run ends.
function client(i) {
  const c = { i, node: i % urls.length, acked: 0 };
  const open = () => new WebSocket(urls[c.node], { headers: { Authorization: 'Bearer ' + token }, perMessageDeflate: false });
  const watch = (ws) => {
    ws.on('error', () => {}); // a refused or reset socket also closes
    ws.on('close', () => {
      if (finished || c.closing) return;
      c.node = (c.node + 1) % urls.length;
      out({ a: 'moved', c: i, url: urls[c.node] });
      setTimeout(() => {
        const next = open();
        watch(next);
        c.conn.bindToSocket(next);
      }, 100);
    });
  };
  const ws = open();
  watch(ws);
  c.conn = new ShareDB.Connection(ws);
  c.conn.on('error', (e) => errors.push('connection ' + i + ': ' + e.message));
  c.doc = c.conn.get('docs', docId);
  c.doc.on('error', (e) => errors.push('doc ' + i + ': ' + e.message));
  return c;
}

async function edit(c) {
  let seed = c.i * 7919 + 1;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let k = 0; k < M; k++) {
    const ch = String.fromCodePoint(0x4e00 + c.i * M + k);
    const pos = Math.floor(rnd() * (c.doc.data.length + 1));
    c.doc.submitOp(pos === 0 ? [ch] : [pos, ch], (err) => {
      if (err) return errors.push('op ' + ch + ': ' + err.message);
      c.acked++;
      out({ a: 'ack', c: c.i, ch });
    });
    await sleep(think * (0.5 + rnd()));
  }
}

(async () => {
  const clients = [];
  for (let i = 0; i < N; i++) clients.push(client(i));
  await Promise.all(clients.map((c) => new Promise((resolve, reject) => c.doc.subscribe((e) => (e ? reject(e) : resolve())))));
  await waitFor(() => clients.every((c) => c.doc.type && c.doc.data === ''), 'empty documents', 10000);
  await Promise.all(clients.map(edit));
  await waitFor(() => clients.every((c) => c.acked === M && !c.doc.hasWritePending()), 'every ack', 20000);
  const same = () => clients.every((c) => c.doc.version === clients[0].doc.version && c.doc.data === clients[0].doc.data);
  await waitFor(same, 'convergence', 10000);
  const d = clients[0].doc;
  for (const c of clients) { c.closing = true; c.conn.close(); }
  finish(errors.length === 0, errors.length ? 'errors' : null, { text: d.data, version: d.version });
})().catch((e) => finish(false, String(e && e.message)));
