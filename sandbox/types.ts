/**
 * The contract between the sandbox's lifecycle and its components (identity side: authority, Graph, portal;
 * platform side: VPS over SSH, containers, backend, monitor). Components are started in order, each receiving the
 * same context; teardowns run in reverse. Plain data crosses this boundary; components never reach into each other
 * except through what the context exposes.
 */

/** Sandbox time: real time plus an offset that tests (and `runbook sandbox clock advance`) can move forward. */
export interface Clock {
  now(): number;
  advance(ms: number): void;
  /** Called after every advance, so timers in sandbox time (subscription renewal, expiry) can react. */
  onAdvance(listener: (now: number) => void): () => void;
}

/** A client secret as the tenant holds it. `value` never leaves the sandbox except through addPassword/the portal. */
export interface PasswordCredential {
  keyId: string;
  displayName: string;
  hint: string;
  startDateTime: string;
  endDateTime: string;
  value: string;
}

/** What the platform side needs from the identity side: whether a secret currently authenticates the app. */
export interface TenantView {
  readonly tenantId: string;
  readonly appId: string;
  /** The credentials of the app now (sandbox clock applied by the caller through `isValid`). */
  credentials(): readonly PasswordCredential[];
  /** True when `secret` is a credential of `appId` whose window contains the sandbox clock's now. */
  isSecretValid(appId: string, secret: string): boolean;
  /** Every secret value the tenant ever issued (for the leak scan); includes deleted ones. */
  knownSecretValues(): readonly string[];
  /** Every access token the tenant's authority ever signed (for the leak scan of artifacts). */
  knownTokenValues(): readonly string[];
}

/** Fault injection: a fault named `kind` fires for the next `count` matching events. */
export interface FaultSpec {
  kind: string;
  count?: number;
  /** Free-form parameters: status code, Retry-After seconds, truncate length, ... */
  params?: Record<string, string | number | boolean>;
}

export interface Faults {
  inject(spec: FaultSpec): void;
  /** Consumes one occurrence of the first armed fault of `kind` (that `matches`, when given); returns its spec. */
  take(kind: string, matches?: (spec: FaultSpec) => boolean): FaultSpec | undefined;
  list(): FaultSpec[];
  clear(): void;
}

/** The shared clipboard: the portal's Copy writes it, the runbook's capture step reads it. */
export interface Clipboard {
  write(text: string): void;
  read(): string;
}

/** Every line any sandbox component logs goes here, so the leak scan and `runbook sandbox` can see it all. */
export interface SandboxLog {
  write(component: string, line: string): void;
  /** Path of the combined log file on disk. */
  readonly path: string;
}

/**
 * Routes added to the loopback control API (`/_sandbox/...`), served over the identity side's https listener (the
 * `control` fact is its base URL). `path` is the request's full pathname, prefix included (`/_sandbox/vps/drop`);
 * `body` is the parsed JSON body or undefined; `query` holds the query string's parameters. Answer undefined to let
 * the next route try. An answer whose body is a string is sent as text/plain, undefined as an empty body, else JSON.
 */
export type ControlRoute = (req: { method: string; path: string; body: unknown; query?: Record<string, string> }) =>
  Promise<{ status: number; body: unknown } | undefined>;

export interface SandboxContext {
  /** Root folder of this sandbox instance's state (keys, CA, VPS home, logs, databases). */
  readonly dir: string;
  readonly clock: Clock;
  readonly faults: Faults;
  readonly clipboard: Clipboard;
  readonly log: SandboxLog;
  /** PEM of the local CA and its path on disk; clients trust the sandbox by being given this file. */
  readonly ca: { certPem: string; certPath: string; keyPem: string };
  /** The server certificate every sandbox listener uses (localhost, 127.0.0.1, ::1; signed by the local CA, cached). */
  loopbackCert(): { certPem: string; keyPem: string };
  /** The credential every control, portal and container-runtime request must carry (see credential.ts). */
  readonly credential: { readonly path: string; readonly token: string };
  /** URLs and facts components publish for each other and for the runner (authority, graph, portal, ssh ...). */
  readonly facts: Record<string, string>;
  /** Set by the identity side once started. */
  tenant?: TenantView;
  addControlRoute(route: ControlRoute): void;
}

export interface ComponentHandle {
  /** Facts to publish (merged into `context.facts`). */
  facts?: Record<string, string>;
  stop(): Promise<void>;
}

export interface SandboxComponent {
  readonly name: string;
  start(context: SandboxContext): Promise<ComponentHandle>;
}
