import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { urlAlphabet } from 'nanoid';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/_internal/ids.ts';
import { createGuard, memoryAudit, rules } from '../../src/index.ts';

const IDS = fileURLToPath(new URL('../../src/_internal/ids.ts', import.meta.url));
const FORMAT = /^[A-Za-z0-9_-]{21}$/;

describe('default ids', () => {
  it('are 21 symbols of nanoid’s URL alphabet, all distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      const id = newId();
      expect(id).toMatch(FORMAT);
      seen.add(id);
    }
    expect(seen.size).toBe(50_000);
  });

  it('use every symbol about equally, at every position', () => {
    const ids = Array.from({ length: 64 * 400 }, () => newId());
    for (let position = 0; position < 21; position += 5) {
      const counts = new Map<string, number>();
      for (const id of ids) counts.set(id[position]!, (counts.get(id[position]!) ?? 0) + 1);
      expect(counts.size).toBe(64);
      // 400 expected per symbol; a chi-square over 63 degrees of freedom stays far below 200.
      let chi = 0;
      for (const symbol of urlAlphabet) chi += ((counts.get(symbol) ?? 0) - 400) ** 2 / 400;
      expect(chi).toBeLessThan(200);
    }
  });

  it('work when they are the first thing to draw from nanoid’s pool', async () => {
    // nanoid sizes its pool from its first request; one over 512 bytes would exceed what
    // getRandomValues fills in one call. A fresh process makes this the first request.
    const script = `const { newId } = await import(${JSON.stringify(IDS)}); console.log(newId(), newId());`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ]);
    const ids = stdout.trim().split(' ');
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(FORMAT);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('name calls and their events when no generateId is given', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([{ id: 'ok', effect: 'allow', tool: 't' }]), audit });
    const tool = tg.guard(async () => 1, { name: 't' });
    await tool({});
    await tool({});
    const [first, , second] = audit.events;
    expect(first?.callId).toMatch(FORMAT);
    expect(second?.callId).toMatch(FORMAT);
    expect(first?.callId).not.toBe(second?.callId);
    expect(first?.id).toBe(`${first?.callId}.1`);
  });
});
