import { parseDuration } from '../_internal/duration.ts';
import { checkedClock } from '../_internal/host-functions.ts';
import { ConfigurationError } from '../errors.ts';
import type { Duration } from '../types.ts';
import { secretForms } from './encodings.ts';
import { escapedParts, joinedLines, lineBreaks, sourceSpan, unescapedViews } from './escapes.ts';
import { customToJSON, pinToJSON, serializesItself, unboxed } from './serialized.ts';
import { type Match, type Pattern, PatternSet, WINDOW } from './text-search.ts';
import { checkSecretName, LONE_SURROGATE } from './types.ts';

/** Options of `secretScrubber`. */
export interface SecretScrubberOptions {
  /** How long a handed-out value is still scrubbed after it was last handed out. @default '24h' */
  readonly retention?: Duration;
  /** Values kept at most; past it the oldest is forgotten first. @default 100_000 */
  readonly maxValues?: number;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/**
 * Replaces secret values, and their common encodings, by `[secret:name]` in what a guard returns
 * or records. See `secretForms` for what is covered.
 */
export interface SecretScrubber {
  /**
   * Remembers a value handed out under `name` (again: its retention starts over). Throws a
   * TypeError for a value shorter than 8 characters (too short to find reliably) or one that
   * would be found inside a marker.
   */
  add(name: string, value: string): void;
  /** `input` with every remembered value and encoding replaced; the same string when none occurs. */
  text(input: string): string;
  /**
   * Scrubs strings, arrays and plain objects (keys and values) deeply, and errors in place
   * (`name`, `message`, `stack`, `cause`, `errors`, their own properties). Returns `input` itself
   * when nothing occurs in it; otherwise a scrubbed copy (errors stay the same objects). A value
   * with its own `toJSON` (any but a plain Date's) is what `JSON.stringify` would write: it is
   * replaced by the scrubbed result of calling its `toJSON` once, or by `[secret:scrubbed]` when
   * that throws; an error's `toJSON` is replaced by one giving that result. Bytes (a Buffer, typed
   * array, DataView or ArrayBuffer, read one character a byte), a RegExp's source, and a Map's or
   * Set's entries are copied when something occurs in them (a scrubbed copy of the same kind).
   * Other objects (class instances) are returned as they are: give it a snapshot.
   */
  value<T>(input: T): T;
  /**
   * Whether anything remembered occurs in `input` (strings, arrays, plain objects, errors, bytes,
   * RegExps, Maps, Sets), or could (a getter, a `toJSON`): `value` would copy it.
   */
  test(input: unknown): boolean;
  /** Values remembered now. */
  readonly size: number;
}

/** Shortest value the scrubber accepts. */
export const MIN_SECRET_LENGTH: number = WINDOW;
const MAX_PASSES = 4;
/**
 * What a text becomes when replacing keeps producing new occurrences (only contrived values do),
 * and what a value whose `toJSON` throws becomes: withheld, since what it would write is unknown.
 */
export const FALLBACK = '[secret:scrubbed]';

interface Entry {
  readonly name: string;
  readonly value: string;
  readonly patterns: Pattern<string>[];
  at: number;
}

/**
 * The scrubber behind the guard's `secrets` option; usable on its own.
 *
 * @example
 * const scrub = secretScrubber();
 * scrub.add('stripe', 'sk_live_abc123def456');
 * scrub.text(`key=sk_live_abc123def456`);   // 'key=[secret:stripe]'
 */
export function secretScrubber(options: SecretScrubberOptions = {}): SecretScrubber {
  const retentionMs = parseDuration(options.retention ?? '24h', 'scrubRetention');
  const maxValues = options.maxValues ?? 100_000;
  if (!Number.isSafeInteger(maxValues) || maxValues < 1)
    throw new ConfigurationError('maxValues must be a positive integer');
  const now = checkedClock(options.now ?? Date.now, 'secretScrubber');
  // Insertion order is refresh order: the oldest entries come first.
  const entries = new Map<string, Entry>();
  const patterns = new PatternSet<string>();
  const markers = new Set<string>();
  // The longest form ever added (it is not lowered when values are forgotten: only searched wider).
  let longest = 0;
  // Whether a value with a space was ever added (form encoding's `+` is then read as one too).
  let spaced = false;

  const forget = (key: string, entry: Entry) => {
    entries.delete(key);
    for (const pattern of entry.patterns) patterns.delete(pattern);
  };
  const expire = () => {
    const limit = now() - retentionMs;
    for (const [key, entry] of entries) {
      if (entry.at > limit && entries.size <= maxValues) break;
      forget(key, entry);
    }
  };

  // Every occurrence, in the text, in its decoded views and across its line breaks (mapped back
  // onto the text).
  const find = (text: string): Match<string>[] => {
    const starts: number[] = [];
    const matches = patterns.find(text, starts);
    const views = unescapedViews(text, { plus: spaced });
    const regions = brokenRegions(text, starts);
    if (views.length === 0 && regions.length === 0) return matches;
    for (const view of views) {
      const parts = escapedParts(view, longest);
      for (let k = 0; k < parts.length; k += 2) {
        const offset = parts[k]!;
        for (const match of patterns.find(view.text.slice(offset, parts[k + 1]))) {
          const [start, end] = sourceSpan(view, offset + match.start, offset + match.end);
          matches.push({ start, end, owner: match.owner });
        }
      }
    }
    for (let k = 0; k < regions.length; k += 2) {
      const offset = regions[k]!;
      const view = joinedLines(text.slice(offset, regions[k + 1]))!;
      for (const match of patterns.find(view.text)) {
        const [start, end] = sourceSpan(view, match.start, match.end);
        matches.push({ start: offset + start, end: offset + end, owner: match.owner });
      }
    }
    return matches.sort((a, b) => a.start - b.start || b.end - a.end);
  };
  const occurs = (text: string): boolean => {
    const starts: number[] = [];
    if (patterns.test(text, starts)) return true;
    for (const view of unescapedViews(text, { plus: spaced })) {
      const parts = escapedParts(view, longest);
      for (let k = 0; k < parts.length; k += 2)
        if (patterns.test(view.text.slice(parts[k], parts[k + 1]))) return true;
    }
    const regions = brokenRegions(text, starts);
    for (let k = 0; k < regions.length; k += 2)
      if (patterns.test(joinedLines(text.slice(regions[k], regions[k + 1]))!.text)) return true;
    return false;
  };

  /**
   * The parts of `text` around the line breaks a pattern could run across, as `[start, end)`
   * pairs: a pattern there starts with a window before the break (`starts`, from the scan of the
   * text) or with one across it. Most texts have no such break, and cost one look at each.
   */
  const brokenRegions = (text: string, starts: readonly number[]): number[] => {
    const breaks = lineBreaks(text);
    if (breaks.length === 0) return breaks;
    const regions: number[] = [];
    let s = 0;
    for (let k = 0; k < breaks.length; k += 2) {
      const at = breaks[k]!;
      const after = breaks[k + 1]!;
      while (s < starts.length && starts[s]! <= at - longest) s += 1;
      const across =
        (s < starts.length && starts[s]! + WINDOW <= at) || patterns.startsAcross(text, at, after);
      if (!across) continue;
      const start = Math.max(0, at - longest + 1);
      const end = Math.min(text.length, after + 2 * longest);
      if (regions.length > 0 && start <= regions[regions.length - 1]!) regions[regions.length - 1] = end;
      else regions.push(start, end);
    }
    return regions;
  };

  const replace = (input: string): string => {
    let text = input;
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const matches = find(text);
      if (matches.length === 0) return text;
      let out = '';
      let at = 0;
      for (let i = 0; i < matches.length; ) {
        // Overlapping occurrences (of one or several secrets) become one span with every name.
        let end = matches[i]!.end;
        const names: string[] = [matches[i]!.owner];
        const start = matches[i]!.start;
        let j = i + 1;
        for (; j < matches.length && matches[j]!.start < end; j++) {
          end = Math.max(end, matches[j]!.end);
          if (!names.includes(matches[j]!.owner)) names.push(matches[j]!.owner);
        }
        out += text.slice(at, start) + names.map(marker).join('');
        at = end;
        i = j;
      }
      text = out + text.slice(at);
    }
    return occurs(text) ? FALLBACK : text;
  };

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
    add(name, value) {
      checkSecretName(name);
      if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH)
        throw new TypeError(
          `toolgate: secret ${name} is shorter than ${MIN_SECRET_LENGTH} characters, too short to scrub reliably`,
        );
      if (LONE_SURROGATE.test(value)) throw new TypeError(`toolgate: secret ${name} has a lone surrogate`);
      const key = `${name}\u0000${value}`;
      const existing = entries.get(key);
      if (existing !== undefined) {
        entries.delete(key);
        existing.at = now();
        entries.set(key, existing);
        expire();
        return;
      }
      const forms = secretForms(value);
      const label = marker(name);
      // A value found inside a marker would survive every replacement: refuse it.
      for (const form of forms)
        for (const text of [...markers, label])
          if (text.includes(form))
            throw new TypeError(`toolgate: secret ${name} occurs in a scrubber marker`);
      if (patterns.test(label))
        throw new TypeError(`toolgate: the marker of secret ${name} contains another secret`);
      const entry: Entry = {
        name,
        value,
        at: now(),
        patterns: forms.map((text) => ({ text, owner: name })),
      };
      for (const pattern of entry.patterns) {
        patterns.add(pattern);
        longest = Math.max(longest, pattern.text.length);
      }
      entries.set(key, entry);
      markers.add(label);
      if (value.includes(' ')) spaced = true;
      expire();
    },
    text(input) {
      expire();
      return typeof input === 'string' ? replace(input) : input;
    },
    value<T>(input: T): T {
      expire();
      if (typeof input === 'string') return replace(input) as T;
      if (!test(input, new Set())) return input;
      return copy(input, new Map(), '') as T;
    },
    test(input) {
      expire();
      return test(input, new Set());
    },
    get size() {
      return entries.size;
    },
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

function marker(name: string): string {
  return `[secret:${name}]`;
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
