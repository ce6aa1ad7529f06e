// What every part of the page shares: the API call, errors, the demo session, small DOM helpers.
// Plain browser JavaScript, no build step; the gateway serves it under a strict CSP.

export const $ = (id) => /** @type {HTMLElement & Record<string, any>} */ (document.getElementById(id));

/** An error to show: a code (the gateway's, storage's, or ours) and a readable message. */
export class PageError extends Error {
  constructor(source, code, message, requestId) {
    super(message);
    this.source = source;
    this.code = code;
    this.requestId = requestId;
  }
}

export const asPageError = (e) =>
  e instanceof PageError ? e : new PageError('page', 'error', String(e?.message ?? e));

async function gatewayError(res) {
  const text = await res.text();
  try {
    const e = JSON.parse(text).error;
    if (e?.code) return new PageError('gateway', e.code, e.message, e.requestId);
  } catch {}
  return new PageError('gateway', `http_${res.status}`, text.slice(0, 200) || res.statusText);
}

export async function api(path, { token, json, method } = {}) {
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

/** Who the page acts as: a demo user (dev mode, tokens minted by /dev/token) or a pasted token. */
export const session = {
  config: { demo: false, users: [], routes: [] },
  demo: { user: '', token: '', expires: 0 },

  /** The role of whoever the page acts as, when it knows (demo users); undefined otherwise. */
  role() {
    if (!this.config.demo) return undefined;
    return this.config.users.find((u) => u.id === $('user').value)?.role;
  },

  async token() {
    if (!this.config.demo) {
      const t = $('token')
        .value.trim()
        .replace(/^bearer\s+/i, '');
      if (!t) throw new PageError('page', 'no_token', 'Paste a bearer token first.');
      return t;
    }
    const user = $('user').value;
    if (this.demo.user !== user || this.demo.expires - Date.now() < 60_000) {
      const r = await api('/dev/token', { json: { user } });
      this.demo = { user, token: r.token, expires: Date.parse(r.expiresAt) };
    }
    return this.demo.token;
  },
};

export function showError(e) {
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

/** A term and its value in a <dl>; the value is text or a node (never HTML). */
export function row(dl, term, value) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  if (typeof value === 'string') dd.textContent = value;
  else dd.append(value);
  dl.append(dt, dd);
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node[k] = v;
  }
  node.append(...children);
  return node;
}

/** A link to an authenticated download: asks for the signed URL as JSON, then goes there. */
export function downloadLink(path, text) {
  return el('a', {
    href: path,
    textContent: text,
    onclick: async (ev) => {
      ev.preventDefault();
      try {
        const { url } = await api(path, { token: await session.token() });
        location.assign(url);
      } catch (e) {
        showError(asPageError(e));
      }
    },
  });
}

export const STATES = {
  granted: 'Granted',
  uploaded: 'Verifying',
  pending_review: 'Waiting for review',
  verified: 'Verified',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
  withdrawn: 'Withdrawn',
};

export function stateChip(state) {
  return el('span', { className: `state ${state}`, textContent: STATES[state] ?? state, dataset: { state } });
}
