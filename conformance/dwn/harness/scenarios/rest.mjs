// rest.mjs: dwn-server's anonymous REST routes (dwn.md §6.5). Each GET is
// checked against what the route would answer given the reference Dwn's
// reply to the anonymous message the route builds (lib/rest.mjs), so the
// expectations are derived, not hand-written.
import { Q, S1, S2, dataset, qProtocol } from './fixtures.mjs';
import { b64url, protocolExpectation, protocolsExpectation, queryExpectation, readExpectation } from '../lib/rest.mjs';

const r = (name, fn, opts) => [`REST/${name}`, fn, opts];

// anon sends an anonymous message to the reference only.
async function anon(t, built) {
  return t.reference.send(t.alice.did, built.message);
}

async function checkRecord(t, recordId, route = 'records') {
  const ref = await anon(t, await t.read(undefined, { recordId }));
  await t.restCheck(`/:did/${route}/:id`, `/${t.alice.did}/${route}/${recordId}`, readExpectation(ref));
  return ref;
}

async function checkQuery(t, filter, o = {}) {
  const ref = await anon(t, await t.query(undefined, filter, o));
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) params.append(`filter.${k}`, v);
  if (o.dateSort) params.append('dateSort', o.dateSort);
  await t.restCheck(`/:did/query?${params}`, `/${t.alice.did}/query?${params}`, queryExpectation(ref));
}

// protocolPathExpectation replays GET /:did/read/protocols/:b64/:path on
// the reference: the newest published record at the path
// (publishedDescending, limit 1), read anonymously.
async function protocolPathExpectation(t, protocol, protocolPath) {
  const q = await anon(t, await t.query(undefined, { protocol, protocolPath }, { pagination: { limit: 1 }, dateSort: 'publishedDescending' }));
  const code = q.reply.status.code;
  if (code !== 200) return { http: code === 401 ? 404 : code };
  if (q.reply.entries.length === 0) return { http: 404 };
  return readExpectation(await anon(t, await t.read(undefined, { recordId: q.reply.entries[0].recordId })));
}

