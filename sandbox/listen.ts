import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';

export interface Listener {
  /** https://localhost:PORT */
  url: string;
  port: number;
  /** Serves a connection that arrived another way (the browser proxy's authenticated tunnel) as a tunneled one. */
  accept(socket: Socket, head: Buffer): void;
  close(): Promise<void>;
}

const tunneled = new WeakSet<IncomingMessage>();

/** True for a request that came through `Listener.accept`: a tunnel whose opener proved the credential to the proxy. */
export function isTunneled(incoming: IncomingMessage | undefined): boolean {
  return incoming !== undefined && tunneled.has(incoming);
}

type FetchHandler = (request: Request) => Response | Promise<Response>;

/**
 * Serves `fetch` over https on a free loopback port. Binds 127.0.0.1 (what `localhost` resolves to here) and, when the
 * machine has IPv6 loopback, ::1 on the same port, so `https://localhost:PORT` works whichever address a client tries.
 * Global Request/Response are left alone (no overrideGlobalObjects): other code in the process relies on them.
 */
export async function listenHttps(handler: FetchHandler, tls: { certPem: string; keyPem: string }): Promise<Listener> {
  const listener = getRequestListener(handler, { overrideGlobalObjects: false });
  const make = () => createServer({ cert: tls.certPem, key: tls.keyPem }, listener);
  const servers: Server[] = [make()];
  const first = servers[0] as Server;
  await new Promise<void>((resolve, reject) => {
    first.once('error', reject);
    first.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (first.address() as AddressInfo).port;
  const v6 = make();
  await new Promise<void>((resolve) => {
    v6.once('error', () => resolve());
    v6.listen(port, '::1', () => {
      servers.push(v6);
      resolve();
    });
  });
  // Unref'd: a sandbox never keeps its process alive on its own (the daemon holds the process open explicitly).
  for (const server of servers) server.unref();
  // Tunnels get a server of their own that listens nowhere: only `accept` reaches it, so only its requests are marked.
  const tunnels = new Set<Socket>();
  const tunnelServer = createServer({ cert: tls.certPem, key: tls.keyPem }, (request, response) => {
    tunneled.add(request);
    void listener(request, response);
  });
  return {
    url: `https://localhost:${port}`,
    port,
    accept(socket, head) {
      tunnels.add(socket);
      socket.once('close', () => tunnels.delete(socket));
      if (head.length > 0) socket.unshift(head);
      tunnelServer.emit('connection', socket);
    },
    async close() {
      for (const socket of tunnels) socket.destroy();
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
