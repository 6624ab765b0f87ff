/** The rest of the backend group (runner-agent, celery-worker, celery-beat): alive, logging, otherwise idle. */
import { startClock } from './clock.ts';
import { log } from './log.ts';

const service = process.env.SANDBOX_SERVICE ?? 'worker';
log('INFO', service, `${service} started (sandbox stand-in: idle)`);
startClock(process.env);
process.on('SIGTERM', () => process.exit(0));
