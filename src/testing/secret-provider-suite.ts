import type { SecretProvider, SecretRequest } from '../secrets/types.ts';
import { expect } from './expect.ts';
import { type SuiteOptions, suiteRunner } from './runner.ts';

export interface TestSecretProviderOptions extends SuiteOptions {
  /**
   * Creates a fresh provider that holds exactly `secrets` (name → value; names are lower-case
   * letters, digits and `_`), and optionally a cleanup.
   */
  create(
    secrets: Readonly<Record<string, string>>,
  ): Promise<{ provider: SecretProvider; cleanup?: () => Promise<void> | void }>;
}

const SECRETS: Readonly<Record<string, string>> = Object.freeze({
  stripe: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  db_password: 'p@ss w0rd=+/ü漢字"\'\\%20',
  multi_line: 'line one\nline two',
  long_token: 'x'.repeat(2000),
});

const REQUEST: SecretRequest = Object.freeze({
  tool: 'payments.refund',
  callId: 'call-1',
  context: Object.freeze({ agent: 'support-bot', principal: 'user:42' }),
});

/**
 * Conformance suite for a `SecretProvider`: hands out exactly the stored values as `{ value }`
 * (with a valid `expiresAt` if any), fails (throws or rejects) for a missing secret without
 * naming any value, refuses names that could be paths, and answers concurrent requests alike.
 */
export function testSecretProvider(name: string, options: TestSecretProviderOptions): void {
  const { describe, it } = suiteRunner(options, 'testSecretProvider');
  describe(`SecretProvider conformance: ${name}`, () => {
    const withProvider = async (run: (provider: SecretProvider) => Promise<void>) => {
      const { provider, cleanup } = await options.create(SECRETS);
      try {
        await run(provider);
      } finally {
        await cleanup?.();
      }
    };

    it('has a name and a get method', () =>
      withProvider(async (provider) => {
        expect(typeof provider.name).toBe('string');
        expect(provider.name.length > 0).toBe(true);
        expect(typeof provider.get).toBe('function');
      }));

    it('hands out every stored value exactly', () =>
      withProvider(async (provider) => {
        for (const [secret, value] of Object.entries(SECRETS)) {
          const answer = await provider.get(secret, REQUEST);
          expect({ secret, value: answer.value }).toEqual({ secret, value });
          if (answer.expiresAt !== undefined) expect(Number.isFinite(answer.expiresAt)).toBe(true);
        }
      }));

    it('fails for a missing secret, and its error names no value', () =>
      withProvider(async (provider) => {
        const error = await Promise.resolve()
          .then(() => provider.get('missing_secret', REQUEST))
          .then(
            (answer) => ({ resolved: answer }),
            (caught: unknown) => caught,
          );
        expect(error instanceof Error).toBe(true);
        const text = `${(error as Error).message}\n${(error as Error).stack ?? ''}`;
        for (const value of Object.values(SECRETS)) expect(text.includes(value)).toBe(false);
      }));

    it('refuses names that are not plain names', () =>
      withProvider(async (provider) => {
        for (const bad of [
          '',
          '../stripe',
          'a/b',
          '/etc/passwd',
          '.hidden',
          '..',
          'a\u0000b',
          ' stripe',
          'str ipe',
          'x'.repeat(200),
        ]) {
          const outcome = await Promise.resolve()
            .then(() => provider.get(bad, REQUEST))
            .then(
              () => 'resolved',
              () => 'refused',
            );
          expect({ name: bad, outcome }).toEqual({ name: bad, outcome: 'refused' });
        }
      }));

    it('answers concurrent requests alike and leaves the request untouched', () =>
      withProvider(async (provider) => {
        const context = Object.freeze({
          agent: 'a',
          principal: 'user:1',
          attributes: Object.freeze({ k: 'v' }),
        });
        const request = { tool: 't', callId: 'c', context };
        const answers = await Promise.all(Array.from({ length: 50 }, () => provider.get('stripe', request)));
        for (const answer of answers) expect(answer.value).toBe(SECRETS.stripe);
        expect(request).toEqual({ tool: 't', callId: 'c', context });
      }));
  });
}
