import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, ensureChromium, type Machine } from './chromium.ts';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** A machine with these executables; apt-get "installs" /usr/bin/chromium unless told to fail. */
function machine(options: { uid: number; installed?: string[]; env?: NodeJS.ProcessEnv; aptFails?: boolean }) {
  const installed = new Set(options.installed ?? []);
  const commands: string[] = [];
  const fake: Machine & { commands: string[] } = {
    env: options.env ?? {},
    uid: options.uid,
    candidates: CANDIDATES,
    commands,
    executable: (file) => installed.has(file),
    run(command, args, env) {
      commands.push(`${env['DEBIAN_FRONTEND'] ?? ''} ${command} ${args.join(' ')}`.trim());
      if (options.aptFails) throw new Error('E: Unable to locate package chromium');
      if (args[0] === 'install') installed.add('/usr/bin/chromium');
    },
  };
  return fake;
}

describe('npm test finds or installs a Chromium', () => {
  it('uses the first installed candidate, or $CHROMIUM_PATH, without installing anything', () => {
    const found = machine({ uid: 0, installed: ['/usr/bin/google-chrome'] });
    assert.deepEqual(decide(found), { kind: 'found', path: '/usr/bin/google-chrome' });
    assert.equal(ensureChromium(found, () => {}), undefined);
    assert.deepEqual(found.commands, []);
    assert.deepEqual(decide(machine({ uid: 1000, installed: ['/opt/chrome'], env: { CHROMIUM_PATH: '/opt/chrome' } })), { kind: 'found', path: '/opt/chrome' });
  });

  it('installs Debian\'s chromium with apt-get, update first and non-interactive, when missing and root', () => {
    const bare = machine({ uid: 0 });
    const lines: string[] = [];
    assert.equal(ensureChromium(bare, (line) => lines.push(line)), undefined);
    assert.deepEqual(bare.commands, ['noninteractive apt-get update -qq', 'noninteractive apt-get install -y -qq --no-install-recommends chromium']);
    assert.equal(lines.length, 1);
  });

  it('stops with one line saying how when missing and not root, installing nothing', () => {
    const user = machine({ uid: 1000 });
    const problem = ensureChromium(user, () => {});
    assert.match(problem ?? '', /^npm test: no Chromium at \/usr\/bin\/chromium, \/usr\/bin\/chromium-browser, \/usr\/bin\/google-chrome and not root to install one: install Debian's chromium package .* or set CHROMIUM_PATH/);
    assert.doesNotMatch(problem ?? '', /\n/);
    assert.deepEqual(user.commands, []);
  });

  it('never installs over an explicit $CHROMIUM_PATH that is wrong, and reports a failed install in one line', () => {
    const wrong = machine({ uid: 0, env: { CHROMIUM_PATH: '/nope/chrome' } });
    assert.match(ensureChromium(wrong, () => {}) ?? '', /^npm test: CHROMIUM_PATH=\/nope\/chrome is not an executable; /);
    assert.deepEqual(wrong.commands, []);
    const broken = machine({ uid: 0, aptFails: true });
    assert.match(ensureChromium(broken, () => {}) ?? '', /^npm test: installing chromium with apt-get failed \(E: Unable to locate package chromium\); /);
  });
});
