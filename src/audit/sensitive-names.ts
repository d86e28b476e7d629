/**
 * Which names hold secrets: object keys (`apiKey`, `X-Api-Key`, `DB_PASSWORD`), query and
 * connection-string parameters (`?access_token=`, `;Pwd=`) and header names (`Authorization:`).
 * Names are compared by their words, whatever the case and the separators: `Api-Key`, `apiKey`,
 * `api_key`, `API_KEY`, `api.key`, `x-api-key` and `APIKey` are all the words `api key`.
 */

/** Words that make a name secret wherever they stand in it (`db_password`, `authToken`). */
const SECRET_WORDS: ReadonlySet<string> = new Set([
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'passcode',
  'secret',
  'secrets',
  'token',
  'apikey',
  'auth',
  'authorization',
  'cookie',
  'cookies',
  'credential',
  'credentials',
  'creds',
  'bearer',
  'jwt',
  'privatekey',
  'secretkey',
]);

/** Words that make the word `key` after them secret (`api key`, `private key`, `signing key`). */
const KEY_QUALIFIERS: ReadonlySet<string> = new Set([
  'api',
  'access',
  'private',
  'secret',
  'signing',
  'encryption',
  'master',
  'client',
  'session',
  'license',
]);

/** Endings that make a word written without separators secret (`DBPASSWORD`, `xapikey`, `accesstoken`). */
const SECRET_ENDINGS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'apikey',
  'privatekey',
  'secretkey',
  'credentials',
  'credential',
];

/** Names in a URL query that carry a credential there, besides the secret ones (`?key=`, `&sig=`). */
const QUERY_WORDS: ReadonlySet<string> = new Set(['key', 'sig', 'signature', 'code']);

/** Longest name looked at; longer ones are judged by their first characters. */
const MAX_NAME = 128;

/**
 * The lowercase words of a name: split at separators (anything not a letter or digit), at
 * lower-to-upper case changes (`apiKey`) and before the last capital of an acronym (`APIKey`).
 */
export function nameWords(name: string): string[] {
  const text = name.length > MAX_NAME ? name.slice(0, MAX_NAME) : name;
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
}

/** `api`, or a word run together with it (`XAPIKey` splits into `xapi key`). */
function qualifiesKey(word: string): boolean {
  if (KEY_QUALIFIERS.has(word)) return true;
  for (const qualifier of KEY_QUALIFIERS) if (word.endsWith(qualifier)) return true;
  return false;
}

function wordsAreSecret(words: readonly string[], query: boolean): boolean {
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (SECRET_WORDS.has(word)) return true;
    if (word === 'key' && i > 0 && qualifiesKey(words[i - 1]!)) return true;
    if (word.startsWith('password') || word.startsWith('passwd')) return true;
    for (const ending of SECRET_ENDINGS)
      if (word.length > ending.length && word.endsWith(ending)) return true;
  }
  // In a URL query a bare `key` or `sig` is a credential (`?key=AIza…`, Azure's `&sig=`).
  return query && words.length === 1 && QUERY_WORDS.has(words[0]!);
}

// Names repeat across calls, so the verdict per name is cached (bounded).
const verdicts = new Map<string, boolean>();
const queryVerdicts = new Map<string, boolean>();

/**
 * Whether values under this name are secret. `query: true` is for a parameter of a URL query,
 * where `key`, `sig`, `signature` and `code` carry credentials too.
 *
 * @example
 * secretName('X-Api-Key') // true
 * secretName('max_tokens') // false (`tokens` is not `token`)
 */
export function secretName(name: string, query = false): boolean {
  const cache = query ? queryVerdicts : verdicts;
  let verdict = cache.get(name);
  if (verdict === undefined) {
    verdict = wordsAreSecret(nameWords(name), query);
    if (cache.size >= 10_000) cache.clear();
    cache.set(name, verdict);
  }
  return verdict;
}
