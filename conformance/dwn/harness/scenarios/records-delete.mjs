// records-delete.mjs: RecordsDelete scenarios (dwn.md §2, §4.1 retention).
import { Q, dataset } from './fixtures.mjs';

const w = (name, fn, opts) => [`RecordsDelete/${name}`, fn, opts];

const P = 'https://example.com/del';
const delProtocol = () => ({
  protocol  : P,
  published : false,
  types     : { doc: { dataFormats: ['application/json'] }, note: { dataFormats: ['application/json'] } },
  structure : {
    doc: {
      $actions : [{ who: 'anyone', can: ['create', 'delete'] }, { who: 'recipient', of: 'doc', can: ['co-delete'] }],
      note     : { $actions: [{ who: 'anyone', can: ['create'] }, { who: 'author', of: 'doc', can: ['co-delete', 'co-prune'] }] },
    },
  },
});

export default [
  w('owner-delete', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.del(t.alice, r.recordId), { expect: 202 });
    await t.send(await t.query(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('missing-404', async (t) => {
    await t.send(await t.del(t.alice, 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24'), { expect: 404 });
  }),
  w('already-deleted-404', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.del(t.alice, r.recordId), { expect: 202 });
    await t.send(await t.del(t.alice, r.recordId), { expect: 404 });
  }),
  w('not-newer-409', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.del(t.alice, r.recordId, { messageTimestamp: t.at(0) }), { expect: 409 });
  }),
  w('same-timestamp-as-write', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.del(t.alice, r.recordId, { messageTimestamp: r.message.descriptor.messageTimestamp }));
  }),
  w('non-owner-401', async (t) => {
    const r = await t.write(t.alice, { published: true });
    await t.send(r, { setup: true });
    await t.send(await t.del(t.bob, r.recordId), { expect: 401 });
  }),
  w('large-data-delete-then-read', async (t) => {
    const r = await t.write(t.alice, { data: t.bytes(45000), dataFormat: 'application/octet-stream' });
    await t.send(r, { setup: true });
    await t.send(await t.del(t.alice, r.recordId), { expect: 202 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 404 });
  }),
  w('prune-children', async (t) => {
    const r = await dataset(t);
    await t.send(await t.del(t.alice, r.d.recordId, { prune: true }), { expect: 202 });
    await t.send(await t.query(t.alice, { protocol: Q }), { expect: 200 });
    await t.send(await t.read(t.alice, { recordId: r.e.recordId }), { expect: 404 });
  }),
  w('no-prune-keeps-children', async (t) => {
    const r = await dataset(t);
    await t.send(await t.del(t.alice, r.d.recordId), { expect: 202 });
    await t.send(await t.query(t.alice, { protocol: Q, parentId: r.d.recordId }), { expect: 200 });
  }),
  w('protocol-author-delete-own', async (t) => {
    await t.send(await t.configure(t.alice, delProtocol()), { setup: true });
    const r = await t.write(t.bob, { protocol: P, protocolPath: 'doc' });
    await t.send(r, { setup: true, expect: 202 });
    await t.send(await t.del(t.bob, r.recordId), { expect: 202 });
  }),
  w('protocol-other-delete-401', async (t) => {
    await t.send(await t.configure(t.alice, delProtocol()), { setup: true });
    const r = await t.write(t.bob, { protocol: P, protocolPath: 'doc' });
    await t.send(r, { setup: true });
    await t.send(await t.del(t.carol, r.recordId), { expect: 401 });
  }),
  w('protocol-recipient-co-delete', async (t) => {
    await t.send(await t.configure(t.alice, delProtocol()), { setup: true });
    const r = await t.write(t.bob, { protocol: P, protocolPath: 'doc', recipient: t.carol.did });
    await t.send(r, { setup: true });
    await t.send(await t.del(t.carol, r.recordId));
  }),
  w('protocol-parent-author-co-prune', async (t) => {
    await t.send(await t.configure(t.alice, delProtocol()), { setup: true });
    const doc = await t.write(t.bob, { protocol: P, protocolPath: 'doc' });
    await t.send(doc, { setup: true });
    const note = await t.write(t.carol, { protocol: P, protocolPath: 'doc/note', parentContextId: doc.contextId });
    await t.send(note, { setup: true, expect: 202 });
    await t.send(await t.del(t.bob, note.recordId, { prune: true }));
    await t.send(await t.del(t.dave, doc.recordId, { prune: true }), { expect: 401 });
  }),
  w('delete-data-less-record', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true, data: null, expect: 204 });
    await t.send(await t.del(t.alice, r.recordId));
  }),
  w('delete-then-messages-query', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.update(t.alice, r, { data: t.json() }), { setup: true });
    await t.send(await t.del(t.alice, r.recordId), { setup: true });
    await t.send(await t.mquery(t.alice, []), { expect: 200 });
  }),
];
