// malformed.mjs: structurally invalid messages (JSON schema failures → 400
// SchemaValidatorFailure and friends).
const m = (name, fn, opts) => [`Malformed/${name}`, fn, opts];

// dwn-server dereferences message.descriptor before the SDK sees it, so a
// message without a descriptor gets JSON-RPC -32603 there.
const noDescriptorQuirk = [{ rpcError: -32603, why: 'dwn-server reads message.descriptor.interface before processMessage (TypeError → -32603)' }];

// mutateWrite builds a valid RecordsWrite and applies fn; resign re-signs it.
const mutateWrite = (name, fn, { resign = true, expect = 400 } = {}) => m(name, async (t) => {
  const r = await t.write(t.alice, {});
  await fn(t, r.message);
  if (resign) {
    const p = t.payloadOf(r.message);
    delete p.descriptorCid;
    await t.resign(r.message, t.alice.signer, p);
  }
  await t.send(r, { expect });
});

const mutateQuery = (name, fn, { expect = 400 } = {}) => m(name, async (t) => {
  const q = await t.query(t.alice, { schema: 'https://example.com/x' });
  fn(t, q.message);
  await t.resign(q.message, t.alice.signer);
  await t.send(q, { expect });
});

export default [
  m('missing-descriptor', async (t) => {
    const r = await t.write(t.alice, {});
    delete r.message.descriptor;
    await t.send(r, { expect: 400, quirks: noDescriptorQuirk, label: 'RecordsWrite without descriptor' });
  }),
  m('empty-message', async (t) => {
    await t.send({ message: {} }, { expect: 400, quirks: noDescriptorQuirk, label: 'empty message' });
  }),
  m('unknown-interface', async (t) => {
    const q = await t.query(t.alice, { schema: 'https://example.com/x' });
    q.message.descriptor.interface = 'Bogus';
    await t.resign(q.message, t.alice.signer);
    await t.send(q, { expect: 400 });
  }),
  m('unknown-method', async (t) => {
    const q = await t.query(t.alice, { schema: 'https://example.com/x' });
    q.message.descriptor.method = 'Bogus';
    await t.resign(q.message, t.alice.signer);
    await t.send(q, { expect: 400 });
  }),
  mutateWrite('unknown-descriptor-property', (t, msg) => { msg.descriptor.bogus = 1; }),
  mutateWrite('unknown-top-level-property', (t, msg) => { msg.bogus = 1; }, { resign: false }),
  mutateWrite('missing-dataCid', (t, msg) => { delete msg.descriptor.dataCid; }),
  mutateWrite('missing-dataFormat', (t, msg) => { delete msg.descriptor.dataFormat; }),
  mutateWrite('negative-dataSize', (t, msg) => { msg.descriptor.dataSize = -1; }),
  mutateWrite('bad-timestamp-format', (t, msg) => { msg.descriptor.messageTimestamp = '2024-01-01T00:00:01Z'; msg.descriptor.dateCreated = '2024-01-01T00:00:01Z'; }),
  mutateWrite('bad-protocolPath', (t, msg) => { msg.descriptor.protocol = 'https://example.com/p'; msg.descriptor.protocolPath = 'a//b'; msg.contextId = msg.recordId; }),
  mutateWrite('parentId-without-protocol', (t, msg) => { msg.descriptor.parentId = msg.recordId; }),
  mutateWrite('published-string', (t, msg) => { msg.descriptor.published = 'yes'; }),
  mutateWrite('authorization-extra-property', (t, msg) => { msg.authorization.bogus = {}; }, { resign: false }),
  mutateWrite('signatures-empty', (t, msg) => { msg.authorization.signature.signatures = []; }, { resign: false }),
  mutateWrite('missing-recordId', (t, msg) => { delete msg.recordId; }, { resign: false }),
  mutateQuery('query-empty-filter', (t, msg) => { msg.descriptor.filter = {}; }),
  mutateQuery('query-limit-zero', (t, msg) => { msg.descriptor.pagination = { limit: 0 }; }),
  mutateQuery('query-bad-dateSort', (t, msg) => { msg.descriptor.dateSort = 'sideways'; }),
  mutateQuery('query-unknown-filter-property', (t, msg) => { msg.descriptor.filter.bogus = 1; }),
  mutateQuery('query-dataSize-bad-range', (t, msg) => { msg.descriptor.filter.dataSize = { gt: 1, gte: 2 }; }),
  m('delete-missing-recordId', async (t) => {
    const d = await t.del(t.alice, 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24');
    delete d.message.descriptor.recordId;
    await t.resign(d.message, t.alice.signer);
    await t.send(d, { expect: 400 });
  }),
  m('protocols-configure-missing-definition', async (t) => {
    const c = await t.configure(t.alice, { protocol: 'https://example.com/p', published: false, types: {}, structure: {} });
    delete c.message.descriptor.definition;
    await t.resign(c.message, t.alice.signer);
    await t.send(c, { expect: 400 });
  }),
  m('messages-read-missing-messageCid', async (t) => {
    const r = await t.mread(t.alice, 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24');
    delete r.message.descriptor.messageCid;
    await t.resign(r.message, t.alice.signer);
    await t.send(r, { expect: 400 });
  }),
];
