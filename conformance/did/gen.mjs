// gen.mjs writes reference DID resolution results from @web5/dids (the DID
// library of the DWN reference implementation) for Anya's conformance test.
//
//   node gen.mjs <out.json> [N]
//
// It creates N (default 10) DIDs of each kind, resolves each through the
// UniversalResolver the DWN uses (did:key, did:jwk, did:web; no cache), and
// resolves a list of invalid DIDs. Output:
//   {"generator": "@web5/dids <version>",
//    "valid":   [{"kind", "did", "resolution"}],
//    "invalid": [{"did", "resolution"}],
//    "divergent": [{"did", "resolution"}]}
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DidKey, DidJwk, DidWeb, UniversalResolver } from '@web5/dids';

const out = process.argv[2];
const n = Number(process.argv[3] ?? 10);
if (!out || !(n > 0)) {
  console.error('usage: node gen.mjs <out.json> [N]');
  process.exit(2);
}

const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('node_modules/@web5/dids/package.json', import.meta.url)), 'utf8'));

const resolver = new UniversalResolver({ didResolvers: [DidKey, DidJwk, DidWeb] });

const kinds = [
  ['key-Ed25519', () => DidKey.create({ options: { algorithm: 'Ed25519' } })],
  ['key-secp256k1', () => DidKey.create({ options: { algorithm: 'secp256k1' } })],
  ['jwk-Ed25519', () => DidJwk.create({ options: { algorithm: 'Ed25519' } })],
  ['jwk-secp256k1', () => DidJwk.create({ options: { algorithm: 'secp256k1' } })],
  ['jwk-P-256', () => DidJwk.create({ options: { algorithm: 'secp256r1' } })],
];

const valid = [];
for (const [kind, create] of kinds) {
  for (let i = 0; i < n; i++) {
    const { uri } = await create();
    valid.push({ kind, did: uri, resolution: await resolver.resolve(uri) });
  }
}

const b64 = (s) => Buffer.from(s).toString('base64url');
const b58 = (bytes) => {
  const A = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let x = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let s = '';
  while (x > 0n) { s = A[Number(x % 58n)] + s; x /= 58n; }
  for (const b of bytes) { if (b !== 0) break; s = '1' + s; }
  return s;
};
const key = (...bytes) => 'did:key:z' + b58(bytes);

const invalid = [
  '',
  'not a did',
  'did:',
  'did:key',
  'did:KEY:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp',
  'did:key:',
  'did:key:abc',
  'did:key:z',
  'did:key:z6Mk',
  'did:key:z0OIl',
  'did:key:a b',
  'did:foo:bar',
  'did:dht:abc',
  'did:ion:abc',
  key(0xed, 0x01, 0x00),                                      // short Ed25519 key
  key(0xed, 0x01, 0x02, ...new Array(31).fill(0)),            // Ed25519 y off the curve
  key(0xe7, 0x01, 0x02, ...new Array(32).fill(0xff)),         // secp256k1 x off the curve
  key(0xe7, 0x01, 0x04, ...new Array(64).fill(1)),            // uncompressed secp256k1
  key(0x12, 0x34),                                            // unknown multicodec
  'did:jwk:',
  'did:jwk:eyJ',
  'did:jwk:' + b64('null'),
  'did:jwk:' + b64('{"kty":'),
  'did:web:',
];

// DIDs on which Anya deliberately differs (see the did package doc); the Go
// test checks that @web5/dids still behaves as documented there.
const divergent = [
  'did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv',   // P-256
  'did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW',    // X25519
  'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp', // DID URL
  'did:jwk:' + b64('1'),                                        // not an object
];
const divergentResults = [];
for (const did of divergent) {
  divergentResults.push({ did, resolution: await resolver.resolve(did) });
}

const invalidResults = [];
for (const did of invalid) {
  invalidResults.push({ did, resolution: await resolver.resolve(did) });
}

writeFileSync(out, JSON.stringify({
  generator: `${pkg.name} ${pkg.version}`,
  valid,
  invalid: invalidResults,
  divergent: divergentResults,
}, null, 1));
console.error(`gen.mjs: wrote ${valid.length} valid and ${invalidResults.length} invalid DIDs to ${out}`);
