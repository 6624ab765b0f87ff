// The entry of the thread blocks run in (runtime.ts starts it). The helper processes that start the blocks' commands
// (common/spawn/spawner.ts: a small process each) are forked first, so they boot while this thread loads zx, expect and the
// document (block-thread.ts): by the first command they listen, and it waits for none of them.
import './thread-spawner.ts';

await import('./block-thread.ts');
