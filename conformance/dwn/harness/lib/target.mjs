// target.mjs talks to a DWN over dwn-server's HTTP JSON-RPC API (dwn.md §6):
// POST / with the request in the `dwn-request` header, record data as an
// application/octet-stream body, and data replies in the `dwn-response`
// header with the bytes as the body.
import { randomUUID } from 'node:crypto';

// Target is an HTTP JSON-RPC client bound to one base URL.
export class Target {
  constructor(url, timeoutMs = 30000) {
    const u = new URL(url);
    if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(u.hostname)) {
      throw new Error(`target must be a loopback address, got ${u.hostname}`);
    }
    this.url = u.toString();
    this.timeoutMs = timeoutMs;
  }

  // rpc sends one JSON-RPC request object (already built) with optional body
  // bytes and returns {http, rpc, data} where rpc is the parsed JSON-RPC
  // response (or undefined) and data the reply bytes, if any.
  async rpc(request, body) {
    const headers = { 'dwn-request': JSON.stringify(request) };
    if (body !== undefined) headers['content-type'] = 'application/octet-stream';
    const res = await fetch(this.url, {
      method : 'POST',
      headers,
      body   : body === undefined ? undefined : body,
      signal : AbortSignal.timeout(this.timeoutMs),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const header = res.headers.get('dwn-response');
    if (header !== null) {
      return { http: res.status, rpc: JSON.parse(header), data: bytes };
    }
    let rpc;
    try { rpc = JSON.parse(bytes.toString('utf8')); } catch { rpc = undefined; }
    return { http: res.status, rpc, raw: rpc === undefined ? bytes.toString('utf8').slice(0, 200) : undefined };
  }

  // send processes a DWN message for a tenant. It returns {reply, data,
  // rpcError, http}; exactly one of reply and rpcError is set unless the
  // server answered with something that is not JSON-RPC.
  async send(tenant, message, data) {
    const request = { jsonrpc: '2.0', id: randomUUID(), method: 'dwn.processMessage', params: { target: tenant, message } };
    const r = await this.rpc(request, data);
    const out = { http: r.http };
    if (r.rpc?.error !== undefined) out.rpcError = { code: r.rpc.error.code, message: r.rpc.error.message };
    else if (r.rpc?.result?.reply !== undefined) out.reply = r.rpc.result.reply;
    else out.raw = r.raw ?? r.rpc;
    if (r.data !== undefined) out.data = r.data;
    return out;
  }
}
