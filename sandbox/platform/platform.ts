import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { entrypoint } from './entrypoints.ts';
import { basename, dirname, join } from 'node:path';
import { asResponse, loopbackAgent, loopbackRequest } from '../loopback.ts';
import type { ComponentHandle, SandboxComponent, SandboxContext } from '../types.ts';
import { BACKEND_SERVICES, ContainerRuntime } from './docker/containers.ts';
import { composeUp as composeUpIn, startDaemon } from './docker/daemon.ts';
import { openDb, allowSender } from './backend/db.ts';
import { sshDropPolicy, takeUnhealthy, wrapClipboard } from './faults.ts';
import { InvariantMonitor, walkFiles } from './monitor.ts';
import { layOutHome, sessionEnv, writeEnvFile, type VpsHome } from './vps/home.ts';

export const SSH_ALIAS = 'curateme-vps';
export const VPS_USER = 'curateme';
/** The household org the sandbox's platform database is wired for. */
export const ORG_ID = 'org_sandbox_household';
// Where a secret is meant to be on the VPS: the env file, its backups, its staged and restored copies, and the
// runbook's upload (a mktemp name, graph_secret.XXXXXXXXXX).
const SECRET_PLACES = /(^|\/)(\.env\.production(\.bak.*|\.new|\.restore)?|graph_secret\.[A-Za-z0-9]{10})$/;

export interface PlatformOptions {
  /** The secret .env.production starts with; default: the tenant's currently valid one. */
  initialSecret?: string;
  /** Start the compose stack at sandbox start (default true). */
  startContainers?: boolean;
}

/** What tests and the runner get programmatically (besides the facts). */
export interface Platform {
  vps: VpsHome;
  runtime: ContainerRuntime;
  monitor: InvariantMonitor;
  /** https base URL of a backend container's admin API (`backend-b2b`, `backend-gateway`). */
  backendUrl(service: string): string;
  /** fetch against the backend's https listener, trusting the sandbox CA. */
  backendFetch(service: string, path: string, init?: { method?: string; body?: unknown }): Promise<Response>;
  /** `docker compose up -d [--force-recreate]` of these services, as the VPS's docker would. */
  composeUp(services: string[], forceRecreate?: boolean): Promise<string[]>;
  waitHealthy(containers: string[], timeoutMs?: number): Promise<void>;
  /** Arms the org's inbound subscription (what fm_m365_wire_org.py does). */
  wireOrg(): Promise<Response>;
  /** Authenticated SSH connections to the VPS since start (also `GET /_sandbox/ssh`): a run should make one. */
  sshHandshakes(): number;
}

const platforms = new WeakMap<SandboxContext, Platform>();

/** The platform side started in `context`, for tests and the runner. */
export function platformOf(context: SandboxContext): Platform | undefined {
  return platforms.get(context);
}

export function createPlatformComponent(options: PlatformOptions = {}): SandboxComponent {
  return {
    name: 'platform',
    async start(context): Promise<ComponentHandle> {
      const root = join(context.dir, 'platform');
      mkdirSync(root, { recursive: true });
      const cleanups: (() => Promise<void> | void)[] = [];
      const stop = async (): Promise<void> => {
        for (const c of cleanups.reverse()) await c();
      };
      try {
        return await startPlatform(context, root, options, cleanups, stop);
      } catch (err) {
        await stop().catch(() => undefined);
        throw err;
      }
    },
  };
}

