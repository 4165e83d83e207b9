// The Prometheus endpoint: GET /metrics on the configured local address and port, nothing
// else. Plain node:http; requests carry no input we use beyond method and path, bodies are
// refused, and a slow or idle client is cut off. One client (an IPv4 address, an IPv6 /64)
// holds a few connections at most, so one that opens many slow ones (slowloris) cannot take
// every place and lock Prometheus out.

import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { parseAddress } from '../../shared/domain/address.js';
import { maskAddress } from '../../shared/domain/block-target.js';

/** Connections the endpoint holds at once, and from one client. */
export const MAX_METRICS_CONNECTIONS = 64;
export const MAX_METRICS_CONNECTIONS_PER_CLIENT = 4;

/** The client a connection counts against: its IPv4 address or IPv6 /64. */
function clientOf(socket: Socket): string {
  const parsed = parseAddress(socket.remoteAddress ?? '');
  if (parsed === null) return '?';
  return parsed.family === 4 ? parsed.address : maskAddress(parsed.address, 6, 64);
}

export class MetricsServer {
  private server: Server | null = null;

  constructor(
    private readonly registry: Registry,
    readonly address: string,
    readonly port: number,
  ) {}

  async listen(): Promise<void> {
    // The timeouts are checked every second (Node's default is every 30 s, so a slow header
    // held its connection six times longer than headersTimeout says).
    const server = createServer({ requestTimeout: 5000, headersTimeout: 5000, maxHeaderSize: 8192, connectionsCheckingInterval: 1000 }, (request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('only /metrics here\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
        () => response.writeHead(500).end(),
      );
    });
    server.keepAliveTimeout = 10_000;
    server.maxConnections = MAX_METRICS_CONNECTIONS;
    const perClient = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const client = clientOf(socket);
      const held = perClient.get(client) ?? 0;
      if (held >= MAX_METRICS_CONNECTIONS_PER_CLIENT) {
        socket.destroy();
        return;
      }
      perClient.set(client, held + 1);
      socket.once('close', () => {
        const left = (perClient.get(client) ?? 1) - 1;
        if (left > 0) perClient.set(client, left);
        else perClient.delete(client);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.address, port: this.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
