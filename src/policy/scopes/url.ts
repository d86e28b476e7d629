import { isIP } from 'node:net';
import { type CompiledGlob, compileGlob } from '../../_internal/glob.ts';
import { ConfigurationError } from '../../errors.ts';
import { defineScope, type PolicyScope } from './scope.ts';

/** Options of `urlScope`. */
export interface UrlScopeOptions {
  /** Anchored globs on the host name, lowercase, e.g. `['api.example.com', '*.example.org']`. Default: any public host. */
  hosts?: readonly string[];
  /** Allowed schemes without `:`. @default ['https'] */
  schemes?: readonly string[];
  /**
   * Refuse loopback, private, link-local, unique-local, CGNAT, multicast and reserved addresses,
   * `localhost`, single-label names (`http://metadata/`) and names under `.local`, `.internal`,
   * `.home.arpa` and `.localdomain`, whatever `hosts` says.
   * @default true
   */
  denyPrivateNetworks?: boolean;
}

const URL_KEYS = new Set(['hosts', 'schemes', 'denyPrivateNetworks']);
const MAX_URL = 8192;
/** The schemes WHATWG URL parses hosts of (IDNA, IPv4 forms) and whose query goes to the server. */
const SPECIAL_SCHEMES: ReadonlySet<string> = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:']);

/**
 * A scope on a URL (SSRF defence): the value must parse as a URL with an allowed scheme and host.
 * Refuses userinfo (`user@host`), backslashes, whitespace and control characters, percent-encoded
 * hosts, a host not right after `scheme://`, IPv4 addresses written in a non-canonical form
 * (decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f.1`, short `127.1`) in any scheme, hosts that
 * are not plain names (letters, digits, `-`, `_`), a query in schemes other than http(s), ws(s) and
 * ftp (database clients read hosts and sockets from it), and, unless `denyPrivateNetworks: false`,
 * private and local addresses. Host names are not resolved: a public name that resolves to a
 * private address (DNS rebinding) must be stopped at the network layer. Ports and redirects are
 * not judged.
 *
 * @example
 * rules([{ id: 'fetch', effect: 'allow', tool: 'http.get', when: { 'args.url': urlScope({ hosts: ['*.example.com'] }) } }]);
 */
export function urlScope(options: UrlScopeOptions = {}): PolicyScope {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('urlScope() takes { hosts?, schemes?, denyPrivateNetworks? }');
  for (const key of Object.keys(options))
    if (!URL_KEYS.has(key)) throw new ConfigurationError(`urlScope(): unknown option ${key}`);
  const { hosts, schemes = ['https'], denyPrivateNetworks = true } = options;
  if (
    !Array.isArray(schemes) ||
    schemes.length === 0 ||
    !schemes.every((s) => typeof s === 'string' && /^[a-z][a-z0-9+.-]*$/.test(s))
  )
    throw new ConfigurationError(
      'urlScope(): schemes must be a non-empty list of lowercase schemes such as "https"',
    );
  if (typeof denyPrivateNetworks !== 'boolean')
    throw new ConfigurationError('urlScope(): denyPrivateNetworks must be a boolean');
  let hostGlobs: CompiledGlob[] | undefined;
  if (hosts !== undefined) {
    if (
      !Array.isArray(hosts) ||
      hosts.length === 0 ||
      !hosts.every((h) => typeof h === 'string' && h.length > 0)
    )
      throw new ConfigurationError('urlScope(): hosts must be a non-empty list of host globs');
    hostGlobs = hosts.map((host) => compileGlob(host.toLowerCase()));
  }
  const schemeSet = new Set(schemes.map((scheme) => `${scheme}:`));
  const spec = {
    schemes: [...schemes],
    denyPrivateNetworks,
    ...(hosts === undefined ? {} : { hosts: [...hosts] }),
  };
  return defineScope({
    kind: 'url',
    spec,
    test(value: unknown): boolean | undefined {
      if (typeof value !== 'string') return undefined;
      const host = checkedHost(value, schemeSet);
      if (host === undefined) return false;
      if (denyPrivateNetworks && isPrivateHost(host)) return false;
      if (hostGlobs === undefined) return true;
      const name = host.endsWith('.') ? host.slice(0, -1) : host;
      return hostGlobs.some((glob) => glob.test(name));
    },
    explain(value: unknown): string | undefined {
      if (typeof value !== 'string') return undefined;
      const host = checkedHost(value, schemeSet);
      if (host === undefined)
        return `is not a URL the scope accepts (scheme ${schemes.join(' or ')}, no user info, a plainly written host)`;
      if (denyPrivateNetworks && isPrivateHost(host)) return `names host ${host}, a private or local address`;
      return `names host ${host}, outside the scope (hosts ${(hosts ?? []).join(', ')})`;
    },
  });
}

