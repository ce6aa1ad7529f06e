import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Every event node:http announces a request with. */
export const REQUEST_EVENTS = ['request', 'checkContinue', 'checkExpectation'] as const;

/**
 * Calls `fn` for every request the server takes, however it is announced, without changing how
 * it is announced. A request with `Expect: 100-continue` comes as 'checkContinue' only when the
 * server has a listener for that event; with none, node answers "100 Continue" itself and emits
 * 'request'. So a listener of ours on 'checkContinue' would take that answer away from every server
 * that does not handle the event (the gateway: curl -T and the AWS SDK would wait forever). Ours
 * goes on 'checkContinue' / 'checkExpectation' only once the server itself listens there.
 */
export function onEveryRequest(
  server: Server,
  fn: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  server.on('request', fn);
  for (const event of ['checkContinue', 'checkExpectation'] as const) {
    if (server.listenerCount(event) > 0) {
      server.on(event, fn);
      continue;
    }
    const attach = (added: string | symbol) => {
      if (added !== event) return;
      server.off('newListener', attach);
      server.on(event, fn);
    };
    server.on('newListener', attach);
  }
}
