import fc from 'fast-check';

// Generators of the secret shapes redaction documents (docs/audit.md): values under secret key
// names in any spelling, bearer and basic credentials, passwords in URLs and connection strings,
// and secret query parameters. Shared by the unit properties and the guard-level oracle.

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const char = (alphabet: string) => fc.constantFrom(...alphabet.split(''));

/** A random secret: a marker nothing else contains, then 12–32 characters. */
export const secretValue = (alphabet = ALNUM) =>
  fc.string({ unit: char(alphabet), minLength: 12, maxLength: 32 }).map((body) => `Zq${body}`);

/** Secrets with characters that must be escaped in URLs (they are written URL-encoded there). */
export const awkwardSecret = secretValue(`${ALNUM}@:/?#&=+% !$'()*,;[]`);

/** Words of secret names; each is written in any of the styles below. */
const SECRET_NAMES: readonly (readonly string[])[] = [
  ['api', 'key'],
  ['apikey'],
  ['access', 'token'],
  ['refresh', 'token'],
  ['auth', 'token'],
  ['client', 'secret'],
  ['secret'],
  ['token'],
  ['password'],
  ['db', 'password'],
  ['passwd'],
  ['pwd'],
  ['passphrase'],
  ['private', 'key'],
  ['secret', 'key'],
  ['authorization'],
  ['cookie'],
  ['credentials'],
  ['session', 'token'],
  ['stripe', 'api', 'key'],
  ['x', 'api', 'key'],
];

type Style = (words: readonly string[]) => string;
const cap = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
const STYLES: readonly Style[] = [
  (w) => w.join('_'),
  (w) => w.join('-'),
  (w) => w.join('.'),
  (w) => w.join(''),
  (w) => w.map((x) => x.toUpperCase()).join('_'),
  (w) => w.join('').toUpperCase(),
  (w) => w.map(cap).join('-'),
  (w) => w[0]! + w.slice(1).map(cap).join(''),
  (w) => w.map(cap).join(''),
  (w) => w.map((x, i) => (i === w.length - 1 ? cap(x) : x.toUpperCase())).join(''),
];

/** A secret key name in a random spelling (`Api-Key`, `apiKey`, `x-api-key`, `API_KEY`, `APIKey`…). */
export const secretName = fc
  .tuple(fc.constantFrom(...SECRET_NAMES), fc.constantFrom(...STYLES), fc.constantFrom('', 'x-', 'X-'))
  .map(([words, style, prefix]) => `${words[0] === 'x' ? '' : prefix}${style(words)}`);

/** A secret written into text, in one of the documented shapes, with what must never show of it. */
export const secretInText = (
  secret: string,
  /** Only shapes that hold any character (written encoded, quoted or up to a line end). */
  anyCharacter = false,
): fc.Arbitrary<{ text: string; hidden: string[] }> => {
  const enc = encodeURIComponent(secret);
  const noSemicolon = secret.replaceAll(';', '');
  const noAt = secret.replaceAll('@', '');
  const basic = Buffer.from(`admin:${secret}`).toString('base64');
  // [text, the form of the secret it holds]; bearer tokens and Go DSNs hold only token characters.
  const tokens: readonly (readonly [string, string])[] = [
    [`failed with Bearer ${secret} attached`, secret],
    [`sent Basic ${basic} to the proxy`, basic],
    [`user:${noAt}@tcp(127.0.0.1:3306)/shop`, noAt],
  ];
  const shapes: readonly (readonly [string, string])[] = [
    ...(anyCharacter ? [] : tokens),
    [`Authorization: Bearer ${secret}`, secret],
    [`authorization: bearer ${secret}`, secret],
    [`Authorization: Basic ${basic}`, basic],
    [`could not connect to postgres://admin:${enc}@db.internal:5432/app`, secret],
    [`mysql://root:${enc}@127.0.0.1:3306/shop`, secret],
    [`mongodb+srv://svc:${enc}@cluster0.example.net/?retryWrites=true`, secret],
    [`redis://:${enc}@cache:6379/0`, secret],
    [`GET https://user:${enc}@api.example.com/v1 failed`, secret],
    [`https://api.example.com/v1/items?user=bob&password=${enc}&page=2`, secret],
    [`https://api.example.com/cb?access_token=${enc}`, secret],
    [`/search?q=x&token=${enc}#frag`, secret],
    [`/v1?api_key=${enc}&x=1`, secret],
    [`Server=db;Database=app;User Id=sa;Password=${noSemicolon};Encrypt=true`, noSemicolon],
    [`Driver={ODBC Driver 18};Server=db;UID=sa;PWD={${secret.replaceAll('}', '}}')}};`, secret],
    [`Data Source=db;Initial Catalog=app;pwd=${noSemicolon}`, noSemicolon],
  ];
  return fc.oneof(
    fc.constantFrom(...shapes).map(([text, value]) => ({ text, hidden: forms(value) })),
    secretName.map((name) => ({ text: `${name}=${enc}`, hidden: forms(secret) })),
    // `name: value` holds one run without spaces (a value with spaces would read as prose).
    ...(anyCharacter
      ? []
      : [secretName.map((name) => ({ text: `${name}: ${secret}`, hidden: forms(secret) }))]),
    secretName.map((name) => ({
      text: JSON.stringify({ [name]: secret, user: 'bob' }),
      hidden: forms(secret),
    })),
  );
};

/** Where a secret must never show: as it is, URL-encoded, JSON-escaped or base64. */
export function forms(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    Buffer.from(secret).toString('base64'),
  ];
}
