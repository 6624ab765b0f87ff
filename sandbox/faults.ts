import type { FaultSpec, Faults } from './types.ts';

/** Every fault the sandbox knows how to fire, and what it does: `runbook sandbox --help` lists these. */
export const FAULT_KINDS = {
  token: 'the token endpoint answers --status (401, 429 with --retry-after, 5xx)',
  graph: 'Graph answers --status (429 with --retry-after, 5xx)',
  'ssh-drop': 'the connection drops at the next SSH command (params.afterBytes: mid-transfer)',
  'container-unhealthy': 'the next backend container started fails its health check',
  'subscription-lapse': 'the next 12-hourly renewal misses its deadline and the subscriptions lapse',
  'clipboard-truncate': 'the next paste is cut short (params.length)',
  'clipboard-newline': 'the next paste gets a trailing newline (params.text, params.count)',
} as const;

export type FaultKind = keyof typeof FAULT_KINDS;

export function isFaultKind(kind: string): kind is FaultKind {
  return Object.hasOwn(FAULT_KINDS, kind);
}

/** Armed faults, each firing for its next `count` matching events (default 1, after `params.skip` of them), in the order they were armed. */
export function createFaults(): Faults {
  let armed: Array<FaultSpec & { count: number }> = [];
  return {
    inject(spec) {
      if (!isFaultKind(spec.kind)) throw new RangeError(`Unexpected fault kind \`${spec.kind}\`, expected one of: ${Object.keys(FAULT_KINDS).join(', ')}`);
      const count = spec.count ?? 1;
      if (!Number.isInteger(count) || count < 1) throw new RangeError(`Unexpected fault count ${count}, expected a positive integer`);
      armed.push({ ...spec, count });
    },
    take(kind, matches = () => true) {
      const index = armed.findIndex((fault) => fault.kind === kind && matches(fault));
      const fault = armed[index];
      if (!fault) return undefined;
      // `params.skip`: let that many matching events pass first, to aim a fault at the Nth request (e.g. the SSH
      // command after an upload) without racing the client from outside.
      const skip = Number(fault.params?.skip ?? 0);
      if (skip > 0) {
        fault.params = { ...fault.params, skip: skip - 1 };
        return undefined;
      }
      fault.count -= 1;
      if (fault.count === 0) armed.splice(index, 1);
      return { kind: fault.kind, count: 1, ...(fault.params ? { params: fault.params } : {}) };
    },
    list: () => armed.map((fault) => ({ ...fault })),
    clear() {
      armed = [];
    },
  };
}
