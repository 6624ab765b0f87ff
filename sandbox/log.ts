import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SandboxLog } from './types.ts';

/**
 * One combined log file for every component, written synchronously so that a crash never loses the last lines the
 * leak scan must see. Callers must never pass secret values (log key ids and hints instead).
 */
export function createLog(path: string, echo?: (line: string) => void): SandboxLog {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  return {
    path,
    write(component, line) {
      const text = `${new Date().toISOString()} [${component}] ${line}`;
      appendFileSync(path, `${text}\n`, { mode: 0o600 });
      echo?.(text);
    },
  };
}
