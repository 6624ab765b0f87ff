#!/usr/bin/env node
// The CLI is TypeScript; tsx's loader lets it (and the runbook blocks' helpers) run without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../runner/cli.ts');
process.exitCode = await main(process.argv.slice(2));
