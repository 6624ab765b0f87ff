import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A target's own sandbox (`sandbox: { command: ... }`): a command that starts a stand-in for the target's system and
 * prints its facts as one JSON object on a line of its standard output, then keeps running. The facts fill the
 * target's `{{sandbox.KEY}}` placeholders exactly as the embedded sandbox's do; the command's whole process group is
 * stopped when the run ends. Runs in the runbook's folder, so a relative script path reads as the author wrote it.
 */
export function commandSandbox(command: string, cwd: string, startTimeoutMs = 60_000): Promise<{ facts: Record<string, string>; release(): Promise<void> }> {
  const child = spawn('sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return; // Already gone.
    }
    const late = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Gone between the two signals.
      }
    }, 5000);
    await exited;
    clearTimeout(late);
  };
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      void stop().then(() => reject(new Error(`the sandbox command \`${command}\` ${why}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-5).join(' | ')}` : ''}`)));
    };
    const timer = setTimeout(() => fail(`printed no facts (a JSON object on one line) within ${startTimeoutMs / 1000}s`), startTimeoutMs);
    child.once('error', (error) => fail(`could not start (${error.message})`));
    const early = (code: number | null, signal: NodeJS.Signals | null) => fail(`exited (${signal ?? `code ${code}`}) before printing its facts`);
    child.once('exit', early);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return; // Anything else it prints is its own business.
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return;
      clearTimeout(timer);
      child.off('exit', early);
      lines.removeAllListeners('line');
      child.stdout.resume();
      const facts = Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
      resolve({ facts, release: stop });
    });
  });
}
