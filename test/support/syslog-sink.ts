// A syslog receiver on a unix socket, so tests read exactly what portsentryd sent to syslog
// (logger speaks RFC 3164 lines to it) without touching the machine's real /dev/log.

import { createServer, type Server } from 'node:net';

export class SyslogSink {
  readonly messages: string[] = [];
  private constructor(private readonly server: Server) {}

  static async listen(path: string): Promise<SyslogSink> {
    const server = createServer();
    const sink = new SyslogSink(server);
    server.on('connection', (socket) => {
      let buffer = '';
      socket.on('data', (chunk) => {
        buffer += chunk.toString('utf8');
        // logger frames stream messages with a newline (or NUL for some versions).
        const parts = buffer.split(/[\n\0]/);
        buffer = parts.pop() ?? '';
        for (const part of parts) if (part !== '') sink.messages.push(part);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    return sink;
  }

  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => pattern.test(m));
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`syslog never received ${String(pattern)}; got:\n${this.messages.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
