import { afterAll, afterEach, beforeAll } from 'vitest';

// Harness invariants (SECURITY.md): Object.prototype is never touched, and no promise is left
// rejected without a handler.
const protoKeys = Reflect.ownKeys(Object.prototype).sort().map(String).join(',');
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});

afterEach(() => {
  const now = Reflect.ownKeys(Object.prototype).sort().map(String).join(',');
  if (now !== protoKeys) throw new Error(`Object.prototype was modified: ${now}`);
  if ((Object.prototype as Record<string, unknown>).polluted !== undefined)
    throw new Error('Object.prototype polluted');
});

afterAll(async () => {
  await new Promise((resolve) => setTimeout(resolve, 10));
  process.off('unhandledRejection', onUnhandled);
  if (unhandled.length > 0) throw new Error(`unhandled rejections: ${unhandled.map(String).join('; ')}`);
});
