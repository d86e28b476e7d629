import { customToJSON, pinToJSON, serializesItself, unboxed } from './serialized.ts';
import { FALLBACK, type TextScrub } from './text-scrub.ts';

// Walking values for the scrubber: what in strings, arrays, plain objects, errors, bytes, RegExps,
// Maps and Sets (and what a `toJSON` writes) a text search must see, and the scrubbed copy of it.

/** A value scrubbed by walking it; each text in it goes to the text search. */
export interface ValueScrub {
  /** Whether anything remembered occurs in `input`, or could (a getter, a `toJSON`). */
  test(input: unknown): boolean;
  /** `input` scrubbed: a copy of what changes, errors in place (see `SecretScrubber.value`). */
  copy(input: unknown): unknown;
}

/** The walk over values, searching their texts with `text`. */
export function valueScrub(text: Pick<TextScrub, 'occurs' | 'replace'>): ValueScrub {
  const { occurs, replace } = text;

  const test = (input: unknown, seen: Set<object>): boolean => {
    if (typeof input === 'string') return occurs(input);
    if (typeof input !== 'object' || input === null || seen.has(input)) return false;
    seen.add(input);
    // What `toJSON` would write is known only by calling it: copy it (calling it once).
    if (serializesItself(input)) return true;
    const bytes = bytesOf(input);
    if (bytes !== undefined) return occurs(bytes.toString('latin1'));
    if (input instanceof RegExp) return occurs(input.source);
    if (input instanceof Map) {
      for (const [key, item] of input) if (test(key, seen) || test(item, seen)) return true;
      return false;
    }
    if (input instanceof Set) {
      for (const item of input) if (test(item, seen)) return true;
      return false;
    }
    if (input instanceof Error) {
      if (occurs(String(input.name)) || occurs(String(input.message)) || occurs(String(input.stack ?? '')))
        return true;
      if ('cause' in input && test(input.cause, seen)) return true;
      if (input instanceof AggregateError && test(input.errors, seen)) return true;
      return Object.keys(input).some((key) => test((input as unknown as Record<string, unknown>)[key], seen));
    }
    if (Array.isArray(input)) return input.some((item) => test(item, seen));
    if (!isPlain(input)) return false;
    for (const key of Reflect.ownKeys(input)) {
      if (typeof key === 'string' && occurs(key)) return true;
      const descriptor = Reflect.getOwnPropertyDescriptor(input, key)!;
      // A getter could answer differently next time: copy it (calling it once) rather than trust it.
      if (!('value' in descriptor) || test(descriptor.value, seen)) return true;
    }
    return false;
  };

  // `key` is the property holding `input`, for its `toJSON`, as `JSON.stringify` passes it.
  const copy = (input: unknown, copies: Map<object, unknown>, key: string): unknown => {
    if (typeof input === 'string') return replace(input);
    if (typeof input !== 'object' || input === null) return input;
    const done = copies.get(input);
    if (done !== undefined) return done;
    if (input instanceof Error) return scrubError(input, copies);
    const toJSON = customToJSON(input);
    if (toJSON !== undefined) return serialized(input, toJSON, key, copies);
    const whole = copyWhole(input, copies);
    if (whole !== input) {
      copies.set(input, whole);
      return whole;
    }
    if (Array.isArray(input)) {
      const result: unknown[] = [];
      copies.set(input, result);
      for (let i = 0; i < input.length; i++) result.push(copy(input[i], copies, String(i)));
      return result;
    }
    if (!isPlain(input)) return input;
    const result: Record<string, unknown> = Object.getPrototypeOf(input) === null ? Object.create(null) : {};
    copies.set(input, result);
    copyFields(input, result, copies, false);
    return result;
  };

  // Bytes (read one character a byte), a RegExp's source, a Map's and a Set's entries: a copy
  // when something occurs in them, else `input`.
  const copyWhole = (input: object, copies: Map<object, unknown>): unknown => {
    const bytes = bytesOf(input);
    if (bytes !== undefined) {
      const text = bytes.toString('latin1');
      const scrubbed = replace(text);
      return scrubbed === text ? input : bytesLike(input, Buffer.from(scrubbed, 'latin1'));
    }
    if (input instanceof RegExp) {
      const scrubbed = replace(input.source);
      if (scrubbed === input.source) return input;
      try {
        return new RegExp(scrubbed, input.flags);
      } catch {
        return new RegExp(FALLBACK.replace(/[[\]]/g, '\\$&'), input.flags);
      }
    }
    if (input instanceof Map) {
      if (!test(input, new Set())) return input;
      const result = new Map<unknown, unknown>();
      copies.set(input, result);
      for (const [key, item] of input) result.set(copy(key, copies, ''), copy(item, copies, ''));
      return result;
    }
    if (input instanceof Set) {
      if (!test(input, new Set())) return input;
      const result = new Set<unknown>();
      copies.set(input, result);
      for (const item of input) result.add(copy(item, copies, ''));
      return result;
    }
    return input;
  };

  const copyFields = (input: object, result: object, copies: Map<object, unknown>, json: boolean) => {
    for (const key of Object.keys(input)) {
      const value = (input as Record<string, unknown>)[key];
      // `JSON.stringify` leaves functions out; a `toJSON` kept in the copy would be called again.
      if (json && typeof value === 'function') continue;
      Object.defineProperty(result, replace(key), {
        value: copy(value, copies, key),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  };

  // What `JSON.stringify` writes for `input`: its `toJSON` called once, the answer taken as data
  // (its own `toJSON` is not called again, as `JSON.stringify` does not), scrubbed.
  const serialized = (
    input: object,
    toJSON: (key: string) => unknown,
    key: string,
    copies: Map<object, unknown>,
  ): unknown => {
    let json: unknown;
    try {
      json = Reflect.apply(toJSON, input, [key]);
    } catch {
      copies.set(input, FALLBACK);
      return FALLBACK;
    }
    if (typeof json !== 'object' || json === null) {
      const result = typeof json === 'string' ? replace(json) : json;
      copies.set(input, result);
      return result;
    }
    const done = copies.get(json);
    if (done !== undefined) return done;
    const boxed = unboxed(json);
    if (boxed !== json) return copy(boxed, copies, key);
    const result: unknown[] | Record<string, unknown> = Array.isArray(json) ? [] : {};
    copies.set(input, result);
    copies.set(json, result);
    if (Array.isArray(result))
      for (let i = 0; i < (json as unknown[]).length; i++)
        result.push(copy((json as unknown[])[i], copies, String(i)));
    else copyFields(json, result, copies, true);
    return result;
  };

  // In place, so the caller can rethrow the same object; a frozen error is replaced by a new one.
  const scrubError = (error: Error, copies: Map<object, unknown>): Error => {
    copies.set(error, error);
    const originalName = String(error.name);
    const name = replace(originalName);
    const message = replace(String(error.message));
    const stack = typeof error.stack === 'string' ? replace(error.stack) : undefined;
    let ok = setOwn(error, 'message', message) && (stack === undefined || setOwn(error, 'stack', stack));
    // Only when it changed: a name the class gives stays on the class.
    if (name !== originalName) ok = setOwn(error, 'name', name) && ok;
    if ('cause' in error) ok = setOwn(error, 'cause', copy(error.cause, copies, 'cause')) && ok;
    for (const key of Object.keys(error)) {
      if (key === 'message' || key === 'stack' || key === 'cause' || key === 'name') continue;
      ok = setOwn(error, key, copy((error as unknown as Record<string, unknown>)[key], copies, key)) && ok;
    }
    if (error instanceof AggregateError)
      ok = setOwn(error, 'errors', copy(error.errors, copies, 'errors')) && ok;
    const toJSON = customToJSON(error);
    if (toJSON !== undefined) {
      // What it writes is fixed now, scrubbed: its own `toJSON` gives that from then on.
      const json = serialized(error, toJSON, '', new Map<object, unknown>([[error, error]]));
      ok = pinToJSON(error, json) && ok;
    }
    if (ok) return error;
    const replacement = new Error(message);
    replacement.name = name;
    if (stack !== undefined) replacement.stack = stack;
    copies.set(error, replacement);
    return replacement;
  };

  return {
    test: (input) => test(input, new Set()),
    copy: (input) => copy(input, new Map(), ''),
  };
}

/** The bytes of a Buffer, typed array, DataView or ArrayBuffer (not copied), else `undefined`. */
function bytesOf(value: object): Buffer | undefined {
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return undefined;
}

/** `bytes` as the kind of object `like` is (a typed array of wider units padded with zeros). */
function bytesLike(like: object, bytes: Buffer): unknown {
  if (Buffer.isBuffer(like)) return bytes;
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  if (like instanceof ArrayBuffer) return buffer;
  if (like instanceof DataView) return new DataView(buffer);
  const Typed = (like as { constructor: new (buffer: ArrayBuffer) => unknown }).constructor;
  const unit = (like as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (unit === 1) return new Typed(buffer);
  const padded = new ArrayBuffer(Math.ceil(bytes.length / unit) * unit);
  new Uint8Array(padded).set(bytes);
  return new Typed(padded);
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Sets an own data property, keeping its enumerability; `false` when the object refuses. */
function setOwn(target: object, key: string, value: unknown): boolean {
  const descriptor = Reflect.getOwnPropertyDescriptor(target, key);
  if (descriptor !== undefined && 'value' in descriptor && descriptor.value === value) return true;
  return Reflect.defineProperty(target, key, {
    value,
    writable: true,
    configurable: true,
    enumerable: descriptor?.enumerable ?? false,
  });
}
