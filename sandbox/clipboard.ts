import type { Clipboard } from './types.ts';

/** The sandbox's clipboard lives in memory only: it holds secret values, which must never reach disk or logs. */
export function createClipboard(): Clipboard {
  let text = '';
  return {
    write(value) {
      text = value;
    },
    read: () => text,
  };
}
