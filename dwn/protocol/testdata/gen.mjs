// gen.mjs regenerates the reference fixtures in this directory from
// @tbd54566975/dwn-sdk-js@0.5.2 (npm). Run from a directory where that
// package is installed:
//   node /path/to/dwn/protocol/testdata/gen.mjs /path/to/dwn/protocol/testdata
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const pkgDir = path.join(process.cwd(), 'node_modules/@tbd54566975/dwn-sdk-js');
const sdk = `${pkgDir}/dist/esm/src`;
await import(`${sdk}/index.js`);
const { ProtocolsConfigure } = await import(`${sdk}/interfaces/protocols-configure.js`);
const { ProtocolAuthorization } = await import(`${sdk}/core/protocol-authorization.js`);
const { validateJsonSchema } = await import(`${sdk}/schema-validator.js`);
const { normalizeProtocolUrl } = await import(`${sdk}/utils/url.js`);
const { PermissionsProtocol } = await import(`${sdk}/protocols/permissions.js`);

const outDir = process.argv[2] ?? '.';

function run(fn) {
  try { fn(); return { ok: true }; } catch (e) { return { ok: false, code: e.code ?? 'Error', message: String(e.message) }; }
}

const T = { a: {}, b: {}, c: {}, r: {}, s: {} };
const def = (structure, types = T, extra = {}) => ({ protocol: 'https://example.com/p', published: true, types, structure, ...extra });
const chain = (n) => { let rs = {}; for (let i = 0; i < n - 1; i++) rs = { a: rs }; return { a: rs }; };
const rr = ['read', 'query', 'subscribe'];
const jwk = { kty: 'EC', crv: 'secp256k1', x: 'abc', y: 'def' };

