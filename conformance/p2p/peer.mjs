// A js-libp2p peer for Anya's p2p conformance test (js_test.go).
//
//   node peer.mjs [--anya <multiaddr/p2p/id>] [--forge] [--timeout-ms N]
//
// It prints one JSON object per line on stdout ({"event": …}) and reads
// commands, one JSON object per line, on stdin until stdin closes:
//   {"cmd":"dial","addr":"/ip4/127.0.0.1/tcp/…/p2p/…"}
//   {"cmd":"publish","data":"…","waitFor":"<peer ID>"}   (gossip)
//   {"cmd":"get","did":"did:key:…"}                       (DHT get + verify)
// Works on Node 22, and on Node 20 through polyfill.mjs.
import './polyfill.mjs'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { gossipsub } from '@libp2p/gossipsub'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import readline from 'node:readline'
import { verifyRecord, recordKey, didKeyFromEd25519, didValidator, didSelector, forgeRecord } from './didrecord.mjs'

export const TOPIC = '/anya/oracle/announcements/1'
export const DHT_PROTOCOL = '/anya/kad/1.0.0'

// Golden vector of p2p/didrecord_test.go (goldenRecord, signed at t0 =
// 2026-01-02T03:04:05Z, seq 7, expiring an hour later). js_test.go checks
// that this copy still equals the Go one.
export const GOLDEN_RECORD = '{"payload":"eyJ2IjoxLCJkaWQiOiJkaWQ6a2V5Ono2TWtzcEZCdW1mMVpwTHg0WVhYM0s1Q25QVjFyVGZFN3RtUFY5SlZjdmE4clljYSIsImtpZCI6ImRpZDprZXk6ejZNa3NwRkJ1bWYxWnBMeDRZWFgzSzVDblBWMXJUZkU3dG1QVjlKVmN2YThyWWNhI3o2TWtzcEZCdW1mMVpwTHg0WVhYM0s1Q25QVjFyVGZFN3RtUFY5SlZjdmE4clljYSIsInBlZXIiOiIxMkQzS29vV0QzZWNraWZXcFJuOXdRcE1HOVI5aFgzc0QxNTh6N0VxSFdtd2VRQUpVNVNBIiwiYWRkcnMiOlsiL2lwNC8xMjcuMC4wLjEvdGNwLzQ0MjAiXSwic2VydmljZXMiOlt7ImlkIjoiI2R3biIsInR5cGUiOiJEZWNlbnRyYWxpemVkV2ViTm9kZSIsImVuZHBvaW50IjoiaHR0cDovLzEyNy4wLjAuMTozMDAwIn1dLCJzZXEiOjcsImV4cCI6MTc2NzMyNjY0NTAwMH0","sig":"q1qOMTsqhFwls7I-trE60tjgyymiPKvydHTp-un2FmZIWtE5IxO60n0-oesvPeyW3nIkr30Jis0s2Bkd-IW_CQ"}'
const GOLDEN_T0 = Date.UTC(2026, 0, 2, 3, 4, 5)

const emit = (event, fields = {}) => process.stdout.write(JSON.stringify({ event, t: Date.now(), ...fields }) + '\n')
const errText = (err) => err?.message ?? String(err)

function checkGolden () {
  const v = Buffer.from(GOLDEN_RECORD, 'utf8')
  const pl = JSON.parse(Buffer.from(JSON.parse(GOLDEN_RECORD).payload, 'base64url').toString('utf8'))
  const key = recordKey(pl.did)
  const rec = verifyRecord(key, v, GOLDEN_T0)
  const want = { seq: 7, exp: GOLDEN_T0 + 3600_000, peer: '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA' }
  for (const [k, w] of Object.entries(want)) {
    if (rec[k] !== w) throw new Error(`golden ${k} = ${rec[k]}, want ${w}`)
  }
  if (rec.addrs.length !== 1 || rec.addrs[0] !== '/ip4/127.0.0.1/tcp/4420') throw new Error(`golden addrs ${rec.addrs}`)
  // The negative cases must fail: expired, tampered signature, other key.
  const mustFail = (what, fn) => {
    try { fn() } catch { return }
    throw new Error(`golden: ${what} verified`)
  }
  mustFail('expired', () => verifyRecord(key, v, want.exp))
  const env = JSON.parse(GOLDEN_RECORD)
  const sig = Buffer.from(env.sig, 'base64url'); sig[0] ^= 1
  mustFail('tampered sig', () => verifyRecord(key, Buffer.from(JSON.stringify({ ...env, sig: sig.toString('base64url') })), GOLDEN_T0))
  mustFail('other key', () => verifyRecord('/did/z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp', v, GOLDEN_T0))
  mustFail('forged', () => verifyRecord(key, forgeRecord(key, rec, 8), GOLDEN_T0))
  return { did: pl.did, seq: rec.seq }
}

function parseArgs (argv) {
  const o = { anya: null, forge: false, timeoutMs: 30_000 }
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--anya': o.anya = argv[++i]; break
      case '--forge': o.forge = true; break
      case '--timeout-ms': o.timeoutMs = Number(argv[++i]); break
      default: throw new Error(`unknown argument ${argv[i]}`)
    }
  }
  return o
}

/** Gets key from the DHT and returns the verified best record (or throws). */
async function dhtGet (node, key, signal) {
  let last = null
  for await (const ev of node.services.dht.get(new TextEncoder().encode(key), { signal })) {
    if (ev.name === 'VALUE') last = ev
  }
  if (last == null) throw new Error(`no value for ${key}`)
  return { rec: verifyRecord(key, last.value), from: last.from?.toString() }
}

