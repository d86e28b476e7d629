import { describe, expect, it } from 'vitest';
import { redactArgs } from '../../src/audit/redact.ts';

// A URL carried percent-encoded in another URL's query (OAuth's `redirect_uri`, a login page's
// `next`), encoded once or more: its credentials are redacted as a raw URL's are.

const PW = 'S3cr3tPassw0rdS3cr3t';
const redacted = (text: string) => (redactArgs({ text }) as { text: string }).text;

describe('credentials in a percent-encoded URL inside a URL', () => {
  it('redacts a secret query parameter of the inner URL, encoded once, twice or three times', () => {
    const inner = `https://app.example/cb?state=1&access_token=${PW}&scope=read`;
    for (const encode of [
      encodeURIComponent,
      (t: string) => encodeURIComponent(encodeURIComponent(t)),
      (t: string) => encodeURIComponent(encodeURIComponent(encodeURIComponent(t))),
      (t: string) => encodeURIComponent(t).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    ]) {
      const text = `https://login.example/authorize?client_id=abc&redirect_uri=${encode(inner)}&x=1`;
      const out = redacted(text);
      expect(out, text).not.toContain(PW);
      // What is around the value stays: the next parameter of the inner URL and of the outer one.
      expect(out).toContain('scope');
      expect(out.endsWith('&x=1')).toBe(true);
    }
    expect(redacted(`?next=${encodeURIComponent(`/a?b=1&token=${PW}`)}`)).toBe(
      `?next=${encodeURIComponent('/a?b=1&token=')}[REDACTED]`,
    );
  });

  it('redacts the userinfo of an encoded URL', () => {
    for (const inner of [`postgres://admin:${PW}@db:5432/app`, `https://user:${PW}@host/path?q=1`]) {
      const text = `https://x/?next=${encodeURIComponent(inner)}&y=2`;
      const out = redacted(text);
      expect(out, text).not.toContain(PW);
      // The host and what follows stay.
      expect(out).toMatch(/\[REDACTED\]%40(?:db%3A5432|host%2Fpath)/);
      expect(out.endsWith('&y=2')).toBe(true);
    }
  });

  it('leaves encoded URLs without credentials and other parameters alone', () => {
    for (const text of [
      `https://x/?next=${encodeURIComponent('https://app.example/cb?state=1&page=2')}`,
      `https://x/?q=${encodeURIComponent('tokens=5&max_tokens=10')}`,
      `https://x/?to=${encodeURIComponent('mailto:someone@example.com')}`,
    ])
      expect(redacted(text)).toBe(text);
  });
});
