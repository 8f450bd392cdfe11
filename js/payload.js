// The strict payload walk of src/platform/convert.rs (`to_json`), in JS: one pass over the
// value on this side of the wasm boundary, instead of a boundary crossing (a `Reflect` call)
// per key, item and type check. It decides nothing: it writes the JSON text exactly as
// `JSON.stringify` would (same member order, numbers and escapes), reading every property once,
// or stops at the first value JSON cannot hold and says where and why; the Rust side turns that
// into the SendonceError and parses the text with the core JSON parser.
//
// It never throws: whatever the page's getters, proxies or `toJSON` do is caught where it
// happens and reported with its path.

const MAX_DEPTH = 64; // core::json::MAX_DEPTH
const NAMES_KEPT = 1024;
// Taken once, as the page found them when the module loaded.
const { apply } = Reflect;
const { isArray } = Array;
const { keys } = Object;
const { isFinite } = Number;
const { stringify } = JSON;
const objectToString = Object.prototype.toString;
const isWellFormed = String.prototype.isWellFormed;
// Values that JSON.stringify would send as {} or drop (the names Object.prototype.toString gives).
const REFUSED = new Set(["Map", "Set", "WeakMap", "WeakSet", "WeakRef", "ArrayBuffer", "SharedArrayBuffer", "DataView", "Promise", "RegExp", "Error", "Symbol", "BigInt", "Blob", "File", "FormData", "URLSearchParams", "Headers", "Request", "Response"]);
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;
// Engines without `isWellFormed` (before 2023) also lack look-behind: a low surrogate alone is
// one at the start or after anything but a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/;
/** True when the string `s` has no lone surrogate (the wasm checks its string arguments here). */
export const wellFormed = isWellFormed ? (s) => apply(isWellFormed, s, []) : (s) => !LONE_SURROGATE.test(s);

// What `Object.prototype.toString` says a value is ("[object Map]" -> "Map"), remembered per
// tag: a payload's objects give the same few tags over and over.
const KINDS = new Map();
function kindOf(tag) {
  let kind = KINDS.get(tag);
  if (kind === undefined) {
    kind = tag.startsWith("[object ") && tag.endsWith("]") ? tag.slice(8, -1) : "Object";
    // A Symbol.toStringTag may give any tag: only a few short ones are remembered.
    if (KINDS.size < 64 && tag.length <= 64) KINDS.set(tag, kind);
  }
  return kind;
}

/** Thrown inside the walk only, caught by `payloadJson`. */
class Stop {
  constructor(failure) {
    this.failure = failure;
  }
}

/**
 * `value` as JSON text of at most `max` UTF-16 units (a lower bound of its UTF-8 bytes), or
 * why not: `{ reason, path, kind?, error?, size? }`. `path` is the JSON path as steps (a
 * string for a member, a number for an index). `reason` is one of "deep", "surrogate",
 * "number" (NaN or Infinity), "bigint", "symbol", "function", "unknown" (no JSON type),
 * "boxed" (does not unbox), "refused" and "typed" (with `kind`: Map, Uint8Array, ...),
 * "cycle", "too_large" (with `size`, a lower bound), "property" / "to_json" / "item" /
 * "member" / "keys" (reading it threw `error`) and "stringify" (what JSON.stringify itself
 * reads threw `error`: an array's length, a boxed value's unboxing).
 *
 * @param {unknown} value
 * @param {number} max
 * @returns {string | { reason: string, path: (string | number)[], kind?: string, error?: unknown, size?: number }}
 */