/** Polls dhtGet until a valid record arrives or timeoutMs passes. */
async function pollGet (node, key, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  let lastErr
  while (Date.now() < deadline) {
    try {
      return await dhtGet(node, key, AbortSignal.timeout(Math.max(1000, deadline - Date.now())))
    } catch (err) {
      lastErr = err
      await new Promise(resolve => setTimeout(resolve, 100)) // poll interval
    }
  }
  throw new Error(`no valid record for ${key} within ${timeoutMs} ms: ${errText(lastErr)}`)
}

async function main () {
  const opts = parseArgs(process.argv.slice(2))
  emit('golden', { ok: true, ...checkGolden() })

  // Our own datastore, so we can see what js kad-dht stores locally.
  const datastore = new MemoryDatastore()
  const node = await createLibp2p({
    datastore,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ streamOptions: { maxReadBufferLength: 17 << 20 } })],
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        validators: { did: didValidator },
        selectors: { did: didSelector },
        allowQueryWithZeroPeers: true
      }),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false })
    }
  })
  node.services.pubsub.addEventListener('message', (evt) => {
    const m = evt.detail
    if (m.topic !== TOPIC) return
    emit('gossip', { topic: m.topic, from: m.type === 'signed' ? m.from.toString() : null, signed: m.type === 'signed', data: new TextDecoder().decode(m.data) })
  })
  node.services.pubsub.subscribe(TOPIC)
  emit('started', { peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(a => a.toString()), node: process.version })

  let stopping = false
  const stop = async (code) => {
    if (stopping) return
    stopping = true
    await node.stop().catch(() => {})
    process.exit(code)
  }
  process.on('SIGTERM', () => stop(0))

  if (opts.anya) {
    const ma = multiaddr(opts.anya)
    const t = Date.now()
    await node.dial(ma)
    const anyaPeer = peerIdFromString(ma.getComponents().findLast(c => c.name === 'p2p').value)
    emit('connected', { peer: anyaPeer.toString(), ms: Date.now() - t })

    // The node's DID key is its host key: derive the DID from the peer ID.
    const did = didKeyFromEd25519(anyaPeer.publicKey.raw)
    const key = recordKey(did)
    const { rec, from } = await pollGet(node, key, opts.timeoutMs)
    emit('didrecord', { ok: true, did: rec.did, key, seq: rec.seq, exp: rec.exp, peer: rec.peer, addrs: rec.addrs, from, value: rec.value.toString('utf8') })

    if (opts.forge) {
      const forged = forgeRecord(key, rec, rec.seq + 1000)
      let rejectedLocally = false
      try { verifyRecord(key, forged) } catch { rejectedLocally = true }
      let putErr = null
      let sentTo = 0
      try {
        for await (const ev of node.services.dht.put(new TextEncoder().encode(key), forged, { signal: AbortSignal.timeout(10_000) })) {
          if (ev.name === 'PEER_RESPONSE') sentTo++
          if (ev.name === 'QUERY_ERROR') putErr = errText(ev.error)
        }
      } catch (err) {
        putErr = errText(err)
      }
      // js kad-dht stores its own put without validating it, and serves it to
      // peers: Anya must still answer with the genuine record. (A dht.get
      // here would make js correct its own copy, so the check of js's
      // selector is the later "get" command.)
      let localHoldsForged = false
      for await (const { value } of datastore.query({ prefix: '/dht/record' })) {
        if (Buffer.from(value).includes(forged)) localHoldsForged = true
      }
      emit('forged_put', { key, seq: rec.seq + 1000, rejectedLocally, putErr, peerResponses: sentTo, localHoldsForged })
    }
  }

  const rl = readline.createInterface({ input: process.stdin })
  rl.on('close', () => stop(0))
  for await (const line of rl) {
    if (line.trim() === '') continue
    let cmd
    try {
      cmd = JSON.parse(line)
      switch (cmd.cmd) {
        case 'dial': {
          await node.dial(multiaddr(cmd.addr))
          emit('dialed', { addr: cmd.addr })
          break
        }
        case 'publish': {
          // With waitFor, publish (again, polling) until that peer is among
          // the recipients: js may learn of the peer's subscription before
          // its own outbound gossipsub stream to that peer is open, and a
          // message published then reaches nobody.
          const deadline = Date.now() + (cmd.timeoutMs ?? 10_000)
          let res
          for (;;) {
            const subscribed = cmd.waitFor == null || node.services.pubsub.getSubscribers(TOPIC).some(p => p.toString() === cmd.waitFor)
            if (subscribed) {
              res = await node.services.pubsub.publish(TOPIC, new TextEncoder().encode(cmd.data))
              if (cmd.waitFor == null || res.recipients.some(p => p.toString() === cmd.waitFor)) break
            }
            if (Date.now() > deadline) throw new Error(`could not publish to ${cmd.waitFor} on ${TOPIC}: ${subscribed ? 'not a recipient' : 'not subscribed'}`)
            await new Promise(resolve => setTimeout(resolve, 20)) // poll interval
          }
          emit('published', { data: cmd.data, recipients: res.recipients.map(p => p.toString()) })
          break
        }
        case 'get': {
          const key = recordKey(cmd.did)
          const { rec, from } = await pollGet(node, key, cmd.timeoutMs ?? opts.timeoutMs)
          emit('didrecord', { ok: true, did: rec.did, key, seq: rec.seq, exp: rec.exp, peer: rec.peer, addrs: rec.addrs, from, value: rec.value.toString('utf8') })
          break
        }
        default:
          throw new Error(`unknown command ${cmd.cmd}`)
      }
    } catch (err) {
      emit('error', { cmd: cmd?.cmd ?? null, error: errText(err) })
    }
  }
}

main().catch((err) => {
  emit('fatal', { error: errText(err), stack: err?.stack })
  process.exit(1)
})
