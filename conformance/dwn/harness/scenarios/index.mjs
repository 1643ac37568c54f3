// index.mjs assembles the scenario catalogue. Each group module exports a
// default array of [name, fn, options?]; options.tenant picks the tenant's
// key kind (Ed25519 by default).
import records from './records-write.mjs';
import read from './records-read.mjs';
import query from './records-query.mjs';
import del from './records-delete.mjs';
import subscribe from './subscribe.mjs';
import protocols from './protocols.mjs';
import messages from './messages.mjs';
import permissions from './permissions.mjs';
import auth from './auth.mjs';
import malformed from './malformed.mjs';
import websocket from './ws.mjs';
import rest from './rest.mjs';

// catalogue returns every scenario as {name, fn, tenant}.
export function catalogue() {
  const all = [records, read, query, del, subscribe, protocols, messages, permissions, auth, malformed, websocket, rest].flat();
  const seen = new Set();
  return all.map(([name, fn, opts]) => {
    if (seen.has(name)) throw new Error(`duplicate scenario ${name}`);
    seen.add(name);
    return { name, fn, tenant: opts?.tenant ?? 'Ed25519' };
  });
}
