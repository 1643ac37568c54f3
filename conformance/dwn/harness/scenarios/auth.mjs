// auth.mjs: authentication and signature handling (dwn.md §3.5): forged
// and mismatched signatures, unknown DID methods, algorithm details, and
// the target's tenant gate (target-only).
const a = (name, fn, opts) => [`Auth/${name}`, fn, opts];

const N_K1 = BigInt('0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141');

// wrap returns a signer with another kid/alg and/or transformed signature.
const wrap = (base, { keyId, algorithm, transform } = {}) => ({
  keyId     : keyId ?? base.keyId,
  algorithm : algorithm ?? base.algorithm,
  sign      : async (c) => { const s = await base.sign(c); return transform ? transform(s) : s; },
});

const highS = (sig) => {
  const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'));
  const hs = (N_K1 - s).toString(16).padStart(64, '0');
  return Buffer.concat([Buffer.from(sig.subarray(0, 32)), Buffer.from(hs, 'hex')]);
};

const derInt = (b) => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  let v = Buffer.from(b.subarray(i));
  if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return Buffer.concat([Buffer.from([0x02, v.length]), v]);
};
const toDer = (sig) => {
  const body = Buffer.concat([derInt(sig.subarray(0, 32)), derInt(sig.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
};

const flip = (sig) => { const b = Buffer.from(sig); b[5] ^= 0x01; return b; };

export default [
  a('forged-signature-401', async (t) => {
    await t.send(await t.write(t.alice, { signer: wrap(t.alice.signer, { transform: flip }) }), { expect: 401 });
  }),
  a('forged-signature-query-401', async (t) => {
    await t.send(await t.query(t.alice, { schema: 'https://example.com/x' }).then(async (q) => {
      q.message.authorization.signature.signatures[0].signature = Buffer.from(flip(Buffer.from(q.message.authorization.signature.signatures[0].signature, 'base64url'))).toString('base64url');
      return q;
    }), { expect: 401 });
  }),
  a('signed-by-other-key-401', async (t) => {
    await t.send(await t.write(t.alice, { signer: wrap(t.bob.signer, { keyId: t.alice.keyId }) }), { expect: 401 });
  }),
  a('tampered-descriptor', async (t) => {
    const r = await t.write(t.alice, {});
    r.message.descriptor.dataFormat = 'text/plain';
    await t.send(r);
  }),
  a('tampered-query-descriptor', async (t) => {
    const q = await t.query(t.alice, { schema: 'https://example.com/x' });
    q.message.descriptor.filter.schema = 'https://example.com/y';
    await t.send(q);
  }),
  a('payload-descriptorCid-mismatch', async (t) => {
    const q = await t.query(t.alice, { schema: 'https://example.com/x' });
    const other = await t.query(t.alice, { schema: 'https://example.com/y' });
    q.message.authorization = other.message.authorization;
    await t.send(q);
  }),
  a('unknown-did-method-401', async (t) => {
    const signer = wrap(t.bob.signer, { keyId: 'did:example:z6MkUnknownMethod#key1' });
    await t.send(await t.query(undefined, { schema: 'https://example.com/x' }).then((q) => t.resign(q.message, signer)), { expect: 401 });
  }),
  a('unknown-did-method-write-401', async (t) => {
    await t.send(await t.write(t.alice, { signer: wrap(t.bob.signer, { keyId: 'did:foo:bar#key1' }) }), { expect: 401 });
  }),
  a('malformed-did-key-401', async (t) => {
    await t.send(await t.write(t.alice, { signer: wrap(t.bob.signer, { keyId: 'did:key:zNotAKey#zNotAKey' }) }), { expect: 401 });
  }),
  a('kid-fragment-not-found-401', async (t) => {
    await t.send(await t.write(t.alice, { signer: wrap(t.alice.signer, { keyId: `${t.alice.did}#nope` }) }), { expect: 401 });
  }),
  a('alg-header-ignored', async (t) => {
    await t.send(await t.write(t.alice, { signer: wrap(t.alice.signer, { algorithm: 'ES256K' }) }), { expect: 202 });
  }),
  a('es256k-author-write', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { expect: 202 });
  }, { tenant: 'secp256k1' }),
  a('es256k-high-s-accepted', async (t) => {
    await t.send(await t.write(t.alice, { signer: wrap(t.alice.signer, { transform: highS }) }), { expect: 202 });
  }, { tenant: 'secp256k1' }),
  a('es256-der-signature', async (t) => {
    await t.send(await t.write(t.alice, { signer: wrap(t.alice.signer, { transform: toDer }) }));
  }, { tenant: 'P-256' }),
  a('es256-forged-401', async (t) => {
    await t.send(await t.write(t.alice, { signer: wrap(t.alice.signer, { transform: flip }) }), { expect: 401 });
  }, { tenant: 'P-256' }),
  a('es256k-forged-401', async (t) => {
    await t.send(await t.write(t.alice, { signer: wrap(t.alice.signer, { transform: flip }) }), { expect: 401 });
  }, { tenant: 'secp256k1' }),
  a('two-signatures-400', async (t) => {
    const q = await t.query(t.alice, { schema: 'https://example.com/x' });
    const sig = q.message.authorization.signature.signatures[0];
    q.message.authorization.signature.signatures.push({ ...sig });
    await t.send(q, { expect: 400 });
  }),
  a('payload-extra-property-400', async (t) => {
    const q = await t.query(t.alice, { schema: 'https://example.com/x' });
    await t.resign(q.message, t.alice.signer, { extra: 1 });
    await t.send(q, { expect: 400 });
  }),
  a('write-payload-recordId-mismatch-400', async (t) => {
    const r = await t.write(t.alice, {});
    await t.resign(r.message, t.alice.signer, { recordId: 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24' });
    await t.send(r, { expect: 400 });
  }),
  a('anonymous-write-400', async (t) => {
    const r = await t.write(t.alice, {});
    delete r.message.authorization;
    await t.send(r, { expect: 400 });
  }),
  a('anonymous-messages-query-400', async (t) => {
    const m = await t.mquery(t.alice, []);
    delete m.message.authorization;
    await t.send(m, { expect: 400 });
  }),
  a('non-tenant-target-401', async (t) => {
    if (t.tenants === null) { t.skip('target serves any DID (no --tenants-file): no non-tenant to test'); return; }
    const r = await t.write(t.mallory, {});
    await t.targetOnly('RecordsWrite to a non-tenant', t.mallory.did, r.message, r.data,
      (tgt) => ({ ok: tgt.reply?.status?.code === 401, expected: 'DWN 401 from the tenant gate' }));
    const q = await t.query(undefined, { published: true });
    await t.targetOnly('anonymous RecordsQuery to a non-tenant', t.mallory.did, q.message, undefined,
      (tgt) => ({ ok: tgt.reply?.status?.code === 401, expected: 'DWN 401 from the tenant gate' }));
  }),
];
