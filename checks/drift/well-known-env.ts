/**
 * Variables of the OS, the shell and common tools: a document names them (`$XDG_RUNTIME_DIR`, `NODE_ENV=production`)
 * without claiming that the repository's code reads them. Only a binding (the code did read it) makes one a claim.
 */
const EXACT = new Set([
  'NODE_ENV', 'NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'NVM_DIR', 'SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'LC_ALL', 'LC_CTYPE',
  'LD_LIBRARY_PATH', 'LD_PRELOAD', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'SUDO_USER', 'SUDO_UID', 'SUDO_GID',
  'PYTHONPATH', 'PYTHONUNBUFFERED', 'PYTHONDONTWRITEBYTECODE', 'VIRTUAL_ENV', 'GOPATH', 'GOROOT', 'JAVA_HOME', 'KUBECONFIG',
  'BASH_SOURCE', 'BASH_VERSION', 'HOST_UID', 'HOST_GID', 'TERM_PROGRAM', 'COLOR_TERM', 'FORCE_COLOR', 'NO_COLOR',
]);
const PREFIXES = ['XDG_', 'DOCKER_', 'COMPOSE_', 'BUILDKIT_', 'GITHUB_', 'RUNNER_', 'NPM_CONFIG_', 'npm_', 'LC_', 'GIT_', 'SSH_', 'PIP_', 'CARGO_', 'RUSTUP_', 'AWS_', 'GOOGLE_', 'AZURE_'];

export function wellKnownEnv(name: string): boolean {
  return EXACT.has(name) || PREFIXES.some((prefix) => name.startsWith(prefix));
}
