import { readFile } from 'node:fs/promises';

/**
 * A header a target's services require (the sandbox's credential), given by configuration: `auth-header-file` names
 * a file holding one `Name: value` line (the form curl reads with `-H @FILE`, so shell steps use the same file), and
 * `auth-origins` the origins that receive it. Blocks' `fetch` adds it to requests to those origins only: the value
 * never appears in a block, on a command line, or in a request to anyone else.
 */
export interface TargetAuth {
  name: string;
  value: string;
  origins: ReadonlySet<string>;
}

export async function readTargetAuth(settings: Readonly<Record<string, unknown>>): Promise<TargetAuth | undefined> {
  const file = settings['auth-header-file'];
  if (typeof file !== 'string' || file === '') return undefined;
  const line = (await readFile(file, 'utf8')).trim();
  const match = /^([\w-]+):\s*(.+)$/.exec(line);
  if (!match) throw new Error(`auth-header-file ${file} does not hold a header line (Name: value)`);
  const listed = settings['auth-origins'];
  const urls = Array.isArray(listed) ? listed.map(String) : typeof listed === 'string' ? [listed] : [];
  return { name: match[1]!.toLowerCase(), value: match[2]!, origins: new Set(urls.map((url) => new URL(url).origin)) };
}

/** `fetch` that adds the target's header to requests for its origins (unless the block set that header itself). */
export function withTargetAuth(base: typeof fetch, auth: TargetAuth | undefined): typeof fetch {
  if (!auth) return base;
  return ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!auth.origins.has(url.origin)) return base(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has(auth.name)) headers.set(auth.name, auth.value);
    return base(input, { ...init, headers });
  }) as typeof fetch;
}