async function startPlatform(
  context: SandboxContext, root: string, options: PlatformOptions,
  cleanups: (() => Promise<void> | void)[], stop: () => Promise<void>,
): Promise<ComponentHandle> {
  const dbPath = join(root, 'platform.sqlite');
  const db = openDb(dbPath);
  if (context.facts['verified-sender']) allowSender(db, context.facts['verified-sender'], ORG_ID, 'Parent');
  db.close();

  // The daemon must know its own URL before containers get it, so the runtime is created with a late-bound one.
  let daemonUrl = '';
  const tls = context.loopbackCert();
  const runtimeOpts = {
    dir: join(root, 'containers'),
    now: () => context.clock.now(),
    log: (name: string, line: string) => context.log.write(name, line),
    caPath: context.ca.certPath,
    tls,
    get dockerControlUrl() { return daemonUrl; },
    credentialFile: context.credential.path,
    dbPath,
    takeUnhealthy: (name: string) => takeUnhealthy(context.faults, name),
  };
  mkdirSync(runtimeOpts.dir, { recursive: true });
  const runtime = new ContainerRuntime(runtimeOpts);
  const daemon = await startDaemon({
    runtime, tls, token: context.credential.token, now: () => context.clock.now(), takeFault: (k) => context.faults.take(k),
    onClockAdvance: (listener) => context.clock.onAdvance(listener),
  });
  daemonUrl = daemon.url;
  cleanups.push(() => daemon.close());
  // Cleanups run in reverse: the containers are stopped (SIGTERM, their shutdown) before the daemon closes, whose
  // closing clock stream would otherwise end them first, as a sandbox that died does.
  cleanups.push(() => runtime.stopAll());

  const vps = layOutHome(join(root, 'vps', 'home'), { url: daemon.url, credentialFile: context.credential.path, caFile: context.ca.certPath }, await entrypoint('docker'));
  writeEnvFile(vps.envFile, envProduction(context, options));

  // The backend group keeps the latest container's secret (a recreate's short gap is not an outage).
  const held = new Map<string, string>();
  const monitor = new InvariantMonitor({
    clock: context.clock,
    tenant: () => context.tenant,
    heldSecrets: () => held,
    sandboxDir: context.dir,
    scanFiles: () => [
      context.log.path,
      // Container logs sit beside the container roots (which are image copies, not worth a walk every second).
      ...readdirSync(runtimeOpts.dir).filter((f) => f.endsWith('.log')).map((f) => join(runtimeOpts.dir, f)),
      ...walkFiles(vps.home, (p) => SECRET_PLACES.test(p) || p.endsWith('/.ssh')),
    ],
    appendOnly: (file) => file === context.log.path || (dirname(file) === runtimeOpts.dir && file.endsWith('.log')),
  });
  cleanups.push(() => monitor.stop());
  cleanups.push(runtime.onEvent((e) => {
    if (e.kind === 'start' && BACKEND_SERVICES.has(e.service)) held.set(e.service, e.env.MICROSOFT_GRAPH_CLIENT_SECRET ?? '');
    monitor.check();
  }) as () => void);

  const caAgent = loopbackAgent(context.ca.certPem);
  cleanups.push(() => caAgent.destroy());
  const backendUrl = (service: string): string => {
    const c = runtime.list().find((x) => x.service === service);
    if (!c?.port) throw new Error(`no ${service} container`);
    return `https://127.0.0.1:${c.port}`;
  };
  const backendFetch = async (service: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> =>
    asResponse(await loopbackRequest(`${backendUrl(service)}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        authorization: `Bearer ${context.credential.token}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      agent: caAgent,
    }));
  const composeFile = join(vps.platformDir, 'docker-compose.production.yml');
  const composeUp = async (services: string[], forceRecreate = false): Promise<string[]> => {
    const { progress, error } = await composeUpIn(runtime, { composeFile, services, forceRecreate });
    if (error) throw new Error(error);
    return progress;
  };
  const waitHealthy = (containers: string[], timeoutMs = 15_000): Promise<void> => runtime.waitHealthy(containers, timeoutMs);
  const wireOrg = (): Promise<Response> => backendFetch('backend-b2b', '/admin/ensure-inbound-subscription', {
    body: { org: ORG_ID, mailbox: context.facts.mailbox ?? '', m365UserId: context.facts['mailbox-user-id'] ?? '' },
  });
  // The containers are started first, and the VPS's SSH server (ssh2 is the largest module the sandbox loads) comes up
  // while they boot, rather than before them.
  if (options.startContainers !== false) await composeUp([]);
  const { generateKeys, writeClientConfig } = await import('./vps/keys.ts');
  const { startSshServer } = await import('./vps/ssh-server.ts');
  const keys = generateKeys(join(root, 'ssh'));
  writeFileSync(join(vps.home, '.ssh', 'authorized_keys'), `${keys.clientPublicKey}\n`, { mode: 0o600 });
  const ssh = await startSshServer({
    hostKeyPem: keys.hostKeyPem,
    authorizedKey: keys.clientPublicKey,
    user: VPS_USER,
    home: vps.home,
    env: sessionEnv(vps, VPS_USER),
    dropPolicy: sshDropPolicy(context.faults),
    log: (line) => context.log.write('vps', line),
  });
  cleanups.push(() => ssh.close());
  // Read by `npm run bench`: a run through one shared connection makes one.
  cleanups.push(() => context.log.write('vps', `ssh: ${ssh.handshakes()} authenticated connection(s) since start`));
  const client = writeClientConfig({ dir: join(root, 'ssh'), alias: SSH_ALIAS, port: ssh.port, user: VPS_USER, keys });
  cleanups.push(wrapClipboard(context.clipboard, context.faults));

  const platform: Platform = { vps, runtime, monitor, backendUrl, backendFetch, composeUp, waitHealthy, wireOrg, sshHandshakes: ssh.handshakes };
  platforms.set(context, platform);

  context.addControlRoute(async ({ method, path }) => {
    if (method === 'GET' && path === '/_sandbox/monitor') return { status: 200, body: monitor.report() };
    if (method === 'GET' && path === '/_sandbox/containers') return { status: 200, body: runtime.list() };
    if (method === 'GET' && path === '/_sandbox/ssh') return { status: 200, body: { handshakes: ssh.handshakes() } };
    return undefined;
  });

  if (options.startContainers !== false) {
    await waitHealthy([...BACKEND_SERVICES].map((s) => `curateme-${s}`)).catch((err: Error) => context.log.write('platform', err.message));
    // The household starts wired (its subscription armed), as production is before anyone rotates anything.
    if (context.tenant && context.facts['mailbox-user-id']) {
      const res = await wireOrg().catch((err: Error) => err);
      context.log.write('platform', `initial ensure_inbound_subscription: ${res instanceof Error ? res.message : res.status}`);
      if (!(res instanceof Error)) await res.body?.cancel();
    }
  }

  return {
    facts: {
      'ssh-host': SSH_ALIAS,
      'ssh-config': client.configPath,
      'ssh-user': VPS_USER,
      'ssh-port': String(ssh.port),
      'ssh-key': keys.clientKeyPath,
      'vps-home': vps.home,
      'vps-tmp': vps.tmp,
      'env-file': 'platform/.env.production',
      'platform-dir': vps.platformDir,
      'docker-control': daemon.url,
      'org-id': ORG_ID,
      'platform-db': dbPath,
    },
    stop,
  };
}

