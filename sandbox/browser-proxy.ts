import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * How a browser reaches the portal without carrying the sandbox's credential in any request: an HTTP proxy on
 * loopback that answers only a CONNECT with the credential as its proxy password, and only for the portal's origin.
 * The tunnel it opens is handed straight to the portal's TLS server (`accept`), which then trusts every request on it.
 * The browser authenticates to the proxy (Playwright's `proxy` context option, handled below the page), so nothing a
 * page sends or a trace records (request headers, cookies) holds the credential: a cookie or header would be in every
 * trace's network log.
 */
export interface BrowserProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

export interface BrowserProxyOptions {
  token: string;
  /** The ports a tunnel may go to (the portal's), each with the server that takes the tunnel's socket. */
  accept: Map<number, (socket: Socket, head: Buffer) => void>;
}

function carriesToken(token: string, header: string | undefined): boolean {
  const basic = /^basic\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (!basic) return false;
  const password = Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':');
  const [given, wanted] = [Buffer.from(password), Buffer.from(token)];
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

const answer = (socket: Socket, status: string, extra = ''): void => {
  socket.end(`HTTP/1.1 ${status}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
};

export async function startBrowserProxy(options: BrowserProxyOptions): Promise<BrowserProxy> {
  const server = createServer((_request, response) => {
    // Plain-HTTP proxying would carry pages in clear text: only tunnels are served.
    response.writeHead(405, { allow: 'CONNECT' }).end();
  });
  server.on('connect', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!carriesToken(options.token, request.headers['proxy-authorization'])) {
      return answer(socket, '407 Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="runbook-sandbox"\r\n');
    }
    const target = /^(localhost|127\.0\.0\.1|\[::1\]):(\d+)$/.exec(request.url ?? '');
    const accept = target ? options.accept.get(Number(target[2])) : undefined;
    if (!accept) return answer(socket, '403 Forbidden');
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n', () => accept(socket, head));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
