// "Your uploads": the caller's uploads, newest first, each with its published copy, its history,
// and — while it waits for review — a way to withdraw it.
import { $, api, asPageError, downloadLink, el, session, showError, stateChip } from './common.js';

const time = (iso) => new Date(iso).toLocaleString();

/** One upload's audit trail as a list: when, what, who. */
export async function historyList(id) {
  const { items } = await api(`/v1/uploads/${id}/history`, { token: await session.token() });
  return el(
    'ol',
    { className: 'history' },
    ...items.map((e) =>
      el(
        'li',
        { dataset: { action: e.action } },
        el('span', { className: 'when', textContent: time(e.at) }),
        ` ${e.action.replaceAll('_', ' ')} `,
        el('span', {
          className: 'who',
          textContent: `by ${e.actor}${e.actorRole === 'system' ? '' : ` (${e.actorRole})`}`,
        }),
        e.detail?.reason ? ` — ${e.detail.reason}` : '',
        e.detail?.note ? ` “${e.detail.note}”` : '',
      ),
    ),
  );
}

/** A "history" toggle that loads the trail into `into` on first open. */
export function historyToggle(id, into) {
  return el('button', {
    type: 'button',
    className: 'link',
    textContent: 'history',
    onclick: async () => {
      try {
        if (into.firstChild) into.replaceChildren();
        else into.append(await historyList(id));
      } catch (e) {
        showError(asPageError(e));
      }
    },
  });
}

function item(u, refresh) {
  const more = el('div');
  const actions = el('div', { className: 'actions' }, historyToggle(u.id, more));
  if (u.file) actions.append(' · ', downloadLink(u.file.download, 'frozen copy'));
  if (u.published) actions.append(' · ', downloadLink(u.published.download, 'published file'));
  if (u.state === 'pending_review') {
    actions.append(
      ' · ',
      el('button', {
        type: 'button',
        className: 'link withdraw',
        textContent: 'withdraw',
        onclick: async () => {
          try {
            await api(`/v1/uploads/${u.id}/withdraw`, { token: await session.token(), method: 'POST' });
            await refresh();
          } catch (e) {
            showError(asPageError(e));
          }
        },
      }),
    );
  }
  const facts = [u.route, time(u.createdAt)];
  if (u.published) facts.push(`published at ${u.published.key}`);
  if (u.review?.reason)
    facts.push(`rejected: ${u.review.reason}${u.review.note ? ` “${u.review.note}”` : ''}`);
  return el(
    'li',
    { dataset: { id: u.id, state: u.state } },
    stateChip(u.state),
    ' ',
    el('strong', { textContent: u.filename }),
    el('div', { className: 'hint', textContent: facts.join(' · ') }),
    actions,
    more,
  );
}

/** Reloads the list of the caller's uploads. */
export async function refreshUploads() {
  const list = $('uploads-list');
  const { items } = await api('/v1/uploads?limit=20', { token: await session.token() });
  const settled = items.filter((u) => u.state !== 'granted');
  list.replaceChildren(...settled.map((u) => item(u, refreshUploads)));
  $('uploads-empty').hidden = settled.length > 0;
  $('uploads').hidden = false;
}
