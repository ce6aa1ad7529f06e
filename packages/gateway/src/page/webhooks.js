// Dev mode: the deliveries `chute dev`'s built-in webhook receiver got, newest first, each with
// whether its Standard Webhooks signature verified.
import { $, api, el } from './common.js';

export async function refreshWebhooks(path) {
  if (!path) return;
  const { items } = await api(path);
  $('webhooks-list').replaceChildren(
    ...items.map((d) =>
      el(
        'li',
        { dataset: { type: d.type, verified: String(d.verified) } },
        el('code', { textContent: d.type }),
        ` ${d.uploadId ?? ''} `,
        el('span', {
          className: d.verified ? 'sig ok' : 'sig bad',
          textContent: d.verified ? 'signature ok' : 'signature FAILED',
        }),
        el('span', { className: 'hint', textContent: ` · ${new Date(d.receivedAt).toLocaleTimeString()}` }),
      ),
    ),
  );
  $('webhooks-empty').hidden = items.length > 0;
  $('webhooks').hidden = false;
}
