// protocols.mjs: ProtocolsConfigure rules, protocol-authorised RecordsWrite
// and ProtocolsQuery (dwn.md §4.3).
import { Q, qProtocol } from './fixtures.mjs';

const c = (name, fn, opts) => [`ProtocolsConfigure/${name}`, fn, opts];
const pq = (name, fn, opts) => [`ProtocolsQuery/${name}`, fn, opts];
const pr = (name, fn, opts) => [`ProtocolRules/${name}`, fn, opts];

const P = 'https://example.com/rules';

// def builds a one-type protocol definition with the given rule set.
const def = (ruleSet, extra = {}) => ({
  protocol  : P,
  published : true,
  types     : { doc: { dataFormats: ['application/json'] }, sub: { dataFormats: ['application/json'] }, role: { dataFormats: ['application/json'] } },
  structure : { doc: ruleSet, ...extra },
});

// deep builds a definition whose structure is `levels` types deep.
function deep(levels) {
  const types = { l1: {} };
  const structure = { l1: {} };
  let node = structure.l1;
  for (let i = 2; i <= levels; i++) { types[`l${i}`] = {}; node[`l${i}`] = {}; node = node[`l${i}`]; }
  return { protocol: P, published: false, types, structure };
}

// sendRaw configures a definition the SDK refuses to build by re-signing it.
async function sendRaw(t, definition, o = {}) {
  const built = await t.configure(t.alice, def({ $actions: [{ who: 'anyone', can: ['create'] }] }));
  built.message.descriptor.definition = definition;
  await t.resign(built.message, t.alice.signer);
  return t.send(built, o);
}

// rule configures a protocol with `ruleSet` at `doc`, then sends writes.
const rule = (name, ruleSet, fn, extra) => pr(name, async (t) => {
  await t.send(await t.configure(t.alice, def(ruleSet, extra)), { setup: true, expect: 202 });
  await fn(t);
});

