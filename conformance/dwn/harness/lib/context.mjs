// context.mjs is the per-scenario context handed to every scenario function:
// its personas, a deterministic clock, message builders (thin wrappers over
// the public dwn-sdk-js 0.5.2 API) and `send`, which delivers the SAME
// message and data to the reference and to the target and records the
// comparison as a step.
import { Cid, Message, MessagesQuery, MessagesRead, PermissionGrant, PermissionsProtocol,
  ProtocolsConfigure, ProtocolsQuery, RecordsDelete, RecordsQuery, RecordsRead,
  RecordsSubscribe, MessagesSubscribe, RecordsWrite } from '@tbd54566975/dwn-sdk-js';
import { randomUUID } from 'node:crypto';
import { compareStep, deepDiff, describeData, errorCodeOf, normalise } from './compare.mjs';
import { makePersona } from './personas.mjs';
import { WsClient } from './ws.mjs';

const BASE_MS = Date.UTC(2024, 0, 1, 0, 0, 0);

// ts formats epoch milliseconds as a DWN timestamp (6 fractional digits).
export function ts(ms) {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

// tenantLabel is the seed label of a scenario's tenant persona.
export function tenantLabel(seed, scenarioName) {
  return `${seed}/tenant/${scenarioName}`;
}

const b64u = (s) => Buffer.from(s).toString('base64url');

// Context holds one scenario's state.
export class Context {
  constructor({ name, seed, tenantKind, reference, target, tenants }) {
    this.name = name;
    this.reference = reference;
    this.target = target;
    this.tenants = tenants; // Set of DIDs the target serves, or null for '*'
    this.steps = [];
    this.closers = [];
    this.skipped = undefined;
    this.tick = 0;
    this.counter = 0;
    // alice is the tenant (owner) of the scenario's DWN
    this.alice = makePersona(tenantLabel(seed, name), tenantKind);
    this.bob = makePersona(`${seed}/persona/bob`);
    this.carol = makePersona(`${seed}/persona/carol`);
    this.dave = makePersona(`${seed}/persona/dave`);
    this.k1 = makePersona(`${seed}/persona/k1`, 'secp256k1');
    this.p256 = makePersona(`${seed}/persona/p256`, 'P-256');
    this.mallory = makePersona(`${seed}/persona/mallory-not-a-tenant`);
    this.seed = seed;
  }

  // now advances the scenario clock by one second and returns the timestamp.
  now() { this.tick += 1; return ts(BASE_MS + this.tick * 1000); }

  // at returns the timestamp `sec` seconds after the base without advancing.
  at(sec) { return ts(BASE_MS + sec * 1000); }

  // future returns a timestamp far after every scenario message.
  future(days = 3650) { return ts(BASE_MS + days * 86400000); }

  // bytes returns n deterministic bytes.
  bytes(n, salt = 0) {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + 7 + salt * 13) & 0xff;
    return b;
  }

  // json returns small unique JSON bytes.
  json(obj) {
    this.counter += 1;
    return Buffer.from(JSON.stringify(obj ?? { n: this.counter, scenario: this.name }));
  }

  // ---- builders (each returns {message, data?, ...}) ----

  async write(author, o = {}) {
    const t = o.timestamp ?? this.now();
    const opts = {
      signer            : o.signer ?? author?.signer,
      dataFormat        : o.dataFormat ?? 'application/json',
      dateCreated       : o.dateCreated ?? t,
      messageTimestamp  : o.messageTimestamp ?? t,
      recipient         : o.recipient,
      protocol          : o.protocol,
      protocolPath      : o.protocolPath,
      protocolRole      : o.protocolRole,
      schema            : o.schema,
      tags              : o.tags,
      recordId          : o.recordId,
      parentContextId   : o.parentContextId,
      published         : o.published,
      datePublished     : o.datePublished ?? (o.published === true ? t : undefined),
      attestationSigners: o.attestationSigners,
      encryptionInput   : o.encryptionInput,
      permissionGrantId : o.permissionGrantId,
      delegatedGrant    : o.delegatedGrant,
    };
    let data = o.data;
    if (o.dataCid !== undefined) { opts.dataCid = o.dataCid; opts.dataSize = o.dataSize; data = o.data; } else {
      data ??= this.json();
      opts.data = data;
    }
    for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
    const rw = await RecordsWrite.create(opts);
    if (o.ownerSigner) await rw.signAsOwner(o.ownerSigner);
    return { message: rw.message, data, recordsWrite: rw, recordId: rw.message.recordId, contextId: rw.message.contextId };
  }

  // update builds a newer write of the same record (createFrom).
  async update(author, prev, o = {}) {
    const t = o.messageTimestamp ?? this.now();
    const opts = {
      recordsWriteMessage: prev.message,
      messageTimestamp   : t,
      signer             : o.signer ?? author.signer,
    };
    for (const k of ['data', 'published', 'datePublished', 'tags', 'dataFormat', 'protocolRole', 'delegatedGrant']) {
      if (o[k] !== undefined) opts[k] = o[k];
    }
    if (o.published === true && o.datePublished === undefined && !prev.message.descriptor.published) opts.datePublished = t;
    const rw = await RecordsWrite.createFrom(opts);
    if (o.permissionGrantId !== undefined) {
      await rw.sign({ signer: author.signer, permissionGrantId: o.permissionGrantId });
    }
    const data = o.data ?? (o.withData ? prev.data : undefined);
    return { message: rw.message, data, recordsWrite: rw, recordId: rw.message.recordId, contextId: rw.message.contextId };
  }

  async del(author, recordId, o = {}) {
    const opts = { recordId, signer: o.signer ?? author.signer, messageTimestamp: o.messageTimestamp ?? this.now(),
      prune: o.prune, protocolRole: o.protocolRole, delegatedGrant: o.delegatedGrant };
    for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
    const m = await RecordsDelete.create(opts);
    if (o.permissionGrantId !== undefined) m.message.authorization = await Message.createAuthorization({ descriptor: m.message.descriptor, signer: author.signer, permissionGrantId: o.permissionGrantId });
    return { message: m.message };
  }

  async read(author, filter, o = {}) {
    const opts = { filter, signer: author?.signer, messageTimestamp: o.messageTimestamp ?? this.now(),
      protocolRole: o.protocolRole, permissionGrantId: o.permissionGrantId, delegatedGrant: o.delegatedGrant };
    for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
    return { message: (await RecordsRead.create(opts)).message };
  }

  async query(author, filter, o = {}) {
    const opts = { filter, signer: author?.signer, messageTimestamp: o.messageTimestamp ?? this.now(),
      dateSort: o.dateSort, pagination: o.pagination, protocolRole: o.protocolRole, delegatedGrant: o.delegatedGrant };
    for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
    const q = await RecordsQuery.create(opts);
    if (o.permissionGrantId !== undefined) {
      q.message.authorization = await Message.createAuthorization({ descriptor: q.message.descriptor, signer: author.signer, permissionGrantId: o.permissionGrantId });
    }
    return { message: q.message };
  }

  async subscribe(author, filter, o = {}) {
    const opts = { filter, signer: author?.signer, messageTimestamp: o.messageTimestamp ?? this.now(), protocolRole: o.protocolRole };
    for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
    return { message: (await RecordsSubscribe.create(opts)).message };
  }

  async msubscribe(author, filters = [], o = {}) {
    const opts = { filters, signer: author.signer, messageTimestamp: o.messageTimestamp ?? this.now(), permissionGrantId: o.permissionGrantId };
    for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
    return { message: (await MessagesSubscribe.create(opts)).message };
  }

  async configure(author, definition, o = {}) {
    const opts = { definition, signer: author.signer, messageTimestamp: o.messageTimestamp ?? this.now(),
      permissionGrantId: o.permissionGrantId, delegatedGrant: o.delegatedGrant };
    for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
    return { message: (await ProtocolsConfigure.create(opts)).message };
  }

  async pquery(author, filter, o = {}) {
    const opts = { filter, signer: author?.signer, messageTimestamp: o.messageTimestamp ?? this.now(), permissionGrantId: o.permissionGrantId };
    for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
    return { message: (await ProtocolsQuery.create(opts)).message };
  }

  async mquery(author, filters = [], o = {}) {
    const opts = { filters, signer: author.signer, messageTimestamp: o.messageTimestamp ?? this.now(),
      cursor: o.cursor, permissionGrantId: o.permissionGrantId };
    for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
    return { message: (await MessagesQuery.create(opts)).message };
  }

  async mread(author, messageCid, o = {}) {
    const opts = { messageCid, signer: author.signer, messageTimestamp: o.messageTimestamp ?? this.now(), permissionGrantId: o.permissionGrantId };
    for (const k of Object.keys(opts)) if (opts[k] === undefined) delete opts[k];
    return { message: (await MessagesRead.create(opts)).message };
  }

  // grant builds a permission grant record from grantor to grantee.
  async grant(grantor, grantee, scope, o = {}) {
    const g = await PermissionsProtocol.createGrant({
      signer      : grantor.signer,
      grantedTo   : grantee.did,
      dateGranted : o.dateGranted ?? this.now(),
      dateExpires : o.dateExpires ?? this.future(),
      scope,
      delegated   : o.delegated ?? false,
      description : o.description,
      requestId   : o.requestId,
      conditions  : o.conditions,
    });
    return { message: g.recordsWrite.message, data: Buffer.from(g.permissionGrantBytes), dataEncodedMessage: g.dataEncodedMessage,
      id: g.recordsWrite.message.recordId, grant: await PermissionGrant.parse(g.dataEncodedMessage) };
  }

  // request builds a permission request record (as
  // PermissionsProtocol.createRequest does, but on the scenario clock: the
  // SDK helper sets messageTimestamp without dateCreated).
  async request(requester, scope, o = {}) {
    const body = { description: o.description, delegated: o.delegated ?? false, scope, conditions: o.conditions };
    const data = Buffer.from(JSON.stringify(body));
    const r = await this.write(requester, { protocol: PermissionsProtocol.uri, protocolPath: PermissionsProtocol.requestPath,
      dataFormat: 'application/json', data, tags: scope.protocol !== undefined ? { protocol: scope.protocol } : undefined });
    return { ...r, id: r.recordId };
  }

  // revoke builds a revocation of `granted` (as
  // PermissionsProtocol.createRevocation does, but on the scenario clock: the
  // SDK helper ignores dateRevoked and stamps the current time).
  async revoke(grantor, granted, o = {}) {
    const data = Buffer.from(JSON.stringify({ description: o.description }));
    const scope = granted.grant.scope;
    const r = await this.write(grantor, { protocol: PermissionsProtocol.uri, protocolPath: PermissionsProtocol.revocationPath,
      parentContextId: granted.id, dataFormat: 'application/json', data, timestamp: o.dateRevoked,
      tags: scope.protocol !== undefined ? { protocol: scope.protocol } : undefined });
    return { ...r, id: r.recordId };
  }

  // ---- low-level message surgery for negative cases ----

  // resign recomputes descriptorCid and re-signs a non-RecordsWrite message
  // (or a RecordsWrite with extra payload fields) after its descriptor changed.
  async resign(message, signer, extraPayload = {}) {
    const descriptorCid = await Cid.computeCid(message.descriptor);
    const payload = { ...extraPayload, descriptorCid };
    message.authorization = { signature: await this.jws(payload, signer) };
    return message;
  }

  // jws builds a General JWS over payload with one signature.
  async jws(payload, signer, header) {
    const p = b64u(JSON.stringify(payload));
    const h = b64u(JSON.stringify(header ?? { kid: signer.keyId, alg: signer.algorithm }));
    const sig = await signer.sign(Buffer.from(`${h}.${p}`));
    return { payload: p, signatures: [{ protected: h, signature: b64u(sig) }] };
  }

  // payloadOf decodes the signature payload of a message.
  payloadOf(message) {
    return JSON.parse(Buffer.from(message.authorization.signature.payload, 'base64url').toString('utf8'));
  }

  // ---- sending ----

  // send delivers built.message (+ data) to both sides for `tenant` (default
  // alice), compares, records a step and returns the reference result.
  // o: {tenant, data (null to omit), label, setup, quirks, expect}
  async send(built, o = {}) {
    const message = built.message ?? built;
    const tenant = o.tenant ?? this.alice.did;
    let data = o.data === null ? undefined : (o.data ?? built.data);
    // HTTP cannot carry an empty data stream: dwn-server (and any server
    // following §6.1) treats content-length 0 as "no data", so the reference
    // gets no stream either.
    if (data !== undefined && data.length === 0) data = undefined;
    const label = o.label ?? `${message.descriptor?.interface ?? '?'}${message.descriptor?.method ?? '?'}`;
    const ref = await this.reference.send(tenant, message, data);
    if (ref.close) this.closers.push(ref.close);
    let tgt;
    try {
      tgt = await this.target.send(tenant, message, data);
    } catch (e) {
      tgt = { http: 0, raw: `transport error: ${e.message}` };
    }
    const step = { label, setup: !!o.setup, ...compareStep(message, ref, tgt, o.quirks) };
    if (o.expect !== undefined && ref.reply?.status?.code !== o.expect) {
      // the scenario did not produce what it was written to exercise: a harness bug
      step.status = 'fail';
      step.diff = [{ path: 'scenario.expect', reference: ref.reply?.status, target: `scenario expects reference code ${o.expect}` }, ...step.diff];
    }
    this.steps.push(step);
    ref.targetReply = tgt.reply;
    return ref;
  }

  // sendCursorQuery sends a MessagesQuery built from the cursor each side
  // returned in `first` (a result of send): watermarks are private to each event log, so the reference
  // gets its cursor and the target its own, and the replies are compared.
  async sendCursorQuery(first, build, o = {}) {
    const refCursor = first.reply.cursor;
    const tgtCursor = first.targetReply?.cursor;
    const refMsg = (await build(refCursor)).message;
    const tgtMsg = tgtCursor === undefined ? refMsg : (await build(tgtCursor)).message;
    const ref = await this.reference.send(this.alice.did, refMsg);
    let tgt;
    try { tgt = await this.target.send(this.alice.did, tgtMsg); } catch (e) { tgt = { http: 0, raw: `transport error: ${e.message}` }; }
    const step = { label: o.label ?? 'MessagesQuery with cursor', setup: false, ...compareStep(refMsg, ref, tgt, o.quirks) };
    if (tgtCursor === undefined) {
      step.status = 'fail';
      step.diff = [{ path: '.cursor', reference: refCursor, target: 'no cursor in the previous target reply' }, ...step.diff];
    }
    this.steps.push(step);
    return ref;
  }

  // targetOnly sends a message to the target only and checks it with
  // check(tgt) -> {ok, expected}. Used where the reference has no
  // counterpart (tenant gate, transport errors).
  async targetOnly(label, tenant, message, data, check) {
    let tgt;
    try { tgt = await this.target.send(tenant, message, data); } catch (e) { tgt = { http: 0, raw: `transport error: ${e.message}` }; }
    const { ok, expected } = check(tgt);
    const target = tgt.reply !== undefined ? normalise(message, tgt.reply, tgt.data, true) : { rpcError: tgt.rpcError, http: tgt.http, raw: tgt.raw };
    this.steps.push({ label, setup: false, targetOnly: true, status: ok ? 'pass' : 'fail', reference: { expected }, target,
      diff: ok ? [] : [{ path: '.', reference: expected, target }] });
    return tgt;
  }

  // ---- WebSocket (dwn.md §6.4) ----

  // socket opens a WebSocket to the target; the scenario closes it at the end.
  async socket() {
    const s = await WsClient.open(this.target.url);
    this.closers.push(() => s.close());
    return s;
  }

  // wsSubscribe opens the same subscription on the reference (collecting its
  // events through a subscriptionHandler) and on the target over `sock`
  // (rpc.subscribe.dwn.processMessage), and compares the two replies.
  // o: {tenant, subId, label, expect}. Returns a handle for checkEvents and
  // wsClose.
  async wsSubscribe(sock, built, o = {}) {
    const message = built.message ?? built;
    const tenant = o.tenant ?? this.alice.did;
    const subId = o.subId ?? `sub-${randomUUID()}`;
    const label = o.label ?? `${message.descriptor?.interface}${message.descriptor?.method} over WebSocket`;
    const refEvents = [];
    const ref = await this.reference.send(tenant, message, undefined, (ev) => refEvents.push(JSON.parse(JSON.stringify(ev))));
    if (ref.close) this.closers.push(ref.close);
    sock.track(subId);
    const r = await sock.request({ jsonrpc: '2.0', id: `req-${randomUUID()}`, method: 'rpc.subscribe.dwn.processMessage',
      params: { target: tenant, message }, subscription: { id: subId } });
    const step = { label, setup: false, ...compareStep(message, ref, wsResult(r)) };
    if (o.expect !== undefined && ref.reply?.status?.code !== o.expect) {
      step.status = 'fail';
      step.diff = [{ path: 'scenario.expect', reference: ref.reply?.status, target: `scenario expects reference code ${o.expect}` }, ...step.diff];
    }
    this.steps.push(step);
    return { sock, subId, refEvents, refClose: ref.close, reply: ref.reply };
  }

  // checkEvents waits until the target has sent as many events on the
  // subscription as the reference handler received (or a timeout), makes a
  // round trip on the socket so that any surplus event has arrived too, and
  // compares the two event lists in order. o.expect: the number of events
  // the scenario was written to produce on the reference.
  async checkEvents(sub, o = {}) {
    const want = sub.refEvents.length;
    await sub.sock.waitEvents(sub.subId, want);
    await sub.sock.barrier();
    const got = sub.sock.events(sub.subId);
    const diff = deepDiff(sub.refEvents, got);
    const step = { label: o.label ?? 'subscription events', setup: false, status: diff.length === 0 ? 'pass' : 'fail',
      reference: { events: sub.refEvents.map(eventSummary) }, target: { events: got.map(eventSummary) }, diff };
    if (o.expect !== undefined && want !== o.expect) {
      step.status = 'fail';
      step.diff = [{ path: 'scenario.expect', reference: want, target: `scenario expects ${o.expect} reference events` }, ...diff];
    }
    this.steps.push(step);
    return got;
  }

  // wsClose closes a subscription on both sides. The target must answer
  // dwn-server's close reply: {"reply":{"status":200,"detail":"Accepted"}}
  // (status is a number there).
  async wsClose(sub, o = {}) {
    if (sub.refClose) await sub.refClose();
    return this.wsTargetOnly(o.label ?? 'rpc.subscribe.close', sub.sock,
      { jsonrpc: '2.0', id: `req-${randomUUID()}`, method: 'rpc.subscribe.close', params: {}, subscription: { id: sub.subId } },
      (rpc) => ({ ok: rpc?.result?.reply?.status === 200 && rpc?.result?.reply?.detail === 'Accepted' && rpc.error === undefined,
        expected: { result: { reply: { status: 200, detail: 'Accepted' } } } }));
  }

  // wsSend sends a non-subscribe message with dwn.processMessage over the
  // socket and compares the reply with the reference. A socket has nowhere
  // to put record data (dwn-server drops the stream), so data is not compared.
  async wsSend(sock, built, o = {}) {
    const message = built.message ?? built;
    const tenant = o.tenant ?? this.alice.did;
    const ref = await this.reference.send(tenant, message, undefined);
    if (ref.close) this.closers.push(ref.close);
    const r = await sock.request({ jsonrpc: '2.0', id: `req-${randomUUID()}`, method: 'dwn.processMessage', params: { target: tenant, message } });
    const step = { label: o.label ?? `${message.descriptor?.interface}${message.descriptor?.method} over WebSocket`, setup: false,
      ...compareStep(message, { reply: ref.reply }, wsResult(r)) };
    if (o.expect !== undefined && ref.reply?.status?.code !== o.expect) {
      step.status = 'fail';
      step.diff = [{ path: 'scenario.expect', reference: ref.reply?.status, target: `scenario expects reference code ${o.expect}` }, ...step.diff];
    }
    this.steps.push(step);
    return ref;
  }

  // wsTargetOnly sends a raw JSON-RPC request over the socket and checks the
  // response with check(rpc) -> {ok, expected}.
  async wsTargetOnly(label, sock, request, check) {
    const r = await sock.request(request);
    const { ok, expected } = check(r.rpc);
    const target = r.rpc ?? r;
    this.steps.push({ label, setup: false, targetOnly: true, status: ok ? 'pass' : 'fail', reference: { expected }, target,
      diff: ok ? [] : [{ path: '.', reference: expected, target }] });
    return r.rpc;
  }

  // ---- REST routes (dwn.md §6.5) ----

  // restCheck GETs `path` on the target and compares the HTTP answer with
  // `expected`, which the scenario derives from the reference Dwn's reply
  // to the equivalent anonymous message (lib/rest.mjs):
  // {http, contentType?, dwnResponse? (bare reply), data? (Buffer), json?}.
  async restCheck(label, path, expected) {
    let got;
    try {
      const res = await fetch(new URL(path, this.target.url), { signal: AbortSignal.timeout(30000) });
      const body = Buffer.from(await res.arrayBuffer());
      got = { http: res.status, contentType: res.headers.get('content-type'), dwnResponse: res.headers.get('dwn-response'), body };
    } catch (e) {
      got = { http: 0, error: e.message };
    }
    const want = { http: expected.http };
    const have = { http: got.http };
    let quirk;
    if (expected.contentType !== undefined) {
      want.contentType = expected.contentType;
      have.contentType = got.contentType;
    }
    if (expected.dwnResponse !== undefined) {
      const keep = errorCodeOf(expected.dwnResponse?.status?.detail) !== undefined;
      want.dwnResponse = normalise(undefined, expected.dwnResponse, expected.data, keep);
      let parsed;
      try { parsed = JSON.parse(got.dwnResponse); } catch { parsed = got.dwnResponse ?? '<no dwn-response header>'; }
      if (typeof parsed?.entry?.data === 'object' && parsed.entry.data !== null) {
        // dwn-server 0.6.1 stringifies the reply while entry.data still
        // holds the data stream, so its header carries the Readable's
        // internals ({"_readableState":…}); clients ignore it.
        delete parsed.entry.data;
        quirk = 'known reference-server quirk: dwn-response carried entry.data as a serialised Node stream';
      }
      have.dwnResponse = typeof parsed === 'object' && parsed !== null ? normalise(undefined, parsed, got.body, keep) : parsed;
    } else if (expected.data !== undefined) {
      want.data = describeData(expected.data);
      have.data = got.body === undefined ? null : describeData(got.body);
    }
    if (expected.reply !== undefined) {
      // a bare DWN reply as the JSON body, normalised as every other reply
      const keep = errorCodeOf(expected.reply?.status?.detail) !== undefined;
      want.reply = normalise(undefined, expected.reply, undefined, keep);
      let parsed;
      try { parsed = JSON.parse(got.body.toString('utf8')); } catch { parsed = undefined; }
      have.reply = parsed !== undefined && typeof parsed === 'object' ? normalise(undefined, parsed, undefined, keep) : (got.body?.toString('utf8').slice(0, 200) ?? null);
    }
    if (expected.json !== undefined) {
      want.json = expected.json;
      try { have.json = JSON.parse(got.body.toString('utf8')); } catch { have.json = got.body?.toString('utf8').slice(0, 200) ?? null; }
    }
    if (expected.noDwnResponse) {
      want.dwnResponseHeader = null;
      have.dwnResponseHeader = got.dwnResponse ?? null;
    }
    const diff = deepDiff(want, have);
    const step = { label: `GET ${label}`, setup: false, status: diff.length === 0 ? 'pass' : 'fail', reference: want, target: have, diff };
    if (quirk) step.note = quirk;
    this.steps.push(step);
    return got;
  }

  // skip marks the scenario as not applicable in this configuration.
  skip(reason) { this.skipped = reason; }

  async close() {
    for (const c of this.closers) { try { await c(); } catch { /* ignore */ } }
  }
}

// wsResult turns a WsClient.request result into the {reply, rpcError, http,
// raw} shape compareStep takes.
function wsResult(r) {
  if (r.rpc === undefined) return { http: 'ws', raw: r.timeout ? 'no reply before the timeout' : r.transportError };
  if (r.rpc.error !== undefined) return { http: 'ws', rpcError: { code: r.rpc.error.code, message: r.rpc.error.message } };
  if (r.rpc.result?.reply !== undefined) return { http: 'ws', reply: r.rpc.result.reply };
  return { http: 'ws', raw: r.rpc };
}

// eventSummary names an event for reports.
function eventSummary(ev) {
  const d = ev?.message?.descriptor;
  return `${d?.interface}${d?.method}${ev?.message?.recordId ? ` ${ev.message.recordId}` : ''}${ev?.initialWrite ? ' +initialWrite' : ''}`;
}

export { deepDiff };