const defCases = {
  'minimal': def({ a: {} }),
  'empty structure': def({}),
  'empty types': def({}, {}),
  'missing protocol': { published: true, types: T, structure: {} },
  'missing published': { protocol: 'https://example.com/p', types: T, structure: {} },
  'published not boolean': def({}, T, { published: 'yes' }),
  'extra top-level key': def({}, T, { foo: 1 }),
  'type extra key': def({}, { a: { foo: 'x' } }),
  'type dataFormats empty': def({}, { a: { dataFormats: [] } }),
  'type dataFormats not array': def({}, { a: { dataFormats: 'x' } }),
  'type schema not string': def({}, { a: { schema: 1 } }),
  'type ok schema and formats': def({ a: {} }, { a: { schema: 'https://example.com/s', dataFormats: ['application/json'] } }),
  'type schema not normalized': def({ a: {} }, { a: { schema: 'example.com/s' } }),
  'type schema trailing slash': def({ a: {} }, { a: { schema: 'https://example.com/s/' } }),
  'protocol not normalized no scheme': def({}, T, { protocol: 'example.com/p' }),
  'protocol trailing slash': def({}, T, { protocol: 'https://example.com/p/' }),
  'protocol with query': def({}, T, { protocol: 'https://example.com/p?x=1' }),
  'protocol with hash': def({}, T, { protocol: 'https://example.com/p#x' }),
  'protocol uppercase host': def({}, T, { protocol: 'https://EXAMPLE.com/p' }),
  'protocol did': def({}, T, { protocol: 'did:example:123' }),
  'protocol urn': def({}, T, { protocol: 'urn:example:p' }),
  'protocol http root': def({}, T, { protocol: 'http://example.com' }),
  'protocol default port': def({}, T, { protocol: 'https://example.com:443/p' }),
  'protocol other port': def({}, T, { protocol: 'https://example.com:8443/p' }),
  'protocol empty': def({}, T, { protocol: '' }),
  'protocol not string': def({}, T, { protocol: 5 }),
  'structure value not object': def({ a: 5 }),
  'unknown dollar key': def({ a: { $foo: 1 } }),
  'undeclared record type': def({ z: {} }),
  'undeclared nested record type': def({ a: { z: {} } }),
  'anyone create': def({ a: { $actions: [{ who: 'anyone', can: ['create'] }] } }),
  'anyone all who actions': def({ a: { $actions: [{ who: 'anyone', can: ['create', 'update', 'delete', 'prune', 'co-update', 'co-delete', 'co-prune', 'read'] }] } }),
  'anyone with of': def({ a: { $actions: [{ who: 'anyone', of: 'a', can: ['create'] }] } }),
  'author without of': def({ a: { $actions: [{ who: 'author', can: ['create'] }] } }),
  'author of ancestor': def({ a: { b: { $actions: [{ who: 'author', of: 'a', can: ['create', 'read'] }] } } }),
  'author of nonexistent path accepted': def({ a: { $actions: [{ who: 'author', of: 'nowhere', can: ['read'] }] } }),
  'recipient without of read': def({ a: { $actions: [{ who: 'recipient', can: ['read'] }] } }),
  'recipient without of create': def({ a: { $actions: [{ who: 'recipient', can: ['create'] }] } }),
  'recipient without of co-actions': def({ a: { $actions: [{ who: 'recipient', can: ['co-update', 'co-delete', 'co-prune'] }] } }),
  'recipient of ancestor create': def({ a: { b: { $actions: [{ who: 'recipient', of: 'a', can: ['create'] }] } } }),
  'who bogus': def({ a: { $actions: [{ who: 'bogus', of: 'a', can: ['read'] }] } }),
  'who rule can query': def({ a: { $actions: [{ who: 'anyone', can: ['query'] }] } }),
  'who rule can subscribe': def({ a: { $actions: [{ who: 'anyone', can: ['subscribe'] }] } }),
  'who rule can bogus': def({ a: { $actions: [{ who: 'anyone', can: ['write'] }] } }),
  'who rule can empty': def({ a: { $actions: [{ who: 'anyone', can: [] }] } }),
  'who rule missing can': def({ a: { $actions: [{ who: 'anyone' }] } }),
  'who rule extra key': def({ a: { $actions: [{ who: 'anyone', can: ['read'], foo: 1 }] } }),
  'who rule of not string': def({ a: { $actions: [{ who: 'author', of: 1, can: ['read'] }] } }),
  'actions empty': def({ a: { $actions: [] } }),
  'actions not array': def({ a: { $actions: {} } }),
  'action not object': def({ a: { $actions: ['x'] } }),
  'action neither who nor role': def({ a: { $actions: [{ can: ['read'] }] } }),
  'update without create': def({ a: { $actions: [{ who: 'anyone', can: ['update'] }] } }),
  'delete without create': def({ a: { $actions: [{ who: 'anyone', can: ['delete'] }] } }),
  'update with create': def({ a: { $actions: [{ who: 'anyone', can: ['create', 'update', 'delete'] }] } }),
  'prune without create ok': def({ a: { $actions: [{ who: 'anyone', can: ['prune'] }] } }),
  'duplicate anyone': def({ a: { $actions: [{ who: 'anyone', can: ['read'] }, { who: 'anyone', can: ['create'] }] } }),
  'duplicate author of': def({ a: { b: { $actions: [{ who: 'author', of: 'a', can: ['read'] }, { who: 'author', of: 'a', can: ['create'] }] } } }),
  'author of different paths ok': def({ a: { b: { c: { $actions: [{ who: 'author', of: 'a', can: ['read'] }, { who: 'author', of: 'a/b', can: ['read'] }] } } } }),
  'author and recipient same of ok': def({ a: { b: { $actions: [{ who: 'author', of: 'a', can: ['read'] }, { who: 'recipient', of: 'a', can: ['read'] }] } } }),
  'role ok root': def({ r: { $role: true }, a: { $actions: [{ role: 'r', can: ['create', ...rr] }] } }),
  'role missing': def({ a: { $actions: [{ role: 'r', can: ['create'] }] } }),
  'role path not a role': def({ r: {}, a: { $actions: [{ role: 'r', can: ['create'] }] } }),
  'role read only': def({ r: { $role: true }, a: { $actions: [{ role: 'r', can: ['read'] }] } }),
  'role query only': def({ r: { $role: true }, a: { $actions: [{ role: 'r', can: ['create', 'query'] }] } }),
  'role read and query no subscribe': def({ r: { $role: true }, a: { $actions: [{ role: 'r', can: ['read', 'query'] }] } }),
  'role write only ok': def({ r: { $role: true }, a: { $actions: [{ role: 'r', can: ['create', 'update', 'delete', 'co-update', 'co-delete'] }] } }),
  'role can prune': def({ r: { $role: true }, a: { $actions: [{ role: 'r', can: ['create', 'prune'] }] } }),
  'role can co-prune': def({ r: { $role: true }, a: { $actions: [{ role: 'r', can: ['co-prune'] }] } }),
  'role update without create': def({ r: { $role: true }, a: { $actions: [{ role: 'r', can: ['update'] }] } }),
  'role duplicate': def({ r: { $role: true }, a: { $actions: [{ role: 'r', can: ['create'] }, { role: 'r', can: [...rr] }] } }),
  'role context ok': def({ a: { r: { $role: true }, b: { $actions: [{ role: 'a/r', can: [...rr] }] } } }),
  'role under role not a role path': def({ r: { $role: true, s: { $role: true } }, a: { $actions: [{ role: 'r/s', can: ['create'] }] } }),
  'role with extra who key': def({ r: { $role: true }, a: { $actions: [{ role: 'r', who: 'anyone', can: ['create'] }] } }),
  'role with extra foo key': def({ r: { $role: true }, a: { $actions: [{ role: 'r', foo: 1, can: ['create'] }] } }),
  'role and anyone rules ok': def({ r: { $role: true }, a: { $actions: [{ role: 'r', can: ['create'] }, { who: 'anyone', can: ['read'] }] } }),
  'role not string': def({ r: { $role: true }, a: { $actions: [{ role: 1, can: ['create'] }] } }),
  '$role not boolean': def({ r: { $role: 'yes' } }),
  '$role false': def({ r: { $role: false }, a: { $actions: [{ role: 'r', can: ['create'] }] } }),
  'size ok': def({ a: { $size: { min: 1, max: 10 } } }),
  'size min only': def({ a: { $size: { min: 5 } } }),
  'size max only': def({ a: { $size: { max: 0 } } }),
  'size empty': def({ a: { $size: {} } }),
  'size max less than min': def({ a: { $size: { min: 10, max: 1 } } }),
  'size max less than default min': def({ a: { $size: { max: -1 } } }),
  'size negative min': def({ a: { $size: { min: -1 } } }),
  'size extra key': def({ a: { $size: { min: 1, foo: 2 } } }),
  'size not number': def({ a: { $size: { min: '1' } } }),
  'size fractional': def({ a: { $size: { min: 0.5, max: 1.5 } } }),
  'tags empty': def({ a: { $tags: {} } }),
  'tags required only': def({ a: { $tags: { $requiredTags: ['x'] } } }),
  'tags allowUndefined only': def({ a: { $tags: { $allowUndefinedTags: true } } }),
  'tags required not array': def({ a: { $tags: { $requiredTags: 'x' } } }),
  'tags required item not string': def({ a: { $tags: { $requiredTags: [1] } } }),
  'tags allowUndefined not boolean': def({ a: { $tags: { $allowUndefinedTags: 'yes' } } }),
  'tags string ok': def({ a: { $tags: { s: { type: 'string', minLength: 1, maxLength: 5, enum: ['a', 'bb'] } } } }),
  'tags number ok': def({ a: { $tags: { n: { type: 'number', minimum: 0, maximum: 10, exclusiveMinimum: -1, exclusiveMaximum: 11 } } } }),
  'tags integer ok': def({ a: { $tags: { n: { type: 'integer' } } } }),
  'tags boolean ok': def({ a: { $tags: { b: { type: 'boolean' } } } }),
  'tags array ok': def({ a: { $tags: { l: { type: 'array', items: { type: 'string', maxLength: 3 }, minItems: 1, maxItems: 3, uniqueItems: true } } } }),
  'tags array contains ok': def({ a: { $tags: { l: { type: 'array', contains: { type: 'number', minimum: 5 }, minContains: 1, maxContains: 2 } } } }),
  'tags type object': def({ a: { $tags: { o: { type: 'object' } } } }),
  'tags type null': def({ a: { $tags: { o: { type: 'null' } } } }),
  'tags type array form': def({ a: { $tags: { o: { type: ['string', 'number'] } } } }),
  'tags pattern not allowed': def({ a: { $tags: { s: { type: 'string', pattern: '^a' } } } }),
  'tags const not allowed': def({ a: { $tags: { s: { const: 'a' } } } }),
  'tags schema not object': def({ a: { $tags: { s: 'string' } } }),
  'tags empty schema ok': def({ a: { $tags: { s: {} } } }),
  'tags minLength not number': def({ a: { $tags: { s: { type: 'string', minLength: 'x' } } } }),
  'tags minLength negative': def({ a: { $tags: { s: { type: 'string', minLength: -1 } } } }),
  'tags minLength fractional': def({ a: { $tags: { s: { type: 'string', minLength: 1.5 } } } }),
  'tags minimum not number': def({ a: { $tags: { n: { type: 'number', minimum: 'x' } } } }),
  'tags enum not array': def({ a: { $tags: { s: { enum: 'x' } } } }),
  'tags enum empty': def({ a: { $tags: { s: { enum: [] } } } }),
  'tags enum duplicate': def({ a: { $tags: { s: { enum: ['a', 'a'] } } } }),
  'tags uniqueItems not boolean': def({ a: { $tags: { l: { type: 'array', uniqueItems: 1 } } } }),
  'tags items type boolean': def({ a: { $tags: { l: { type: 'array', items: { type: 'boolean' } } } } }),
  'tags items not object': def({ a: { $tags: { l: { type: 'array', items: true } } } }),
  'tags items pattern': def({ a: { $tags: { l: { type: 'array', items: { type: 'string', pattern: '^a' } } } } }),
  'tags items unknown keyword': def({ a: { $tags: { l: { type: 'array', items: { type: 'string', foo: 1 } } } } }),
  'tags items minLength bad': def({ a: { $tags: { l: { type: 'array', items: { type: 'string', minLength: 'x' } } } } }),
  'tags dollar tag name': def({ a: { $tags: { $foo: { type: 'string' } } } }),
  'tags dollar tag name not object': def({ a: { $tags: { $foo: true } } }),
  'encryption ok': def({ a: { $encryption: { rootKeyId: 'did:example:alice#enc', publicKeyJwk: jwk } } }),
  'encryption missing rootKeyId': def({ a: { $encryption: { publicKeyJwk: jwk } } }),
  'encryption missing jwk': def({ a: { $encryption: { rootKeyId: 'k' } } }),
  'encryption extra key': def({ a: { $encryption: { rootKeyId: 'k', publicKeyJwk: jwk, foo: 1 } } }),
  'encryption private jwk': def({ a: { $encryption: { rootKeyId: 'k', publicKeyJwk: { ...jwk, d: 'secret' } } } }),
  'encryption jwk bad kty': def({ a: { $encryption: { rootKeyId: 'k', publicKeyJwk: { kty: 'XX' } } } }),
  'nesting 10 ok': def(chain(10)),
  'nesting 11 exceeded': def(chain(11)),
  'nesting 11 under role': def({ r: { $role: true, ...chain(11) } }, { a: {}, r: {} }),
  'deep combined': def({
    a: {
      $actions: [{ who: 'anyone', can: ['create'] }],
      r: { $role: true, $actions: [{ who: 'author', of: 'a', can: ['create', 'update', 'delete'] }] },
      b: {
        $size: { max: 100 },
        $tags: { $requiredTags: ['s'], s: { type: 'string' } },
        $actions: [{ who: 'recipient', of: 'a', can: ['create'] }, { role: 'a/r', can: ['create', ...rr, 'co-update', 'co-delete'] }],
        c: { $actions: [{ who: 'author', of: 'a/b', can: ['create'] }, { who: 'recipient', can: ['co-delete'] }] },
      },
    },
  }),
};

