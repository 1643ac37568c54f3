// run.mjs is Anya's differential DWN conformance harness. Every scenario
// sends the same signed messages (built with @tbd54566975/dwn-sdk-js 0.5.2)
// to an in-process reference `Dwn` and to a DWN over dwn-server's HTTP
// JSON-RPC API, and compares the replies after normalisation (lib/compare.mjs).
//
//   node run.mjs --url http://127.0.0.1:PORT [--tenants-file FILE] [--out results.json]
//                [--only PATTERN] [--seed STRING] [--list]
//   node run.mjs --write-tenants FILE [--seed STRING]
//
// --write-tenants writes the tenant DIDs (one per line) the run will use and
// exits; they are derived from --seed and the scenario names, so the list is
// stable. --tenants-file says the target serves exactly those DIDs (this
// enables the tenant-gate checks); without it the target must serve any DID.
// Exit code: 0 if every scenario passed, 1 if any failed, 2 on usage errors.
import { readFileSync, writeFileSync } from 'node:fs';
import { Context, tenantLabel } from './lib/context.mjs';
import { makePersona } from './lib/personas.mjs';
import { Reference } from './lib/reference.mjs';
import { Target } from './lib/target.mjs';
import { catalogue } from './scenarios/index.mjs';

const DEFAULT_SEED = 'anya-dwn-conformance-v1';

function parseArgs(argv) {
  const a = { seed: DEFAULT_SEED };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) usage(`${k} needs a value`); return argv[++i]; };
    if (k === '--url') a.url = v();
    else if (k === '--tenants-file') a.tenantsFile = v();
    else if (k === '--write-tenants') a.writeTenants = v();
    else if (k === '--out') a.out = v();
    else if (k === '--only') a.only = v();
    else if (k === '--seed') a.seed = v();
    else if (k === '--list') a.list = true;
    else if (k === '--verbose' || k === '-v') a.verbose = true;
    else usage(`unknown argument ${k}`);
  }
  return a;
}

function usage(msg) {
  if (msg) console.error(msg);
  console.error('usage: node run.mjs --url http://127.0.0.1:PORT [--tenants-file FILE] [--out results.json] [--only PATTERN] [--seed S] [--verbose]\n' +
    '       node run.mjs --write-tenants FILE [--seed S]\n       node run.mjs --list');
  process.exit(2);
}

// tenantDids lists the tenant DID of every scenario (deduplicated, in order).
function tenantDids(seed, entries) {
  const out = [];
  for (const e of entries) out.push(makePersona(tenantLabel(seed, e.name), e.tenant).did);
  return [...new Set(out)];
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let entries = catalogue();
  if (args.list) {
    for (const e of entries) console.log(e.name);
    console.log(`${entries.length} scenarios`);
    return 0;
  }
  if (args.writeTenants) {
    writeFileSync(args.writeTenants, tenantDids(args.seed, entries).join('\n') + '\n');
    console.log(`wrote ${tenantDids(args.seed, entries).length} tenant DIDs to ${args.writeTenants}`);
    return 0;
  }
  if (!args.url) usage('--url is required');
  if (args.only) {
    const re = new RegExp(args.only);
    entries = entries.filter((e) => re.test(e.name));
  }
  let tenants = null;
  if (args.tenantsFile) {
    tenants = new Set(readFileSync(args.tenantsFile, 'utf8').split(/\s+/).filter(Boolean));
    const missing = tenantDids(args.seed, entries).filter((d) => !tenants.has(d));
    if (missing.length > 0) {
      console.error(`${missing.length} scenario tenants are not in ${args.tenantsFile}; regenerate it with --write-tenants (same --seed)`);
      return 2;
    }
  }

  const target = new Target(args.url);
  const reference = await Reference.open();
  const results = [];
  let passed = 0; let failed = 0; let skipped = 0;
  try {
    for (const e of entries) {
      const t = new Context({ name: e.name, seed: args.seed, tenantKind: e.tenant, reference, target, tenants });
      let error;
      const started = Date.now();
      try {
        await e.fn(t);
      } catch (err) {
        error = String(err?.stack ?? err);
      } finally {
        await t.close();
      }
      const ok = error === undefined && t.steps.every((s) => s.status === 'pass');
      const r = { name: e.name, status: t.skipped ? 'skip' : ok ? 'pass' : 'fail', ms: Date.now() - started, steps: t.steps };
      if (error) r.error = error;
      if (t.skipped) r.skipped = t.skipped;
      results.push(r);
      if (r.status === 'skip') { skipped++; console.log(`SKIP ${e.name}: ${t.skipped}`); continue; }
      if (ok) { passed++; if (args.verbose) console.log(`ok   ${e.name}`); continue; }
      failed++;
      console.log(`FAIL ${e.name}`);
      if (error) console.log(`     error: ${error.split('\n').slice(0, 3).join(' | ')}`);
      for (const [i, s] of t.steps.entries()) {
        if (s.status === 'pass') continue;
        console.log(`     step ${i} ${s.label}: ${JSON.stringify(s.diff).slice(0, 600)}`);
      }
    }
  } finally {
    await reference.close();
  }
  const groups = {};
  for (const r of results) {
    const g = r.name.split('/')[0];
    groups[g] ??= { passed: 0, failed: 0, skipped: 0 };
    groups[g][r.status === 'pass' ? 'passed' : r.status === 'fail' ? 'failed' : 'skipped']++;
  }
  for (const [g, c] of Object.entries(groups)) {
    console.log(`${g.padEnd(22)} ${String(c.passed).padStart(4)} passed ${String(c.failed).padStart(4)} failed${c.skipped ? ` ${c.skipped} skipped` : ''}`);
  }
  if (args.out) {
    writeFileSync(args.out, JSON.stringify({ target: args.url, seed: args.seed, sdkVersion: '0.5.2', scenarios: results, groups, passed, failed, skipped }, null, 1));
  }
  if (skipped) console.log(`${skipped} skipped`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => { console.error(err); process.exit(1); });