/** The VPS-local env file, as production has it: the tenant's live secret and the sandbox's endpoints. */
function envProduction(context: SandboxContext, options: PlatformOptions): Record<string, string> {
  const tenant = context.tenant;
  const valid = tenant?.credentials()
    .filter((c) => tenant.isSecretValid(tenant.appId, c.value))
    .sort((a, b) => b.endDateTime.localeCompare(a.endDateTime))[0];
  const caFile = context.facts['ca-file'] ?? context.ca.certPath;
  const authority = context.facts.authority ?? 'https://login.microsoftonline.com';
  const tenantId = context.facts['tenant-id'] ?? tenant?.tenantId ?? '';
  return {
    MICROSOFT_GRAPH_TENANT_ID: tenantId,
    MICROSOFT_GRAPH_CLIENT_ID: context.facts['client-id'] ?? tenant?.appId ?? '',
    MICROSOFT_GRAPH_CLIENT_SECRET: options.initialSecret ?? valid?.value ?? tenant?.credentials()[0]?.value ?? '',
    // The authority fact may carry the tenant; the env var is the host only (MSAL appends the tenant).
    MICROSOFT_GRAPH_AUTHORITY_HOST: authority.replace(new RegExp(`/${tenantId}/?$`), '').replace(/\/$/, ''),
    MICROSOFT_GRAPH_BASE_URL: graphBase(context.facts.graph),
    M365_WEBHOOK_CLIENT_STATE: `cs-${basename(context.dir)}-${process.pid}`,
    M365_CONSUMER_INGEST_USER_ID: context.facts['mailbox-user-id'] ?? '',
    M365_CONSUMER_INGEST_ADDRESS: context.facts['ingest-address'] ?? context.facts.mailbox ?? '',
    M365_AGENT_MAILBOX: context.facts.mailbox ?? 'family@curate-me.ai',
    SSL_CERT_FILE: caFile,
    NODE_EXTRA_CA_CERTS: caFile,
  };
}

function graphBase(graph: string | undefined): string {
  if (!graph) return 'https://graph.microsoft.com/v1.0';
  return /\/v1\.0\/?$/.test(graph) ? graph.replace(/\/$/, '') : `${graph.replace(/\/$/, '')}/v1.0`;
}
