// messages.mjs: MessagesQuery and MessagesRead (dwn.md §2), the sync primitives.
import { Message } from '@tbd54566975/dwn-sdk-js';
import { Q, dataset } from './fixtures.mjs';

const mq = (name, fn, opts) => [`MessagesQuery/${name}`, fn, opts];
const mr = (name, fn, opts) => [`MessagesRead/${name}`, fn, opts];

export default [
  mq('owner-all', async (t) => {
    await dataset(t);
    await t.send(await t.mquery(t.alice, []), { expect: 200 });
  }),
  mq('filter-interface', async (t) => {
    await dataset(t);
    await t.send(await t.mquery(t.alice, [{ interface: 'Protocols' }]), { expect: 200 });
  }),
  mq('filter-method', async (t) => {
    await dataset(t);
    await t.send(await t.mquery(t.alice, [{ interface: 'Records', method: 'Write' }]), { expect: 200 });
  }),
  mq('filter-protocol', async (t) => {
    await dataset(t);
    await t.send(await t.mquery(t.alice, [{ protocol: Q }]), { expect: 200 });
  }),
  mq('filters-ored', async (t) => {
    await dataset(t);
    await t.send(await t.mquery(t.alice, [{ interface: 'Protocols' }, { protocol: Q }]), { expect: 200 });
  }),
  mq('filter-messageTimestamp', async (t) => {
    await dataset(t);
    await t.send(await t.mquery(t.alice, [{ messageTimestamp: { from: t.at(3), to: t.at(7) } }]), { expect: 200 });
  }),
  mq('cursor', async (t) => {
    const r = await dataset(t);
    const first = await t.send(await t.mquery(t.alice, []), { expect: 200 });
    await t.send(await t.update(t.alice, r.a, { data: t.json() }), { setup: true });
    await t.send(await t.del(t.alice, r.b.recordId), { setup: true });
    // the reference cursor's value is its own ULID; both sides accept a cursor
    // only with their own watermark, so the step sends the cursor each side returned
    await t.sendCursorQuery(first, async (cursor) => t.mquery(t.alice, [], { cursor }));
  }),
  mq('no-limit', async (t) => {
    for (let i = 0; i < 25; i++) await t.send(await t.write(t.alice, {}), { setup: true });
    await t.send(await t.mquery(t.alice, []), { expect: 200 });
  }),
  mq('superseded-write-removed', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.update(t.alice, r, { data: t.json() }), { setup: true });
    await t.send(await t.update(t.alice, r, { data: t.json() }), { setup: true });
    await t.send(await t.mquery(t.alice, []), { expect: 200 });
  }),
  mq('data-less-write-not-logged', async (t) => {
    await t.send(await t.write(t.alice, {}), { setup: true, data: null, expect: 204 });
    await t.send(await t.mquery(t.alice, []), { expect: 200 });
  }),
  mq('non-owner-401', async (t) => {
    await dataset(t);
    await t.send(await t.mquery(t.bob, []), { expect: 401 });
  }),
  mq('protocol-not-normalized-400', async (t) => {
    const m = await t.mquery(t.alice, [{ protocol: 'https://example.com/x' }]);
    m.message.descriptor.filters[0].protocol = 'example.com/x';
    await t.resign(m.message, t.alice.signer);
    await t.send(m, { expect: 400 });
  }),
  mq('es256k-tenant', async (t) => {
    await t.send(await t.write(t.alice, {}), { setup: true });
    await t.send(await t.mquery(t.alice, []), { expect: 200 });
  }, { tenant: 'secp256k1' }),
  mr('write-with-inline-data', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.mread(t.alice, await Message.getCid(r.message)), { expect: 200 });
  }),
  mr('write-with-large-data', async (t) => {
    const r = await t.write(t.alice, { data: t.bytes(35000), dataFormat: 'application/octet-stream' });
    await t.send(r, { setup: true });
    await t.send(await t.mread(t.alice, await Message.getCid(r.message)), { expect: 200 });
  }),
  mr('protocols-configure', async (t) => {
    const r = await dataset(t);
    const q = await t.send(await t.mquery(t.alice, [{ interface: 'Protocols' }]));
    await t.send(await t.mread(t.alice, q.reply.entries[0]), { expect: 200 });
    await t.send(await t.mread(t.alice, await Message.getCid(r.e.message)), { expect: 200 });
  }),
  mr('records-delete', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    const d = await t.del(t.alice, r.recordId);
    await t.send(d, { setup: true });
    await t.send(await t.mread(t.alice, await Message.getCid(d.message)), { expect: 200 });
  }),
  mr('missing-404', async (t) => {
    await t.send(await t.mread(t.alice, 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24'), { expect: 404 });
  }),
  mr('superseded-404', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    const u1 = await t.update(t.alice, r, { data: t.json() });
    await t.send(u1, { setup: true });
    await t.send(await t.update(t.alice, r, { data: t.json() }), { setup: true });
    await t.send(await t.mread(t.alice, await Message.getCid(u1.message)), { expect: 404 });
  }),
  mr('non-owner-401', async (t) => {
    const r = await t.write(t.alice, { published: true });
    await t.send(r, { setup: true });
    await t.send(await t.mread(t.bob, await Message.getCid(r.message)), { expect: 401 });
  }),
  mr('invalid-cid-400', async (t) => {
    const m = await t.mread(t.alice, 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24');
    m.message.descriptor.messageCid = 'not-a-cid';
    await t.resign(m.message, t.alice.signer);
    await t.send(m, { expect: 400 });
  }),
  mr('data-less-initial', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true, data: null, expect: 204 });
    await t.send(await t.mread(t.alice, await Message.getCid(r.message)));
  }),
];