export default [
  c('owner-202', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { expect: 202 });
  }),
  c('non-owner-401', async (t) => {
    await t.send(await t.configure(t.bob, qProtocol()), { expect: 401 });
  }),
  c('newer-wins', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { expect: 202 });
    await t.send(await t.configure(t.alice, { ...qProtocol(), published: false }), { expect: 202 });
    await t.send(await t.pquery(t.alice, { protocol: Q }), { expect: 200 });
  }),
  c('older-409', async (t) => {
    const older = await t.configure(t.alice, qProtocol());
    const newer = await t.configure(t.alice, qProtocol());
    await t.send(newer, { expect: 202 });
    await t.send(older, { expect: 409 });
  }),
  c('resend-409', async (t) => {
    const m = await t.configure(t.alice, qProtocol());
    await t.send(m, { expect: 202 });
    await t.send(m, { expect: 409 });
  }),
  c('es256k-tenant', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { expect: 202 });
  }, { tenant: 'secp256k1' }),
  c('es256-tenant', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { expect: 202 });
  }, { tenant: 'P-256' }),
  c('protocol-url-not-normalized-400', async (t) => {
    await sendRaw(t, { ...def({}), protocol: 'example.com/rules/' }, { expect: 400 });
  }),
  c('schema-url-not-normalized-400', async (t) => {
    const d = def({});
    d.types.doc.schema = 'example.com/doc';
    await sendRaw(t, d, { expect: 400 });
  }),
  c('structure-type-not-in-types-400', async (t) => {
    await sendRaw(t, { ...def({}), structure: { unknown: {} } }, { expect: 400 });
  }),
  c('who-author-without-of-400', async (t) => {
    await sendRaw(t, def({ $actions: [{ who: 'author', can: ['create'] }] }), { expect: 400 });
  }),
  c('who-anyone-with-of-400', async (t) => {
    await sendRaw(t, def({ $actions: [{ who: 'anyone', of: 'doc', can: ['create'] }] }), { expect: 400 });
  }),
  c('role-path-not-a-role-400', async (t) => {
    await sendRaw(t, def({ $actions: [{ role: 'sub', can: ['create'] }] }, { sub: {} }), { expect: 400 });
  }),
  c('role-read-without-query-400', async (t) => {
    await sendRaw(t, def({ $actions: [{ role: 'role', can: ['read'] }] }, { role: { $role: true } }), { expect: 400 });
  }),
  c('role-read-query-subscribe-ok', async (t) => {
    await t.send(await t.configure(t.alice, def({ $actions: [{ role: 'role', can: ['read', 'query', 'subscribe'] }] }, { role: { $role: true } })), { expect: 202 });
  }),
  c('unknown-action-400', async (t) => {
    await sendRaw(t, def({ $actions: [{ who: 'anyone', can: ['fly'] }] }), { expect: 400 });
  }),
  c('size-min-greater-than-max', async (t) => {
    await sendRaw(t, def({ $size: { min: 10, max: 5 } }));
  }),
  c('nesting-depth-11-400', async (t) => {
    await sendRaw(t, deep(11), { expect: 400 });
  }),
  c('nesting-depth-10', async (t) => {
    await sendRaw(t, deep(10));
  }),
  c('encryption-config', async (t) => {
    const d = def({ $encryption: { rootKeyId: t.k1.keyId, publicKeyJwk: t.k1.keyPair.publicJwk }, $actions: [{ who: 'anyone', can: ['create'] }] });
    await t.send(await t.configure(t.alice, d), { expect: 202 });
    await t.send(await t.write(t.bob, { protocol: P, protocolPath: 'doc' }));
  }),
  c('tags-schema-config', async (t) => {
    const d = def({ $tags: { $requiredTags: ['status'], $allowUndefinedTags: false, status: { type: 'string', enum: ['draft', 'final'] } } });
    await t.send(await t.configure(t.alice, d), { expect: 202 });
  }),
  c('unknown-ruleset-key-400', async (t) => {
    await sendRaw(t, def({ $bogus: true }), { expect: 400 });
  }),
  c('delete-action-without-create', async (t) => {
    await sendRaw(t, def({ $actions: [{ who: 'anyone', can: ['co-update'] }] }));
  }),
  pq('owner-sees-unpublished', async (t) => {
    await t.send(await t.configure(t.alice, { ...qProtocol(), published: false }), { setup: true });
    await t.send(await t.pquery(t.alice, { protocol: Q }), { expect: 200 });
  }),
  pq('other-sees-published-only', async (t) => {
    await t.send(await t.configure(t.alice, { ...qProtocol(), published: false }), { setup: true });
    await t.send(await t.configure(t.alice, def({})), { setup: true });
    await t.send(await t.pquery(t.bob, undefined), { expect: 200 });
  }),
  pq('anonymous-sees-published-only', async (t) => {
    await t.send(await t.configure(t.alice, { ...qProtocol(), published: false }), { setup: true });
    await t.send(await t.configure(t.alice, def({})), { setup: true });
    await t.send(await t.pquery(undefined, undefined), { expect: 200 });
  }),
  pq('no-filter-owner', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true });
    await t.send(await t.configure(t.alice, def({})), { setup: true });
    await t.send(await t.pquery(t.alice, undefined), { expect: 200 });
  }),
  pq('filter-no-match', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true });
    await t.send(await t.pquery(t.alice, { protocol: 'https://example.com/nothing' }), { expect: 200 });
  }),
  pq('filter-not-normalized-400', async (t) => {
    const m = await t.pquery(t.alice, { protocol: 'https://example.com/x' });
    m.message.descriptor.filter.protocol = 'example.com/x/';
    await t.resign(m.message, t.alice.signer);
    await t.send(m, { expect: 400 });
  }),
  pq('es256k-querier', async (t) => {
    await t.send(await t.configure(t.alice, qProtocol()), { setup: true });
    await t.send(await t.pquery(t.k1, { protocol: Q }), { expect: 200 });
  }),
  rule('anyone-create', { $actions: [{ who: 'anyone', can: ['create'] }] }, async (t) => {
    await t.send(await t.write(t.bob, { protocol: P, protocolPath: 'doc' }), { expect: 202 });
  }),
  rule('no-rule-401', {}, async (t) => {
    await t.send(await t.write(t.bob, { protocol: P, protocolPath: 'doc' }), { expect: 401 });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc' }), { expect: 202, label: 'owner always allowed' });
  }),
  rule('anyone-update-own', { $actions: [{ who: 'anyone', can: ['create', 'update'] }] }, async (t) => {
    const r = await t.write(t.bob, { protocol: P, protocolPath: 'doc' });
    await t.send(r, { expect: 202 });
    await t.send(await t.update(t.bob, r, { data: t.json() }), { expect: 202 });
  }),
  rule('update-by-other-author-401', { $actions: [{ who: 'anyone', can: ['create', 'update'] }] }, async (t) => {
    const r = await t.write(t.bob, { protocol: P, protocolPath: 'doc' });
    await t.send(r, { expect: 202 });
    await t.send(await t.update(t.carol, r, { data: t.json() }), { expect: 401 });
  }),
  rule('create-without-update-401', { $actions: [{ who: 'anyone', can: ['create'] }] }, async (t) => {
    const r = await t.write(t.bob, { protocol: P, protocolPath: 'doc' });
    await t.send(r, { expect: 202 });
    await t.send(await t.update(t.bob, r, { data: t.json() }));
  }),
  rule('co-update-recipient', { $actions: [{ who: 'anyone', can: ['create'] }, { who: 'recipient', of: 'doc', can: ['co-update'] }] }, async (t) => {
    const r = await t.write(t.bob, { protocol: P, protocolPath: 'doc', recipient: t.carol.did });
    await t.send(r, { expect: 202 });
    await t.send(await t.update(t.carol, r, { data: t.json() }));
  }),
  rule('author-of-parent-creates-child', { $actions: [{ who: 'anyone', can: ['create'] }],
    sub: { $actions: [{ who: 'author', of: 'doc', can: ['create'] }] } }, async (t) => {
    const doc = await t.write(t.bob, { protocol: P, protocolPath: 'doc' });
    await t.send(doc, { expect: 202 });
    await t.send(await t.write(t.bob, { protocol: P, protocolPath: 'doc/sub', parentContextId: doc.contextId }), { expect: 202 });
    await t.send(await t.write(t.carol, { protocol: P, protocolPath: 'doc/sub', parentContextId: doc.contextId }), { expect: 401 });
  }),
  rule('recipient-of-parent-creates-child', { $actions: [{ who: 'anyone', can: ['create'] }],
    sub: { $actions: [{ who: 'recipient', of: 'doc', can: ['create'] }] } }, async (t) => {
    const doc = await t.write(t.bob, { protocol: P, protocolPath: 'doc', recipient: t.carol.did });
    await t.send(doc, { expect: 202 });
    await t.send(await t.write(t.carol, { protocol: P, protocolPath: 'doc/sub', parentContextId: doc.contextId }), { expect: 202 });
    await t.send(await t.write(t.dave, { protocol: P, protocolPath: 'doc/sub', parentContextId: doc.contextId }), { expect: 401 });
  }),
  rule('role-create', { $actions: [{ role: 'role', can: ['create'] }] }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'role', recipient: t.bob.did }), { setup: true, expect: 202 });
    await t.send(await t.write(t.bob, { protocol: P, protocolPath: 'doc', protocolRole: 'role' }), { expect: 202 });
    await t.send(await t.write(t.carol, { protocol: P, protocolPath: 'doc', protocolRole: 'role' }), { expect: 401 });
  }, { role: { $role: true } }),
  rule('role-duplicate-recipient-400', {}, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'role', recipient: t.bob.did }), { expect: 202 });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'role', recipient: t.bob.did }), { expect: 400 });
  }, { role: { $role: true } }),
  rule('role-without-recipient-400', {}, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'role' }), { expect: 400 });
  }, { role: { $role: true } }),
  rule('size-max', { $size: { max: 20 } }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', data: Buffer.from('{"a":1}') }), { expect: 202 });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', data: Buffer.from(JSON.stringify({ a: 'x'.repeat(40) })) }), { expect: 400 });
  }),
  rule('size-min', { $size: { min: 10 } }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', data: Buffer.from('{"a":1}') }), { expect: 400 });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', data: Buffer.from('{"a":"long enough"}') }), { expect: 202 });
  }),
  rule('tags-required-missing-400', { $tags: { $requiredTags: ['status'], status: { type: 'string' } } }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc' }), { expect: 400 });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { status: 'ok' } }), { expect: 202 });
  }),
  rule('tags-undefined-not-allowed-400', { $tags: { $allowUndefinedTags: false, status: { type: 'string' } } }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { status: 'ok', extra: 1 } }), { expect: 400 });
  }),
  rule('tags-undefined-allowed', { $tags: { $allowUndefinedTags: true, status: { type: 'string' } } }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { status: 'ok', extra: 1 } }), { expect: 202 });
  }),
  rule('tags-enum', { $tags: { status: { type: 'string', enum: ['draft', 'final'] } } }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { status: 'draft' } }), { expect: 202 });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { status: 'other' } }), { expect: 400 });
  }),
  rule('tags-number-range', { $tags: { score: { type: 'number', minimum: 0, maximum: 10 } } }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { score: 5 } }), { expect: 202 });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { score: 11 } }), { expect: 400 });
  }),
  rule('tags-array-items', { $tags: { labels: { type: 'array', items: { type: 'string', maxLength: 3 }, maxItems: 2 } } }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { labels: ['a', 'bc'] } }), { expect: 202 });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { labels: ['a', 'b', 'c'] } }), { expect: 400 });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { labels: ['long'] } }), { expect: 400 });
  }),
  rule('tags-type-mismatch', { $tags: { flag: { type: 'boolean' } } }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', tags: { flag: 'yes' } }), { expect: 400 });
  }),
  rule('dataFormat-mismatch-400', {}, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', dataFormat: 'text/plain', data: Buffer.from('x') }), { expect: 400 });
  }),
  pr('schema-mismatch-400', async (t) => {
    const d = def({});
    d.types.doc.schema = 'https://example.com/doc';
    await t.send(await t.configure(t.alice, d), { setup: true });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', schema: 'https://example.com/other' }), { expect: 400 });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', schema: 'https://example.com/doc' }), { expect: 202 });
  }),
  rule('protocolPath-unknown-400', {}, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'nothere' }), { expect: 400 });
  }),
  rule('child-without-parent-400', { sub: {} }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc/sub' }), { expect: 400 });
  }),
  rule('child-parent-missing', { sub: {} }, async (t) => {
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc/sub', parentContextId: 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24' }));
  }),
  rule('child-path-mismatch-parent-400', { sub: {} }, async (t) => {
    const doc = await t.write(t.alice, { protocol: P, protocolPath: 'doc' });
    await t.send(doc, { setup: true });
    await t.send(await t.write(t.alice, { protocol: P, protocolPath: 'doc', parentContextId: doc.contextId }), { expect: 400 });
  }),
  rule('nested-child-ok', { sub: {} }, async (t) => {
    const doc = await t.write(t.alice, { protocol: P, protocolPath: 'doc' });
    await t.send(doc, { setup: true });
    const sub = await t.write(t.alice, { protocol: P, protocolPath: 'doc/sub', parentContextId: doc.contextId });
    await t.send(sub, { expect: 202 });
    await t.send(await t.read(t.alice, { recordId: sub.recordId }), { expect: 200 });
  }),
  rule('recipient-read-rule', { $actions: [{ who: 'anyone', can: ['create'] }, { who: 'recipient', of: 'doc', can: ['read'] }] }, async (t) => {
    const doc = await t.write(t.bob, { protocol: P, protocolPath: 'doc', recipient: t.carol.did });
    await t.send(doc, { setup: true });
    await t.send(await t.read(t.carol, { recordId: doc.recordId }), { expect: 200 });
    await t.send(await t.read(t.dave, { recordId: doc.recordId }), { expect: 401 });
  }),
  rule('anyone-read-rule', { $actions: [{ who: 'anyone', can: ['read'] }] }, async (t) => {
    const doc = await t.write(t.alice, { protocol: P, protocolPath: 'doc' });
    await t.send(doc, { setup: true });
    await t.send(await t.read(t.dave, { recordId: doc.recordId }), { expect: 200 });
    await t.send(await t.read(undefined, { recordId: doc.recordId }));
  }),
  rule('write-after-protocol-reconfigure', { $actions: [{ who: 'anyone', can: ['create'] }] }, async (t) => {
    await t.send(await t.write(t.bob, { protocol: P, protocolPath: 'doc' }), { expect: 202 });
    await t.send(await t.configure(t.alice, def({})), { setup: true, expect: 202 });
    await t.send(await t.write(t.bob, { protocol: P, protocolPath: 'doc' }), { expect: 401 });
  }),
];
