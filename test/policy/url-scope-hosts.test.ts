import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { urlScope } from '../../src/index.ts';
import { isPrivateHost } from '../../src/policy/scopes/url.ts';
import { request } from './helpers.ts';

// The oracle is the host resolver the clients use: ioredis, pg and mysql2 take the URL's
// `hostname` and hand it to `net.connect`, which asks `dns.lookup` (getaddrinfo). getaddrinfo reads
// `127.1`, `2130706433`, `0x7f.1` and `0177.0.0.1` as 127.0.0.1 without asking DNS. WHATWG URL
// rewrites such hosts to dotted decimal only for the special schemes (http, https, ws, wss, ftp);
// for every other scheme the host stays as written. (.tmp/paths/url-opaque.ts: ioredis reached the
// local Redis through `redis://127.1:6379` and four other forms the scope allowed.)

const req = request('t');
const schemes = ['https', 'http', 'redis', 'rediss', 'postgres', 'mysql', 'ssh', 'mongodb'];
const scope = urlScope({ schemes });
const internal = urlScope({ schemes, hosts: ['db.example.com'], denyPrivateNetworks: false });

/** A private IPv4 address written in one of the forms inet_aton and WHATWG's IPv4 parser read. */
const privateV4 = fc
  .record({
    address: fc.constantFrom(
      [127, 0, 0, 1],
      [127, 1, 2, 3],
      [10, 0, 0, 7],
      [169, 254, 169, 254],
      [192, 168, 1, 1],
      [172, 16, 0, 1],
      [0, 0, 0, 0],
    ),
    parts: fc.constantFrom(1, 2, 3, 4),
    radix: fc.array(fc.constantFrom('dec', 'oct', 'hex', 'HEX'), { minLength: 4, maxLength: 4 }),
    dot: fc.boolean(),
  })
  .map(({ address, parts, radix, dot }) => {
    const [a, b, c, d] = address as [number, number, number, number];
    const values =
      parts === 4
        ? [a, b, c, d]
        : parts === 3
          ? [a, b, (c << 8) | d]
          : parts === 2
            ? [a, (b << 16) | (c << 8) | d]
            : [((a << 24) >>> 0) + ((b << 16) | (c << 8) | d)];
    const written = values.map((value, i) => {
      const form = radix[i];
      if (form === 'oct') return `0${value.toString(8)}`;
      if (form === 'hex') return `0x${value.toString(16)}`;
      if (form === 'HEX') return `0X${value.toString(16).toUpperCase()}`;
      return String(value);
    });
    return `${written.join('.')}${dot ? '.' : ''}`;
  });

describe('urlScope: a host that reads as an IPv4 address, in any scheme', () => {
  it('the oracle: getaddrinfo reads shortened, decimal, octal and hex forms as addresses', async () => {
    for (const host of ['127.1', '2130706433', '0x7f.1', '0177.0.0.1', '0'])
      expect(isPrivateHost((await lookup(host, { family: 4 })).address), host).toBe(true);
  });

  it('is refused unless written as canonical dotted decimal, and never resolves to a private address', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...schemes), privateV4, async (scheme, host) => {
        const url = `${scheme}://${host}:6379/x`;
        // A host list of names only never matches an address, however it is written.
        expect(internal.test(url, req), url).toBe(false);
        if (scope.test(url, req) === true) {
          // Allowed: then what the client connects to must be public.
          const { address } = await lookup(new URL(url).hostname, { family: 4 });
          expect(isPrivateHost(address), `${url} connects to ${address}`).toBe(false);
        }
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    'redis://127.1:6379',
    'redis://2130706433:6379',
    'redis://0x7f.1:6379',
    'redis://0177.0.0.1:6379',
    'redis://0:6379',
    'postgres://127.1/test',
    'mysql://0x7f000001/test',
    'ssh://1.2.3/',
    'redis://example.123/',
    'redis://127.0.0.1/',
    'redis://[::1]/',
    'redis://[::ffff:127.0.0.1]/',
  ])('%s is refused', (url) => {
    expect(scope.test(url, req)).toBe(false);
  });

  it('canonical public addresses and names still pass in every scheme', () => {
    for (const scheme of schemes) {
      expect(scope.test(`${scheme}://93.184.216.34/x`, req), scheme).toBe(true);
      expect(scope.test(`${scheme}://db.example.com:5432/x`, req), scheme).toBe(true);
      expect(scope.test(`${scheme}://123.example.com/x`, req), scheme).toBe(true);
      expect(scope.test(`${scheme}://[2606:4700::1111]/x`, req), scheme).toBe(true);
    }
    expect(internal.test('postgres://db.example.com/test', req)).toBe(true);
    expect(internal.test('postgres://DB.example.com./test', req)).toBe(true);
  });
});

