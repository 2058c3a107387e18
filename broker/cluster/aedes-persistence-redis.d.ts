// aedes-persistence-redis ships no types. What redis-engines.ts uses of it: the factory, with an
// ioredis connection we made (`conn`), the offline-delivery bound and the queued-message TTL. The
// instance is an aedes-persistence 11 object (promise style when called without a callback),
// handed to aedes as it is.
declare module 'aedes-persistence-redis' {
  interface RedisPersistenceOptions {
    conn: unknown;
    /** queued messages sent to a clean=false client when it connects (default 1000) */
    maxSessionDelivery?: number;
    /** seconds a queued message is kept for an absent client (0 = forever) */
    packetTTL?: (packet: unknown) => number;
  }
  const factory: (options: RedisPersistenceOptions) => Record<string, unknown>;
  export default factory;
}
