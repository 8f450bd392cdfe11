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
  /** Prefix of every Redis key sendonce writes. Default "sendonce:". */
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
 * compare-and-delete script for release, `SCAN` for keys, a time to live on every key.
 *
 * ```js
 * import { createClient } from "redis";
 * import { redisStorage } from "sendonce/redis";
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const so = new Sendonce({ namespace: "bot", storage: redisStorage(client, { prefix: "shop:" }) });
 * ```
 */
export function redisStorage(client: NodeRedisLike | IoRedisLike, options?: RedisStorageOptions): RedisStorage;
export default redisStorage;