const definitions = [];
for (const [name, definition] of Object.entries(defCases)) {
  const r = run(() => {
    validateJsonSchema('ProtocolDefinition', definition);
    ProtocolsConfigure.validateProtocolDefinition(definition);
  });
  definitions.push({ name, definition, ...r });
}
// the built-in permissions definition is never validated by the reference; record what would happen
definitions.push({ name: 'builtin permissions definition (never validated by the reference)', definition: PermissionsProtocol.definition,
  ...run(() => { validateJsonSchema('ProtocolDefinition', PermissionsProtocol.definition); ProtocolsConfigure.validateProtocolDefinition(PermissionsProtocol.definition); }) });

// Tag validation at write time: ProtocolAuthorization.verifyTagsIfNeeded.
const tagRule = {
  $requiredTags: ['status'],
  status: { type: 'string', enum: ['draft', 'final'] },
  count: { type: 'integer', minimum: 1, maximum: 10 },
  score: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
  name: { type: 'string', minLength: 2, maxLength: 4 },
  flag: { type: 'boolean' },
  list: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 3, uniqueItems: true },
  nums: { type: 'array', contains: { type: 'number', minimum: 10 }, minContains: 1, maxContains: 2 },
  any: {},
};
const tagCases = [
  ['required present', tagRule, { status: 'draft' }],
  ['required missing', tagRule, {}],
  ['no tags at all', tagRule, undefined],
  ['enum mismatch', tagRule, { status: 'other' }],
  ['wrong type string', tagRule, { status: 5 }],
  ['undefined tag rejected', tagRule, { status: 'draft', extra: 1 }],
  ['undefined tag allowed', { ...tagRule, $allowUndefinedTags: true }, { status: 'draft', extra: 1 }],
  ['integer ok', tagRule, { status: 'draft', count: 3 }],
  ['integer fractional', tagRule, { status: 'draft', count: 3.5 }],
  ['integer below min', tagRule, { status: 'draft', count: 0 }],
  ['integer above max', tagRule, { status: 'draft', count: 11 }],
  ['integer at max', tagRule, { status: 'draft', count: 10 }],
  ['number ok', tagRule, { status: 'draft', score: 0.5 }],
  ['number at exclusive min', tagRule, { status: 'draft', score: 0 }],
  ['number at exclusive max', tagRule, { status: 'draft', score: 1 }],
  ['number as string', tagRule, { status: 'draft', score: '0.5' }],
  ['minLength fail', tagRule, { status: 'draft', name: 'a' }],
  ['maxLength fail', tagRule, { status: 'draft', name: 'abcde' }],
  ['maxLength unicode ok', tagRule, { status: 'draft', name: '😀😀😀' }],
  ['boolean ok', tagRule, { status: 'draft', flag: false }],
  ['boolean wrong', tagRule, { status: 'draft', flag: 'true' }],
  ['array ok', tagRule, { status: 'draft', list: ['a', 'b'] }],
  ['array empty', tagRule, { status: 'draft', list: [] }],
  ['array too long', tagRule, { status: 'draft', list: ['a', 'b', 'c', 'd'] }],
  ['array not unique', tagRule, { status: 'draft', list: ['a', 'a'] }],
  ['array item too short', tagRule, { status: 'draft', list: ['a', ''] }],
  ['array item wrong type', tagRule, { status: 'draft', list: ['a', 1] }],
  ['array given scalar', tagRule, { status: 'draft', list: 'a' }],
  ['contains ok', tagRule, { status: 'draft', nums: [1, 10] }],
  ['contains none', tagRule, { status: 'draft', nums: [1, 2] }],
  ['contains too many', tagRule, { status: 'draft', nums: [10, 11, 12] }],
  ['any accepts anything', tagRule, { status: 'draft', any: [1, 2] }],
  ['string enum on number type', { n: { type: 'number', enum: [1, 2] } }, { n: 2 }],
  ['number enum mismatch', { n: { type: 'number', enum: [1, 2] } }, { n: 3 }],
  ['number keyword ignored for string', { n: { minimum: 5 } }, { n: 'abc' }],
  ['length keyword ignored for number', { n: { minLength: 5 } }, { n: 1 }],
  ['items without type array ignore scalar', { n: { items: { type: 'number' } } }, { n: 'x' }],
  ['contains min default', { n: { type: 'array', contains: { type: 'string', enum: ['x'] } } }, { n: ['y'] }],
  ['minContains zero', { n: { type: 'array', contains: { type: 'string', enum: ['x'] }, minContains: 0 } }, { n: ['y'] }],
  ['integer accepts 2.0', { n: { type: 'integer' } }, { n: 2.0 }],
  ['required not defined in props allowed-undefined false', { $requiredTags: ['x'] }, { x: 1 }],
  ['required not defined allowUndefined', { $requiredTags: ['x'], $allowUndefinedTags: true }, { x: 1 }],
  ['only allowUndefined false empty tags', { $allowUndefinedTags: false }, {}],
  ['items number exclusive', { n: { type: 'array', items: { type: 'number', exclusiveMaximum: 5 } } }, { n: [1, 5] }],
  ['items enum', { n: { type: 'array', items: { enum: ['a', 'b'] } } }, { n: ['a', 'c'] }],
];
const tags = [];
for (const [name, rule, t] of tagCases) {
  const msg = { message: { descriptor: { protocol: 'https://example.com/p', protocolPath: 'a', tags: t } } };
  tags.push({ name, tagsRule: rule, tags: t ?? null, ...run(() => ProtocolAuthorization.verifyTagsIfNeeded(msg, { $tags: rule })) });
}

