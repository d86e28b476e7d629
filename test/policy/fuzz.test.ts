import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { createGuard } from '../../src/guard.ts';
import { parsePolicy } from '../../src/policy/load.ts';
import { rules } from '../../src/policy/rules.ts';
import { pathScope } from '../../src/policy/scopes/path.ts';
import { urlScope } from '../../src/policy/scopes/url.ts';
import { request } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'toolgate-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const req = request('t');

describe('fuzz: scopes never throw and never let an escape through', () => {
  const paths = pathScope({ roots: [root] });
  test('pathScope on random and adversarial paths', () => {
    const segment = fc.constantFrom(
      '..',
      '.',
      'a',
      '%2e%2e',
      '\\..',
      '\u0000',
      '',
      'b c',
      '\u202e',
      'é',
      'e\u0301',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(segment, { maxLength: 6 }).map((s) => `${root}/${s.join('/')}`),
        ),
        (value) => {
          const result = paths.test(value, req);
          expect(typeof result).toBe('boolean');
          if (result) {
            expect(value.startsWith(`${root}`)).toBe(true);
            expect(value.split('/')).not.toContain('..');
            expect(value.includes('%') || value.includes('\\') || value.includes('\u0000')).toBe(false);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('urlScope on random and adversarial URLs', () => {
    const scope = urlScope({ hosts: ['api.example.com'], schemes: ['https', 'http'] });
    const host = fc.constantFrom(
      'api.example.com',
      'API.example.com',
      '127.0.0.1',
      '2130706433',
      '0x7f.1',
      '[::1]',
      'localhost',
      'api.example.com.evil.com',
      'evil.com',
      '10.0.0.1',
      'api.example.com@evil.com',
      'user@api.example.com',
      'api%2eexample.com',
    );
    const url = fc
      .tuple(
        fc.constantFrom('https://', 'http://', 'HTTPS://', 'ftp://', 'https:/', 'https:\\\\', '//'),
        host,
        fc.constantFrom('', ':443', ':8080', ':0'),
        fc.constantFrom('/', '/x?y=1', '#f', '\\@evil.com/', '/..%2f'),
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), url), (value) => {
        const result = scope.test(value, req);
        expect(typeof result).toBe('boolean');
        if (result) expect(new URL(value).hostname).toBe('api.example.com');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('fuzz: policy documents and names', () => {
  test('random JSON text never throws anything but ConfigurationError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json({ maxDepth: 5 })), (text) => {
        try {
          parsePolicy(text);
        } catch (error) {
          expect((error as Error).name).toBe('ConfigurationError');
        }
      }),
      { numRuns: 1000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('random tool names: only exact, NFC, clean names match', async () => {
    const engine = rules([{ id: 'exact', effect: 'allow', tool: 'payments.refund' }]);
    const tg = createGuard({ policy: engine });
    // Every name the guard accepts is registered, so the policy (not the registry) decides it.
    const register = (name: string) => {
      try {
        tg.guard(() => 'ran', { name });
        return true;
      } catch (error) {
        expect((error as Error).name).toBe('ConfigurationError');
        return false;
      }
    };
    expect(register('payments.refund')).toBe(true);
    expect(await tg.check('payments.refund', {})).toMatchObject({ type: 'allow', rules: ['exact'] });
    const variants = fc.constantFrom(
      'payments.refund',
      'Payments.refund',
      'payments.refund ',
      ' payments.refund',
      'payments.refund\u200b',
      'payments\u202e.refund',
      'pаyments.refund', // Cyrillic а
      'payments.refund\u0000',
      'payments..refund',
      'payments.refund\n',
      'payments.refunds',
      'payments.*',
    );
    let decidedByPolicy = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(variants, fc.string()), async (name) => {
        const registered = register(name);
        const checked = await tg.check(name, {});
        expect(checked.type === 'allow').toBe(name === 'payments.refund');
        if (registered && name !== 'payments.refund') {
          decidedByPolicy += 1;
          expect(checked).toMatchObject({ type: 'deny', code: 'NO_MATCHING_RULE' });
        }
        if (!registered) expect(checked).toMatchObject({ type: 'deny', code: 'UNKNOWN_TOOL' });
      }),
      { numRuns: 300 },
    );
    // The confusable names reached the policy, not just the registry.
    expect(decidedByPolicy).toBeGreaterThan(0);
    await tg.close();
  });
});

describe('policy errors through the guard deny and never run the tool', () => {
  test.each([
    [
      'throws on {}',
      () => {
        throw new TypeError('no');
      },
    ],
    ['returns "yes"', () => 'yes'],
    ['returns 1', () => 1],
    ['returns a promise', () => Promise.resolve(true)],
    ['returns a promise that never settles', () => new Promise(() => {})],
  ])('a predicate that %s', async (_name, predicate) => {
    const tg = createGuard({
      policy: rules([{ id: 'p', effect: 'allow', tool: 't', when: predicate as never }]),
      onDeny: 'return',
    });
    let ran = 0;
    const tool = tg.guard(() => ++ran, { name: 't' });
    expect(await tool({})).toMatchObject({ denied: true, code: 'POLICY_ERROR' });
    expect(ran).toBe(0);
    await tg.close();
  });
});