export default [
  r('records-published-json', async (t) => {
    const w = await t.write(t.alice, { published: true, data: t.json({ hello: 'world' }) });
    await t.send(w, { setup: true, expect: 202 });
    const ref = await checkRecord(t, w.recordId);
    if (ref.reply.status.code !== 200) throw new Error('scenario expects the reference to read the record');
  }),
  r('read-records-alias', async (t) => {
    const w = await t.write(t.alice, { published: true });
    await t.send(w, { setup: true, expect: 202 });
    await checkRecord(t, w.recordId, 'read/records');
  }),
  r('records-text-plain', async (t) => {
    const w = await t.write(t.alice, { published: true, dataFormat: 'text/plain', data: Buffer.from('plain text, ünïcödé') });
    await t.send(w, { setup: true, expect: 202 });
    await checkRecord(t, w.recordId);
  }),
  r('records-large-binary', async (t) => {
    const w = await t.write(t.alice, { published: true, dataFormat: 'application/octet-stream', data: t.bytes(70000, 3) });
    await t.send(w, { setup: true, expect: 202 });
    await checkRecord(t, w.recordId);
  }),
  r('records-updated-has-initialWrite', async (t) => {
    const w = await t.write(t.alice, { published: true });
    await t.send(w, { setup: true, expect: 202 });
    await t.send(await t.update(t.alice, w, { data: t.json({ v: 2 }) }), { setup: true, expect: 202 });
    await checkRecord(t, w.recordId);
  }),
  r('records-unpublished-404', async (t) => {
    const w = await t.write(t.alice, {});
    await t.send(w, { setup: true, expect: 202 });
    const ref = await checkRecord(t, w.recordId);
    if (ref.reply.status.code !== 401) throw new Error('scenario expects reference 401');
  }),
  r('records-missing-404', async (t) => {
    const ref = await checkRecord(t, 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24');
    if (ref.reply.status.code !== 404) throw new Error('scenario expects reference 404');
  }),
  r('records-deleted-404', async (t) => {
    const w = await t.write(t.alice, { published: true });
    await t.send(w, { setup: true, expect: 202 });
    await t.send(await t.del(t.alice, w.recordId), { setup: true, expect: 202 });
    await checkRecord(t, w.recordId);
  }),
  r('query-schema', async (t) => {
    await dataset(t);
    await checkQuery(t, { schema: S1 });
    await checkQuery(t, { schema: S2 });
  }),
  r('query-protocol-path', async (t) => {
    await dataset(t);
    await checkQuery(t, { protocol: Q, protocolPath: 'thread' });
  }),
  r('query-dateSort', async (t) => {
    await dataset(t);
    await checkQuery(t, { schema: S2 }, { dateSort: 'createdDescending' });
  }),
  r('query-nothing-published', async (t) => {
    await t.send(await t.write(t.alice, { schema: S1 }), { setup: true, expect: 202 });
    await checkQuery(t, { schema: S1 });
  }),
  r('query-without-filter-400', async (t) => {
    // RecordsQuery.create({filter: undefined}) throws: the route answers 400
    await t.restCheck('/:did/query', `/${t.alice.did}/query`, { http: 400 });
  }),
  r('query-protocols', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    await t.send(await t.configure(t.alice, { ...qProtocol(), protocol: 'https://example.com/private', published: false }), { setup: true, expect: 202 });
    await t.send(await t.configure(t.alice, { ...qProtocol(), protocol: 'https://example.com/another' }), { setup: true, expect: 202 });
    const ref = await anon(t, await t.pquery(undefined, undefined));
    await t.restCheck('/:did/query/protocols', `/${t.alice.did}/query/protocols`, protocolsExpectation(ref));
  }),
  r('query-protocols-empty', async (t) => {
    const ref = await anon(t, await t.pquery(undefined, undefined));
    await t.restCheck('/:did/query/protocols', `/${t.alice.did}/query/protocols`, protocolsExpectation(ref));
  }),
  r('read-protocol', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    const ref = await anon(t, await t.pquery(undefined, { protocol: Q }));
    await t.restCheck('/:did/read/protocols/:b64', `/${t.alice.did}/read/protocols/${b64url(Q)}`, protocolExpectation(ref));
  }),
  r('read-protocol-unpublished-404', async (t) => {
    const P = 'https://example.com/private';
    await t.send(await t.configure(t.alice, { ...qProtocol(), protocol: P, published: false }), { setup: true, expect: 202 });
    const ref = await anon(t, await t.pquery(undefined, { protocol: P }));
    await t.restCheck('/:did/read/protocols/:b64', `/${t.alice.did}/read/protocols/${b64url(P)}`, protocolExpectation(ref));
  }),
  r('read-protocol-path', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    for (let i = 0; i < 3; i++) {
      await t.send(await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', published: i < 2, data: t.json({ i }) }), { setup: true, expect: 202 });
    }
    await t.restCheck('/:did/read/protocols/:b64/thread', `/${t.alice.did}/read/protocols/${b64url(Q)}/thread`, await protocolPathExpectation(t, Q, 'thread'));
  }),
  r('read-protocol-nested-path', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    const d = await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', published: true });
    await t.send(d, { setup: true, expect: 202 });
    await t.send(await t.write(t.alice, { protocol: Q, protocolPath: 'thread/reply', schema: 'https://example.com/reply', parentContextId: d.contextId,
      published: true, dataFormat: 'text/plain', data: Buffer.from('a published reply') }), { setup: true, expect: 202 });
    await t.restCheck('/:did/read/protocols/:b64/thread/reply', `/${t.alice.did}/read/protocols/${b64url(Q)}/thread/reply`, await protocolPathExpectation(t, Q, 'thread/reply'));
  }),
  r('read-protocol-path-none-404', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
    await t.send(await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread' }), { setup: true, expect: 202 });
    await t.restCheck('/:did/read/protocols/:b64/thread', `/${t.alice.did}/read/protocols/${b64url(Q)}/thread`, await protocolPathExpectation(t, Q, 'thread'));
  }),
];
