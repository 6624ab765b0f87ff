import { InvalidArgumentError, type Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { processIO, type CommandIO } from '../../common/io.ts';
import { FAULT_KINDS, isFaultKind } from '../../sandbox/faults.ts';
import { guard } from '../guard.ts';

// The sandbox's servers load only when a sandbox command runs, never for `--help`, `plan` or a production run.
const commands = () => import('../../sandbox/commands.ts');

function faultKind(value: string): string {
  if (value !== 'clear' && !isFaultKind(value)) throw new InvalidArgumentError(`expected one of: clear, ${Object.keys(FAULT_KINDS).join(', ')}`);
  return value;
}

function whole(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

interface DirFlags {
  dir?: string;
}

/** `runbook sandbox up|down|status|clock|fault`: the sandbox tenant on its own (exit 0, 1 not running or failed, 2). */
export function addSandboxCommands(program: Command, onResult: (code: number) => void, io: CommandIO = processIO): void {
  const sandbox = program
    .command('sandbox')
    .description('the sandbox tenant on its own: up | down | status | clock | fault')
    .addHelpText('after', `\nFault kinds (\`runbook sandbox fault <kind>\`):\n${Object.entries(FAULT_KINDS).map(([kind, what]) => `  ${kind.padEnd(20)} ${what}`).join('\n')}`);
  const dirOption = (command: Command) => command.option('--dir <dir>', 'the sandbox folder (default .runbook/sandbox)');
  dirOption(sandbox.command('up').description('start it in the background and print its URLs and CA path'))
    .option('--watch-pid <pid>', 'stop when this process exits', whole)
    .action(async (flags: DirFlags & { watchPid?: number }) => onResult(await (await commands()).sandboxUp(flags, io)));
  dirOption(sandbox.command('down').description('stop it')).action(async (flags: DirFlags) => onResult(await (await commands()).sandboxDown(flags, io)));
  dirOption(sandbox.command('status', { isDefault: true }).description('whether it runs, its facts, clock and armed faults'))
    .option('--json', 'machine-readable output')
    .action(async (flags: DirFlags & { json?: boolean }) => onResult(await (await commands()).sandboxStatus(flags, io)));
  dirOption(sandbox.command('clock').description('print the sandbox clock, or `clock advance <duration>` (e.g. 12h, 181d)'))
    .argument('[action]', 'advance')
    .argument('[duration]', 'how far, e.g. 12h or 181d')
    .action(async (action: string | undefined, duration: string | undefined, flags: DirFlags) =>
      onResult(
        await guard('sandbox clock', io, async () => {
          if (action !== undefined && (action !== 'advance' || duration === undefined)) throw new UsageError('expected `clock` or `clock advance <duration>`');
          return (await commands()).sandboxClock({ ...flags, advance: duration }, io);
        }),
      ),
    );
  dirOption(sandbox.command('fault').description('arm a fault (`fault <kind>`), or disarm all (`fault clear`)'))
    .argument('<kind>', 'one of the kinds below, or clear', faultKind)
    .addHelpText('after', `\nFault kinds:\n${Object.entries(FAULT_KINDS).map(([kind, what]) => `  ${kind.padEnd(20)} ${what}`).join('\n')}`)
    .option('--count <n>', 'how many times it fires (default 1)', whole)
    .option('--status <code>', 'the HTTP status it answers with', whole)
    .option('--retry-after <seconds>', 'Retry-After of a 429', whole)
    .action(async (kind: string, flags: DirFlags & { count?: number; status?: number; retryAfter?: number }) =>
      onResult(await (await commands()).sandboxFault({ ...flags, kind }, io)),
    );
}
