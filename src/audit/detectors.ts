import { ConfigurationError } from '../errors.ts';
import {
  redactEncodedCredentials,
  redactSecretAssignments,
  redactUrlCredentials,
} from './text-credentials.ts';

/** Names of the built-in secret detectors. */
export type SecretDetectorName =
  | 'secret-keys'
  | 'url-credentials'
  | 'secret-params'
  | 'bearer'
  | 'aws'
  | 'private-key'
  | 'jwt'
  | 'api-key'
  | 'card-number';

/** A custom detector: a pattern whose matches are replaced, or a function that rewrites a string. */
export type CustomDetector =
  | { readonly name: string; readonly pattern: RegExp }
  | { readonly name: string; readonly replace: (text: string) => string };

/** Detectors that are not one regular expression. */
type ScannedDetector = 'secret-keys' | 'card-number' | 'url-credentials' | 'secret-params';

const BUILT_IN: Record<Exclude<SecretDetectorName, ScannedDetector>, RegExp> = {
  bearer: /\b(?:bearer|basic|token)\s+[A-Za-z0-9._~+/-]{8,}=*/gi,
  aws: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b|\baws_?secret_?access_?key\b["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}/gi,
  'private-key':
    /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
  jwt: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
  'api-key':
    /\b(?:sk|rk|pk)[-_](?:live|test|proj|ant(?:-api\d+)?)?[-_]?[A-Za-z0-9_-]{16,}|\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}|\bxox[abposr]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35}|\bglpat-[A-Za-z0-9_-]{20,}|\bnpm_[A-Za-z0-9]{36}/g,
};
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;
/**
 * A cheap pre-check: strings without any of these shapes skip the detectors entirely. Every
 * secret name (src/audit/sensitive-names.ts) holds one of `pass`, `pwd`, `secret`, `token`, `key`,
 * `auth`, `cookie`, `cred`, `jwt`, `bearer`; a URL's `://` may be percent-encoded (`%3A%2F`, in a URL
 * carried in another).
 *
 * The words are grouped by their first letter (`a(?:kia|sia|…|uth)` for `AKIA`, `ASIA`, …,
 * `auth`): the same language as the flat list `bearer|basic|token|AKIA|…`, but V8's regular
 * expressions try one branch per letter instead of every word at every position, a third less
 * time on ordinary text (test/audit/detectors-quick.test.ts holds the flat list and compares).
 */
export const QUICK: RegExp =
  /a(?:kia|sia|gpa|ida|roa|npa|nva|ipa|ws_?secret|iza|uth)|b(?:earer|asic)|c(?:ookie|red)|eyj|g(?:h[pousr]_|ithub_pat_|lpat-)|jwt|key|npm_|p(?:rivate key|ass|wd|k[-_])|rk[-_]|s(?:k[-_]|ecret)|token|xox|:\/\/|%(?:25){0,2}3a%(?:25){0,2}2f|@(?:tcp|unix)\(|[?&](?:sig|signature|code)=|\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d/i;
/** The shortest text any built-in detector can change (`pwd=x`). */
const SHORTEST_SECRET = 5;

/** Every built-in detector: what `detectors: true` (the default) runs. */
export const ALL_DETECTORS: readonly SecretDetectorName[] = [
  'secret-keys',
  'url-credentials',
  'secret-params',
  'bearer',
  'aws',
  'private-key',
  'jwt',
  'api-key',
  'card-number',
];

/** Luhn checksum over the digits of a candidate card number. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length >= 13 && sum % 10 === 0;
}

/** The detectors of one redactor, compiled. */
export interface CompiledDetectors {
  /** Whether values under secret key names are replaced (`secret-keys`). */
  readonly keys: boolean;
  /** Whether `text` does anything at all. */
  readonly scansText: boolean;
  /** Redacts secrets in free text; throws when a custom detector fails. */
  readonly text: (text: string) => string;
}

/** Validates and compiles `redact.detectors`; invalid entries throw a ConfigurationError. */
export function compileDetectors(
  detectors: boolean | readonly (SecretDetectorName | CustomDetector)[] | undefined,
  replacement: string,
): CompiledDetectors {
  const chosen = detectors === undefined || detectors === true ? ALL_DETECTORS : detectors;
  const names = new Set<SecretDetectorName>();
  const patterns: RegExp[] = [];
  const custom: ((text: string) => string)[] = [];
  if (chosen !== false) {
    if (!Array.isArray(chosen)) throw new ConfigurationError('redact.detectors must be a boolean or a list');
    for (const entry of chosen as readonly (SecretDetectorName | CustomDetector)[]) {
      if (typeof entry === 'string') {
        if (!(ALL_DETECTORS as readonly string[]).includes(entry))
          throw new ConfigurationError(`unknown redact detector ${JSON.stringify(entry)}`);
        names.add(entry);
        if (entry in BUILT_IN) patterns.push(BUILT_IN[entry as keyof typeof BUILT_IN]);
      } else if (typeof entry === 'object' && entry !== null && typeof entry.name === 'string') {
        custom.push(customDetector(entry, replacement));
      } else {
        throw new ConfigurationError('redact.detectors entries must be names or { name, pattern | replace }');
      }
    }
  }
  const cards = names.has('card-number');
  const urls = names.has('url-credentials');
  const params = names.has('secret-params');
  const builtIn = patterns.length > 0 || cards || urls || params;
  const text = (input: string): string => {
    let out = input;
    if (builtIn && out.length >= SHORTEST_SECRET && QUICK.test(out)) {
      // Whole credentials first (a URL's userinfo, the value after `password=` or
      // `Authorization:`), then the shapes of known secrets in what is left.
      if (urls) out = redactUrlCredentials(out, replacement);
      if (params) out = redactSecretAssignments(out, replacement);
      if (urls || params) out = redactEncodedCredentials(out, replacement, urls, params);
      for (const pattern of patterns) {
        pattern.lastIndex = 0;
        out = out.replace(pattern, replacement);
      }
      if (cards) {
        CARD_CANDIDATE.lastIndex = 0;
        out = out.replace(CARD_CANDIDATE, (candidate) =>
          luhnValid(candidate.replace(/[ -]/g, '')) ? replacement : candidate,
        );
      }
    }
    for (const fn of custom) out = fn(out);
    return out;
  };
  return { keys: names.has('secret-keys'), scansText: builtIn || custom.length > 0, text };
}

function customDetector(entry: CustomDetector, replacement: string): (text: string) => string {
  if ('pattern' in entry && entry.pattern instanceof RegExp) {
    const flags = entry.pattern.flags.includes('g') ? entry.pattern.flags : `${entry.pattern.flags}g`;
    const pattern = new RegExp(entry.pattern.source, flags);
    return (text) => text.replace(pattern, replacement);
  }
  if ('replace' in entry && typeof entry.replace === 'function') {
    const replace = entry.replace;
    return (text) => {
      const out = replace(text);
      if (typeof out !== 'string') throw new TypeError(`detector ${entry.name} did not return a string`);
      return out;
    };
  }
  throw new ConfigurationError(`redact detector ${entry.name} needs a pattern or a replace function`);
}
