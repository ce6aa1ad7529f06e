// The reviewer's view: the queue of uploads waiting for review, oldest first, with previews;
// approve, or reject with one of the route's reasons and a note; each upload's history.
import { $, api, asPageError, el, session, showError } from './common.js';
import { historyToggle } from './uploads.js';

async function decide(id, body, after) {
  try {
    await api(`/v1/uploads/${id}/decision`, { token: await session.token(), json: body });
    await after();
  } catch (e) {
    showError(asPageError(e));
  }
}

function card(item, refresh) {
  // Previews are signed GETs straight from storage; inline only for raster images (the API says).
  const preview =
    item.preview?.disposition === 'inline'
      ? el('img', { className: 'thumb', src: item.preview.url, alt: `preview of ${item.filename}` })
      : el('div', { className: 'thumb none', textContent: item.detectedType });
  const reason = el(
    'select',
    { className: 'reason', ariaLabel: 'reason' },
    ...item.reasons.map((r) => new Option(r.replaceAll('_', ' '), r)),
  );
  const note = el('input', {
    type: 'text',
    className: 'note',
    placeholder: 'note (optional)',
    maxLength: 1000,
  });
  const more = el('div');
  const dims = item.width ? ` · ${item.width}×${item.height}` : '';
  return el(
    'li',
    { className: 'review', dataset: { id: item.id } },
    preview,
    el(
      'div',
      { className: 'body' },
      el('strong', { textContent: item.filename }),
      el('div', {
        className: 'hint',
        textContent: `${item.owner} · ${item.route} · ${item.detectedType}${dims} · ${item.size.toLocaleString()} bytes · verified ${new Date(item.verifiedAt).toLocaleString()}`,
      }),
      el(
        'div',
        { className: 'decide' },
        el('button', {
          type: 'button',
          className: 'approve',
          textContent: 'Approve',
          onclick: () =>
            decide(item.id, { decision: 'approve', ...(note.value && { note: note.value }) }, refresh),
        }),
        reason,
        note,
        el('button', {
          type: 'button',
          className: 'reject',
          textContent: 'Reject',
          onclick: () =>
            decide(
              item.id,
              { decision: 'reject', reason: reason.value, ...(note.value && { note: note.value }) },
              refresh,
            ),
        }),
      ),
      historyToggle(item.id, more),
      more,
    ),
  );
}

/** Shows the queue when the page acts as a reviewer or admin; hides it otherwise. */
export async function refreshQueue() {
  const role = session.role();
  const box = $('queue');
  if (role !== undefined && role !== 'reviewer' && role !== 'admin') {
    box.hidden = true;
    return;
  }
  try {
    const { items } = await api('/v1/reviews?state=pending&limit=50', { token: await session.token() });
    $('queue-list').replaceChildren(...items.map((i) => card(i, refreshAll)));
    $('queue-empty').hidden = items.length > 0;
    box.hidden = false;
  } catch (e) {
    // A pasted token without the reviewer role: no queue, and nothing to complain about.
    if (e?.code === 'forbidden') box.hidden = true;
    else throw e;
  }
}

let refreshAll = refreshQueue;
/** What a decision refreshes (the queue, and the page's other lists). */
export function onDecided(fn) {
  refreshAll = fn;
}
