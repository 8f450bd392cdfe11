import type { StorageAdapter } from "./sendonce.js";

/** The commands sendonce needs from a node-redis (v4+) client. */
export interface NodeRedisLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/** The commands sendonce needs from an ioredis client. */
export interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
}

export interface RedisStorageOptions {
  /**
   * Put in front of every Redis key sendonce writes. Default "": sendonce's keys already start
   * with the Sendonce's `namespace` (`shop-bot:v1:...`). For a Redis shared with other apps,
   * `{ prefix: "tenant-a:" }` writes `tenant-a:shop-bot:v1:...`.
   */
  prefix?: string;
}

/** A StorageAdapter with every method, claims included. */
export type RedisStorage = Required<StorageAdapter> & {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  keys(prefix: string): Promise<string[]>;
  claim(key: string, value: string, ttlMs: number): Promise<boolean>;
  release(key: string, value: string): Promise<boolean>;
  renew(key: string, value: string, ttlMs: number): Promise<boolean>;
};

/**
 * A sendonce storage adapter over Redis for many bot processes: `SET NX PX` claims, a
 * compare-and-delete script for release, `SCAN` for keys, a time to live on every key. Redis
 * expires the keys itself, so windows and leases across processes follow Redis's clock, never
 * the processes' clocks.
 *
 * ```js
 * import { createClient } from "redis";
 * import { redisStorage } from "sendonce/redis";
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * // Keys: "shop-bot:v1:..." (the namespace is their prefix already).
 * const so = new Sendonce({ namespace: "shop-bot", storage: redisStorage(client) });
 * ```
 */
export function redisStorage(client: NodeRedisLike | IoRedisLike, options?: RedisStorageOptions): RedisStorage;
export default redisStorage;
