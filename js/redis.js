// sendonce/redis: a StorageAdapter over a Redis (or Valkey, or a managed Redis) client shared by
// many bot processes. It works with a node-redis (v4 and later) or an ioredis client, which the
// application creates, connects and closes; this module only sends commands:
//   get     GET
//   set     SET key value PX ttl          (every key has a time to live)
//   delete  DEL
//   keys    SCAN cursor MATCH prefix* COUNT 500 (never KEYS: it blocks the server)
//   claim   SET key value PX ttl NX       (created only when absent: one winner)
//   release a Lua script: DEL only while the key still holds this caller's value
//   renew   a Lua script: PEXPIRE only while the key still holds this caller's value

const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;
const RENEW = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;

/** Longest time to live written (30 days): records that never expire on their own (drafts)
 * still get one, so nothing stays in Redis for ever. */
const MAX_TTL_MS = 30 * 24 * 3600 * 1000;

/** A command function `(...args) => Promise<reply>` for a node-redis or an ioredis client. */
function commander(client) {
  if (client === null || typeof client !== "object") {
    throw new TypeError("redisStorage(client): client must be a node-redis or ioredis client");
  }
  // ioredis: call(command, ...args).
  if (typeof client.call === "function") {
    return (...args) => client.call(...args.map(String));
  }
  // node-redis v4 and later: sendCommand([command, ...args]).
  if (typeof client.sendCommand === "function") {
    return (...args) => client.sendCommand(args.map(String));
  }
  throw new TypeError("redisStorage(client): client must be a node-redis (v4+) or ioredis client");
}

/** `*`, `?`, `[`, `]` and `\` are pattern characters for SCAN MATCH. */
function globEscape(text) {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function ttlOf(ttlMs) {
  const n = Math.floor(Number(ttlMs));
  if (!Number.isFinite(n) || n < 1) return 1;
  return Math.min(n, MAX_TTL_MS);
}

function text(reply) {
  if (reply === null || reply === undefined) return null;
  return typeof reply === "string" ? reply : String(reply);
}

/**
 * A sendonce StorageAdapter over Redis, with atomic claims.
 * The keys sendonce writes already start with the Sendonce's namespace (`shop-bot:v1:...`), so
 * by default nothing is put in front of them; `prefix` is for a Redis shared with other apps
 * (`{ prefix: "tenant-a:" }` writes `tenant-a:shop-bot:v1:...`).
 * @param {object} client a connected node-redis (v4+) or ioredis client
 * @param {{ prefix?: string }} [options] put in front of every Redis key (default "")
 */
export function redisStorage(client, options = {}) {
  const cmd = commander(client);
  const prefix = options.prefix ?? "";
  if (typeof prefix !== "string") throw new TypeError("redisStorage: options.prefix must be a string");
  const k = (key) => prefix + key;
  return {
    async get(key) {
      return text(await cmd("GET", k(key)));
    },
    async set(key, value, ttlMs) {
      await cmd("SET", k(key), value, "PX", ttlOf(ttlMs));
    },
    async delete(key) {
      await cmd("DEL", k(key));
    },
    async keys(start) {
      const out = [];
      let cursor = "0";
      const match = globEscape(prefix + start) + "*";
      do {
        const [next, batch] = await cmd("SCAN", cursor, "MATCH", match, "COUNT", 500);
        cursor = text(next);
        for (const key of batch) out.push(text(key).slice(prefix.length));
      } while (cursor !== "0");
      return [...new Set(out)];
    },
    async claim(key, value, ttlMs) {
      return text(await cmd("SET", k(key), value, "PX", ttlOf(ttlMs), "NX")) === "OK";
    },
    async release(key, value) {
      return Number(await cmd("EVAL", RELEASE, 1, k(key), value)) === 1;
    },
    async renew(key, value, ttlMs) {
      return Number(await cmd("EVAL", RENEW, 1, k(key), value, ttlOf(ttlMs))) === 1;
    },
  };
}

export default redisStorage;
