// gen.mjs builds DWN messages with @tbd54566975/dwn-sdk-js@0.5.2 from fixed
// Ed25519 seeds and fixed timestamps, and writes them to sdk-messages.json.
// dwn/build_test.go builds the same messages with the Go builders of
// dwn/build.go and requires the same bytes, CIDs and signatures.
//
// Run it from a directory where the SDK is installed:
//
//	mkdir -p /tmp/dwnsdk4 && cd /tmp/dwnsdk4 && npm init -y >/dev/null &&
//	  npm install @tbd54566975/dwn-sdk-js@0.5.2
//	cp <repo>/dwn/testdata/build/gen.mjs . && node gen.mjs > <repo>/dwn/testdata/build/sdk-messages.json
//
// Objects (tags, filters, definitions) are written with their keys in
// sorted order: Go's encoding/json writes map keys sorted, and JSON.stringify
// writes them in insertion order, so sorted input is what makes the bytes
// comparable. CIDs do not depend on key order.
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { base58btc } from 'multiformats/bases/base58';
import {
  Cid, MessagesQuery, MessagesRead, PrivateKeySigner, ProtocolsConfigure, ProtocolsQuery,
  RecordsDelete, RecordsQuery, RecordsRead, RecordsWrite,
} from '@tbd54566975/dwn-sdk-js';

const sdkVersion = JSON.parse(readFileSync('node_modules/@tbd54566975/dwn-sdk-js/package.json')).version;

const b64url = (b) => Buffer.from(b).toString('base64url');

// persona derives an Ed25519 did:key persona from a 32-byte seed.
function persona(seed) {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const priv = crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const x = crypto.createPublicKey(priv).export({ format: 'jwk' }).x;
  const pub = Buffer.from(x, 'base64url');
  const did = 'did:key:' + base58btc.encode(Buffer.concat([Buffer.from([0xed, 0x01]), pub]));
  const kid = did + '#' + did.slice('did:key:'.length);
  const signer = new PrivateKeySigner({
    privateJwk : { kty: 'OKP', crv: 'Ed25519', x, d: b64url(seed) },
    keyId      : kid,
    algorithm  : 'EdDSA',
  });
  return { seedHex: seed.toString('hex'), did, kid, signer };
}

const seq = (start) => Buffer.from(Array.from({ length: 32 }, (_, i) => (start + i) & 0xff));
const alice = persona(seq(1));
const bob = persona(seq(0x41));

const T = (s) => `2024-06-01T12:00:${s}Z`; // s = "SS.ffffff"
const enc = (s) => new TextEncoder().encode(s);

const cases = [];
const byName = {};

async function add(name, kind, input, build) {
  const m = await build();
  // json is the message exactly as JSON.stringify writes it (what a client
  // sends); properties holding undefined vanish there, as before hashing.
  const json = JSON.stringify(m.message);
  const message = JSON.parse(json);
  const out = {
    name,
    kind,
    input,
    json,
    message,
    descriptorCid : await Cid.computeCid(message.descriptor),
    messageCid    : await Cid.computeCid(message),
  };
  cases.push(out);
  byName[name] = out;
  return out;
}

async function write(name, input) {
  const opts = {
    signer           : alice.signer,
    dataFormat       : input.dataFormat,
    schema           : input.schema,
    protocol         : input.protocol,
    protocolPath     : input.protocolPath,
    parentContextId  : input.parentContextId,
    recipient        : input.recipient,
    tags             : input.tags,
    published        : input.published,
    datePublished    : input.datePublished,
    dateCreated      : input.dateCreated,
    messageTimestamp : input.messageTimestamp,
    recordId         : input.recordId,
  };
  if (input.data !== undefined) {
    opts.data = enc(input.data);
  } else {
    opts.dataCid = input.dataCid;
    opts.dataSize = input.dataSize;
  }
  return add(name, 'RecordsWrite', input, () => RecordsWrite.create(opts));
}

const note = await write('flat-write', {
  data             : '{"hello":"world","n":1}',
  dataFormat       : 'application/json',
  schema           : 'https://example.com/note',
  tags             : { a: 'x', list: ['p', 'q'], n: 3, score: 1.5, yes: true },
  dateCreated      : T('00.000001'),
  messageTimestamp : T('00.000001'),
});

await write('published-write-to-recipient', {
  data             : 'plain text <&> "quoted" é',
  dataFormat       : 'text/plain',
  schema           : 'https://example.com/note',
  recipient        : bob.did,
  tags             : { note: '<&> "q" \u00e9 \u2603' },
  published        : true,
  datePublished    : T('01.000000'),
  dateCreated      : T('01.000000'),
  messageTimestamp : T('01.000000'),
});

await write('unnormalized-schema', {
  data             : '',
  dataFormat       : 'application/octet-stream',
  schema           : 'Example.COM/schemas/note/?v=1#frag',
  dateCreated      : T('02.000000'),
  messageTimestamp : T('02.000000'),
});

const root = await write('protocol-root', {
  data             : '{"title":"t"}',
  dataFormat       : 'application/json',
  schema           : 'https://example.com/thread',
  protocol         : 'https://example.com/chat',
  protocolPath     : 'thread',
  dateCreated      : T('03.000000'),
  messageTimestamp : T('03.000000'),
});