/** A host name in ASCII (IDNA gives punycode): labels of letters, digits, `-` and `_`, one trailing dot at most. */
const PLAIN_NAME = /^(?:[a-z0-9_-]+\.)*[a-z0-9_-]+\.?$/;
/** WHATWG's "ends in a number": a last label of digits or `0x` hex makes the host an IPv4 address. */
const NUMERIC_END = /(?:^|\.)(?:\d+|0x[0-9a-f]*)\.?$/;

/** The URL's host when the string is acceptable, else undefined. */
function checkedHost(value: string, schemes: ReadonlySet<string>): string | undefined {
  if (value.length === 0 || value.length > MAX_URL) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u0020\u007f\\]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (!schemes.has(url.protocol)) return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  // Database clients read where to connect from the query (pg `?host=`, mysql2 `?socketPath=`,
  // ioredis `?path=`), and more options besides: other schemes than WHATWG's special ones get none.
  if (!SPECIAL_SCHEMES.has(url.protocol) && url.search !== '') return undefined;
  // The host must follow `scheme://` as written: WHATWG skips missing or extra slashes of special schemes.
  const start = url.protocol.length;
  if (value.slice(start, start + 2) !== '//' || value[start + 2] === '/') return undefined;
  const raw = rawHost(value.slice(start + 2));
  if (raw.includes('%') || raw.includes('@')) return undefined;
  const host = url.hostname.toLowerCase();
  if (host === '') return undefined;
  if (host.startsWith('[')) return host;
  // WHATWG URL rewrites 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 to dotted decimal: refuse any rewrite.
  if (isIP(host) === 4) return raw.toLowerCase() === host ? host : undefined;
  // Other schemes keep the host as written, and getaddrinfo reads 127.1 or 0x7f000001 as an address;
  // a comma (a list of hosts to pg or MongoDB), `%`, `*` or `;` is no host name at all.
  if (!PLAIN_NAME.test(host) || NUMERIC_END.test(host)) return undefined;
  return host;
}

/** The host exactly as written, from what follows `//` up to the port, path, query or fragment. */
function rawHost(rest: string): string {
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1);
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}

/** Names reserved for private networks: `.localhost`, mDNS `.local`, ICANN's `.internal`, `.home.arpa`, and `localhost.localdomain`. */
const PRIVATE_SUFFIX = /(?:^|\.)(?:localhost|local|internal|home\.arpa|localdomain)$/;

/**
 * Loopback, private, link-local, unique-local, CGNAT, multicast, reserved, `localhost`, names
 * reserved for private networks, and single-label names (no dot), which come from /etc/hosts or a
 * DNS search domain, never from the public DNS (the machine's own name, `metadata` on GCE).
 */
export function isPrivateHost(host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.startsWith('[') && name.endsWith(']')) return isPrivateV6(name.slice(1, -1));
  if (isIP(name) === 4) return isPrivateV4(name);
  if (isIP(name) === 6) return isPrivateV6(name);
  return !name.includes('.') || PRIVATE_SUFFIX.test(name);
}

function isPrivateV4(address: string): boolean {
  const [a = 0, b = 0, c = 0] = address.split('.').map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113) ||
    a >= 224
  );
}

function isPrivateV6(address: string): boolean {
  const groups = expandV6(address.toLowerCase());
  if (groups === undefined) return true;
  const [g0 = 0, , , , , g5 = 0, g6 = 0, g7 = 0] = groups;
  if (groups.every((group) => group === 0)) return true; // ::
  if (groups.slice(0, 7).every((group) => group === 0) && g7 === 1) return true; // ::1
  const embedded = `${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`;
  if (groups.slice(0, 5).every((group) => group === 0) && (g5 === 0xffff || g5 === 0))
    return isPrivateV4(embedded); // mapped / compatible
  if (g0 === 0x64 && groups[1] === 0xff9b) return isPrivateV4(embedded); // NAT64
  if ((g0 & 0xfe00) === 0xfc00) return true; // fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return true; // fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return true; // site-local (deprecated)
  if ((g0 & 0xff00) === 0xff00) return true; // multicast
  if (g0 === 0x2001 && groups[1] === 0x0db8) return true; // documentation
  return false;
}

function expandV6(address: string): number[] | undefined {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const parts = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, v4.index)}${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const groups = all.map((group) => Number.parseInt(group, 16));
  return groups.length === 8 &&
    groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff)
    ? groups
    : undefined;
}
