// permissions.mjs: grants, requests, revocations and their use
// (dwn.md §4.4): permissionGrantId for Records/Protocols/Messages scopes,
// expired and revoked grants, publication conditions and delegated grants.
import { Message } from '@tbd54566975/dwn-sdk-js';
import { Q, dataset, qProtocol } from './fixtures.mjs';

const p = (name, fn, opts) => [`Permissions/${name}`, fn, opts];
const R = (method, extra = {}) => ({ interface: 'Records', method, protocol: Q, ...extra });

// granted stores a grant from alice to `who` and returns it.
async function granted(t, who, scope, o = {}) {
  const g = await t.grant(t.alice, who, scope, o);
  await t.send(g, { setup: true, expect: 202, label: 'setup grant' });
  return g;
}

async function withProtocol(t) {
  await t.send(await t.configure(t.alice, { ...qProtocol(), structure: { ...qProtocol().structure, thread: { reply: {} } } }), { setup: true });
}

export default [
  p('grant-write', async (t) => {
    await t.send(await t.grant(t.alice, t.bob, R('Write')), { expect: 202 });
  }),
  p('grant-by-non-owner-401', async (t) => {
    await t.send(await t.grant(t.bob, t.carol, R('Write')), { expect: 401 });
  }),
  p('grant-messages-scope', async (t) => {
    await t.send(await t.grant(t.alice, t.bob, { interface: 'Messages', method: 'Query' }), { expect: 202 });
  }),
  p('request-by-anyone', async (t) => {
    await t.send(await t.request(t.bob, R('Write')), { expect: 202 });
  }),
  p('revocation', async (t) => {
    const g = await granted(t, t.bob, R('Write'));
    await t.send(await t.revoke(t.alice, g), { expect: 202 });
  }),
  p('grantee-reads-grant', async (t) => {
    const g = await granted(t, t.bob, R('Write'));
    await t.send(await t.read(t.bob, { recordId: g.id }), { expect: 200 });
    await t.send(await t.read(t.carol, { recordId: g.id }), { expect: 401 });
  }),
  p('grantee-queries-grants', async (t) => {
    await granted(t, t.bob, R('Write'));
    await t.send(await t.query(t.bob, { protocol: 'https://tbd.website/dwn/permissions', protocolPath: 'grant' }), { expect: 200 });
  }),
  p('records-write-with-grant', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.bob, R('Write'));
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id }), { expect: 202 });
  }),
  p('records-write-without-grant-401', async (t) => {
    await withProtocol(t);
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread' }), { expect: 401 });
  }),
  p('records-write-grant-wrong-grantee-401', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.carol, R('Write'));
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id }), { expect: 401 });
  }),
  p('records-write-grant-wrong-protocol-401', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.bob, R('Write', { protocol: 'https://example.com/other' }));
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id }), { expect: 401 });
  }),
  p('records-write-grant-wrong-method-401', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.bob, R('Read'));
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id }), { expect: 401 });
  }),
  p('records-write-grant-missing-401', async (t) => {
    await withProtocol(t);
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24' }));
  }),
  p('records-write-expired-grant-401', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.bob, R('Write'), { dateExpires: t.at(t.tick + 2) });
    t.now(); t.now(); t.now();
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id }), { expect: 401 });
  }),
  p('records-write-before-grant-401', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.bob, R('Write'), { dateGranted: t.at(500) });
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id }), { expect: 401 });
  }),
  p('records-write-revoked-grant-401', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.bob, R('Write'));
    await t.send(await t.revoke(t.alice, g), { setup: true, expect: 202 });
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id }), { expect: 401 });
  }),
  p('records-write-before-revocation-ok', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.bob, R('Write'));
    const early = await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id });
    await t.send(await t.revoke(t.alice, g), { setup: true, expect: 202 });
    await t.send(early);
  }),
  p('records-write-publication-required', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.bob, R('Write'), { conditions: { publication: 'Required' } });
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id }), { expect: 401 });
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id, published: true }), { expect: 202 });
  }),
  p('records-write-publication-prohibited', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.bob, R('Write'), { conditions: { publication: 'Prohibited' } });
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id, published: true }), { expect: 401 });
  }),
  p('records-write-protocolPath-scope', async (t) => {
    await withProtocol(t);
    const g = await granted(t, t.bob, R('Write', { protocolPath: 'thread/reply' }));
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', permissionGrantId: g.id }), { expect: 401 });
  }),
  p('records-write-contextId-scope', async (t) => {
    await withProtocol(t);
    const root = await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread' });
    await t.send(root, { setup: true });
    const g = await granted(t, t.bob, R('Write', { contextId: root.contextId }));
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread/reply', schema: 'https://example.com/reply', parentContextId: root.contextId, permissionGrantId: g.id }), { expect: 202 });
  }),
  p('records-read-with-grant', async (t) => {
    const r = await dataset(t);
    const g = await granted(t, t.dave, R('Read'));
    await t.send(await t.read(t.dave, { recordId: r.f.recordId }, { permissionGrantId: g.id }), { expect: 200 });
  }),
  p('records-read-grant-other-protocol-401', async (t) => {
    const r = await dataset(t);
    const g = await granted(t, t.dave, R('Read', { protocol: 'https://example.com/other' }));
    await t.send(await t.read(t.dave, { recordId: r.f.recordId }, { permissionGrantId: g.id }), { expect: 401 });
  }),
  p('records-query-with-grant', async (t) => {
    await dataset(t);
    const g = await granted(t, t.dave, R('Query'));
    await t.send(await t.query(t.dave, { protocol: Q }, { permissionGrantId: g.id }), { expect: 200 });
  }),
  p('records-delete-with-grant', async (t) => {
    const r = await dataset(t);
    const g = await granted(t, t.dave, R('Delete'));
    await t.send(await t.del(t.dave, r.f.recordId, { permissionGrantId: g.id }));
  }),
  p('protocols-configure-with-grant', async (t) => {
    const g = await granted(t, t.bob, { interface: 'Protocols', method: 'Configure', protocol: Q });
    await t.send(await t.configure(t.bob, qProtocol(), { permissionGrantId: g.id }), { expect: 202 });
  }),
  p('protocols-configure-grant-other-protocol-401', async (t) => {
    const g = await granted(t, t.bob, { interface: 'Protocols', method: 'Configure', protocol: 'https://example.com/other' });
    await t.send(await t.configure(t.bob, qProtocol(), { permissionGrantId: g.id }), { expect: 401 });
  }),
  p('protocols-query-with-grant', async (t) => {
    await t.send(await t.configure(t.alice, { ...qProtocol(), published: false }), { setup: true });
    const g = await granted(t, t.bob, { interface: 'Protocols', method: 'Query' });
    await t.send(await t.pquery(t.bob, { protocol: Q }, { permissionGrantId: g.id }), { expect: 200 });
  }),
  p('messages-query-with-grant', async (t) => {
    await dataset(t);
    const g = await granted(t, t.bob, { interface: 'Messages', method: 'Query' });
    await t.send(await t.mquery(t.bob, [], { permissionGrantId: g.id }), { expect: 200 });
  }),
  p('messages-query-protocol-grant', async (t) => {
    await dataset(t);
    const g = await granted(t, t.bob, { interface: 'Messages', method: 'Query', protocol: Q });
    await t.send(await t.mquery(t.bob, [{ protocol: Q }], { permissionGrantId: g.id }), { expect: 200 });
    await t.send(await t.mquery(t.bob, [], { permissionGrantId: g.id }));
  }),
  p('messages-read-with-grant', async (t) => {
    const r = await dataset(t);
    const g = await granted(t, t.bob, { interface: 'Messages', method: 'Read' });
    await t.send(await t.mread(t.bob, await Message.getCid(r.b.message), { permissionGrantId: g.id }), { expect: 200 });
  }),
  p('messages-read-protocol-grant-out-of-scope-401', async (t) => {
    const r = await dataset(t);
    const g = await granted(t, t.bob, { interface: 'Messages', method: 'Read', protocol: Q });
    await t.send(await t.mread(t.bob, await Message.getCid(r.b.message), { permissionGrantId: g.id }), { expect: 401 });
    await t.send(await t.mread(t.bob, await Message.getCid(r.d.message), { permissionGrantId: g.id }), { expect: 200 });
  }),
  p('messages-query-revoked-grant-401', async (t) => {
    await dataset(t);
    const g = await granted(t, t.bob, { interface: 'Messages', method: 'Query' });
    await t.send(await t.revoke(t.alice, g), { setup: true });
    await t.send(await t.mquery(t.bob, [], { permissionGrantId: g.id }), { expect: 401 });
  }),
  p('delegated-write', async (t) => {
    await withProtocol(t);
    const g = await t.grant(t.alice, t.bob, R('Write'), { delegated: true });
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', delegatedGrant: g.dataEncodedMessage }), { expect: 202 });
  }),
  p('delegated-write-scope-mismatch-401', async (t) => {
    await withProtocol(t);
    const g = await t.grant(t.alice, t.bob, R('Write', { protocol: 'https://example.com/other' }), { delegated: true });
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', delegatedGrant: g.dataEncodedMessage }), { expect: 401 });
  }),
  p('delegated-grant-not-delegated', async (t) => {
    await withProtocol(t);
    const g = await t.grant(t.alice, t.bob, R('Write'), { delegated: false });
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', delegatedGrant: g.dataEncodedMessage }));
  }),
  p('delegated-grant-wrong-delegate', async (t) => {
    await withProtocol(t);
    const g = await t.grant(t.alice, t.carol, R('Write'), { delegated: true });
    await t.send(await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', delegatedGrant: g.dataEncodedMessage }));
  }),
  p('delegated-query', async (t) => {
    await dataset(t);
    const g = await t.grant(t.alice, t.bob, R('Query'), { delegated: true });
    await t.send(await t.query(t.bob, { protocol: Q }, { delegatedGrant: g.dataEncodedMessage }), { expect: 200 });
  }),
  p('delegated-read', async (t) => {
    const r = await dataset(t);
    const g = await t.grant(t.alice, t.bob, R('Read'), { delegated: true });
    await t.send(await t.read(t.bob, { recordId: r.f.recordId }, { delegatedGrant: g.dataEncodedMessage }), { expect: 200 });
  }),
  p('delegated-delete', async (t) => {
    const r = await dataset(t);
    const g = await t.grant(t.alice, t.bob, R('Delete'), { delegated: true });
    await t.send(await t.del(t.bob, r.f.recordId, { delegatedGrant: g.dataEncodedMessage }));
  }),
  p('delegated-protocols-configure', async (t) => {
    const g = await t.grant(t.alice, t.bob, { interface: 'Protocols', method: 'Configure', protocol: Q }, { delegated: true });
    await t.send(await t.configure(t.bob, qProtocol(), { delegatedGrant: g.dataEncodedMessage }));
  }),
];
