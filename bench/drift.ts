import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseRunbook } from '../runner/parse/index.ts';
import { checkDrift } from '../checks/drift/index.ts';
import { repoPath } from '../common/repo.ts';
import type { BenchResult } from './runner.ts';

const FILES = 10_000;
const TARGET_MS = 2_000;

/** Realistic filler: classes, functions, env reads, argparse flags, so the indexer does its full work per file. */
function pythonModule(n: number): string {
  return `"""Generated module ${n}."""
import os

SETTING_${n}_TIMEOUT = int(os.environ.get("SERVICE_${n}_TIMEOUT", "30"))


class Service${n}:
    def __init__(self) -> None:
        self.url = os.environ["SERVICE_${n}_URL"]

    def handle_${n}(self, payload: dict) -> dict:
        if not payload:
            raise RuntimeError("Service ${n} received an empty payload")
        return {"ok": True, "n": ${n}}


def helper_${n}(value: str) -> str:
    return value.strip().lower()
`;
}

function shellScript(n: number): string {
  return `#!/usr/bin/env bash
set -euo pipefail
usage() { echo "usage: $0 [--fast] [--target NAME]" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --fast) FAST=1; shift ;;
    --target) TARGET="$2"; shift 2 ;;
    *) usage ;;
  esac
done
docker compose -f docker-compose.yml --env-file .env up -d worker-${n}
`;
}

function tsModule(n: number): string {
  return `export class Client${n} {\n  constructor(private readonly base = process.env.CLIENT_${n}_BASE ?? '') {}\n  async fetchItem${n}(id: string) {\n    return fetch(\`\${this.base}/items/\${id}\`);\n  }\n}\n`;
}

/** Writes a repo of `FILES` files (the platform fixture plus generated ones) and a node_modules the walk must skip. */
export function generateRepo(dir: string, files = FILES): void {
  cpSync(repoPath('fixtures', 'platform'), dir, { recursive: true });
  const countFiles = (folder: string): number =>
    readdirSync(folder, { withFileTypes: true }).reduce((count, entry) => count + (entry.isDirectory() ? countFiles(path.join(folder, entry.name)) : 1), 0);
  let written = countFiles(dir);
  for (let n = 0; written < files; n++) {
    const folder = path.join(dir, 'services', `svc${n % 50}`, `pkg${Math.floor(n / 50) % 40}`);
    mkdirSync(folder, { recursive: true });
    const kind = n % 5;
    const name = ['module.py', 'run.sh', 'client.ts', 'NOTES.md', 'config.yml'][kind]!;
    const content = [pythonModule(n), shellScript(n), tsModule(n), `# Notes ${n}\nSee MICROSOFT_GRAPH_CLIENT_SECRET.\n`, `name: svc-${n}\nreplicas: 2\n`][kind]!;
    writeFileSync(path.join(folder, `${n}-${name}`), content);
    written++;
  }
  const vendored = path.join(dir, 'node_modules', 'big-lib');
  mkdirSync(vendored, { recursive: true });
  for (let k = 0; k < 500; k++) writeFileSync(path.join(vendored, `f${k}.js`), 'module.exports = 1;\n');
}

/** `npm run bench`: drift check of the sample runbook over a generated 10,000-file repo, target <= 2 s. */
export async function benchDrift(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-drift-'));
  try {
    generateRepo(dir);
    const file = repoPath('fixtures', 'runbooks', 'drift-sample.md');
    const parsed = parseRunbook(readFileSync(file, 'utf8'), 'fixtures/runbooks/drift-sample.md');
    const started = performance.now();
    const findings = await checkDrift(parsed, { repo: dir, now: new Date('2026-07-01T00:00:00Z') });
    const ms = performance.now() - started;
    if (findings.length > 0) throw new Error(`bench repo should be drift-free, got ${findings.length} findings: ${findings[0]!.reason}`);
    const value = Math.round(ms);
    return { name: `runbook check over a ${FILES.toLocaleString('en')}-file repo`, value, unit: 'ms', target: TARGET_MS, pass: value <= TARGET_MS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await benchDrift();
  console.log(`${result.name}: ${result.value} ms (target ${result.target} ms)`);
}
