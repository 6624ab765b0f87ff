import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { parse as parseYaml } from 'yaml';
import { privateDir, writePrivateFileSync } from '../../../common/private-files.ts';
import { repoPath } from '../../../common/repo.ts';
import { parseEnvFile } from './envfile.ts';

export interface ServiceSpec {
  service: string;
  containerName: string;
  env: Record<string, string>;
  hasHealthcheck: boolean;
  /** The healthcheck's `start_period`: failed probes before it is over do not count. */
  startPeriodMs?: number;
}

interface RawService {
  container_name?: string;
  env_file?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  healthcheck?: { start_period?: string };
}

type ComposeDoc = { name?: string; services?: Record<string, RawService> };

const cacheDir = repoPath('node_modules', '.cache', 'runbook-sandbox');

/**
 * The compose file as data. A compose file parsed before (the same text) is read back from a JSON copy beside the
 * sandbox's bundles, so a sandbox start loads no YAML parser (a tenth of its start on its main thread). The copy holds
 * the compose file only: the env files it names, which hold secrets, are read afresh every time.
 */
function parseCompose(text: string): ComposeDoc {
  const cached = join(cacheDir, `compose-${createHash('sha256').update(text).digest('hex').slice(0, 32)}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8')) as ComposeDoc;
  } catch {
    // Not parsed before: parse it below.
  }
  const parse = (createRequire(import.meta.url)('yaml') as { parse: typeof parseYaml }).parse;
  // `merge: true` so the `<<: *backend` anchors production files use are expanded.
  const doc = parse(text, { merge: true }) as ComposeDoc;
  try {
    privateDir(cacheDir);
    writePrivateFileSync(cached, JSON.stringify(doc));
  } catch {
    // A read-only cache folder costs the next start a parse, nothing more.
  }
  return doc;
}

/** Reads the services of a compose file as the daemon needs them: container name, resolved env, healthcheck. */
export function readCompose(composePath: string): { project: string; services: Map<string, ServiceSpec> } {
  const doc = parseCompose(readFileSync(composePath, 'utf8'));
  const base = dirname(composePath);
  const project = doc.name ?? 'platform';
  const services = new Map<string, ServiceSpec>();
  for (const [service, raw] of Object.entries(doc.services ?? {})) {
    const env: Record<string, string> = {};
    const envFiles = raw.env_file === undefined ? [] : Array.isArray(raw.env_file) ? raw.env_file : [raw.env_file];
    for (const f of envFiles) Object.assign(env, parseEnvFile(readFileSync(resolve(base, f), 'utf8')));
    if (Array.isArray(raw.environment)) {
      for (const item of raw.environment) {
        const [k, ...rest] = item.split('=');
        if (k) env[k] = rest.join('=');
      }
    } else if (raw.environment) {
      for (const [k, v] of Object.entries(raw.environment)) env[k] = v === null ? '' : String(v);
    }
    services.set(service, {
      service,
      containerName: raw.container_name ?? `${project}-${service}-1`,
      env,
      hasHealthcheck: raw.healthcheck !== undefined,
      ...(raw.healthcheck?.start_period ? { startPeriodMs: composeDuration(raw.healthcheck.start_period) } : {}),
    });
  }
  return { project, services };
}

/** A compose duration (`20s`, `1m30s`, `500ms`) in milliseconds. */
function composeDuration(text: string): number {
  const unit: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, amount, name] of String(text).matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g)) total += Number(amount) * unit[name!]!;
  return total;
}
