// personas.mjs derives DWN personas (DID, key id, private JWK, SDK signer)
// deterministically from a seed string, so the tenant list is stable across
// runs. Three kinds: did:key Ed25519 (EdDSA), did:jwk secp256k1 (ES256K) and
// did:jwk P-256 (ES256).
import { createECDH, createHash, createPrivateKey } from 'node:crypto';
import { PrivateKeySigner } from '@tbd54566975/dwn-sdk-js';

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

// base58btc encodes bytes in the Bitcoin alphabet.
export function base58btc(bytes) {
  let x = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let s = '';
  while (x > 0n) { s = B58[Number(x % 58n)] + s; x /= 58n; }
  for (const b of bytes) { if (b !== 0) break; s = '1' + s; }
  return s;
}

const b64u = (buf) => Buffer.from(buf).toString('base64url');

// seedBytes hashes a label into a 32-byte seed.
export function seedBytes(label) {
  return createHash('sha256').update(label).digest();
}

// ed25519FromSeed returns the public and private JWK of an Ed25519 seed.
function ed25519FromSeed(seed) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const jwk = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
  return { publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, privateJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d } };
}

// ecFromSeed returns the public and private JWK of an EC seed on the curve.
function ecFromSeed(seed, curve, crv) {
  const ecdh = createECDH(curve);
  ecdh.setPrivateKey(seed);
  const pub = ecdh.getPublicKey(); // 04 || x || y
  const x = b64u(pub.subarray(1, 33));
  const y = b64u(pub.subarray(33, 65));
  return { publicJwk: { kty: 'EC', crv, x, y }, privateJwk: { kty: 'EC', crv, x, y, d: b64u(seed) } };
}

// makePersona derives a persona of the given kind from a label.
// kind is 'Ed25519' (did:key), 'secp256k1' or 'P-256' (did:jwk).
export function makePersona(label, kind = 'Ed25519') {
  const seed = seedBytes(`${label}/${kind}`);
  let did; let keyId; let algorithm; let keys;
  if (kind === 'Ed25519') {
    keys = ed25519FromSeed(seed);
    const mb = 'z' + base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(keys.publicJwk.x, 'base64url')]));
    did = `did:key:${mb}`;
    keyId = `${did}#${mb}`;
    algorithm = 'EdDSA';
  } else if (kind === 'secp256k1' || kind === 'P-256') {
    keys = ecFromSeed(seed, kind === 'secp256k1' ? 'secp256k1' : 'prime256v1', kind);
    did = `did:jwk:${b64u(JSON.stringify(keys.publicJwk))}`;
    keyId = `${did}#0`;
    algorithm = kind === 'secp256k1' ? 'ES256K' : 'ES256';
  } else {
    throw new Error(`unknown persona kind ${kind}`);
  }
  const signer = new PrivateKeySigner({ privateJwk: keys.privateJwk, keyId, algorithm });
  return { label, kind, did, keyId, keyPair: keys, signer };
}
