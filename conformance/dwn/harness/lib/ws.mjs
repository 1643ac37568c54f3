// ws.mjs is a WebSocket JSON-RPC client for a DWN served as dwn-server
// 0.6.1 serves it (dwn.md §6.4): one JSON-RPC request per text frame on the
// HTTP port, `rpc.subscribe.dwn.processMessage` to open a subscription whose
// events come back as {"id": <subscription id>, "result": {"event"}}, and
// `rpc.subscribe.close` to end one.
//
// Nothing here sleeps: every wait is a promise settled by a frame, raced
// against a timeout.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

// wsURL turns an http(s) base URL into the ws(s) URL of the same port.
export function wsURL(httpURL) {
  const u = new URL(httpURL);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

// WsClient is one socket to the target.
export class WsClient {
  static async open(httpURL, timeoutMs = 10000) {
    const c = new WsClient();
    c.timeoutMs = timeoutMs;
    c.pending = new Map(); // request id -> {resolve}
    c.subs = new Map(); // subscription id -> {events: [], waiters: []}
    c.stray = []; // frames that matched neither
    c.closed = false;
    c.ws = new WebSocket(wsURL(httpURL));
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('WebSocket open timed out')), timeoutMs);
      c.ws.once('open', () => { clearTimeout(t); resolve(); });
      c.ws.once('error', (e) => { clearTimeout(t); reject(e); });
    });
    c.ws.on('message', (b) => c.onFrame(b));
    c.ws.on('error', () => {});
    c.ws.on('close', () => {
      c.closed = true;
      for (const p of c.pending.values()) p.resolve({ transportError: 'socket closed before the reply' });
      c.pending.clear();
      for (const s of c.subs.values()) for (const w of s.waiters) w();
    });
    return c;
  }

  onFrame(b) {
    let msg;
    try { msg = JSON.parse(b.toString('utf8')); } catch { this.stray.push({ notJSON: b.toString('utf8').slice(0, 200) }); return; }
    const id = msg?.id;
    const p = this.pending.get(id);
    if (p !== undefined) { this.pending.delete(id); p.resolve({ rpc: msg }); return; }
    const s = this.subs.get(id);
    if (s !== undefined && msg.result?.event !== undefined) {
      s.events.push(msg.result.event);
      for (const w of s.waiters) w();
      return;
    }
    this.stray.push(msg);
  }

  // track starts collecting events for a subscription id (before the
  // subscribe request is sent, so that no event can be missed).
  track(subId) {
    if (!this.subs.has(subId)) this.subs.set(subId, { events: [], waiters: [] });
    return this.subs.get(subId);
  }

  // request sends one JSON-RPC request object and resolves with {rpc} (the
  // parsed response with the same id), {timeout} or {transportError}.
  request(req, timeoutMs = this.timeoutMs) {
    if (req.id === undefined) req = { ...req, id: randomUUID() };
    return new Promise((resolve) => {
      if (this.closed) { resolve({ transportError: 'socket closed' }); return; }
      const t = setTimeout(() => { this.pending.delete(req.id); resolve({ timeout: true }); }, timeoutMs);
      this.pending.set(req.id, { resolve: (v) => { clearTimeout(t); resolve(v); } });
      this.ws.send(JSON.stringify(req));
    });
  }

  // waitEvents resolves when subId has at least n events or the timeout
  // passes; it returns the events collected so far either way.
  waitEvents(subId, n, timeoutMs = this.timeoutMs) {
    const s = this.track(subId);
    return new Promise((resolve) => {
      const check = () => {
        if (s.events.length >= n || this.closed) { done(); return true; }
        return false;
      };
      let t;
      const waiter = () => { check(); };
      const done = () => {
        clearTimeout(t);
        s.waiters = s.waiters.filter((w) => w !== waiter);
        resolve(s.events.slice());
      };
      if (check()) return;
      s.waiters.push(waiter);
      t = setTimeout(done, timeoutMs);
    });
  }

  // barrier makes one round trip on the socket (an rpc.subscribe.close of
  // an id nobody uses, answered -32602 by dwn-server): frames are ordered,
  // so every event the server queued before answering it has arrived.
  async barrier() {
    const r = await this.request({ jsonrpc: '2.0', id: randomUUID(), method: 'rpc.subscribe.close', params: {},
      subscription: { id: `barrier-${randomUUID()}` } });
    if (r.rpc === undefined) throw new Error(`WebSocket barrier got no reply (${JSON.stringify(r)})`);
  }

  events(subId) { return this.track(subId).events.slice(); }

  close() {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.ws.terminate(); resolve(); }, 2000);
      this.ws.once('close', () => { clearTimeout(t); resolve(); });
      this.ws.close();
    });
  }
}
