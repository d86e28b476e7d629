import { parseDuration } from '../_internal/duration.ts';
import { checkedClock } from '../_internal/host-functions.ts';
import { ConfigurationError } from '../errors.ts';
import type { Duration } from '../types.ts';
import { secretForms } from './encodings.ts';
import { marker, textScrub } from './text-scrub.ts';
import { type Pattern, WINDOW } from './text-search.ts';
import { checkSecretName, LONE_SURROGATE } from './types.ts';
import { valueScrub } from './value-scrub.ts';

export { FALLBACK } from './text-scrub.ts';

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
   * Other objects (class instances) are returned as they are: give it a snapshot (the guard
   * scrubs those in a tool's result and errors in place, wherever they are: `scrubResult`).
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
  const markers = new Set<string>();
  // Searching texts apart from walking values (text-scrub.ts, value-scrub.ts).
  const search = textScrub();
  const { replace } = search;
  const walk = valueScrub(search);

  const forget = (key: string, entry: Entry) => {
    entries.delete(key);
    search.delete(entry.patterns);
  };
  const expire = () => {
    const limit = now() - retentionMs;
    for (const [key, entry] of entries) {
      if (entry.at > limit && entries.size <= maxValues) break;
      forget(key, entry);
    }
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
          if ((form.caseless === true ? text.toLowerCase() : text).includes(form.text))
            throw new TypeError(`toolgate: secret ${name} occurs in a scrubber marker`);
      if (search.includesPattern(label))
        throw new TypeError(`toolgate: the marker of secret ${name} contains another secret`);
      const entry: Entry = {
        name,
        value,
        at: now(),
        patterns: forms.map((form) => ({ ...form, owner: name })),
      };
      search.add(entry.patterns, value.includes(' '));
      entries.set(key, entry);
      markers.add(label);
      expire();
    },
    text(input) {
      expire();
      return typeof input === 'string' ? replace(input) : input;
    },
    value<T>(input: T): T {
      expire();
      if (typeof input === 'string') return replace(input) as T;
      if (!walk.test(input)) return input;
      return walk.copy(input) as T;
    },
    test(input) {
      expire();
      return walk.test(input);
    },
    get size() {
      return entries.size;
    },
  };
}