export function payloadJson(value, max) {
  let out = "";
  const path = [];
  const ancestors = [];

  const fail = (reason, more) => {
    throw new Stop({ reason, path: path.slice(), ...more });
  };
  const add = (text) => {
    out += text;
    if (out.length > max) fail("too_large", { size: out.length });
  };
  // Page code (a getter, a proxy trap, toJSON) runs inside `try`: what it throws is a
  // failure of `reason` at the current path.
  const threw = (reason, error) => fail(reason, { error });

  // `s` as a JSON string literal.
  const quote = (s) => {
    if (out.length + s.length + 2 > max) fail("too_large", { size: out.length + s.length + 2 });
    if (!wellFormed(s)) fail("surrogate");
    return NEEDS_ESCAPE.test(s) ? stringify(s) : `"${s}"`;
  };
  const string = (s) => add(quote(s));
  // Member names repeat from item to item (every order line has "sku", "qty"...): the first
  // NAMES_KEPT of them are checked and quoted once per walk. (Never sliced back out of `out`:
  // that flattens the whole text each time, quadratic on an object of many names.)
  const names = new Map();
  const name = (k) => {
    let text = names.get(k);
    if (text === undefined) {
      text = quote(k);
      if (names.size < NAMES_KEPT) names.set(k, text);
    }
    add(text);
  };

  // Writes `v`, found under `key` ("" at the top, a number for an array item), `depth`
  // containers deep; false when it writes nothing (a toJSON gave undefined), where
  // JSON.stringify leaves a member out.
  const write = (v, key, depth, toJSON) => {
    if (depth >= MAX_DEPTH) fail("deep");
    switch (typeof v) {
      case "string":
        string(v);
        return true;
      case "number":
        if (!isFinite(v)) fail("number");
        add(`${v}`); // JSON.stringify's spelling; -0 is "0"
        return true;
      case "boolean":
        add(v ? "true" : "false");
        return true;
      case "bigint":
        return fail("bigint");
      case "symbol":
        return fail("symbol");
      case "function":
        return fail("function");
      case "undefined":
        if (v !== undefined) fail("unknown"); // document.all
        return false;
      case "object":
        if (v === null) {
          add("null");
          return true;
        }
        break;
      default:
        fail("unknown");
    }
    if (toJSON) {
      let f, replaced;
      try {
        f = v.toJSON;
      } catch (e) {
        threw("property", e);
      }
      if (typeof f === "function") {
        try {
          replaced = apply(f, v, [`${key}`]);
        } catch (e) {
          threw("to_json", e);
        }
        return write(replaced, key, depth, false);
      }
    }
    let tag = "";
    try {
      tag = apply(objectToString, v, []);
    } catch {
      // A revoked proxy: treated as a plain object, whose keys then fail to list.
    }
    const kind = kindOf(tag);
    if (kind === "Number" || kind === "String" || kind === "Boolean") {
      // Boxed primitives: checked as what `valueOf` gives, written as JSON.stringify unboxes
      // them (its own rules: `toString` for a String).
      let inner = null;
      try {
        inner = v.valueOf();
      } catch {
        // No unboxing: null, refused below like any other value that does not unbox.
      }
      if (typeof inner === "object" && inner !== null) fail("boxed");
      const start = out;
      write(inner, key, depth, false);
      let text;
      try {
        text = stringify(v);
      } catch (e) {
        threw("stringify", e);
      }
      out = start;
      add(text ?? "null");
      return true;
    }
    if (REFUSED.has(kind)) fail("refused", { kind });
    if (kind.endsWith("Array") && kind !== "Array") fail("typed", { kind });
    if (ancestors.includes(v)) fail("cycle");
    let list = false;
    try {
      list = isArray(v);
    } catch {
      // A revoked proxy: an object.
    }
    ancestors.push(v);
    if (list) array(v, depth);
    else object(v, depth);
    ancestors.pop();
    return true;
  };

  const array = (v, depth) => {
    let len;
    try {
      len = v.length;
      if (typeof len !== "number") len = Number(len); // a proxy's; as JSON.stringify reads it
    } catch (e) {
      threw("stringify", e);
    }
    len = len > 0 ? Math.floor(len) : 0;
    // Each item takes at least one character and a comma: refuse a huge length before looking.
    if (out.length + 2 * len + 1 > max) fail("too_large", { size: out.length + 2 * len + 1 });
    add("[");
    for (let i = 0; i < len; i++) {
      path.push(i);
      let item;
      try {
        item = v[i];
      } catch (e) {
        threw("item", e);
      }
      if (i > 0) add(",");
      if (!write(item, i, depth + 1, true)) add("null");
      path.pop();
    }
    add("]");
  };

  const object = (v, depth) => {
    let names;
    try {
      names = keys(v);
    } catch (e) {
      threw("keys", e);
    }
    add("{");
    let first = true;
    for (let i = 0; i < names.length; i++) {
      const k = names[i];
      path.push(k);
      let item;
      try {
        item = v[k];
      } catch (e) {
        threw("member", e);
      }
      if (item !== undefined) {
        // Left out, as JSON.stringify does, when it is or becomes (toJSON) undefined.
        const start = out;
        if (!first) add(",");
        name(k);
        add(":");
        if (write(item, k, depth + 1, true)) first = false;
        else out = start;
      }
      path.pop();
    }
    add("}");
  };

  try {
    return write(value, "", 0, true) ? out : "null";
  } catch (e) {
    if (e instanceof Stop) return e.failure;
    // Not expected (the page's code runs inside `try`): an engine error such as a stack overflow.
    return { reason: "stringify", path: [], error: e };
  }
}
