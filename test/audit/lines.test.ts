import { open } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { forEachLine, MAX_LINE_BYTES } from '../../src/audit/lines.ts';

// A file that never ends without a newline (a device given as the audit log) doubled the line
// buffer past what Node can read into, and Node aborted the whole process (exit 134, a native
// assertion) instead of refusing the file.
it.skipIf(process.platform === 'win32')(
  'refuses a line longer than MAX_LINE_BYTES instead of crashing',
  async () => {
    const handle = await open('/dev/zero', 'r');
    try {
      await expect(forEachLine(handle, () => undefined)).rejects.toThrow(RangeError);
    } finally {
      await handle.close();
    }
    expect(MAX_LINE_BYTES).toBe(256 * 1024 * 1024);
  },
);
