// The upload page's one module: grant → POST to storage (XHR, for upload progress) → complete.
// Plain browser JavaScript, no build step; the gateway serves it under a strict CSP.

const $ = (id) => /** @type {HTMLElement & Record<string, any>} */ (document.getElementById(id));

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
const STATES = {
  pending_review: 'Waiting for review',
  verified: 'Verified',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
};

/** An error to show: a code (the gateway's, storage's, or ours) and a readable message. */
class PageError extends Error {
  constructor(source, code, message, requestId) {
    super(message);
    this.source = source;
    this.code = code;
    this.requestId = requestId;
  }
}

let config = { demo: false, users: [], routes: [] };
let demoToken = { user: '', token: '', expires: 0 };
let preview = '';

async function gatewayError(res) {
  const text = await res.text();
  try {
    const e = JSON.parse(text).error;
    if (e?.code) return new PageError('gateway', e.code, e.message, e.requestId);
  } catch {}
  return new PageError('gateway', `http_${res.status}`, text.slice(0, 200) || res.statusText);
}

/** S3 answers with <Error><Code>…</Code><Message>…</Message></Error>. */
function storageError(status, text) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const code = doc.querySelector('Error > Code')?.textContent;
  const message = doc.querySelector('Error > Message')?.textContent;
  return new PageError('storage', code || `http_${status}`, message || `Storage answered ${status}.`);
}

async function api(path, { token, json, method } = {}) {
  const res = await fetch(path, {
    method: method ?? (json === undefined ? 'GET' : 'POST'),
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(json !== undefined && { 'content-type': 'application/json' }),
      accept: 'application/json',
    },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
  if (!res.ok) throw await gatewayError(res);
  return res.json();
}

async function token() {
  if (!config.demo) {
    const t = $('token')
      .value.trim()
      .replace(/^bearer\s+/i, '');
    if (!t) throw new PageError('page', 'no_token', 'Paste a bearer token first.');
    return t;
  }
  const user = $('user').value;
  if (demoToken.user !== user || demoToken.expires - Date.now() < 60_000) {
    const r = await api('/dev/token', { json: { user } });
    demoToken = { user, token: r.token, expires: Date.parse(r.expiresAt) };
  }
  return demoToken.token;
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

function showError(e) {
  const box = $('error');
  box.replaceChildren();
  const head = document.createElement('strong');
  const where = e.source === 'storage' ? 'Storage' : e.source === 'gateway' ? 'Gateway' : 'Page';
  head.textContent = `${where}: ${e.code ?? 'error'}`;
  const msg = document.createElement('div');
  msg.textContent = e.message || String(e);
  box.append(head, msg);
  if (e.requestId) {
    const rid = document.createElement('div');
    rid.className = 'hint';
    rid.textContent = `request id ${e.requestId}`;
    box.append(rid);
  }
  box.hidden = false;
}

function row(dl, term, value) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  if (typeof value === 'string') dd.textContent = value;
  else dd.append(value);
  dl.append(dt, dd);
}

function showVerdict(upload, auth) {
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
    const a = document.createElement('a');
    a.href = f.download;
    a.textContent = 'download';
    // The endpoint needs the bearer token: ask for the signed URL as JSON, then go there.
    a.addEventListener('click', async (ev) => {
      ev.preventDefault();
      try {
        const { url } = await api(f.download, { token: auth });
        location.assign(url);
      } catch (e) {
        showError(e);
      }
    });
    row(dl, 'download', a);
  }
  $('verdict').hidden = false;
}

async function upload() {
  const file = $('file').files[0];
  if (!file) return;
  $('upload').disabled = true;
  $('error').hidden = true;
  $('verdict').hidden = true;
  setProgress(0);
  try {
    setStep('grant');
    const auth = await token();
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
    showVerdict(done, auth);
  } catch (e) {
    for (const li of document.querySelectorAll('ol.steps li.active')) li.className = 'failed';
    showError(e instanceof PageError ? e : new PageError('page', 'error', String(e?.message ?? e)));
  } finally {
    $('upload').disabled = !$('file').files[0];
  }
}

function describeRoute() {
  const r = config.routes.find((x) => x.name === $('route').value);
  if (!r) return;
  const img = r.image ? `; at most ${r.image.maxWidth ?? '∞'}×${r.image.maxHeight ?? '∞'} px` : '';
  $('route-hint').textContent =
    `${r.types.join(', ')}; up to ${r.maxSizeText}${img}${r.review ? '; reviewed before use' : ''}`;
  $('file').accept = r.types.join(',');
}

async function init() {
  config = await api('/ui/config.json');
  if (config.demo) {
    for (const u of config.users) $('user').append(new Option(`${u.id} (${u.role})`, u.id));
    $('who-demo').hidden = false;
  } else {
    $('who-token').hidden = false;
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
  $('upload').addEventListener('click', upload);
  document.body.dataset.ready = 'true';
}

init().catch((e) => showError(e instanceof PageError ? e : new PageError('page', 'error', String(e))));
