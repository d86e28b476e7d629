import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../src/errors.ts';
import { pathScope } from '../../src/policy/scopes/path.ts';
import { urlScope } from '../../src/policy/scopes/url.ts';
import { request } from './helpers.ts';

const req = request('t');
const base = mkdtempSync(join(tmpdir(), 'toolgate-path-'));
const data = join(base, 'data');
mkdirSync(join(data, 'sub'), { recursive: true });
mkdirSync(join(base, 'data_evil'));
mkdirSync(join(base, 'secret'));
writeFileSync(join(data, 'a.txt'), 'a');
writeFileSync(join(base, 'secret', 'key'), 'k');
symlinkSync(join(base, 'secret'), join(data, 'link-out'));
symlinkSync(join(data, 'sub'), join(data, 'link-in'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('pathScope', () => {
  const scope = pathScope({ roots: [data] });
  const loose = pathScope({ roots: [data], allowSymlinks: true });
  test.each([
    [join(data, 'a.txt'), true],
    [data, true],
    [`${data}/`, true],
    [join(data, 'new', 'file.txt'), true],
    [join(data, 'sub', '.', 'x'), true],
    [join(base, 'data_evil', 'x'), false],
    [`${data}_evil`, false],
    [`${data}/../secret/key`, false],
    [`${data}/sub/../../secret/key`, false],
    [`${data}/%2e%2e/secret/key`, false],
    [`${data}\\..\\secret`, false],
    [`${data}/a.txt\u0000.png`, false],
    ['relative/a.txt', false],
    ['', false],
    [join(data, 'link-out', 'key'), false],
    [join(data, 'link-in', 'x'), false],
    [join(base, 'secret', 'key'), false],
    ['/', false],
    ['/etc/passwd', false],
  ])('%s → %s', (value, expected) => {
    expect(scope.test(value, req)).toBe(expected);
  });
  test('allowSymlinks follows links but not out of the root', () => {
    expect(loose.test(join(data, 'link-in', 'x'), req)).toBe(true);
    expect(loose.test(join(data, 'link-out', 'key'), req)).toBe(false);
  });
  test('the real path of the root is accepted too', () => {
    expect(scope.test(join(realpathSync(data), 'a.txt'), req)).toBe(true);
  });
  test('non-strings are indeterminate', () => {
    expect(scope.test(42, req)).toBeUndefined();
    expect(scope.test(['/x'], req)).toBeUndefined();
  });
  test('invalid options throw', () => {
    expect(() => pathScope({ roots: [] })).toThrow(ConfigurationError);
    expect(() => pathScope({ roots: ['relative'] })).toThrow(ConfigurationError);
    expect(() => pathScope({ roots: [join(base, 'missing')] })).toThrow(/cannot be resolved/);
    expect(() => pathScope({ roots: [data], extra: 1 } as never)).toThrow(/unknown option/);
  });
});

describe('urlScope', () => {
  const scope = urlScope({ hosts: ['api.example.com', '*.example.org'] });
  const any = urlScope({ schemes: ['https', 'http'] });
  test.each([
    ['https://api.example.com/v1', true],
    ['https://API.EXAMPLE.COM/v1', true],
    ['https://a.example.org/x', true],
    ['https://example.org/x', false],
    ['https://api.example.com.evil.com/', false],
    ['https://evil.com/?https://api.example.com', false],
    ['http://api.example.com/', false],
    ['https://user:pw@api.example.com/', false],
    ['https://api.example.com@evil.com/', false],
    ['https://evil.com\\@api.example.com/', false],
    ['https://api.example.com%2f@evil.com', false],
    ['ftp://api.example.com', false],
    ['javascript:alert(1)', false],
    ['not a url', false],
  ])('%s → %s', (value, expected) => {
    expect(scope.test(value, req)).toBe(expected);
  });
  test.each([
    'http://localhost/',
    'http://LOCALHOST./',
    'http://foo.localhost/',
    'http://127.0.0.1/',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://0x7f.0.0.1/',
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://[::1]/',
    'http://[::]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[fe80::1]/',
    'http://[fd00::1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://224.0.0.1/',
    'http://%31%32%37.0.0.1/',
  ])('private or obfuscated %s is refused', (value) => {
    expect(any.test(value, req)).toBe(false);
  });
  test('public addresses pass when no host list is given', () => {
    expect(any.test('https://93.184.216.34/', req)).toBe(true);
    expect(any.test('http://[2606:4700::1111]/', req)).toBe(true);
    expect(any.test('https://example.com:8443/x', req)).toBe(true);
  });
  test('denyPrivateNetworks: false lets private addresses through the host list', () => {
    const internal = urlScope({ hosts: ['10.*'], schemes: ['http'], denyPrivateNetworks: false });
    expect(internal.test('http://10.1.2.3/', req)).toBe(true);
    expect(internal.test('http://167837956/', req)).toBe(false);
  });
  test('non-strings are indeterminate; bad options throw', () => {
    expect(scope.test(1, req)).toBeUndefined();
    expect(() => urlScope({ schemes: [] })).toThrow(ConfigurationError);
    expect(() => urlScope({ hosts: 'x' } as never)).toThrow(ConfigurationError);
  });
});
