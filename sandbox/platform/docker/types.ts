/** What the daemon tells the `docker` CLI shim about a container (plain JSON over loopback). */
export interface ContainerView {
  id: string;
  name: string;
  service: string;
  image: string;
  command: string;
  state: 'running' | 'exited';
  exitCode: number | null;
  /** Sandbox-clock milliseconds. */
  createdAt: number;
  startedAt: number;
  finishedAt: number | null;
  health: 'none' | 'starting' | 'healthy' | 'unhealthy';
  /** The container's root folder on this machine: `/tmp/x` inside is `<root>/tmp/x`. */
  root: string;
  port: number | null;
  /** The container's main process on this machine while it runs (`docker inspect`'s State.Pid; 0 once it exited). */
  pid: number;
}

export interface ExecSpec {
  container: ContainerView;
  env: Record<string, string>;
}

export interface LogLine {
  t: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface ComposeUpRequest {
  composeFile: string;
  services: string[];
  forceRecreate: boolean;
  /** `--wait`: return once the services are healthy (or running, without a healthcheck); fail if one is not in time. */
  wait?: boolean;
  /** `--wait-timeout` in seconds. */
  waitTimeoutSeconds?: number;
}

export interface ComposeUpResult {
  /** Lines `docker compose` prints on stderr ("Container x  Recreated"). */
  progress: string[];
  error?: string;
}
