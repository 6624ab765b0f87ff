import { validateWorkflow } from '@action-validator/core';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './testing.ts';

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
  if?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { steps: Step[] }>;
}

const read = (name: string) => readFileSync(path.join(ROOT, '.github/workflows', name), 'utf8');
const runs = (workflow: Workflow) => Object.values(workflow.jobs).flatMap((job) => job.steps.map((step) => step.run ?? step.uses ?? ''));

describe('GitHub workflows', () => {
  for (const name of ['ci.yml', 'validate.yml']) {
    it(`${name} is a valid workflow`, () => {
      const state = validateWorkflow(read(name));
      assert.deepEqual(state.errors, []);
    });
  }

  it('the validator rejects an invalid workflow (so the checks above can fail)', () => {
    assert.notDeepEqual(validateWorkflow('name: x\non: push\njobs:\n  a:\n    steps: 3\n').errors, []);
  });

  it('ci runs on pull requests and pushes to main: npm ci, lint, check, test in that order', () => {
    const workflow = parseYaml(read('ci.yml')) as Workflow;
    assert.ok('pull_request' in workflow.on);
    assert.deepEqual((workflow.on['push'] as { branches: string[] }).branches, ['main']);
    const commands = runs(workflow).filter((run) => ['npm ci', 'npx runbook lint', 'npx runbook check', 'npm test'].includes(run));
    assert.deepEqual(commands, ['npm ci', 'npx runbook lint', 'npx runbook check', 'npm test']);
    assert.ok(runs(workflow).some((run) => /apt-get install .*chromium/.test(run)), 'installs chromium via apt where missing');
  });

  it('validate runs quarterly and on demand, and uploads the junit, markdown and HTML reports', () => {
    const workflow = parseYaml(read('validate.yml')) as Workflow;
    assert.deepEqual(workflow.on['schedule'], [{ cron: '0 6 1 1,4,7,10 *' }]);
    assert.ok('workflow_dispatch' in workflow.on);
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
    assert.ok(steps.some((step) => step.run === 'npx runbook validate --reporter junit,markdown,html --out reports'));
    const upload = steps.find((step) => step.uses?.startsWith('actions/upload-artifact@'));
    assert.equal(upload?.with?.['path'], 'reports/');
    assert.equal(upload?.if, 'always()', 'a failed validation still leaves its reports');
  });
});
