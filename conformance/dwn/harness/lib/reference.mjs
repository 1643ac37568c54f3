// reference.mjs runs the in-process reference: a dwn-sdk-js 0.5.2 `Dwn` on
// LevelDB stores in a temporary directory, with an uncached DID resolver
// (did:dht, did:jwk, did:key, did:web, like dwn-server) and an
// EventEmitterStream so subscriptions work.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataStoreLevel, DataStream, Dwn, EventEmitterStream, EventLogLevel,
  MessageStoreLevel, ResumableTaskStoreLevel,
} from '@tbd54566975/dwn-sdk-js';
import { DidDht, DidJwk, DidKey, DidWeb, UniversalResolver } from '@web5/dids';

// readStream collects a Node or web readable into one Buffer.
export async function readStream(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

// Reference wraps the in-process Dwn.
export class Reference {
  static async open() {
    const dir = mkdtempSync(join(tmpdir(), 'anya-dwn-ref-'));
    const dwn = await Dwn.create({
      didResolver        : new UniversalResolver({ didResolvers: [DidDht, DidJwk, DidKey, DidWeb] }),
      messageStore       : new MessageStoreLevel({ blockstoreLocation: join(dir, 'messages-blocks'), indexLocation: join(dir, 'messages-index') }),
      dataStore          : new DataStoreLevel({ blockstoreLocation: join(dir, 'data') }),
      eventLog           : new EventLogLevel({ location: join(dir, 'events') }),
      resumableTaskStore : new ResumableTaskStoreLevel({ location: join(dir, 'tasks') }),
      eventStream        : new EventEmitterStream(),
    });
    const r = new Reference();
    r.dir = dir;
    r.dwn = dwn;
    return r;
  }

  // send processes a (cloned) message with optional data bytes and returns
  // {reply, data} where reply is JSON-normalised and data is a Buffer or
  // undefined. subscriptionHandler is used for *Subscribe messages.
  async send(tenant, message, data, subscriptionHandler) {
    const options = {};
    if (data !== undefined) options.dataStream = DataStream.fromBytes(data);
    if (subscriptionHandler !== undefined) options.subscriptionHandler = subscriptionHandler;
    const reply = await this.dwn.processMessage(tenant, structuredClone(message), options);
    let bytes;
    if (reply.entry?.data !== undefined) {
      bytes = await readStream(reply.entry.data);
      delete reply.entry.data;
    }
    let close;
    if (reply.subscription?.close) {
      close = reply.subscription.close;
      delete reply.subscription.close;
    }
    return { reply: JSON.parse(JSON.stringify(reply)), data: bytes, close };
  }

  async close() {
    await this.dwn.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
