// compare.mjs normalises a reference reply and a target reply and diffs them.
//
// Normalisation decisions (see README.md):
//   - status.code is always compared.
//   - status.detail: for error codes (>= 400) only the DwnErrorCode prefix
//     ("RecordsWriteDataCidMismatch" of "RecordsWriteDataCidMismatch: ...")
//     is compared, and only when the reference detail has one; success
//     details ("Accepted", "OK", ...) are not compared.
//   - MessagesQuery cursor.value is a ULID watermark that is private to each
//     event log: only its presence and type are compared; cursor.messageCid
//     is compared exactly.
//   - every other reply property (entries, entry, cursor, subscription.id,
//     initialWrite, recordsDelete, ...) is compared deep-equal, order
//     included.
//   - record data is compared by length and sha256.
import { createHash } from 'node:crypto';

const ERR_PREFIX = /^([A-Z][A-Za-z0-9]+): /;

// errorCodeOf extracts the DwnErrorCode prefix of a status detail.
export function errorCodeOf(detail) {
  if (typeof detail !== 'string') return undefined;
  const m = ERR_PREFIX.exec(detail);
  return m ? m[1] : undefined;
}

// describeData summarises reply bytes.
export function describeData(data) {
  if (data === undefined) return undefined;
  return { length: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

// normalise turns a DWN reply (+ data) into the comparable shape. withCode
// says whether to keep the DwnErrorCode of the detail.
export function normalise(message, reply, data, keepErrorCode) {
  if (reply === undefined || reply === null || typeof reply !== 'object') return { invalidReply: reply ?? null };
  const out = structuredClone(reply);
  const code = reply.status?.code;
  out.status = { code };
  if (typeof code === 'number' && code >= 400 && keepErrorCode) {
    out.status.errorCode = errorCodeOf(reply.status?.detail) ?? null;
  }
  // keepErrorCode is decided by the reference: it is true only when the
  // reference detail carries a DwnErrorCode prefix.
  const d = message?.descriptor;
  if (d?.interface === 'Messages' && d?.method === 'Query' && out.cursor !== undefined && out.cursor !== null) {
    out.cursor = { ...out.cursor, value: typeof out.cursor.value === 'string' ? '<watermark>' : out.cursor.value };
  }
  if (out.subscription !== undefined) {
    // the close function is not part of the wire reply
    delete out.subscription.close;
  }
  const dd = describeData(data);
  if (dd !== undefined) out.data = dd;
  return out;
}

// deepDiff lists up to `max` differences between a (reference) and b (target).
export function deepDiff(a, b, path = '', out = [], max = 25) {
  if (out.length >= max) return out;
  if (Object.is(a, b)) return out;
  const ta = Array.isArray(a) ? 'array' : a === null ? 'null' : typeof a;
  const tb = Array.isArray(b) ? 'array' : b === null ? 'null' : typeof b;
  if (ta !== tb) { out.push({ path: path || '.', reference: a, target: b }); return out; }
  if (ta === 'array') {
    if (a.length !== b.length) out.push({ path: `${path}.length`, reference: a.length, target: b.length });
    for (let i = 0; i < Math.min(a.length, b.length); i++) deepDiff(a[i], b[i], `${path}[${i}]`, out, max);
    return out;
  }
  if (ta === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      if (!(k in a)) out.push({ path: `${path}.${k}`, reference: '<absent>', target: b[k] });
      else if (!(k in b)) out.push({ path: `${path}.${k}`, reference: a[k], target: '<absent>' });
      else deepDiff(a[k], b[k], `${path}.${k}`, out, max);
      if (out.length >= max) break;
    }
    return out;
  }
  out.push({ path: path || '.', reference: a, target: b });
  return out;
}

// compareStep compares the reference result with the target result of one
// message. quirks lists accepted target deviations of the reference server
// ({rpcError: code, why}). Returns {status, reference, target, diff, note?}.
export function compareStep(message, ref, tgt, quirks = []) {
  const keep = errorCodeOf(ref.reply?.status?.detail) !== undefined;
  const reference = normalise(message, ref.reply, ref.data, keep);
  let target;
  if (tgt.rpcError !== undefined) {
    target = { rpcError: tgt.rpcError, http: tgt.http };
    const q = quirks.find((q) => q.rpcError === tgt.rpcError.code);
    if (q) return { status: 'pass', reference, target, diff: [], note: `known reference-server quirk: ${q.why}` };
    return { status: 'fail', reference, target, diff: [{ path: '.', reference: 'DWN reply', target: `JSON-RPC error ${tgt.rpcError.code}: ${tgt.rpcError.message}` }] };
  }
  if (tgt.reply === undefined) {
    target = { http: tgt.http, raw: tgt.raw ?? null };
    return { status: 'fail', reference, target, diff: [{ path: '.', reference: 'DWN reply', target: `HTTP ${tgt.http} without a JSON-RPC reply` }] };
  }
  target = normalise(message, tgt.reply, tgt.data, keep);
  const diff = deepDiff(reference, target);
  return { status: diff.length === 0 ? 'pass' : 'fail', reference, target, diff };
}
