// The client side of the idle-connection tests, in a process of its own: both ends of 10,000
// connections in one process would need ~20,000 descriptors, and this machine kind's hard limit
// is 20,000 with no way to raise it. Driven over IPC by helpers.ts's openIdle().
import { connect, type Socket } from 'node:net';

type Command = { cmd: 'open'; host: string; port: number; n: number } | { cmd: 'count' } | { cmd: 'destroy' };

const sockets: Socket[] = [];
const reply = (m: unknown) => process.send?.(m);

async function open(host: string, port: number, n: number): Promise<void> {
  // In batches, so a 2-core box shared with others is not flooded with SYNs at once.
  for (let i = 0; i < n; i += 200) {
    const batch = Array.from({ length: Math.min(200, n - i) }, () => {
      const s = connect(port, host);
      s.on('error', () => {});
      // Reading, so the server's close (after its 408) is seen here.
      s.resume();
      sockets.push(s);
      return new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('error', reject);
      });
    });
    await Promise.all(batch);
  }
}

process.on('message', (m: Command) => {
  if (m.cmd === 'open')
    open(m.host, m.port, m.n).then(
      () => reply({ opened: sockets.length }),
      (e: Error) => reply({ error: e.message }),
    );
  else if (m.cmd === 'count') reply({ closed: sockets.filter((s) => s.closed || s.destroyed).length });
  else {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