// URL normalization (utils/url.ts normalizeProtocolUrl).
const urlCases = ['https://example.com/p', 'example.com/p', 'https://example.com/p/', 'https://example.com', 'https://example.com/',
  'http://EXAMPLE.com/P', 'HTTP://example.com/p', 'https://example.com:443/p', 'http://example.com:80', 'https://example.com:8080/a',
  'https://example.com/p?x=1', 'https://example.com/p#f', 'https://example.com/p?', 'did:example:123', 'urn:example:p', 'foo:bar',
  'https://example.com/a b', 'https://example.com/a/../b', 'https://example.com/%7Efoo', 'https://user:pw@example.com/p',
  'localhost:3000/p', 'https://', 'http://exa mple.com', '', '/p', 'https://example.com//p', 'https://example.com/ä', 'mailto:a@b.c', 'https://example.com/p/.',
  'https://xn--bcher-kva.example/p', 'https://bücher.example/p', 'a', 'https://1.2.3.4/p', 'https://[::1]/p', 'file:///tmp/x', 'ws://example.com/p'];
const urls = urlCases.map((u) => { try { return { url: u, normalized: normalizeProtocolUrl(u) }; } catch (e) { return { url: u, error: e.code }; } });

const source = 'generated by testdata/gen.mjs against @tbd54566975/dwn-sdk-js@0.5.2 (validateJsonSchema + ProtocolsConfigure.validateProtocolDefinition, ProtocolAuthorization.verifyTagsIfNeeded, utils/url normalizeProtocolUrl); node ' + process.version;
writeFileSync(path.join(outDir, 'definitions.json'), JSON.stringify({ SOURCE: source, cases: definitions }, null, 1) + '\n');
writeFileSync(path.join(outDir, 'tags.json'), JSON.stringify({ SOURCE: source, cases: tags }, null, 1) + '\n');
writeFileSync(path.join(outDir, 'urls.json'), JSON.stringify({ SOURCE: source, cases: urls }, null, 1) + '\n');
console.log('definitions', definitions.length, 'tags', tags.length, 'urls', urls.length);
