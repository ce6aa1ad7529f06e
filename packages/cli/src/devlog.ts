import { Writable } from 'node:stream';
import type { DevDelivery } from './dev-webhooks.ts';

/**
 * `chute dev`'s log: one short line per request instead of JSON, for a terminal. The gateway's
 * pino lines come in through `gatewayDestination`, the store's objects through `storeLine`.
 */
export interface DevLog {
  gatewayDestination: NodeJS.WritableStream;
  storeLine: (line: Record<string, unknown>) => void;
  /** One line per delivery `chute dev`'s webhook receiver got. */
  webhookLine: (d: DevDelivery) => void;
}

const time = (iso: unknown) =>
  (typeof iso === 'string' ? new Date(iso) : new Date()).toISOString().slice(11, 19);

export function devLog(write: (line: string) => void): DevLog {
  const request = (who: string, o: Record<string, unknown>, extra: unknown) =>
    write(
      `${time(o['time'])} ${who.padEnd(7)} ${String(o['method']).padEnd(6)} ${o['path']} ${o['status']} ${o['ms']}ms${extra ? ` ${extra}` : ''}`,
    );
  let pending = '';
  const gatewayDestination = new Writable({
    write(chunk: Buffer, _enc, done) {
      pending += chunk.toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          const o = JSON.parse(text) as Record<string, unknown>;
          if (o['msg'] === 'request') request('gateway', o, o['userId']);
          else if (o['msg'] !== 'gateway listening')
            write(`${time(o['time'])} gateway ${o['msg']}${o['err'] ? ` ${JSON.stringify(o['err'])}` : ''}`);
        } catch {
          write(text);
        }
        nl = pending.indexOf('\n');
      }
      done();
    },
  });
  return {
    gatewayDestination,
    storeLine: (o) => {
      if (o['level'] === 'error') write(`${time(o['time'])} storage error ${o['error']}`);
      else request('storage', o, o['op']);
    },
    webhookLine: (d) =>
      write(
        `${time(d.receivedAt)} webhook ${d.type} ${d.uploadId ?? '-'} ${d.id} signature ${d.verified ? 'ok' : 'failed'}`,
      ),
  };
}
