// gen-fixtures.mjs makes the cross-implementation General JWS fixtures of
// package dwn with the DWN reference, @tbd54566975/dwn-sdk-js 0.5.2, and the
// @web5/dids 1.2.0 it depends on. It is ours (Anya), kept for the record;
// Go tests never run it. See SOURCE.txt.
//
//   mkdir -p /tmp/dwnsdk && cd /tmp/dwnsdk && npm init -y && npm install @tbd54566975/dwn-sdk-js@0.5.2
//   node dwn/testdata/jws/gen-fixtures.mjs > dwn/testdata/jws/sdk-signed.json
//   go test -run TestAnyaSignedVerifiedBySDK ./dwn/ -args -write-anya-signed
//   node dwn/testdata/jws/gen-fixtures.mjs verify dwn/testdata/jws/anya-signed.json   # adds sdkResult in place
//
// DWN_SDK_NODE_MODULES overrides /tmp/dwnsdk/node_modules.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const nm = process.env.DWN_SDK_NODE_MODULES ?? '/tmp/dwnsdk/node_modules';
const load = (p) => import(pathToFileURL(join(nm, p)).href);

const sdkPkg = JSON.parse(readFileSync(join(nm, '@tbd54566975/dwn-sdk-js/package.json'), 'utf8'));
const didsPkg = JSON.parse(readFileSync(join(nm, '@web5/dids/package.json'), 'utf8'));
const sdk = await load('@tbd54566975/dwn-sdk-js/dist/esm/src/index.js');
const { GeneralJwsBuilder } = await load('@tbd54566975/dwn-sdk-js/dist/esm/src/jose/jws/general/builder.js');
const { GeneralJwsVerifier } = await load('@tbd54566975/dwn-sdk-js/dist/esm/src/jose/jws/general/verifier.js');
const { DidKey, DidJwk, UniversalResolver } = await load('@web5/dids/dist/esm/index.js');
const { p256 } = await load('@noble/curves/esm/p256.js');
const { secp256k1 } = await load('@noble/curves/esm/secp256k1.js');

const { Encoder, PrivateKeySigner } = sdk;
const resolver = new UniversalResolver({ didResolvers: [DidKey, DidJwk] });

// sdkVerify runs the reference's verifier and returns {signers} or {error}
// with the DwnErrorCode (or the message of a non-DWN error).
async function sdkVerify(jws) {
  try {
    const { signers } = await GeneralJwsVerifier.verifySignatures(jws, resolver);
    return { signers };
  } catch (e) {
    return { error: e.code ?? `non-DwnError: ${e.message}` };
  }
}

if (process.argv[2] === 'verify') {
  // Verify JWSs that Anya signed with the reference verifier.
  const path = process.argv[3];
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  for (const c of doc.cases) {
    c.sdkResult = await sdkVerify(c.jws);
  }
  doc.verifiedBy = `@tbd54566975/dwn-sdk-js@${sdkPkg.version} GeneralJwsVerifier, @web5/dids@${didsPkg.version} UniversalResolver(DidKey, DidJwk)`;
  writeFileSync(path, JSON.stringify(doc, null, 2) + '\n');
  for (const c of doc.cases) console.error(c.name, JSON.stringify(c.sdkResult));
  process.exit(0);
}

async function persona(name, method, algorithm) {
  const d = method === 'key' ? await DidKey.create({ options: { algorithm } }) : await DidJwk.create({ options: { algorithm } });
  const vm = await (method === 'key' ? DidKey : DidJwk).getSigningMethod({ didDocument: d.document });
  const portable = await d.export();
  const privateJwk = portable.privateKeys[0];
  const alg = { Ed25519: 'EdDSA', secp256k1: 'ES256K', 'P-256': 'ES256' }[privateJwk.crv];
  return {
    name,
    did: d.uri,
    kid: vm.id,
    publicJwk: vm.publicKeyJwk,
    privateJwk,
    signer: new PrivateKeySigner({ privateJwk, keyId: vm.id, algorithm: alg }),
  };
}

const personas = [
  await persona('did:key Ed25519', 'key', 'Ed25519'),
  await persona('did:jwk secp256k1', 'jwk', 'secp256k1'),
  await persona('did:jwk P-256', 'jwk', 'secp256r1'),
  await persona('did:key secp256k1', 'key', 'secp256k1'),
];

const payloads = [
  { descriptorCid: 'bafyreibcoh4wq6y7m5cmvw6jeuiy6efra4ohpcppdquc46wxfjoq7tqrru' },
  {
    recordId    : 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24',
    descriptorCid : 'bafyreibcoh4wq6y7m5cmvw6jeuiy6efra4ohpcppdquc46wxfjoq7tqrru',
    contextId   : 'bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24',
    protocolRole: 'friend/best',
  },
];

const cases = [];
const rejects = [];

for (const p of personas) {
  for (const [i, payload] of payloads.entries()) {
    const builder = await GeneralJwsBuilder.create(Encoder.stringToBytes(JSON.stringify(payload)), [p.signer]);
    const jws = builder.getJws();
    const res = await sdkVerify(jws);
    if (!res.signers) throw new Error(`SDK rejected its own JWS: ${JSON.stringify(res)}`);
    cases.push({ name: `${p.name} payload ${i}`, did: p.did, kid: p.kid, publicJwk: p.publicJwk, jws, sdkResult: res });
  }
}

