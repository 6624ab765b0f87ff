/**
 * Starts a sandbox in the folder named by the first argument, prints its containers' process ids as one JSON line and
 * holds it until it is killed: what the lifetime tests kill, as an operator's `kill -9` would.
 */
import { startSandbox } from '../index.ts';
import { platformOf } from '../platform/platform.ts';

const handle = await startSandbox({ dir: process.argv[2] });
const containers = platformOf(handle.context)?.runtime.list() ?? [];
process.stdout.write(`${JSON.stringify(containers.map(({ name, pid }) => ({ name, pid })))}\n`);
