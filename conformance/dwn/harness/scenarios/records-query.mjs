// records-query.mjs: RecordsQuery scenarios (dwn.md §4.2): every filter,
// every dateSort, pagination and visibility.
import { Q, S1, S2, dataset, member } from './fixtures.mjs';

const w = (name, fn, opts) => [`RecordsQuery/${name}`, fn, opts];

// q runs the dataset, then one owner query with the given filter/options.
const q = (name, filter, opts = {}, who = 'alice') => w(name, async (t) => {
  await dataset(t);
  const f = typeof filter === 'function' ? filter(t) : filter;
  const author = who === 'anonymous' ? undefined : t[who];
  const m = await t.query(author, f, opts);
  if (opts.mutate) await opts.mutate(t, m.message);
  await t.send(m, { expect: opts.expectCode ?? 200 });
});

export default [
  q('filter-protocol', { protocol: Q }),
  q('filter-protocolPath', { protocol: Q, protocolPath: 'thread' }),
  q('filter-protocolPath-nested', { protocol: Q, protocolPath: 'thread/reply' }),
  q('filter-schema', { schema: S1 }),
  q('filter-schema-unnormalized-accepted', { schema: 'example.com/s1' }),
  q('filter-recipient', (t) => ({ recipient: t.bob.did })),
  q('filter-recipient-array', (t) => ({ recipient: [t.bob.did, t.carol.did] })),
  q('filter-author', (t) => ({ author: t.bob.did })),
  q('filter-dataFormat', { dataFormat: 'text/plain' }),
  q('filter-dataSize-gt', { dataSize: { gt: 100 } }),
  q('filter-dataSize-gte-lte', { dataSize: { gte: 3, lte: 20 } }),
  q('filter-dataSize-lt', { dataSize: { lt: 10 } }),
  q('filter-dateCreated-from', (t) => ({ dateCreated: { from: t.at(4) } })),
  q('filter-dateCreated-to-exclusive', (t) => ({ dateCreated: { to: t.at(4) } })),
  q('filter-dateCreated-range', (t) => ({ dateCreated: { from: t.at(3), to: t.at(6) } })),
  q('filter-datePublished-from', (t) => ({ datePublished: { from: t.at(3) } })),
  q('filter-dateUpdated-range', (t) => ({ dateUpdated: { from: t.at(2), to: t.at(8) } })),
  q('filter-published-true', { published: true }),
  q('filter-published-false', { published: false }),
  q('filter-tag-equal-string', { tags: { kind: 'alpha' } }),
  q('filter-tag-equal-number', { tags: { n: 5 } }),
  q('filter-tag-startsWith', { tags: { kind: { startsWith: 'alp' } } }),
  q('filter-tag-range-number', { tags: { n: { gte: 1, lt: 10 } } }),
  q('filter-tag-range-negative', { tags: { n: { lt: 0 } } }),
  q('filter-tag-range-string', { tags: { kind: { gt: 'alpha', lte: 'beta' } } }),
  q('filter-tag-array-any', { tags: { words: 'y' } }),
  q('filter-tag-multi', { tags: { kind: { startsWith: 'a' }, n: 10 } }),
  q('filter-contextId-prefix', (t) => ({ protocol: Q, contextId: '' }), {}),
  w('filter-contextId', async (t) => {
    const r = await dataset(t);
    await t.send(await t.query(t.alice, { contextId: r.d.contextId }), { expect: 200 });
    await t.send(await t.query(t.alice, { protocol: Q, contextId: r.e.contextId }), { expect: 200 });
  }),
  w('filter-parentId', async (t) => {
    const r = await dataset(t);
    await t.send(await t.query(t.alice, { protocol: Q, parentId: r.d.recordId }), { expect: 200 });
  }),
  w('filter-recordId', async (t) => {
    const r = await dataset(t);
    await t.send(await t.query(t.alice, { recordId: r.c.recordId }), { expect: 200 });
  }),
  q('filter-no-match', { schema: 'https://example.com/none' }),
  q('sort-createdAscending', { schema: S1 }, { dateSort: 'createdAscending' }),
  q('sort-createdDescending', { protocol: Q }, { dateSort: 'createdDescending' }),
  q('sort-publishedAscending', { dataFormat: 'application/json' }, { dateSort: 'publishedAscending' }),
  q('sort-publishedDescending', { dataFormat: 'application/json' }, { dateSort: 'publishedDescending' }),
  q('sort-published-with-published-false-400', { published: true }, { dateSort: 'publishedAscending', expectCode: 400,
    mutate: (t, m) => { m.descriptor.filter.published = false; return t.resign(m, t.alice.signer); } }),
  w('pagination-cursor', async (t) => {
    await dataset(t);
    const ref = await t.send(await t.query(t.alice, { dataFormat: 'application/json' }, { pagination: { limit: 2 } }), { expect: 200 });
    let cursor = ref.reply.cursor;
    let pages = 0;
    while (cursor !== undefined && pages < 6) {
      const next = await t.send(await t.query(t.alice, { dataFormat: 'application/json' }, { pagination: { limit: 2, cursor } }), { expect: 200, label: `page ${pages + 2}` });
      cursor = next.reply.cursor;
      pages++;
    }
  }),
  w('pagination-descending-cursor', async (t) => {
    await dataset(t);
    const ref = await t.send(await t.query(t.alice, { protocol: Q }, { pagination: { limit: 1 }, dateSort: 'createdDescending' }), { expect: 200 });
    await t.send(await t.query(t.alice, { protocol: Q }, { pagination: { limit: 3, cursor: ref.reply.cursor }, dateSort: 'createdDescending' }), { expect: 200 });
  }),
  q('pagination-exact-fit-no-cursor', { schema: S1 }, { pagination: { limit: 2 } }),
  q('pagination-limit-larger', { schema: S2 }, { pagination: { limit: 50 } }),
  q('visibility-owner-all', { dataFormat: 'application/json' }),
  q('visibility-other-schema', { schema: S1 }, {}, 'bob'),
  q('visibility-other-protocol', { protocol: Q }, {}, 'bob'),
  q('visibility-recipient-carol', { schema: S1 }, {}, 'carol'),
  q('visibility-stranger', { protocol: Q, protocolPath: 'thread' }, {}, 'dave'),
  q('visibility-anonymous', { dataFormat: 'application/json' }, {}, 'anonymous'),
  q('visibility-anonymous-unpublished-filter', { published: false }, { expectCode: 401 }, 'anonymous'),
  q('visibility-other-published-false', { published: false }, {}, 'bob'),
  w('visibility-role', async (t) => {
    await dataset(t);
    await member(t, t.dave);
    await t.send(await t.query(t.dave, { protocol: Q, protocolPath: 'thread' }, { protocolRole: 'member' }), { expect: 200 });
  }),
  w('visibility-role-not-held-401', async (t) => {
    await dataset(t);
    await t.send(await t.query(t.dave, { protocol: Q, protocolPath: 'thread' }, { protocolRole: 'member' }), { expect: 401 });
  }),
  w('visibility-role-without-protocolPath-400', async (t) => {
    await dataset(t);
    await member(t, t.dave);
    await t.send(await t.query(t.dave, { protocol: Q }, { protocolRole: 'member' }));
  }),
  w('updated-record-initialWrite', async (t) => {
    const r = await dataset(t);
    await t.send(await t.update(t.alice, r.a, { data: t.json({ v: 2 }), tags: { kind: 'alpha2' } }), { setup: true });
    await t.send(await t.query(t.alice, { schema: S1 }), { expect: 200 });
    await t.send(await t.query(t.alice, { tags: { kind: 'alpha' } }), { expect: 200, label: 'old tags gone' });
  }),
  w('deleted-record-excluded', async (t) => {
    const r = await dataset(t);
    await t.send(await t.del(t.alice, r.a.recordId), { setup: true });
    await t.send(await t.query(t.alice, { schema: S1 }), { expect: 200 });
  }),
  w('es256k-querier', async (t) => {
    await dataset(t);
    await t.send(await t.query(t.k1, { schema: S2 }), { expect: 200 });
  }),
];