describe('urlScope: a host that is not a plain name', () => {
  const hosts = urlScope({ schemes, hosts: ['*.example.com'] });
  it.each([
    // Host lists: MongoDB and libpq read a comma as a list of hosts; the glob saw one name.
    'mongodb://evil.test,x.example.com/db',
    'postgres://evil.test,x.example.com/db',
    'https://evil.test,x.example.com/',
    // Kept percent-encoded by WHATWG for other schemes; pg decodes it again (decodeURIComponent).
    'postgres://ｘ.example.com/db',
    'redis://a;b.example.com/',
    'https://a*b.example.com/',
    // The host is not where `//` puts it: WHATWG skips the slashes of special schemes.
    'https:ex%61mple.example.com//x',
    'https:////ex%61mple.example.com/',
    'https:/x.example.com/',
    'https:x.example.com',
  ])('%s is refused', (url) => {
    expect(hosts.test(url, req)).toBe(false);
  });
  it('plain names pass', () => {
    expect(hosts.test('https://a-b_c.x.example.com/', req)).toBe(true);
    expect(hosts.test('mongodb://x.example.com/db', req)).toBe(true);
    expect(hosts.test('https://xn--bcher-kva.example.com/', req)).toBe(true);
    expect(hosts.test('https://bücher.example.com/', req)).toBe(true);
  });
});

describe('urlScope: a client that reads where to connect from the query', () => {
  // The oracle is pg's own parser: `?host=` replaces the URL's host (a name, an address or a
  // Unix socket directory), `?sslkey=` makes it read a local file. mysql2 reads `?socketPath=`,
  // ioredis `?path=` (a Unix socket) the same way. (.tmp/paths/url-query-host.ts: pg reached the
  // local server through `postgres://db.example.com/test?host=127.0.0.1`, which the scope allowed.)
  const db = urlScope({ schemes: ['postgres', 'mysql', 'redis', 'https'], hosts: ['db.example.com'] });
  it('the oracle: pg takes the host from the query', () => {
    expect(new pg.Client({ connectionString: 'postgres://db.example.com/test?host=127.0.0.1' }).host).toBe(
      '127.0.0.1',
    );
  });
  it.each([
    'postgres://db.example.com/test?host=127.0.0.1',
    'postgres://db.example.com/test?host=/var/run/postgresql',
    'postgres://db.example.com/test?%68ost=127.0.0.1',
    'postgres://db.example.com/test?sslmode=require&host=10.0.0.1',
    'postgres://db.example.com/test?sslkey=/etc/shadow',
    'mysql://db.example.com/test?socketPath=/run/mysqld/mysqld.sock',
    'redis://db.example.com/0?path=/run/redis.sock',
  ])('%s is refused', (url) => {
    expect(db.test(url, req)).toBe(false);
  });
  it('what it allows, pg connects to as judged', () => {
    for (const url of ['postgres://db.example.com/test', 'postgres://db.example.com:6432/test#x']) {
      expect(db.test(url, req), url).toBe(true);
      expect(new pg.Client({ connectionString: url }).host).toBe('db.example.com');
    }
    // A query of http(s) goes to the server, not to the client.
    expect(db.test('https://db.example.com/search?host=127.0.0.1', req)).toBe(true);
  });
});

describe('urlScope: names that are never public', () => {
  // A single-label name (no dot) comes from /etc/hosts or a DNS search domain, never from the
  // public DNS: the machine's own name is 127.0.0.1 or 127.0.1.1 on most systems, `metadata` is
  // the cloud metadata server on GCE. `.local` (mDNS), `.internal` and `.home.arpa` are reserved
  // for private networks. (.tmp/paths/url-dotless.ts: fetch read a local page through `http://vm/`.)
  const any = urlScope({ schemes: ['http', 'https', 'redis'] });
  it('the oracle: this machine resolves its own single-label name to a private address', async () => {
    const name = hostname();
    const found = await lookup(name, { family: 4 }).catch(() => undefined);
    if (name.includes('.') || found === undefined) return;
    expect(isPrivateHost(found.address), `${name} → ${found.address}`).toBe(true);
  });
  it.each([
    `http://${hostname().split('.')[0]}/`,
    'http://metadata/computeMetadata/v1/',
    'http://intranet./',
    'redis://cache:6379',
    'http://metadata.google.internal/',
    'http://printer.local/',
    'http://router.home.arpa/',
    'http://localhost.localdomain/',
    'http://LOCALHOST.LOCALDOMAIN./',
  ])('%s is refused', (url) => {
    expect(any.test(url, req)).toBe(false);
  });
  it('public names and a host list that names an internal one', () => {
    expect(any.test('https://example.com/', req)).toBe(true);
    expect(any.test('https://local.example.com/', req)).toBe(true);
    expect(any.test('https://internal.example/', req)).toBe(true);
    const internal = urlScope({ schemes: ['http'], hosts: ['metadata'], denyPrivateNetworks: false });
    expect(internal.test('http://metadata/', req)).toBe(true);
  });
});
