import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/store/memory.ts';
import { waitFor } from '../../src/store/wait.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A poll interval longer than a Node timer can wait (24.8 days, or Infinity: "rely on the
// notifications") polls at most that often, never every millisecond.

describe('waitFor', () => {
  it.each([
    ['60 days', 60 * 24 * 3600 * 1000],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('a poll interval of %s does not re-read in a loop', async (_what, pollMs) => {
    const store = memoryStore();
    let reads = 0;
    let answer: string | undefined;
    const controller = new AbortController();
    const waiting = waitFor(
      store,
      'answers',
      () => {
        reads += 1;
        return answer;
      },
      { pollMs, signal: controller.signal },
    );
    await sleep(200);
    expect(reads).toBe(1);
    answer = 'yes';
    store.notify('answers', 'x');
    expect(await waiting).toBe('yes');
    expect(reads).toBe(2);
  });
});
