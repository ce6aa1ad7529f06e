// The upload card: grant → POST to storage (XHR, for upload progress) → complete → verdict.
import { $, api, asPageError, downloadLink, PageError, row, STATES, session, showError } from './common.js';

const REASONS = {
  too_large: 'The stored file is larger than the route allows.',
  too_small: 'The stored file is smaller than the route allows.',
  size_mismatch: 'The stored file’s size differs from the declared size.',
  type_not_allowed: 'The file’s real type (read from its bytes) is not allowed here.',
  type_mismatch: 'The file’s content is not what its type says (read from its bytes).',
  metadata_mismatch: 'The stored file does not belong to this upload.',
  checksum_mismatch: 'The stored file’s checksum differs from the declared one.',
  image_unreadable: 'The image’s dimensions could not be read.',
  image_too_large: 'The image is wider or taller than the route allows.',
  review_rejected: 'A reviewer rejected the file.',
};

/** S3 answers with <Error><Code>…</Code><Message>…</Message></Error>. */
function storageError(status, text) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const code = doc.querySelector('Error > Code')?.textContent;
  const message = doc.querySelector('Error > Message')?.textContent;
  return new PageError('storage', code || `http_${status}`, message || `Storage answered ${status}.`);
}

/** The POST grant as a form: every field in the order given, `file` last (S3 ignores fields after it). */
function send(grant, file, onProgress) {
  const form = new FormData();
  for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
  form.append('file', file);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', grant.url);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    // The whole body has been sent (storage has not answered yet).
    xhr.upload.onload = () => onProgress(1);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(storageError(xhr.status, xhr.responseText));
    };
    xhr.onerror = () =>
      reject(
        new PageError(
          'storage',
          'network_error',
          `Could not reach storage at ${new URL(grant.url).origin} (down, or its CORS rule does not allow this page).`,
        ),
      );
    xhr.send(form);
  });
}

function setProgress(fraction) {
  const pct = Math.round(fraction * 100);
  $('progress').value = pct;
  $('percent').textContent = `${pct}%`;
}

function setStep(name) {
  const order = ['grant', 'upload', 'complete'];
  const at = order.indexOf(name);
  order.forEach((s, i) => {
    const li = $(`step-${s}`);
    li.className = i < at || name === 'done' ? 'done' : i === at ? 'active' : '';
  });
}

function showVerdict(upload) {
  const state = $('state');
  state.className = `state ${upload.state}`;
  state.textContent = STATES[upload.state] ?? upload.state;
  state.dataset.state = upload.state;
  const dl = $('details');
  dl.replaceChildren();
  row(dl, 'state', upload.state);
  if (upload.reason) {
    const code = document.createElement('code');
    code.textContent = upload.reason;
    const span = document.createElement('span');
    span.append(code, ` — ${REASONS[upload.reason] ?? ''}`);
    row(dl, 'reason', span);
  }
  row(dl, 'upload id', upload.id);
  row(dl, 'file', `${upload.filename} (${upload.contentType}, ${upload.size.toLocaleString()} bytes)`);
  if (upload.file) {
    const f = upload.file;
    const dims = f.width ? `, ${f.width}×${f.height}` : '';
    row(dl, 'stored as', `${f.type}${dims}`);
    row(dl, 'download', downloadLink(f.download, 'download'));
  }
  $('verdict').hidden = false;
}

/** Runs one upload of the chosen file; `onDone` is told of the outcome (to refresh lists). */
export async function upload(onDone) {
  const file = $('file').files[0];
  if (!file) return;
  $('upload').disabled = true;
  $('error').hidden = true;
  $('verdict').hidden = true;
  setProgress(0);
  try {
    setStep('grant');
    const auth = await session.token();
    const grant = await api('/v1/grants', {
      token: auth,
      json: {
        route: $('route').value,
        filename: file.name,
        contentType: file.type || 'application/octet-stream',
        size: file.size,
        method: 'post',
      },
    });
    setStep('upload');
    await send(grant, file, setProgress);
    setStep('complete');
    const done = await api(`/v1/uploads/${grant.id}/complete`, { token: auth, method: 'POST' });
    setStep('done');
    showVerdict(done);
    onDone(done);
  } catch (e) {
    for (const li of document.querySelectorAll('ol.steps li.active')) li.className = 'failed';
    showError(asPageError(e));
  } finally {
    $('upload').disabled = !$('file').files[0];
  }
}
