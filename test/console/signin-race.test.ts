import { describe, expect, it } from 'vitest';
import { consoleHandler, hashPassword } from '../../src/console/index.ts';
import { memoryAudit, memoryStore } from '../../src/index.ts';

// Before: the route checked the limit, awaited the (slow) password check, and only then counted
// the failure, so a burst of concurrent guesses all passed the check: 150 wrong passwords and the
// right one, sent at once, got 150 × 401, one 200 and no 429.
const BASE = 'http://127.0.0.1:4000';

describe('sign-in limit under concurrency', () => {
  it('concurrent wrong passwords meet the per-name limit as sequential ones would', async () => {
    const handler = consoleHandler({
      store: memoryStore(),
      accounts: [{ name: 'dana', role: 'approver', passwordHash: hashPassword('dana-pass') }],
      actionAudit: memoryAudit(),
    });
    const attempt = (password: string) =>
      handler(
        new Request(`${BASE}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: BASE },
          body: JSON.stringify({ name: 'dana', password }),
        }),
      ).then((response) => response.status);
    const statuses = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => attempt(`guess-${i}`)),
      attempt('dana-pass'),
    ]);
    const count = (status: number) => statuses.filter((s) => s === status).length;
    // Five attempts are let through to the password check (five failures per name), the rest wait.
    expect(count(401) + count(200)).toBe(5);
    expect(count(429)).toBe(26);
    await handler.close();
  });
});

describe('sign-in limit per address behind a proxy (trustProxy)', () => {
  it('counts by the address the proxy saw (the last X-Forwarded-For entry), not one the client wrote', async () => {
    const handler = consoleHandler({
      store: memoryStore(),
      accounts: [{ name: 'dana', role: 'approver', passwordHash: hashPassword('dana-pass') }],
      actionAudit: memoryAudit(),
      trustProxy: true,
    });
    // A proxy that appends (nginx `$proxy_add_x_forwarded_for`) keeps what the client sent in front.
    const attempt = (i: number) =>
      handler(
        new Request(`${BASE}/api/session`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            origin: BASE,
            'x-forwarded-for': `198.51.100.${i}, 203.0.113.9`,
          },
          body: JSON.stringify({ name: `name-${i}`, password: 'wrong' }),
        }),
      ).then((response) => response.status);
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push(await attempt(i));
    // Twenty failures per address in the window, then 429, whatever the client puts in front.
    expect(statuses.filter((s) => s === 401)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    await handler.close();
  });
});
