// Promise.withResolvers (ES2024) is used by js-libp2p 3.x and exists from
// Node 22 on. On Node 20 define it before any libp2p module is evaluated:
// peer.mjs imports this file first.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
