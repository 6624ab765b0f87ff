#!/usr/bin/env node
// The CLI is TypeScript; tsx's loader lets it (and the runbook blocks' helpers) run without a build step.
import { register } from 'tsx/esm/api';

register();
// `runbook plan | head` closes the pipe early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import('../runner/cli.ts');
process.exitCode = await main(process.argv.slice(2));
