// rest.mjs derives what dwn-server 0.6.1's anonymous REST routes
// (src/http-api.ts, dwn.md §6.5) answer from the reference Dwn's reply to
// the message the route builds. The scenario sends that message to the
// in-process reference and the GET to the target, and Context.restCheck
// compares.

// readExpectation is readReplyHandler: a 200 with data streams the data
// typed by its dataFormat with the bare reply in `dwn-response`; a 200
// without data is 400; 401 becomes 404; any other code is that status with
// the reply as the JSON body.
export function readExpectation(ref) {
  const code = ref.reply?.status?.code;
  if (code === 200) {
    if (ref.data === undefined) return { http: 400 };
    return { http: 200, contentType: ref.reply.entry.recordsWrite.descriptor.dataFormat, dwnResponse: ref.reply, data: ref.data };
  }
  if (code === 401) return { http: 404, noDwnResponse: true };
  return { http: code, reply: ref.reply, noDwnResponse: true };
}

// queryExpectation is GET /:did/query: always 200 with the bare reply.
export function queryExpectation(ref) {
  return { http: 200, reply: ref.reply };
}

// protocolsExpectation is GET /:did/query/protocols: 200 with the entries
// array; 401 becomes 404; another code is that status.
export function protocolsExpectation(ref) {
  const code = ref.reply?.status?.code;
  if (code === 200) return { http: 200, json: ref.reply.entries };
  return { http: code === 401 ? 404 : code };
}

// protocolExpectation is GET /:did/read/protocols/:b64: the first entry, or 404.
export function protocolExpectation(ref) {
  const code = ref.reply?.status?.code;
  if (code === 200) return ref.reply.entries.length > 0 ? { http: 200, json: ref.reply.entries[0] } : { http: 404 };
  return { http: code === 401 ? 404 : code };
}

export const b64url = (s) => Buffer.from(s).toString('base64url');
