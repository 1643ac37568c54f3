// fixtures.mjs holds protocol definitions and record sets shared by scenarios.

export const Q = 'https://example.com/q';
export const S1 = 'https://example.com/s1';
export const S2 = 'https://example.com/s2';

// qProtocol is a published protocol with a role, a root and a child type.
export const qProtocol = () => ({
  protocol  : Q,
  published : true,
  types     : {
    member : { schema: 'https://example.com/member', dataFormats: ['application/json'] },
    thread : { schema: 'https://example.com/thread', dataFormats: ['application/json'] },
    reply  : { schema: 'https://example.com/reply', dataFormats: ['application/json', 'text/plain'] },
  },
  structure: {
    member : { $role: true },
    thread : {
      $actions : [{ who: 'anyone', can: ['create'] }, { role: 'member', can: ['read', 'query', 'subscribe'] }],
      reply    : { $actions: [{ who: 'anyone', can: ['create'] }] },
    },
  },
});

// dataset writes a mixed set of flat and protocol records into alice's DWN
// (every message is a compared setup step) and returns them by name.
export async function dataset(t) {
  const r = {};
  await t.send(await t.configure(t.alice, qProtocol()), { setup: true, expect: 202 });
  r.a = await t.write(t.alice, { schema: S1, published: true, recipient: t.bob.did, tags: { kind: 'alpha', n: 1, words: ['x', 'y'] }, data: t.json({ a: 1 }) });
  r.b = await t.write(t.alice, { schema: S1, recipient: t.carol.did, tags: { kind: 'beta', n: 5, words: ['y'] }, dataFormat: 'text/plain', data: Buffer.from('bee') });
  r.c = await t.write(t.alice, { schema: S2, published: true, tags: { kind: 'alphabet', n: 10 }, dataFormat: 'application/octet-stream', data: t.bytes(40000) });
  r.d = await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', published: true, tags: { n: 7 } });
  r.e = await t.write(t.alice, { protocol: Q, protocolPath: 'thread/reply', schema: 'https://example.com/reply', parentContextId: r.d.contextId, recipient: t.bob.did, dataFormat: 'text/plain', data: Buffer.from('a reply') });
  r.f = await t.write(t.alice, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread' });
  r.g = await t.write(t.bob, { protocol: Q, protocolPath: 'thread', schema: 'https://example.com/thread', tags: { n: 3 } });
  r.h = await t.write(t.alice, { schema: S2, tags: { kind: 'gamma', n: -2 }, data: t.json({ big: 'x'.repeat(200) }) });
  for (const k of Object.keys(r)) await t.send(r[k], { setup: true, label: `setup ${k}` });
  return r;
}

// member writes a member role record for `who` in alice's DWN.
export async function member(t, who) {
  const m = await t.write(t.alice, { protocol: Q, protocolPath: 'member', schema: 'https://example.com/member', recipient: who.did });
  await t.send(m, { setup: true, expect: 202, label: 'setup member role' });
  return m;
}
