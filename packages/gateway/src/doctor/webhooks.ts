import { networkReason } from './request.ts';
import { type CheckResult, type DoctorContext, fail, pass, skip, warn } from './types.ts';

const NAME = 'webhook';

/**
 * Each webhook endpoint answers. A HEAD, not a POST: a made-up event, even unsigned, could be
 * taken for a real one by a careless receiver. Any answer below 500 shows a server is there (most
 * receivers answer 405 to HEAD); 404 suggests a wrong path; 5xx, a refused connection, a TLS or
 * DNS error or no answer in time fail: the outbox would retry into the void.
 */
export async function checkWebhooks(ctx: DoctorContext): Promise<CheckResult[]> {
  if (ctx.webhooks.length === 0) return [skip('webhooks', 'no webhook endpoints configured')];
  return Promise.all(
    ctx.webhooks.map(async (w): Promise<CheckResult> => {
      const name = w.id === undefined ? NAME : `${NAME} ${w.id}`;
      try {
        const res = await ctx.fetch(w.url, {
          method: 'HEAD',
          redirect: 'manual',
          signal: AbortSignal.timeout(ctx.timeoutMs),
        });
        await res.body?.cancel();
        const said = `${w.url} answered ${res.status} to HEAD`;
        if (res.status >= 500)
          return fail(name, said, 'the receiver is failing: look at its log; deliveries will be retried');
        if (res.status === 404)
          return warn(name, said, 'is the path right? The receiver answers, but not there');
        return pass(name, said);
      } catch (e) {
        return fail(
          name,
          `${w.url} does not answer: ${networkReason(e)}`,
          'start the receiver, or correct the endpoint url',
        );
      }
    }),
  );
}
