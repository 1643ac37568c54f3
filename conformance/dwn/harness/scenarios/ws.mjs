// ws.mjs: subscriptions and the JSON-RPC transport over WebSocket
// (dwn.md §6.4). Each subscription is opened on the in-process reference
// (its events collected by a subscriptionHandler on the EventEmitterStream)
// and on the target over a socket; the writes that follow go to both over
// the usual paths, and the two event lists must agree, in order.
import { randomUUID } from 'node:crypto';
import { Q, S1, S2, qProtocol } from './fixtures.mjs';

const rs = (name, fn, opts) => [`RecordsSubscribe/ws-${name}`, fn, opts];
const ms = (name, fn, opts) => [`MessagesSubscribe/ws-${name}`, fn, opts];
const ws = (name, fn, opts) => [`WebSocket/${name}`, fn, opts];

const rpcError = (code, what) => (rpc) => ({ ok: rpc?.error?.code === code && rpc.result === undefined,
  expected: `JSON-RPC error ${code} (${what})` });

// lifecycle writes, updates and deletes a record of schema S1 and one of
// S2 (every message a compared step).
async function lifecycle(t, o = {}) {
  const a = await t.write(t.alice, { schema: S1, published: o.published });
  await t.send(a, { setup: true, expect: 202 });
  const b = await t.write(t.alice, { schema: S2 });
  await t.send(b, { setup: true, expect: 202 });
  await t.send(await t.update(t.alice, a, { data: t.json() }), { setup: true, expect: 202 });
  await t.send(await t.del(t.alice, a.recordId), { setup: true, expect: 202 });
  await t.send(await t.del(t.alice, b.recordId), { setup: true, expect: 202 });
  return { a, b };
}

