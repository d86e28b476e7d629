// The console's session cookie: `__Host-` (Path=/) whenever it is served over TLS, with a base path
// or without, so no sibling host can plant or shadow it.
import { describe, expect, it } from 'vitest';
import { type ConsoleAccount, consoleHandler, hashPassword } from '../../src/console/index.ts';
import { memoryAudit, memoryStore } from '../../src/index.ts';

const ORIGIN = 'https://console.example.com';
const accounts: ConsoleAccount[] = [
  { name: 'finance:alice', role: 'approver', passwordHash: hashPassword('alice-pass') },
  { name: 'finance:bob', role: 'approver', passwordHash: hashPassword('bob-pass') },
];

function handlerAt(basePath: string, origin: string | null = ORIGIN) {
  return consoleHandler({
    store: memoryStore(),
    accounts,
    basePath,
    actionAudit: memoryAudit(),
    ...(origin === null ? {} : { origin }),
  });
}

async function signIn(handler: ReturnType<typeof handlerAt>, base: string, name: string, password: string) {
  const response = await handler(
    new Request(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: new URL(base).origin },
      body: JSON.stringify({ name, password }),
    }),
  );
  expect(response.status).toBe(200);
  return {
    setCookie: response.headers.get('set-cookie') ?? '',
    csrf: ((await response.json()) as { csrf: string }).csrf,
  };
}

describe('the session cookie behind TLS', () => {
  for (const basePath of ['', '/console', '/tools/console']) {
    it(`is __Host- with Path=/ and Secure (basePath ${JSON.stringify(basePath)})`, async () => {
      const handler = handlerAt(basePath);
      const base = `${ORIGIN}${basePath}`;
      const { setCookie, csrf } = await signIn(handler, base, 'finance:alice', 'alice-pass');
      expect(setCookie).toMatch(
        /^__Host-toolgate-session=[\w-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict; Secure$/,
      );
      expect(setCookie).not.toContain('Domain=');
      const cookie = setCookie.split(';')[0]!;
      const me = await handler(new Request(`${base}/api/session`, { headers: { cookie } }));
      expect(((await me.json()) as { account: string }).account).toBe('finance:alice');
      // A cookie of the old `__Secure-` name is not a session.
      const secure = cookie.replace('__Host-', '__Secure-');
      expect(
        (await handler(new Request(`${base}/api/session`, { headers: { cookie: secure } }))).status,
      ).toBe(401);
      // Signing out clears the same cookie (same name and path).
      const out = await handler(
        new Request(`${base}/api/session/end`, {
          method: 'POST',
          headers: { cookie, 'x-csrf-token': csrf, origin: ORIGIN },
        }),
      );
      expect(out.headers.get('set-cookie')).toMatch(
        /^__Host-toolgate-session=; Path=\/; Max-Age=0;.*Secure$/,
      );
    });
  }

  it('a request carrying two session cookies is signed in as nobody', async () => {
    const handler = handlerAt('/console');
    const base = `${ORIGIN}/console`;
    const planted = (await signIn(handler, base, 'finance:bob', 'bob-pass')).setCookie.split(';')[0]!;
    const victim = (await signIn(handler, base, 'finance:alice', 'alice-pass')).setCookie.split(';')[0]!;
    const response = await handler(
      new Request(`${base}/api/session`, { headers: { cookie: `${planted}; ${victim}` } }),
    );
    expect(response.status).toBe(401);
  });

  it('over plain HTTP the cookie keeps its plain name and the mount point as its path', async () => {
    const handler = handlerAt('/console', null);
    const { setCookie } = await signIn(
      handler,
      'http://127.0.0.1:4000/console',
      'finance:alice',
      'alice-pass',
    );
    expect(setCookie).toMatch(
      /^toolgate-session=[\w-]{43}; Path=\/console; Max-Age=28800; HttpOnly; SameSite=Strict$/,
    );
  });
});

describe('the CSRF token', () => {
  it('a forged token of the right length in characters but not in bytes is refused with 403, not a failure', async () => {
    const handler = handlerAt('', null);
    const base = 'http://127.0.0.1:4000';
    const { setCookie, csrf } = await signIn(handler, base, 'finance:alice', 'alice-pass');
    const cookie = setCookie.split(';')[0]!;
    // A header value arrives from node:http as Latin-1: one character, two bytes in UTF-8.
    for (const forged of [`\u00e9${csrf.slice(1)}`, `${csrf.slice(0, -1)}\u00ff`]) {
      const response = await handler(
        new Request(`${base}/api/session/end`, {
          method: 'POST',
          headers: { cookie, 'x-csrf-token': forged },
        }),
      );
      expect(response.status).toBe(403);
    }
    // The session was not ended: the real token still works.
    const ended = await handler(
      new Request(`${base}/api/session/end`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } }),
    );
    expect(ended.status).toBe(200);
  });
});

describe('cookie names', () => {
  it('are trimmed of spaces and tabs only: a name that starts with a no-break space is another cookie', async () => {
    const handler = handlerAt('/console');
    const base = `${ORIGIN}/console`;
    const { setCookie } = await signIn(handler, base, 'finance:alice', 'alice-pass');
    const cookie = setCookie.split(';')[0]!;
    const read = (header: string) =>
      handler(new Request(`${base}/api/session`, { headers: { cookie: header } })).then((r) => r.status);
    expect(await read(cookie)).toBe(200);
    expect(await read(` \t${cookie}`)).toBe(200);
    // A raw 0xA0 byte reaches the handler as U+00A0 (node:http reads header bytes as Latin-1). The
    // browser applies the __Host- rules only to names that begin with `__Host-`, so a cookie named
    // `\u00a0__Host-…` could be set from a sibling host: it must never be taken for the session.
    for (const lead of ['\u00a0', '\u0085', '\u00a0 ']) expect(await read(`${lead}${cookie}`)).toBe(401);
  });
});