await write('protocol-child', {
  data             : '{"text":"hi"}',
  dataFormat       : 'application/json',
  schema           : 'https://example.com/reply',
  protocol         : 'https://example.com/chat',
  protocolPath     : 'thread/reply',
  parentContextId  : root.message.contextId,
  dateCreated      : T('04.000000'),
  messageTimestamp : T('04.000000'),
});

await write('flat-update', {
  data             : '{"hello":"again"}',
  dataFormat       : 'application/json',
  schema           : 'https://example.com/note',
  tags             : { a: 'y' },
  recordId         : note.message.recordId,
  dateCreated      : T('00.000001'),
  messageTimestamp : T('05.000000'),
});

await write('dataless-write', {
  dataCid          : 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
  dataSize         : 0,
  dataFormat       : 'application/json',
  schema           : 'https://example.com/note',
  dateCreated      : T('06.000000'),
  messageTimestamp : T('06.000000'),
});

async function query(name, input) {
  return add(name, 'RecordsQuery', input, () => RecordsQuery.create({
    signer           : input.anonymous ? undefined : alice.signer,
    filter           : input.filter,
    dateSort         : input.dateSort,
    pagination       : input.pagination,
    messageTimestamp : input.messageTimestamp,
  }));
}

await query('query-schema', {
  filter           : { schema: 'https://example.com/bench' },
  dateSort         : 'createdDescending',
  pagination       : { limit: 20 },
  messageTimestamp : T('10.000000'),
});
await query('query-anonymous-protocol', {
  anonymous        : true,
  filter           : { protocol: 'example.com/chat/', published: true },
  messageTimestamp : T('11.000000'),
});
await query('query-cursor-tags-range', {
  filter           : { dateCreated: { from: T('00.000000'), to: T('59.000000') }, tags: { n: { gte: 1, lt: 10 } } },
  pagination       : { limit: 5, cursor: { messageCid: note.messageCid, value: T('00.000001') } },
  messageTimestamp : T('12.000000'),
});

await add('read-signed', 'RecordsRead', { recordId: note.message.recordId, messageTimestamp: T('13.000000') },
  () => RecordsRead.create({ signer: alice.signer, filter: { recordId: note.message.recordId }, messageTimestamp: T('13.000000') }));
await add('read-anonymous', 'RecordsRead', { anonymous: true, recordId: note.message.recordId, messageTimestamp: T('14.000000') },
  () => RecordsRead.create({ filter: { recordId: note.message.recordId }, messageTimestamp: T('14.000000') }));

await add('delete', 'RecordsDelete', { recordId: note.message.recordId, messageTimestamp: T('15.000000') },
  () => RecordsDelete.create({ signer: alice.signer, recordId: note.message.recordId, messageTimestamp: T('15.000000') }));
await add('delete-prune', 'RecordsDelete', { recordId: root.message.recordId, prune: true, messageTimestamp: T('16.000000') },
  () => RecordsDelete.create({ signer: alice.signer, recordId: root.message.recordId, prune: true, messageTimestamp: T('16.000000') }));

// Keys sorted at every level (see the header comment).
const definition = {
  protocol  : 'https://example.com/chat',
  published : true,
  structure : {
    thread: {
      $actions : [{ can: ['create', 'read'], who: 'anyone' }],
      reply    : { $actions: [{ can: ['create'], of: 'thread', who: 'author' }] },
    },
  },
  types: {
    reply  : { dataFormats: ['application/json'], schema: 'https://example.com/reply' },
    thread : { dataFormats: ['application/json'], schema: 'https://example.com/thread' },
  },
};
await add('protocols-configure', 'ProtocolsConfigure', { definition, messageTimestamp: T('17.000000') },
  () => ProtocolsConfigure.create({ signer: alice.signer, definition: structuredClone(definition), messageTimestamp: T('17.000000') }));
await add('protocols-query', 'ProtocolsQuery', { protocol: 'https://example.com/chat', messageTimestamp: T('18.000000') },
  () => ProtocolsQuery.create({ signer: alice.signer, filter: { protocol: 'https://example.com/chat' }, messageTimestamp: T('18.000000') }));
await add('protocols-query-anonymous-all', 'ProtocolsQuery', { anonymous: true, messageTimestamp: T('19.000000') },
  () => ProtocolsQuery.create({ messageTimestamp: T('19.000000') }));

const cursor = { messageCid: note.messageCid, value: '01HZ0000000000000000000000' };
await add('messages-query', 'MessagesQuery', {
  filters          : [{ interface: 'Records', protocol: 'example.com/chat' }, {}],
  cursor,
  messageTimestamp : T('20.000000'),
}, () => MessagesQuery.create({
  signer           : alice.signer,
  filters          : [{ interface: 'Records', protocol: 'example.com/chat' }, {}],
  cursor,
  messageTimestamp : T('20.000000'),
}));
await add('messages-query-all', 'MessagesQuery', { messageTimestamp: T('21.000000') },
  () => MessagesQuery.create({ signer: alice.signer, messageTimestamp: T('21.000000') }));
await add('messages-read', 'MessagesRead', { messageCid: note.messageCid, messageTimestamp: T('22.000000') },
  () => MessagesRead.create({ signer: alice.signer, messageCid: note.messageCid, messageTimestamp: T('22.000000') }));

const out = {
  sdkVersion,
  author    : { seedHex: alice.seedHex, did: alice.did, kid: alice.kid },
  recipient : { seedHex: bob.seedHex, did: bob.did },
  cases,
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
