// sdk-clients.mjs drives a DWN with the client classes a web5-js app uses,
// to show that an app built on the reference SDK can point at the node and
// work (run by TestReferenceClients in ../clients_test.go):
//
//   1. rpc: @web5/agent's Web5RpcClient, which routes http: URLs to
//      HttpWeb5RpcClient (a HttpDwnRpcClient) and ws: URLs to
//      WebSocketWeb5RpcClient (a WebSocketDwnRpcClient); messages are built
//      with dwn-sdk-js 0.5.2 and signed by a did:key persona.
//   2. web5: @web5/api's Web5 and DwnApi on a Web5UserAgent whose identity
//      DID lists the node as its DWN endpoint. Web5.connect() would create
//      and publish a did:dht identity (and the node would then have to
//      resolve it through the DHT), so the agent and a did:jwk identity are
//      set up by hand: the identity's document gets the DWN service in the
//      agent's own store and resolver cache (publish: false), and the one
//      DHT gateway PUT the agent's vault insists on is answered locally.
//
//   node sdk-clients.mjs --url http://127.0.0.1:PORT [--part rpc|web5|all] [--data DIR]
//
// The target must serve any tenant (anya: --dwn-tenants '*'). Each step
// prints "ok" or "FAIL"; the last line is "N passed, M failed"; exit code 0
// only if all passed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { MessagesQuery, MessagesRead, ProtocolsConfigure, RecordsDelete, RecordsQuery, RecordsRead,
  RecordsSubscribe, RecordsWrite } from '@tbd54566975/dwn-sdk-js';
import { Web5RpcClient, WebSocketWeb5RpcClient } from '@web5/agent';
import { makePersona } from './lib/personas.mjs';

function parseArgs(argv) {
  const a = { part: 'all' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--url') a.url = v();
    else if (k === '--part') a.part = v();
    else if (k === '--data') a.data = v();
    else { console.error(`unknown argument ${k}`); process.exit(2); }
  }
  if (!a.url) { console.error('usage: node sdk-clients.mjs --url http://127.0.0.1:PORT [--part rpc|web5|all] [--data DIR]'); process.exit(2); }
  return a;
}

let passed = 0;
let failed = 0;

