// records-write.mjs: RecordsWrite scenarios (dwn.md §4.1).
import { Cid, Encoder } from '@tbd54566975/dwn-sdk-js';

const w = (name, fn, opts) => [`RecordsWrite/${name}`, fn, opts];

export default [
  w('initial-with-data', async (t) => {
    const r = await t.write(t.alice, { schema: 'https://example.com/note' });
    await t.send(r, { expect: 202 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('initial-without-data', async (t) => {
    const r = await t.write(t.alice, { schema: 'https://example.com/note' });
    await t.send(r, { data: null, expect: 204 });
    await t.send(await t.query(t.alice, { schema: 'https://example.com/note' }), { expect: 200, label: 'not queryable' });
  }),
  w('initial-without-data-resend-with-data', async (t) => {
    const r = await t.write(t.alice, { schema: 'https://example.com/note' });
    await t.send(r, { data: null, expect: 204 });
    await t.send(r, { expect: 409 });
  }),
  w('initial-without-data-then-newer-with-data', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { data: null, expect: 204 });
    const u = await t.update(t.alice, r, { data: t.json() });
    await t.send(u, { expect: 202 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('update-newer', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true, expect: 202 });
    const u = await t.update(t.alice, r, { data: t.json() });
    await t.send(u, { expect: 202 });
    await t.send(await t.query(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('update-older-409', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    const u1 = await t.update(t.alice, r, { data: t.json() });
    const u2 = await t.update(t.alice, r, { data: t.json() });
    await t.send(u2, { expect: 202 });
    await t.send(u1, { expect: 409 });
  }),
  w('update-same-resend-409', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { expect: 202 });
    await t.send(r, { expect: 409 });
  }),
  w('update-same-timestamp-tiebreak', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    const stamp = t.now();
    const u1 = await t.update(t.alice, r, { data: t.json(), messageTimestamp: stamp });
    const u2 = await t.update(t.alice, r, { data: t.json(), messageTimestamp: stamp });
    await t.send(u1);
    await t.send(u2);
    await t.send(await t.read(t.alice, { recordId: r.recordId }));
  }),
  w('update-without-data-same-cid', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    const u = await t.update(t.alice, r, { tags: { a: 'b' } });
    await t.send(u, { data: null, expect: 202 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('update-without-data-different-cid', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    const data = t.json();
    const u = await t.update(t.alice, r, { data });
    await t.send(u, { data: null });
  }),
  w('immutable-schema-change-400', async (t) => {
    const r = await t.write(t.alice, { schema: 'https://example.com/a' });
    await t.send(r, { setup: true });
    const u = await t.write(t.alice, { schema: 'https://example.com/b', recordId: r.recordId, dateCreated: r.message.descriptor.dateCreated });
    await t.send(u, { expect: 400 });
  }),
  w('immutable-recipient-change-400', async (t) => {
    const r = await t.write(t.alice, { recipient: t.bob.did });
    await t.send(r, { setup: true });
    const u = await t.write(t.alice, { recipient: t.carol.did, recordId: r.recordId, dateCreated: r.message.descriptor.dateCreated });
    await t.send(u, { expect: 400 });
  }),
  w('immutable-dateCreated-change-400', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    const u = await t.write(t.alice, { recordId: r.recordId, dateCreated: t.at(0) });
    await t.send(u, { expect: 400 });
  }),
  w('write-after-delete-400', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.del(t.alice, r.recordId), { setup: true, expect: 202 });
    await t.send(await t.update(t.alice, r, { data: t.json() }), { expect: 400 });
  }),
  w('datacid-mismatch-400', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { data: t.json({ other: true }), expect: 400 });
  }),
  w('datasize-mismatch-400', async (t) => {
    const data = t.json();
    const r = await t.write(t.alice, { dataCid: await Cid.computeDagPbCidFromBytes(data), dataSize: data.length + 1 });
    await t.send(r, { data, expect: 400 });
  }),
  w('data-30000-inline', async (t) => {
    const r = await t.write(t.alice, { data: t.bytes(30000), dataFormat: 'application/octet-stream' });
    await t.send(r, { expect: 202 });
    await t.send(await t.query(t.alice, { recordId: r.recordId }), { expect: 200 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('data-30001-datastore', async (t) => {
    const r = await t.write(t.alice, { data: t.bytes(30001), dataFormat: 'application/octet-stream' });
    await t.send(r, { expect: 202 });
    await t.send(await t.query(t.alice, { recordId: r.recordId }), { expect: 200 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('data-300k-dagpb', async (t) => {
    const r = await t.write(t.alice, { data: t.bytes(300000, 3), dataFormat: 'application/octet-stream' });
    await t.send(r, { expect: 202 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('data-empty', async (t) => {
    const r = await t.write(t.alice, { data: Buffer.alloc(0), dataFormat: 'text/plain' });
    await t.send(r);
    await t.send(await t.query(t.alice, { recordId: r.recordId }));
  }),
  w('large-data-update-without-data', async (t) => {
    const r = await t.write(t.alice, { data: t.bytes(40000), dataFormat: 'application/octet-stream' });
    await t.send(r, { setup: true, expect: 202 });
    const u = await t.update(t.alice, r, { tags: { v: 2 } });
    await t.send(u, { data: null, expect: 202 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('tags-string', async (t) => {
    const r = await t.write(t.alice, { tags: { s: 'hello' } });
    await t.send(r, { expect: 202 });
    await t.send(await t.query(t.alice, { tags: { s: 'hello' } }), { expect: 200 });
  }),
  w('tags-number', async (t) => {
    const r = await t.write(t.alice, { tags: { n: 3, score: 1.5, neg: -7 } });
    await t.send(r, { expect: 202 });
    await t.send(await t.query(t.alice, { tags: { score: 1.5 } }), { expect: 200 });
  }),
  w('tags-boolean', async (t) => {
    await t.send(await t.write(t.alice, { tags: { flag: true } }), { expect: 202 });
    await t.send(await t.write(t.alice, { tags: { flag: false } }), { expect: 202 });
    await t.send(await t.query(t.alice, { tags: { flag: true } }), { expect: 200 });
  }),
  w('tags-string-array', async (t) => {
    await t.send(await t.write(t.alice, { tags: { words: ['a', 'b'] } }), { expect: 202 });
    await t.send(await t.query(t.alice, { tags: { words: 'b' } }), { expect: 200 });
  }),
  w('tags-number-array', async (t) => {
    await t.send(await t.write(t.alice, { tags: { list: [1, 2, 3] } }), { expect: 202 });
    await t.send(await t.query(t.alice, { tags: { list: 2 } }), { expect: 200 });
  }),
  w('tags-too-many-400', async (t) => {
    const tags = {};
    for (let i = 0; i < 11; i++) tags[`t${i}`] = i;
    await t.send(await t.write(t.alice, { tags }), { expect: 400 });
  }),
  w('tags-empty-array-400', async (t) => {
    await t.send(await t.write(t.alice, { tags: { list: [] } }), { expect: 400 });
  }),
  w('tags-mixed-array-400', async (t) => {
    await t.send(await t.write(t.alice, { tags: { list: ['a', 1] } }), { expect: 400 });
  }),
  w('tags-object-value-400', async (t) => {
    await t.send(await t.write(t.alice, { tags: { obj: { a: 1 } } }), { expect: 400 });
  }),
  w('published-with-datePublished', async (t) => {
    await t.send(await t.write(t.alice, { published: true }), { expect: 202 });
  }),
  w('published-without-datePublished-400', async (t) => {
    const r = await t.write(t.alice, {});
    r.message.descriptor.published = true;
    await t.resign(r.message, t.alice.signer, { recordId: r.recordId });
    await t.send(r, { expect: 400 });
  }),
  w('datePublished-without-published-400', async (t) => {
    const r = await t.write(t.alice, { datePublished: t.at(1) });
    await t.send(r, { expect: 400 });
  }),
  w('published-false-with-datePublished-400', async (t) => {
    const r = await t.write(t.alice, { published: false, datePublished: t.at(1) });
    await t.send(r, { expect: 400 });
  }),
  w('unpublish-update', async (t) => {
    const r = await t.write(t.alice, { published: true });
    await t.send(r, { setup: true });
    const u = await t.update(t.alice, r, { published: false });
    await t.send(u, { data: null, expect: 202 });
    await t.send(await t.read(undefined, { recordId: r.recordId }), { expect: 401 });
  }),
  w('schema-not-normalized-400', async (t) => {
    const r = await t.write(t.alice, { schema: 'https://example.com/s' });
    r.message.descriptor.schema = 'https://example.com/s/';
    await t.resign(r.message, t.alice.signer, { recordId: r.recordId });
    await t.send(r, { expect: 400 });
  }),
  w('schema-normalized-by-sdk', async (t) => {
    const r = await t.write(t.alice, { schema: 'example.com/s?x=1#frag' });
    await t.send(r, { expect: 202 });
    await t.send(await t.query(t.alice, { schema: 'http://example.com/s' }), { expect: 200 });
  }),
  w('protocol-not-normalized-400', async (t) => {
    const r = await t.write(t.alice, {});
    r.message.descriptor.protocol = 'example.com/proto';
    r.message.descriptor.protocolPath = 'x';
    await t.resign(r.message, t.alice.signer, { recordId: r.recordId, contextId: r.recordId });
    await t.send(r, { expect: 400 });
  }),
  w('protocol-not-installed-400', async (t) => {
    const r = await t.write(t.alice, { protocol: 'https://example.com/missing', protocolPath: 'x' });
    await t.send(r);
  }),
  w('recordId-mismatch-400', async (t) => {
    const r = await t.write(t.alice, {});
    r.message.recordId = 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24';
    await t.send(r, { expect: 400 });
  }),
  w('initial-dateCreated-ne-timestamp-400', async (t) => {
    const r = await t.write(t.alice, { dateCreated: t.at(0) });
    await t.send(r, { expect: 400 });
  }),
  w('attestation', async (t) => {
    const r = await t.write(t.alice, { attestationSigners: [t.alice.signer] });
    await t.send(r, { expect: 202 });
    await t.send(await t.query(t.alice, { attester: t.alice.did }), { expect: 200 });
  }),
  w('attestation-by-other', async (t) => {
    const r = await t.write(t.alice, { attestationSigners: [t.bob.signer] });
    await t.send(r, { expect: 202 });
    await t.send(await t.query(t.alice, { attester: t.bob.did }), { expect: 200 });
  }),
  w('attestation-two-signers-400', async (t) => {
    const r = await t.write(t.alice, { attestationSigners: [t.alice.signer, t.bob.signer] });
    await t.send(r, { expect: 400 });
  }),
  w('attestation-cid-mismatch-400', async (t) => {
    const r = await t.write(t.alice, { attestationSigners: [t.alice.signer] });
    const other = await t.write(t.alice, { attestationSigners: [t.alice.signer] });
    r.message.attestation = other.message.attestation;
    await t.send(r);
  }),
  w('owner-signature-bob-authored', async (t) => {
    // bob authors a record, alice signs as owner: stored in alice's DWN
    const r = await t.write(t.bob, { ownerSigner: t.alice.signer });
    await t.send(r, { expect: 202 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('owner-signature-wrong-owner-401', async (t) => {
    const r = await t.write(t.bob, { ownerSigner: t.carol.signer });
    await t.send(r, { expect: 401 });
  }),
  w('non-owner-flat-write-401', async (t) => {
    await t.send(await t.write(t.bob, {}), { expect: 401 });
  }),
  w('encryption-shape', async (t) => {
    const r = await t.write(t.alice, {
      data            : t.bytes(64, 9),
      dataFormat      : 'application/octet-stream',
      encryptionInput : {
        initializationVector : t.bytes(16, 1),
        key                  : t.bytes(32, 2),
        keyEncryptionInputs  : [{ derivationScheme: 'schemas', publicKeyId: t.k1.keyId, publicKey: t.k1.keyPair.publicJwk }],
      },
      schema: 'https://example.com/enc',
    });
    await t.send(r, { expect: 202 });
    await t.send(await t.query(t.alice, { recordId: r.recordId }), { expect: 200 });
  }),
  w('encryption-cid-mismatch-400', async (t) => {
    const r = await t.write(t.alice, {
      data            : t.bytes(64, 9),
      encryptionInput : {
        initializationVector : t.bytes(16, 1),
        key                  : t.bytes(32, 2),
        keyEncryptionInputs  : [{ derivationScheme: 'schemas', publicKeyId: t.k1.keyId, publicKey: t.k1.keyPair.publicJwk }],
      },
      schema: 'https://example.com/enc',
    });
    r.message.encryption.initializationVector = Encoder.bytesToBase64Url(t.bytes(16, 5));
    await t.send(r, { expect: 400 });
  }),
  w('es256k-tenant-write', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { expect: 202 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }, { tenant: 'secp256k1' }),
  w('es256-tenant-write', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { expect: 202 });
    await t.send(await t.read(t.alice, { recordId: r.recordId }), { expect: 200 });
  }, { tenant: 'P-256' }),
  w('dataFormat-change-update', async (t) => {
    const r = await t.write(t.alice, {});
    await t.send(r, { setup: true });
    await t.send(await t.update(t.alice, r, { data: Buffer.from('text'), dataFormat: 'text/plain' }), { expect: 202 });
    await t.send(await t.query(t.alice, { dataFormat: 'text/plain' }), { expect: 200 });
  }),
];
