import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/audit/redact.ts';
import { secretName as isSecretName, nameWords } from '../../src/audit/sensitive-names.ts';
import { awkwardSecret, forms, secretInText, secretName, secretValue } from './secret-shapes.ts';

// Issue 14, finding 7: key names were matched exactly (`Api-Key`, `apiKey`, `x-api-key`,
// `API_KEY` were missed), and credentials inside URLs and connection strings were not redacted.

const redactor = createRedactor(undefined);
const hiddenIn = (text: string, hidden: readonly string[]) => hidden.filter((form) => text.includes(form));

describe('secret key names in any spelling', () => {
  it('splits names into words whatever the case and separators', () => {
    for (const name of ['Api-Key', 'apiKey', 'api_key', 'API_KEY', 'api.key', 'APIKey', 'ApiKey', 'api key'])
      expect(nameWords(name)).toEqual(['api', 'key']);
    expect(nameWords('x-api-key')).toEqual(['x', 'api', 'key']);
    expect(nameWords('DB_PASSWORD')).toEqual(['db', 'password']);
  });

  it('finding 7: Api-Key, apiKey, x-api-key, API_KEY and their kind are secret names', () => {
    const names = [
      'Api-Key',
      'apiKey',
      'x-api-key',
      'X-API-KEY',
      'API_KEY',
      'api.key',
      'APIKEY',
      'APIKey',
      'stripeApiKey',
      'DB_PASSWORD',
      'dbPassword',
      'PGPASSWORD',
      'client-secret',
      'clientSecret',
      'access_token',
      'AccessToken',
      'x-auth-token',
      'Authorization',
      'Set-Cookie',
      'private.key',
      'privateKey',
      'aws_secret_access_key',
      'credentials',
      'passwordHash',
    ];
    for (const name of names) expect(isSecretName(name), name).toBe(true);
    const args = Object.fromEntries(names.map((name) => [name, 'sk-shaped-nothing']));
    const out = redactor.redact(args, 'args') as Record<string, unknown>;
    for (const name of names) expect(out[name], name).toBe('[REDACTED]');
  });

  it('leaves ordinary names alone', () => {
    for (const name of [
      'max_tokens',
      'tokens',
      'key',
      'primary_key',
      'publicKey',
      'author',
      'keyboard',
      'orderId',
    ])
      expect(isSecretName(name), name).toBe(false);
    // In a URL query a bare `key` or `sig` is a credential.
    expect(isSecretName('key', true)).toBe(true);
    expect(isSecretName('sig', true)).toBe(true);
  });

  it('a secret name hides its whole value, objects and arrays too', () => {
    const out = redactor.redact(
      { credentials: { user: 'svc', pass: 'p' }, cookies: ['a=1', 'b=2'], password: null },
      'args',
    );
    expect(out).toEqual({ credentials: '[REDACTED]', cookies: '[REDACTED]', password: null });
  });

  it('a key that is itself a secret is shown redacted', () => {
    const out = redactor.redact({ sk_live_PLANTEDabcdefghijklmnop1234: 1, '[REDACTED]': 2 }, 'args');
    expect(out).toEqual({ '[REDACTED]': 1, '[REDACTED]~1': 2 });
  });

  it('property: a value under any spelling of a secret name is never recorded', () => {
    fc.assert(
      fc.property(secretName, awkwardSecret, fc.integer({ min: 0, max: 4 }), (name, secret, depth) => {
        let value: unknown = { [name]: secret, note: 'kept' };
        for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { nested: value } : [value];
        const text = JSON.stringify(redactor.redact(value, 'args'));
        expect(hiddenIn(text, forms(secret))).toEqual([]);
        expect(text).toContain('kept');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('credentials inside text', () => {
  const cases: [string, string][] = [
    ['connect postgres://admin:pw-one@db:5432/app', 'connect postgres://[REDACTED]@db:5432/app'],
    ['https://user:p@ss/w:rd@host.example/x', 'https://[REDACTED]@host.example/x'],
    ['redis://:pw-two@cache:6379', 'redis://[REDACTED]@cache:6379'],
    ['https://ghp-like-token@github.com/org/repo.git', 'https://[REDACTED]@github.com/org/repo.git'],
    [
      'jdbc:postgresql://db/app?user=u&password=s3cr%40t&ssl=1',
      'jdbc:postgresql://db/app?user=u&password=[REDACTED]&ssl=1',
    ],
    ['GET /v1?api_key=abc123&q=1 returned 500', 'GET /v1?api_key=[REDACTED]&q=1 returned 500'],
    ['/maps?key=KEYVALUE&sig=SIGVALUE', '/maps?key=[REDACTED]&sig=[REDACTED]'],
    [
      'Server=db;User Id=sa;Password=my pass & word;Encrypt=true',
      'Server=db;User Id=sa;Password=[REDACTED];Encrypt=true',
    ],
    ['DRIVER={ODBC 18};UID=u;PWD={a;b}}c};X=1', 'DRIVER={ODBC 18};UID=u;PWD=[REDACTED];X=1'],
    ['Authorization: Bearer abc\nnext line', 'Authorization: [REDACTED]\nnext line'],
    ['Authorization: Basic dXNlcjpwYXNz', 'Authorization: [REDACTED]'],
    ['x-api-key: k-123', 'x-api-key: [REDACTED]'],
    ['X-Api-Key: abc123 was refused', 'X-Api-Key: [REDACTED] was refused'],
    ['password: hunter', 'password: [REDACTED]'],
    ['Cookie: a=1; session=xyz', 'Cookie: [REDACTED]'],
    ['{"apiKey":"short","user":"bob"}', '{"apiKey":"[REDACTED]","user":"bob"}'],
    ["{'password': 'pw1', 'n': 1}", "{'password': '[REDACTED]', 'n': 1}"],
    ['{"token": 12345, "user": "bob"}', '{"token": [REDACTED], "user": "bob"}'],
    ['export DB_PASSWORD=pw2', 'export DB_PASSWORD=[REDACTED]'],
    ['user:pw3@tcp(127.0.0.1:3306)/db', '[REDACTED]@tcp(127.0.0.1:3306)/db'],
  ];
  for (const [text, expected] of cases) {
    it(`redacts ${JSON.stringify(text)}`, () => {
      expect(redactor.redactText(text)).toBe(expected);
    });
  }

  it('leaves ordinary text alone', () => {
    for (const text of [
      'https://medium.com/@someone',
      'see https://example.com/path and mail bob@example.com',
      'max_tokens: 100',
      'token: undeclared argument "token"',
      'password: Too short, expected 8 characters',
      'apiKey: Invalid input: expected string',
      'ticket-123: refund approved',
      'order o-1, refund 40 EUR',
    ])
      expect(redactor.redactText(text)).toBe(text);
  });

  it('property: a secret in any documented text shape is never left, raw or encoded', () => {
    const shape = fc.oneof(
      secretValue().chain((secret) => secretInText(secret)),
      awkwardSecret.chain((secret) => secretInText(secret, true)),
    );
    fc.assert(
      fc.property(
        shape,
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        ({ text, hidden }, a, b) => {
          const out = redactor.redactText(`${a} ${text}\n${b}`)!;
          expect(hiddenIn(out, hidden), out).toEqual([]);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('stays linear on hostile text', () => {
    const baseline = timed(() => redactor.redactText('password=x; '.repeat(20_000)));
    for (const hostile of [
      'a://'.repeat(50_000),
      `a://${'@'.repeat(200_000)}`,
      `${'x:'.repeat(100_000)}@tcp(`,
      '@tcp('.repeat(50_000),
      `"${'a'.repeat(63)}"`.repeat(5_000),
      `password${' '.repeat(16)}`.repeat(10_000),
      `?key=${'&key='.repeat(50_000)}`,
      `PWD={${'}}'.repeat(100_000)}`,
    ]) {
      const spent = timed(() => redactor.redactText(hostile));
      expect(spent, hostile.slice(0, 20)).toBeLessThan(10 * baseline + 20);
    }
  });
});

function timed(fn: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[1]!;
}
