// The "real open service" on the target: accepts TCP connections on IPv4 and IPv6 and closes
// them at once. Prints "ready" when listening. Usage: node service.js PORT
import { createServer } from 'node:net';

const port = Number(process.argv[2] ?? '8080');
const server = createServer((socket) => {
  socket.on('error', () => undefined);
  socket.destroy();
});
server.listen({ port, host: '::', ipv6Only: false, backlog: 4096 }, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
