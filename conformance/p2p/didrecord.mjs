// A JavaScript port of Anya's /did/ DHT record validator and selector
// (p2p/didrecord.go, p2p/validator.go), for did:key Ed25519 records.
//
// Value: {"payload":"<base64url>","sig":"<base64url>"}, at most 8 KiB.
// Signature: Ed25519 over "anya-didrec-v1\0" ‖ key ‖ "\0" ‖ payload bytes.
// Select: highest seq, then later exp, then the bytewise larger value.
import crypto from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'

export const MAX_RECORD_SIZE = 8 << 10
const DOMAIN = 'anya-didrec-v1\0'
const ED25519_MULTICODEC = [0xed, 0x01]
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

export function base58btcDecode (s) {
  let n = 0n
  for (const c of s) {
    const d = B58.indexOf(c)
    if (d < 0) throw new Error(`not base58btc: ${JSON.stringify(c)}`)
    n = n * 58n + BigInt(d)
  }
  const bytes = []
  while (n > 0n) { bytes.unshift(Number(n & 0xffn)); n >>= 8n }
  for (const c of s) { if (c !== '1') break; bytes.unshift(0) }
  return Uint8Array.from(bytes)
}

export function base58btcEncode (bytes) {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  let out = ''
  while (n > 0n) { out = B58[Number(n % 58n)] + out; n /= 58n }
  for (const b of bytes) { if (b !== 0) break; out = '1' + out }
  return out
}

/** did:key of a raw 32-byte Ed25519 public key. */
export function didKeyFromEd25519 (raw) {
  return 'did:key:z' + base58btcEncode(Uint8Array.from([...ED25519_MULTICODEC, ...raw]))
}

/** The DHT key of a did:key: "/did/<method-specific id>". */
export function recordKey (did) {
  if (!did.startsWith('did:key:')) throw new Error(`only did:key is supported here: ${did}`)
  return '/did/' + did.slice('did:key:'.length)
}

export function signingInput (key, payload) {
  return Buffer.concat([Buffer.from(DOMAIN + key + '\0', 'utf8'), Buffer.from(payload)])
}

function b64urlStrict (s, what) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) {
    throw new Error(`${what} is not unpadded base64url`)
  }
  return Buffer.from(s, 'base64url')
}

/** Ed25519 public key bound to a did:key DHT key ("/did/z6Mk…"). */
function keyFromRecordKey (key) {
  if (!key.startsWith('/did/')) throw new Error(`key ${key} is not in the /did/ namespace`)
  const msid = key.slice(5)
  if (msid.includes(':')) throw new Error(`key ${key}: only did:key records are verified by this port`)
  if (!msid.startsWith('z')) throw new Error(`key ${key}: not multibase base58btc`)
  const mc = base58btcDecode(msid.slice(1))
  if (mc.length !== 34 || mc[0] !== 0xed || mc[1] !== 0x01) throw new Error(`key ${key}: not an Ed25519 did:key`)
  return { did: 'did:key:' + msid, msid, pub: mc.slice(2) }
}

/**
 * Verifies value, the record stored under key, at time nowMs; returns the
 * decoded record or throws. Mirrors VerifyRecordAt for did:key Ed25519.
 */
export function verifyRecord (key, value, nowMs = Date.now()) {
  if (typeof key !== 'string') key = new TextDecoder().decode(key)
  if (value.length > MAX_RECORD_SIZE) throw new Error(`record too large: ${value.length} bytes`)
  const { did, msid, pub } = keyFromRecordKey(key)
  const env = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value))
  if (env === null || typeof env !== 'object' || Array.isArray(env)) throw new Error('envelope is not an object')
  for (const k of Object.keys(env)) if (k !== 'payload' && k !== 'sig') throw new Error(`envelope: unknown field ${k}`)
  const payload = b64urlStrict(env.payload, 'payload')
  const sig = b64urlStrict(env.sig, 'sig')
  const pl = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload))
  if (pl === null || typeof pl !== 'object') throw new Error('payload is not an object')
  if (pl.v !== 1) throw new Error(`version ${pl.v}, want 1`)
  if (pl.did !== did) throw new Error(`key ${key} names ${did}, the record is about ${pl.did}`)
  if (typeof pl.kid !== 'string' || !pl.kid.startsWith(did + '#')) throw new Error(`kid ${pl.kid} is not a verification method of ${did}`)
  // A did:key document has exactly one verification method: did#msid.
  if (pl.kid !== did + '#' + msid) throw new Error(`kid ${pl.kid} is not the verification method of ${did}`)
  if (!Number.isSafeInteger(pl.seq) || pl.seq < 0) throw new Error(`seq ${pl.seq} is out of range`)
  if (!Number.isSafeInteger(pl.exp) || pl.exp <= 0) throw new Error(`exp ${pl.exp} is out of range`)
  if (typeof pl.peer !== 'string') throw new Error('no peer')
  peerIdFromString(pl.peer) // throws on an invalid peer ID
  const addrs = pl.addrs ?? []
  if (!Array.isArray(addrs) || addrs.some(a => typeof a !== 'string')) throw new Error('addrs is not a list of strings')
  if (!(nowMs < pl.exp)) throw new Error(`expired: seq ${pl.seq} expired at ${new Date(pl.exp).toISOString()}`)
  const pk = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, pub]), format: 'der', type: 'spki' })
  if (sig.length !== 64 || !crypto.verify(null, signingInput(key, payload), pk, sig)) {
    throw new Error(`bad signature by ${pl.kid}`)
  }
  return { did, kid: pl.kid, peer: pl.peer, addrs, services: pl.services ?? [], seq: pl.seq, exp: pl.exp, payload, value: Buffer.from(value) }
}

function better (a, b) {
  if (a.seq !== b.seq) return a.seq > b.seq
  if (a.exp !== b.exp) return a.exp > b.exp
  return Buffer.compare(a.value, b.value) > 0
}

/** Index of the best valid record; throws when none is valid. */
export function selectRecord (key, values, nowMs = Date.now()) {
  let best = -1
  let bestRec = null
  values.forEach((v, i) => {
    let rec
    try { rec = verifyRecord(key, v, nowMs) } catch { return }
    if (bestRec === null || better(rec, bestRec)) { best = i; bestRec = rec }
  })
  if (best < 0) throw new Error('no valid DID record to select from')
  return best
}

/** kad-dht validator: throws unless value is a valid record for key. */
export async function didValidator (key, value) {
  verifyRecord(key, value)
}

/** kad-dht selector. */
export function didSelector (key, values) {
  return selectRecord(key, values)
}

/**
 * A record about the same DID as genuine (same payload, seq raised) but
 * signed by a freshly generated key: the wire format is valid, only the
 * signature is not the DID's.
 */
export function forgeRecord (key, genuine, seq) {
  const pl = JSON.parse(Buffer.from(genuine.payload).toString('utf8'))
  pl.seq = seq
  const payload = Buffer.from(JSON.stringify(pl), 'utf8')
  const { privateKey } = crypto.generateKeyPairSync('ed25519')
  const sig = crypto.sign(null, signingInput(key, payload), privateKey)
  return Buffer.from(JSON.stringify({ payload: payload.toString('base64url'), sig: sig.toString('base64url') }), 'utf8')
}
