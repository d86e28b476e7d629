import { describe, it } from 'vitest';
import { memoryStore } from '../../src/store/memory.ts';
import { testStateStore } from '../../src/testing/state-store.ts';

testStateStore('memory', { runner: { describe, it }, create: async () => ({ store: memoryStore() }) });
