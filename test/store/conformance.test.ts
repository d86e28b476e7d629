import { memoryStore } from '../../src/store/memory.ts';
import { testStateStore } from '../../src/testing/state-store.ts';

testStateStore('memory', { create: async () => ({ store: memoryStore() }) });
