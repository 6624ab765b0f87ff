import type { FaultSpec, Faults } from './types.ts';

/** Armed faults, each firing for its next `count` matching events (default 1), in the order they were armed. */
export function createFaults(): Faults {
  let armed: Array<FaultSpec & { count: number }> = [];
  return {
    inject(spec) {
      const count = spec.count ?? 1;
      if (!Number.isInteger(count) || count < 1) throw new RangeError(`Unexpected fault count ${count}, expected a positive integer`);
      armed.push({ ...spec, count });
    },
    take(kind, matches = () => true) {
      const index = armed.findIndex((fault) => fault.kind === kind && matches(fault));
      const fault = armed[index];
      if (!fault) return undefined;
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