// step runs fn, which returns nothing or throws; it logs and counts.
async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.stack?.split('\n').slice(0, 3).join(' | ') ?? e}`);
  }
}

function assert(cond, what) { if (!cond) throw new Error(what); }
function assertCode(reply, code, what) {
  assert(reply?.status?.code === code, `${what}: want status ${code}, got ${JSON.stringify(reply?.status)}`);
}

// eventually waits until pred() holds, checking after each event the
// handler reports (notify), or fails after timeoutMs.
function waiter() {
  const waiters = new Set();
  return {
    notify() { for (const w of waiters) w(); },
    until(pred, what, timeoutMs = 10000) {
      return new Promise((resolve, reject) => {
        const check = () => { if (pred()) { waiters.delete(check); clearTimeout(t); resolve(); } };
        const t = setTimeout(() => { waiters.delete(check); reject(new Error(`timed out waiting for ${what}`)); }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

async function readAll(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

// ---- part 1: the agent's RPC clients ----

async function rpcPart(url) {
  const rpc = new Web5RpcClient();
  const wsUrl = url.replace(/^http/, 'ws');
  const alice = makePersona(`sdk-clients/${randomUUID()}/alice`);
  const bob = makePersona(`sdk-clients/${randomUUID()}/bob`);
  const protocol = 'https://example.com/sdk-clients/notes';
  const send = (message, data) => rpc.sendDwnRequest({ dwnUrl: url, targetDid: alice.did, message, data });
  const sendWs = (message, subscriptionHandler) => rpc.sendDwnRequest({ dwnUrl: wsUrl, targetDid: alice.did, message, subscriptionHandler });

  await step('rpc: getServerInfo (/info)', async () => {
    const info = await rpc.getServerInfo(url);
    assert(info.webSocketSupport === true, `webSocketSupport: ${info.webSocketSupport}`);
    assert(typeof info.maxFileSize === 'number' && info.maxFileSize > 0, `maxFileSize: ${info.maxFileSize}`);
    assert(Array.isArray(info.registrationRequirements), 'registrationRequirements is not an array');
  });

  await step('rpc: ProtocolsConfigure over HTTP', async () => {
    const c = await ProtocolsConfigure.create({ signer: alice.signer, definition: {
      protocol, published: true,
      types: { note: { schema: 'https://example.com/sdk-clients/note', dataFormats: ['text/plain', 'application/json'] } },
      structure: { note: { $actions: [{ who: 'anyone', can: ['read'] }] } },
    } });
    assertCode(await send(c.message), 202, 'configure');
  });

  const events = [];
  const w = waiter();
  let sub;
  await step('rpc: RecordsSubscribe over WebSocket (WebSocketDwnRpcClient)', async () => {
    const s = await RecordsSubscribe.create({ signer: alice.signer, filter: { protocol } });
    sub = await sendWs(s.message, (event) => { events.push(event); w.notify(); });
    assertCode(sub, 200, 'subscribe');
    assert(typeof sub.subscription?.id === 'string', 'no subscription id');
    assert(typeof sub.subscription?.close === 'function', 'no close function');
  });

  const data = Buffer.from('hello from an unmodified web5-js client');
  let write;
  await step('rpc: RecordsWrite with data over HTTP (HttpDwnRpcClient)', async () => {
    write = await RecordsWrite.create({ signer: alice.signer, protocol, protocolPath: 'note', schema: 'https://example.com/sdk-clients/note',
      dataFormat: 'text/plain', data, published: true });
    assertCode(await send(write.message, data), 202, 'write');
  });

  await step('rpc: subscription event for the write', async () => {
    await w.until(() => events.length >= 1, 'the write event');
    assert(events[0].message.recordId === write.message.recordId, `event recordId ${events[0].message?.recordId}`);
    assert(events[0].message.descriptor.method === 'Write', 'event is not a write');
  });

  await step('rpc: RecordsQuery over HTTP', async () => {
    const q = await RecordsQuery.create({ signer: alice.signer, filter: { protocol, protocolPath: 'note' } });
    const reply = await send(q.message);
    assertCode(reply, 200, 'query');
    assert(reply.entries.length === 1 && reply.entries[0].recordId === write.message.recordId, `entries: ${JSON.stringify(reply.entries?.map((e) => e.recordId))}`);
    assert(Buffer.from(reply.entries[0].encodedData, 'base64url').equals(data), 'encodedData differs from the data');
  });

  await step('rpc: RecordsRead over HTTP streams the data (dwn-response header)', async () => {
    const r = await RecordsRead.create({ signer: alice.signer, filter: { recordId: write.message.recordId } });
    const reply = await send(r.message);
    assertCode(reply, 200, 'read');
    assert(reply.entry?.recordsWrite?.recordId === write.message.recordId, 'wrong record');
    assert(reply.entry.data !== undefined, 'no data stream');
    assert((await readAll(reply.entry.data)).equals(data), 'data differs');
  });

  await step('rpc: anonymous RecordsRead by another app (published record)', async () => {
    const r = await RecordsRead.create({ filter: { recordId: write.message.recordId } });
    const reply = await send(r.message);
    assertCode(reply, 200, 'anonymous read');
    assert((await readAll(reply.entry.data)).equals(data), 'data differs');
  });

  await step('rpc: RecordsQuery over WebSocket (dwn.processMessage)', async () => {
    const q = await RecordsQuery.create({ signer: bob.signer, filter: { protocol } });
    const reply = await sendWs(q.message);
    assertCode(reply, 200, 'query over ws');
    assert(reply.entries.length === 1, `bob sees ${reply.entries.length} published records`);
  });

  const data2 = Buffer.from(JSON.stringify({ v: 2 }));
  await step('rpc: RecordsWrite update over HTTP, event carries initialWrite', async () => {
    const u = await RecordsWrite.createFrom({ recordsWriteMessage: write.message, signer: alice.signer, data: data2, dataFormat: 'application/json' });
    assertCode(await send(u.message, data2), 202, 'update');
    await w.until(() => events.length >= 2, 'the update event');
    assert(events[1].message.descriptor.dataCid === u.message.descriptor.dataCid, 'update event has another dataCid');
    assert(events[1].initialWrite?.recordId === write.message.recordId, 'update event has no initialWrite');
  });

  await step('rpc: MessagesQuery and MessagesRead (the sync primitives)', async () => {
    const q = await MessagesQuery.create({ signer: alice.signer, filters: [{ protocol }] });
    const reply = await send(q.message);
    assertCode(reply, 200, 'messages query');
    // configure, the initial write (kept for sync) and the update
    assert(reply.entries.length === 3, `want configure + initial write + update, got ${reply.entries.length}`);
    const r = await MessagesRead.create({ signer: alice.signer, messageCid: reply.entries[2] });
    const read = await send(r.message);
    assertCode(read, 200, 'messages read');
    assert(read.entry?.message?.recordId === write.message.recordId, 'MessagesRead returned another message');
    assert((await readAll(read.entry.data)).equals(data2), 'MessagesRead data differs');
  });

  await step('rpc: RecordsDelete over HTTP, delete event, then read is 404', async () => {
    const d = await RecordsDelete.create({ signer: alice.signer, recordId: write.message.recordId });
    assertCode(await send(d.message), 202, 'delete');
    await w.until(() => events.length >= 3, 'the delete event');
    assert(events[2].message.descriptor.method === 'Delete', 'third event is not a delete');
    const r = await RecordsRead.create({ signer: alice.signer, filter: { recordId: write.message.recordId } });
    const reply = await send(r.message);
    assertCode(reply, 404, 'read after delete');
    assert(reply.entry?.recordsDelete !== undefined, 'no recordsDelete in the 404 reply');
  });

  await step('rpc: subscription close (rpc.subscribe.close), no event afterwards', async () => {
    await sub.subscription.close();
    // a second subscription on the same socket sees the next write; frames
    // on a socket are ordered, so the closed one would have had its event by then
    const events2 = [];
    const w2 = waiter();
    const s = await RecordsSubscribe.create({ signer: alice.signer, filter: { protocol } });
    const sub2 = await sendWs(s.message, (event) => { events2.push(event); w2.notify(); });
    assertCode(sub2, 200, 'second subscribe');
    const next = await RecordsWrite.create({ signer: alice.signer, protocol, protocolPath: 'note', schema: 'https://example.com/sdk-clients/note',
      dataFormat: 'text/plain', data: Buffer.from('after close') });
    assertCode(await send(next.message, Buffer.from('after close')), 202, 'write after close');
    await w2.until(() => events2.length >= 1, 'the event on the second subscription');
    assert(events.length === 3, `the closed subscription got ${events.length - 3} more events`);
    await sub2.subscription.close();
  });

  for (const c of WebSocketWeb5RpcClient.connections.values()) c.socket.close();
  WebSocketWeb5RpcClient.connections.clear();
}

// ---- part 2: Web5 / DwnApi on a user agent ----

async function web5Part(url, dataDir) {
  const { Web5 } = await import('@web5/api');
  const { Web5UserAgent } = await import('@web5/user-agent');
  let web5; let did; let agent; let restoreFetch = () => {};
  await step('web5: Web5UserAgent with a did:jwk identity whose DWN endpoint is the node', async () => {
    // HdIdentityVault.initialize always creates and publishes the agent's
    // own did:dht, and the agent's local DWN resolves it. Offline, a
    // loopback-only stand-in for the DHT gateway (an in-memory map of the
    // records PUT, answered to GETs) serves it. The agent DID keys only the
    // agent's local stores: it never reaches the node.
    const realFetch = globalThis.fetch;
    const pkarr = new Map();
    globalThis.fetch = async (input, init) => {
      const target = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      if (target.hostname !== 'diddht.tbddev.org') return realFetch(input, init);
      const method = init?.method ?? input?.method ?? 'GET';
      if (method === 'PUT') {
        pkarr.set(target.pathname, Buffer.from(await new Response(init.body).arrayBuffer()));
        return new Response(null, { status: 200 });
      }
      const b = pkarr.get(target.pathname);
      return b ? new Response(b, { status: 200 }) : new Response(null, { status: 404 });
    };
    restoreFetch = () => { globalThis.fetch = realFetch; };
    agent = await Web5UserAgent.create({ dataPath: join(dataDir, 'AGENT') });
    await agent.initialize({ password: 'conformance', dwnEndpoints: [url] });
    await agent.start({ password: 'conformance' });
    // The identity is a did:jwk (the node resolves it offline). did:jwk has
    // no services, so the DWN endpoint is added to the document the agent
    // keeps in its DID store and resolver cache (publish: false).
    const identity = await agent.identity.create({ didMethod: 'jwk', metadata: { name: 'conformance' }, didOptions: { algorithm: 'Ed25519' } });
    did = identity.did.uri;
    const portable = await identity.did.export();
    const document = { ...portable.document, service: [{ id: `${did}#dwn`, type: 'DecentralizedWebNode', serviceEndpoint: [url], enc: '#0', sig: '#0' }] };
    await agent.did.update({ portableDid: { ...portable, document }, tenant: agent.agentDid.uri, publish: false });
    web5 = new Web5({ agent, connectedDid: did });
  });
  if (web5 === undefined) { restoreFetch(); return; }

  const protocol = 'https://example.com/sdk-clients/web5';
  const definition = {
    protocol, published: true,
    types: { post: { schema: 'https://example.com/sdk-clients/post', dataFormats: ['application/json'] } },
    structure: { post: { $actions: [{ who: 'anyone', can: ['read'] }] } },
  };
  await step('web5: dwn.protocols.configure then protocol.send(did)', async () => {
    const { status, protocol: p } = await web5.dwn.protocols.configure({ message: { definition } });
    assert(status.code === 202, `configure locally: ${JSON.stringify(status)}`);
    const sent = await p.send(did);
    assert(sent.status.code === 202, `send: ${JSON.stringify(sent.status)}`);
  });

  const events = [];
  const w = waiter();
  let sub;
  await step('web5: dwn.records.subscribe({from: did}) over WebSocket', async () => {
    const r = await web5.dwn.records.subscribe({ from: did, message: { filter: { protocol } },
      subscriptionHandler: (record) => { events.push(record); w.notify(); } });
    assert(r.status.code === 200, `subscribe: ${JSON.stringify(r.status)}`);
    sub = r.subscription;
  });

  let record;
  await step('web5: dwn.records.create({store: false}) then record.send(did)', async () => {
    const r = await web5.dwn.records.create({ store: false, data: { title: 'hello', n: 1 },
      message: { protocol, protocolPath: 'post', schema: 'https://example.com/sdk-clients/post', dataFormat: 'application/json', published: true } });
    assert(r.status.code === 202, `create: ${JSON.stringify(r.status)}`);
    record = r.record;
    const sent = await record.send(did);
    assert(sent.status.code === 202, `send: ${JSON.stringify(sent.status)}`);
  });

  await step('web5: subscription delivers the record', async () => {
    await w.until(() => events.length >= 1, 'the record event');
    assert(events[0].id === record.id, `event record ${events[0].id}`);
  });

  await step('web5: dwn.records.query({from: did})', async () => {
    const { status, records } = await web5.dwn.records.query({ from: did, message: { filter: { protocol, protocolPath: 'post' } } });
    assert(status.code === 200, `query: ${JSON.stringify(status)}`);
    assert(records.length === 1 && records[0].id === record.id, `records: ${records.map((x) => x.id)}`);
    const json = await records[0].data.json();
    assert(json.title === 'hello', `data: ${JSON.stringify(json)}`);
  });

  await step('web5: dwn.records.read({from: did}) streams the data', async () => {
    const { status, record: r } = await web5.dwn.records.read({ from: did, protocol, message: { filter: { recordId: record.id } } });
    assert(status.code === 200, `read: ${JSON.stringify(status)}`);
    const json = await r.data.json();
    assert(json.n === 1, `data: ${JSON.stringify(json)}`);
  });

  await step('web5: dwn.protocols.query({from: did})', async () => {
    const { status, protocols } = await web5.dwn.protocols.query({ from: did, message: { filter: { protocol } } });
    assert(status.code === 200, `protocols query: ${JSON.stringify(status)}`);
    assert(protocols.length === 1, `${protocols.length} protocols`);
  });

  await step('web5: dwn.records.delete({from: did}), then read is 404', async () => {
    const { status } = await web5.dwn.records.delete({ from: did, protocol, message: { recordId: record.id } });
    assert(status.code === 202, `delete: ${JSON.stringify(status)}`);
    await w.until(() => events.length >= 2, 'the delete event');
    const { status: s2 } = await web5.dwn.records.read({ from: did, protocol, message: { filter: { recordId: record.id } } });
    assert(s2.code === 404, `read after delete: ${JSON.stringify(s2)}`);
  });

  await step('web5: subscription close', async () => {
    await sub.close();
  });
  restoreFetch();
  for (const c of WebSocketWeb5RpcClient.connections.values()) c.socket.close();
  WebSocketWeb5RpcClient.connections.clear();
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const u = new URL(args.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) throw new Error('the target must be a loopback address');
  const url = u.toString().replace(/\/$/, '');
  const dataDir = args.data ?? mkdtempSync(join(tmpdir(), 'anya-sdk-clients-'));
  try {
    if (args.part === 'rpc' || args.part === 'all') await rpcPart(url);
    if (args.part === 'web5' || args.part === 'all') await web5Part(url, dataDir);
  } finally {
    if (args.data === undefined) rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

// The clients leave response timers and sockets behind: exit explicitly.
main().then((code) => process.exit(code), (err) => { console.error(err); process.exit(1); });
