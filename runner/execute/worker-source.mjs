// The block thread when the runner runs from its TypeScript sources (tests, or no bundle): a worker does not inherit
// the parent's module hooks, so it registers tsx itself before loading the real entry.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
