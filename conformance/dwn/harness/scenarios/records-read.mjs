// records-read.mjs: RecordsRead scenarios (dwn.md §4.2).
import { Q, S1, dataset, member, qProtocol } from './fixtures.mjs';

const w = (name, fn, opts) => [`RecordsRead/${name}`, fn, opts];

export default [
  w('by-recordId-owner', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('missing-404', async (t) => {
    await t.send(await t.read(t.alice, { recordId: 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24' }), { expect: 404 });
  }),
  w('after-delete-404-with-delete', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.del(t.alice, r.recordId), { setup: true, expect: 202 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 404 });
  }),
  w('after-update-has-initialWrite', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.update(t.alice, r, { data: t.json() }), { setup: true });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('multiple-matches-400', async (t) => {
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true });
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true });
    await t.send(await t.read(t.alice, { schema: S1 }), { expect: 400 });
  }),
  w('by-schema-single-match', async (t) => {
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true });
    await t.send(await t.read(t.alice, { schema: S1 }), { expect: 200 });
  }),
  w('published-anonymous', async (t) => {
    const r = await t.write(t.alice, { published: true });
    await t.send(r, { setup: true });
    await t.send(await t.read(undefined, { recordId: r.recordId }), { expect: 200 });
  }),
  w('unpublished-anonymous-401', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.read(undefined, { recordId: r.recordId }), { expect: 401 });
  }),
  w('published-other', async (t) => {
    const r = await t.write(t.alice, { published: true });
    await t.send(r, { setup: true });
    await t.send(await t.read(t.bob, { recordId: r.recordId }), { expect: 200 });
  }),
  w('unpublished-other-401', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.read(t.bob, { recordId: r.recordId }), { expect: 401 });
  }),
  w('recipient-can-read', async (t) => {
    const r = await t.write(t.alice, { recipient: t.bob.did });
    await t.send(r, { setup: true });
    await t.send(await t.read(t.bob, { recordId: r.recordId }), { expect: 200 });
    await t.send(await t.read(t.carol, { recordId: r.recordId }), { expect: 401 });
  }),
  w('author-can-read-own-protocol-record', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true });
    const r = await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread' });
    await t.send(r, { setup: true, expect: 202 });
    await t.send(await t.read(t.bob, { recordId: r.recordId }), { expect: 200 });
    await t.send(await t.read(t.carol, { recordId: r.recordId }), { expect: 401 });
  }),
  w('role-member-can-read', async (t) => {
    const r = await dataset(t);
    await member(t, t.carol);
    await t.send(await t.read(t.carol, { recordId: r.f.recordId }, { protocolRole: 'member' }), { expect: 200 });
  }),
  w('role-not-held-401', async (t) => {
    const r = await dataset(t);
    await t.send(await t.read(t.dave, { recordId: r.f.recordId }, { protocolRole: 'member' }), { expect: 401 });
  }),
  w('by-protocolPath', async (t) => {
    await dataset(t);
    await t.send(await t.read(t.alice, { protocol: Q, protocolPath: 'thread/reply' }), { expect: 200 });
  }),
  w('large-data-other', async (t) => {
    const r = await t.write(t.alice, { published: true, data: t.bytes(50000, 4), dataFormat: 'application/octet-stream' });
    await t.send(r, { setup: true });
    await t.send(await t.read(t.bob, { recordId: r.recordId }), { expect: 200 });
  }),
  w('es256k-reader-published', async (t) => {
    const r = await t.write(t.alice, { published: true });
    await t.send(r, { setup: true });
    await t.send(await t.read(t.k1, { recordId: r.recordId }), { expect: 200 });
  }),
  w('es256-reader-recipient', async (t) => {
    const r = await t.write(t.alice, { recipient: t.p256.did });
    await t.send(r, { setup: true });
    await t.send(await t.read(t.p256, { recordId: r.recordId }), { expect: 200 });
  }),
  w('data-less-initial-404', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true, data: null, expect: 204 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }));
  }),
  w('empty-filter-400', async (t) => {
    await t.send(await t.read(t.alice, { recordId: 'x' }).then((m) => { m.message.descriptor.filter = {}; return t.resign(m.message, t.alice.signer); }));
  }),
];
