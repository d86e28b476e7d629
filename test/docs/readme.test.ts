import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README', () => {
  it('shows the two commands', () => {
    expect(readme).toContain('npm install && npm run demo');
    expect(readme).toContain('npm test');
  });

  it('its quickstart is exactly examples/quickstart/basic.ts (which CI runs)', () => {
    const block = /## Quickstart\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toBe(readFileSync(join(root, 'examples/quickstart/basic.ts'), 'utf8'));
  });

  it('links only to files that exist', () => {
    const links = [...readme.matchAll(/\]\(((?:docs|examples)\/[^)#]*)\)/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThan(5);
    for (const link of links) expect(existsSync(join(root, link)), link).toBe(true);
  });
});