export default [
  rs('owner-write-update-delete', async (t) => {
    const sock = await t.socket();
    const sub = await t.wsSubscribe(sock, await t.subscribe(t.alice, { schema: S1 }), { expect: 200 });
    await lifecycle(t);
    await t.checkEvents(sub, { expect: 3 });
  }),
  rs('owner-all-records', async (t) => {
    const sock = await t.socket();
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    const sub = await t.wsSubscribe(sock, await t.subscribe(t.alice, { dataFormat: 'application/json' }), { expect: 200 });
    await lifecycle(t);
    const d = await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', tags: { n: 1 } });
    await t.send(d, { setup: true, expect: 202 });
    // RecordsDelete events are not indexed by dataFormat: 4 writes, no delete
    await t.checkEvents(sub, { expect: 4 });
  }),
  rs('anonymous-published-only', async (t) => {
    const sock = await t.socket();
    const sub = await t.wsSubscribe(sock, await t.subscribe(undefined, { schema: S1 }), { expect: 200 });
    const pub = await t.write(t.alice, { schema: S1, published: true });
    await t.send(pub, { setup: true, expect: 202 });
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true, expect: 202 });
    await t.send(await t.update(t.alice, pub, { data: t.json() }), { setup: true, expect: 202 });
    await t.checkEvents(sub, { expect: 2 });
  }),
  rs('other-sees-own-and-recipient', async (t) => {
    const sock = await t.socket();
    const sub = await t.wsSubscribe(sock, await t.subscribe(t.bob, { schema: S1 }), { expect: 200 });
    await t.send(await t.write(t.alice, { schema: S1, recipient: t.bob.did }), { setup: true, expect: 202 });
    await t.send(await t.write(t.alice, { schema: S1, recipient: t.carol.did }), { setup: true, expect: 202 });
    await t.send(await t.write(t.alice, { schema: S1, published: true }), { setup: true, expect: 202 });
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true, expect: 202 });
    await t.checkEvents(sub, { expect: 2 });
  }),
  rs('filter-protocol', async (t) => {
    const sock = await t.socket();
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    const sub = await t.wsSubscribe(sock, await t.subscribe(t.alice, { protocol: Q }), { expect: 200 });
    const d = await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', published: true });
    await t.send(d, { setup: true, expect: 202 });
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true, expect: 202 });
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread/reply', schema: 'https://example.com/reply',
      parentContextId: d.contextId, dataFormat: 'text/plain', data: Buffer.from('hi') }), { setup: true, expect: 202 });
    await t.send(await t.del(t.alice, d.recordId), { setup: true, expect: 202 });
    await t.checkEvents(sub, { expect: 3 });
  }),
  rs('filter-protocolPath-and-tags', async (t) => {
    const sock = await t.socket();
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    const sub = await t.wsSubscribe(sock, await t.subscribe(t.alice, { protocol: Q, protocolPath: 'thread', tags: { n: { gte: 5 } } }), { expect: 200 });
    for (const n of [1, 5, 9]) {
      await t.send(await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', tags: { n } }), { setup: true, expect: 202 });
    }
    await t.checkEvents(sub, { expect: 2 });
  }),
  rs('role-member', async (t) => {
    const sock = await t.socket();
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    await t.send(await t.write(t.alice, { protocol: Q, protocolPath: 'member', schema: 'https://example.com/member', recipient: t.carol.did }), { setup: true, expect: 202 });
    const sub = await t.wsSubscribe(sock, await t.subscribe(t.carol, { protocol: Q, protocolPath: 'thread' }, { protocolRole: 'member' }), { expect: 200 });
    await t.send(await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread' }), { setup: true, expect: 202 });
    await t.checkEvents(sub, { expect: 1 });
  }),
  rs('role-not-held-401', async (t) => {
    const sock = await t.socket();
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    await t.wsSubscribe(sock, await t.subscribe(t.dave, { protocol: Q, protocolPath: 'thread' }, { protocolRole: 'member' }), { expect: 401 });
  }),
  rs('tampered-descriptor-400', async (t) => {
    const sock = await t.socket();
    const s = await t.subscribe(t.alice, { schema: S1 });
    s.message.descriptor.filter.schema = 'https://example.com/tampered';
    await t.wsSubscribe(sock, s, { expect: 400 });
  }),
  rs('two-subscriptions-one-socket', async (t) => {
    const sock = await t.socket();
    const s1 = await t.wsSubscribe(sock, await t.subscribe(t.alice, { schema: S1 }), { expect: 200 });
    const s2 = await t.wsSubscribe(sock, await t.subscribe(t.alice, { schema: S2 }), { expect: 200 });
    await lifecycle(t);
    await t.checkEvents(s1, { expect: 3, label: 'events of the S1 subscription' });
    await t.checkEvents(s2, { expect: 2, label: 'events of the S2 subscription' });
  }),
  rs('two-sockets', async (t) => {
    const a = await t.socket();
    const b = await t.socket();
    const s1 = await t.wsSubscribe(a, await t.subscribe(t.alice, { schema: S1 }), { expect: 200, subId: 'same-id' });
    const s2 = await t.wsSubscribe(b, await t.subscribe(undefined, { schema: S1 }), { expect: 200, subId: 'same-id' });
    await lifecycle(t, { published: true });
    await t.checkEvents(s1, { expect: 3, label: 'owner socket events' });
    await t.checkEvents(s2, { expect: 2, label: 'anonymous socket events' });
  }),
  ms('owner-all', async (t) => {
    const sock = await t.socket();
    const sub = await t.wsSubscribe(sock, await t.msubscribe(t.alice, []), { expect: 200 });
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    await lifecycle(t);
    await t.send(await t.write(t.alice, {}), { setup: true, data: null, expect: 204 });
    await t.checkEvents(sub, { expect: 6 });
  }),
  ms('filter-interface-method', async (t) => {
    const sock = await t.socket();
    const sub = await t.wsSubscribe(sock, await t.msubscribe(t.alice, [{ interface: 'Records', method: 'Delete' }, { interface: 'Protocols' }]), { expect: 200 });
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    await lifecycle(t);
    await t.checkEvents(sub, { expect: 3 });
  }),
  ms('filter-protocol', async (t) => {
    const sock = await t.socket();
    const sub = await t.wsSubscribe(sock, await t.msubscribe(t.alice, [{ protocol: Q }]), { expect: 200 });
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    const d = await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread' });
    await t.send(d, { setup: true, expect: 202 });
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true, expect: 202 });
    await t.send(await t.del(t.alice, d.recordId), { setup: true, expect: 202 });
    await t.checkEvents(sub, { expect: 3 });
  }),
  ms('non-owner-401', async (t) => {
    const sock = await t.socket();
    await t.wsSubscribe(sock, await t.msubscribe(t.bob, []), { expect: 401 });
  }),
  ms('grant-holder', async (t) => {
    const sock = await t.socket();
    const g = await t.grant(t.alice, t.bob, { interface: 'Messages', method: 'Subscribe' });
    await t.send(g, { setup: true, expect: 202 });
    const sub = await t.wsSubscribe(sock, await t.msubscribe(t.bob, [], { permissionGrantId: g.id }), { expect: 200 });
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true, expect: 202 });
    await t.checkEvents(sub, { expect: 1 });
  }),
  ws('close-stops-events', async (t) => {
    const sock = await t.socket();
    const sub = await t.wsSubscribe(sock, await t.subscribe(t.alice, { schema: S1 }), { expect: 200 });
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true, expect: 202 });
    await t.checkEvents(sub, { expect: 1, label: 'events before close' });
    await t.wsClose(sub);
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true, expect: 202 });
    await t.checkEvents(sub, { expect: 1, label: 'no event after close' });
    await t.wsTargetOnly('close again', sock, { jsonrpc: '2.0', id: randomUUID(), method: 'rpc.subscribe.close', params: {}, subscription: { id: sub.subId } },
      rpcError(-32602, 'the subscription no longer exists'));
  }),
  ws('close-reopen-same-id', async (t) => {
    const sock = await t.socket();
    const sub = await t.wsSubscribe(sock, await t.subscribe(t.alice, { schema: S1 }), { expect: 200, subId: 'reused' });
    await t.wsClose(sub);
    const again = await t.wsSubscribe(sock, await t.subscribe(t.alice, { schema: S1 }), { expect: 200, subId: 'reused' });
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true, expect: 202 });
    await t.checkEvents(again, { expect: 1 });
  }),
  ws('close-unknown-id', async (t) => {
    const sock = await t.socket();
    await t.wsTargetOnly('rpc.subscribe.close of an unknown id', sock,
      { jsonrpc: '2.0', id: randomUUID(), method: 'rpc.subscribe.close', params: {}, subscription: { id: 'nobody' } },
      rpcError(-32602, 'subscription does not exist'));
  }),
  ws('close-without-subscription', async (t) => {
    const sock = await t.socket();
    await t.wsTargetOnly('rpc.subscribe.close without a subscription object', sock,
      { jsonrpc: '2.0', id: randomUUID(), method: 'rpc.subscribe.close', params: {} },
      rpcError(-32600, 'subscribe options do not exist'));
  }),
  ws('reused-subscription-id', async (t) => {
    const sock = await t.socket();
    const sub = await t.wsSubscribe(sock, await t.subscribe(t.alice, { schema: S1 }), { expect: 200, subId: 'dup' });
    const second = await t.subscribe(t.alice, { schema: S2 });
    await t.wsTargetOnly('second subscribe with the same subscription id', sock,
      { jsonrpc: '2.0', id: randomUUID(), method: 'rpc.subscribe.dwn.processMessage', params: { target: t.alice.did, message: second.message }, subscription: { id: 'dup' } },
      rpcError(-32602, 'the subscribe id is in use by an active subscription'));
    // the first subscription is untouched, and the rejected one never opened
    await lifecycle(t);
    await t.checkEvents(sub, { expect: 3 });
  }),
  ws('subscribe-missing-subscription-object', async (t) => {
    const sock = await t.socket();
    const s = await t.subscribe(t.alice, { schema: S1 });
    await t.wsTargetOnly('rpc.subscribe.dwn.processMessage without subscription', sock,
      { jsonrpc: '2.0', id: randomUUID(), method: 'rpc.subscribe.dwn.processMessage', params: { target: t.alice.did, message: s.message } },
      rpcError(-32600, 'subscribe methods must contain a subscriptionRequest context'));
  }),
  ws('subscribe-via-processMessage', async (t) => {
    const sock = await t.socket();
    const s = await t.msubscribe(t.alice, []);
    await t.wsTargetOnly('MessagesSubscribe with method dwn.processMessage', sock,
      { jsonrpc: '2.0', id: randomUUID(), method: 'dwn.processMessage', params: { target: t.alice.did, message: s.message }, subscription: { id: 'x' } },
      rpcError(-32600, 'subscribe methods must contain a subscriptionRequest context'));
  }),
  ws('records-write-rejected', async (t) => {
    const sock = await t.socket();
    const w = await t.write(t.alice, { schema: S1 });
    await t.wsTargetOnly('RecordsWrite over WebSocket', sock,
      { jsonrpc: '2.0', id: randomUUID(), method: 'dwn.processMessage', params: { target: t.alice.did, message: w.message } },
      rpcError(-32602, 'RecordsWrite is not supported via ws'));
    // and it was not written
    await t.send(await t.query(t.alice, { schema: S1 }), { expect: 200 });
  }),
  ws('query-over-ws', async (t) => {
    const sock = await t.socket();
    await t.send(await t.write(t.alice, { schema: S1, published: true }), { setup: true, expect: 202 });
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true, expect: 202 });
    await t.wsSend(sock, await t.query(t.alice, { schema: S1 }), { expect: 200 });
    await t.wsSend(sock, await t.query(undefined, { schema: S1 }), { expect: 200 });
    await t.wsSend(sock, await t.pquery(t.alice, {}), { expect: 200 });
  }),
  ws('read-over-ws-without-data', async (t) => {
    const sock = await t.socket();
    const r = await t.write(t.alice, { schema: S1 });
    await t.send(r, { setup: true, expect: 202 });
    await t.wsSend(sock, await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  ws('delete-over-ws', async (t) => {
    const sock = await t.socket();
    const sub = await t.wsSubscribe(sock, await t.subscribe(t.alice, { schema: S1 }), { expect: 200 });
    const r = await t.write(t.alice, { schema: S1 });
    await t.send(r, { setup: true, expect: 202 });
    await t.wsSend(sock, await t.del(t.alice, r.recordId), { expect: 202 });
    await t.checkEvents(sub, { expect: 2 });
  }),
];