const sigBytes = (jws) => Encoder.base64UrlToBytes(jws.signatures[0].signature);
const withSig = (jws, bytes) => ({ payload: jws.payload, signatures: [{ protected: jws.signatures[0].protected, signature: Encoder.bytesToBase64Url(bytes) }] });
const hex = (b) => Buffer.from(b).toString('hex');
const be32 = (n) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));

// ES256K with s flipped to n - s (high S): the SDK verifies with lowS:false.
{
  const base = cases.find((c) => c.name === 'did:jwk secp256k1 payload 0');
  const sig = sigBytes(base.jws);
  const r = BigInt('0x' + hex(sig.slice(0, 32)));
  const s = BigInt('0x' + hex(sig.slice(32)));
  const highS = secp256k1.CURVE.n - s;
  const jws = withSig(base.jws, new Uint8Array([...be32(r), ...be32(highS)]));
  const res = await sdkVerify(jws);
  if (!res.signers) throw new Error(`SDK rejected high-S: ${JSON.stringify(res)}`);
  cases.push({ name: 'did:jwk secp256k1 high-S (n - s)', did: base.did, kid: base.kid, publicJwk: base.publicJwk, jws, sdkResult: res, highS: true });
}

// ES256 signature re-encoded as ASN.1 DER: the SDK accepts compact or DER.
{
  const base = cases.find((c) => c.name === 'did:jwk P-256 payload 0');
  const der = p256.Signature.fromCompact(sigBytes(base.jws)).toDERRawBytes();
  const jws = withSig(base.jws, der);
  const res = await sdkVerify(jws);
  if (!res.signers) throw new Error(`SDK rejected DER: ${JSON.stringify(res)}`);
  cases.push({ name: 'did:jwk P-256 DER signature', did: base.did, kid: base.kid, publicJwk: base.publicJwk, jws, sdkResult: res, der: true });
}

// Rejections, each with the DwnErrorCode the SDK's verifier gives.
async function reject(name, jws) {
  const res = await sdkVerify(jws);
  if (res.signers) throw new Error(`SDK accepted ${name}`);
  rejects.push({ name, jws, sdkResult: res });
}
const ed = cases.find((c) => c.name === 'did:key Ed25519 payload 0');
const k1 = cases.find((c) => c.name === 'did:jwk secp256k1 payload 0');
const r1 = cases.find((c) => c.name === 'did:jwk P-256 payload 0');
const hdr = (kid, alg) => Encoder.stringToBase64Url(JSON.stringify({ kid, alg }));
const flip = (b) => { const c = Uint8Array.from(b); c[5] ^= 1; return c; };
const otherPayload = Encoder.stringToBase64Url(JSON.stringify({ descriptorCid: 'bafyreibnhdv7cgzwgpod43sqsfl3ndmwbfg7npju3p5huayroqsehftyry' }));

for (const c of [ed, k1, r1]) {
  const e = c.jws.signatures[0];
  await reject(`${c.name}: tampered payload`, { payload: otherPayload, signatures: [e] });
  await reject(`${c.name}: tampered signature`, withSig(c.jws, flip(sigBytes(c.jws))));
  await reject(`${c.name}: kid fragment not in document`, { payload: c.jws.payload, signatures: [{ protected: hdr(c.did + '#nope', 'EdDSA'), signature: e.signature }] });
}
await reject('Ed25519 signature under the secp256k1 persona kid', { payload: ed.jws.payload, signatures: [{ protected: hdr(k1.kid, 'EdDSA'), signature: ed.jws.signatures[0].signature }] });
await reject('kid with unsupported DID method did:example', { payload: ed.jws.payload, signatures: [{ protected: hdr('did:example:123#key-1', 'EdDSA'), signature: ed.jws.signatures[0].signature }] });
await reject('kid with malformed did:key', { payload: ed.jws.payload, signatures: [{ protected: hdr('did:key:z6MkNOTBASE58l0O#z6MkNOTBASE58l0O', 'EdDSA'), signature: ed.jws.signatures[0].signature }] });
// The header's alg is informational: a header claiming ES256K over an
// Ed25519 key verifies, because the key's crv picks the algorithm.
{
  const p = personas[0];
  const signer = new PrivateKeySigner({ privateJwk: p.privateJwk, keyId: p.kid, algorithm: 'ES256K' });
  const jws = (await GeneralJwsBuilder.create(Encoder.stringToBytes(JSON.stringify(payloads[0])), [signer])).getJws();
  const res = await sdkVerify(jws);
  if (!res.signers) throw new Error(`SDK rejected alg mismatch: ${JSON.stringify(res)}`);
  cases.push({ name: 'did:key Ed25519 with alg ES256K in the header', did: p.did, kid: p.kid, publicJwk: p.publicJwk, jws, sdkResult: res });
}

const out = {
  generator: 'dwn/testdata/jws/gen-fixtures.mjs',
  sdk: `@tbd54566975/dwn-sdk-js@${sdkPkg.version}`,
  dids: `@web5/dids@${didsPkg.version}`,
  node: process.version,
  cases,
  rejects,
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
