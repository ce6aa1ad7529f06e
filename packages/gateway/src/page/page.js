// The page's entry module: loads the config, then wires the upload card, the caller's uploads,
// the reviewer's queue and (dev mode) the webhook log.
import { $, api, asPageError, session, showError } from './common.js';
import { onDecided, refreshQueue } from './review.js';
import { upload } from './upload.js';
import { refreshUploads } from './uploads.js';
import { refreshWebhooks } from './webhooks.js';

let preview = '';

async function refreshAll() {
  try {
    await Promise.all([refreshUploads(), refreshQueue(), refreshWebhooks(session.config.webhooks)]);
  } catch (e) {
    showError(asPageError(e));
  }
}

function describeRoute() {
  const r = session.config.routes.find((x) => x.name === $('route').value);
  if (!r) return;
  const img = r.image ? `; at most ${r.image.maxWidth ?? '∞'}×${r.image.maxHeight ?? '∞'} px` : '';
  $('route-hint').textContent =
    `${r.types.join(', ')}; up to ${r.maxSizeText}${img}${r.review ? '; reviewed before use' : ''}`;
  $('file').accept = r.types.join(',');
}

async function init() {
  const config = await api('/ui/config.json');
  session.config = config;
  if (config.demo) {
    for (const u of config.users) $('user').append(new Option(`${u.id} (${u.role})`, u.id));
    $('who-demo').hidden = false;
    $('user').addEventListener('change', refreshAll);
  } else {
    $('who-token').hidden = false;
    $('token').addEventListener('change', refreshAll);
  }
  for (const r of config.routes) $('route').append(new Option(r.name, r.name));
  $('route').addEventListener('change', describeRoute);
  describeRoute();
  $('file').addEventListener('change', () => {
    const file = $('file').files[0];
    $('upload').disabled = !file;
    if (preview) URL.revokeObjectURL(preview);
    preview = file?.type.startsWith('image/') ? URL.createObjectURL(file) : '';
    $('preview').hidden = !preview;
    if (preview) $('preview').src = preview;
  });
  // Not an image after all (a spoof, say): no broken-image icon.
  $('preview').addEventListener('error', () => {
    $('preview').hidden = true;
  });
  $('upload').addEventListener('click', () => upload(refreshAll));
  $('refresh').addEventListener('click', refreshAll);
  onDecided(refreshAll);
  if (config.demo) await refreshAll();
  document.body.dataset.ready = 'true';
}

init().catch((e) => showError(asPageError(e)));
