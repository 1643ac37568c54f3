// subscribe.mjs: *Subscribe over HTTP. dwn-server answers subscriptions sent
// over HTTP with a JSON-RPC error (-32600, "subscribe methods must contain a
// subscriptionRequest context"); the in-process reference has no transport,
// so these are target-only checks. The reference reply is recorded too.

const w = (name, fn, opts) => [`RecordsSubscribe/${name}`, fn, opts];
const m = (name, fn, opts) => [`MessagesSubscribe/${name}`, fn, opts];

const rpcErrorCheck = (tgt) => ({ ok: tgt.rpcError !== undefined && tgt.rpcError.code === -32600,
  expected: 'JSON-RPC error -32600 (subscriptions need a WebSocket subscription context)' });

export default [
  w('http-owner-rejected', async (t) => {
    const s = await t.subscribe(t.alice, { schema: 'https://example.com/s' });
    await t.targetOnly('RecordsSubscribe over HTTP', t.alice.did, s.message, undefined, rpcErrorCheck);
  }),
  w('http-anonymous-rejected', async (t) => {
    const s = await t.subscribe(undefined, { schema: 'https://example.com/s' });
    await t.targetOnly('RecordsSubscribe over HTTP', t.alice.did, s.message, undefined, rpcErrorCheck);
  }),
  w('http-other-rejected', async (t) => {
    const s = await t.subscribe(t.bob, { published: true });
    await t.targetOnly('RecordsSubscribe over HTTP', t.alice.did, s.message, undefined, rpcErrorCheck);
  }),
  m('http-owner-rejected', async (t) => {
    const s = await t.msubscribe(t.alice, []);
    await t.targetOnly('MessagesSubscribe over HTTP', t.alice.did, s.message, undefined, rpcErrorCheck);
  }),
  m('http-other-rejected', async (t) => {
    const s = await t.msubscribe(t.bob, [{ interface: 'Records' }]);
    await t.targetOnly('MessagesSubscribe over HTTP', t.alice.did, s.message, undefined, rpcErrorCheck);
  }),
];
