// The agentd run viewer: the tenant's runs, a form that starts a report run, a live view of a
// run (steps, sources, tokens as they stream, budgets) that resumes its event stream by
// sequence number after a reload, and the finished report, where each [n] opens the cited
// passage inside its document. Everything shown is built with DOM calls and textContent:
// reports quote tenant documents, and no text from one is ever parsed as HTML.
'use strict';

const STRINGS = {
  en: {
    language: '中文', signOut: 'Change token', tokenTitle: 'API token',
    tokenHelp: 'This server needs an API token (the one agentctl and gRPC clients use).',
    tokenLabel: 'Token', tokenSubmit: 'Open', tokenRejected: 'The server did not accept this token.',
    tenant: 'tenant', newRun: 'New report', topic: 'Topic', collection: 'Collection', style: 'Style',
    styleAuto: 'auto', styleExtractive: 'extractive (quotes)', styleAbstractive: 'abstractive',
    start: 'Start', noCollections: 'No collections yet: ingest documents first (agentctl memory ingest).',
    runs: 'Runs', noRuns: 'No runs yet.', run: 'Run', plan: 'Plan', state: 'State', progress: 'Steps',
    created: 'Created', more: 'More', back: '← All runs', steps: 'Steps', sources: 'Sources found',
    live: 'Writing', report: 'Report', download: 'Download Markdown', cancel: 'Cancel run',
    tokens: 'tokens', toolCalls: 'tool calls', elapsed: 'time', of: 'of', attempt: 'attempt',
    noSources: 'None yet.', waiting: 'Waiting for the run to start…', failed: 'The run failed',
    cancelled: 'The run was cancelled', references: 'References', passageTitle: 'Cited passage',
    close: 'Close', characters: 'characters', ofDocument: 'of', document: 'document',
    citedSentence: 'The cited sentence is highlighted in the passage.',
    sentenceNotFound: 'The citing sentence is not a verbatim quote of this passage; the passage is highlighted.',
    loading: 'Loading…', reconnecting: 'Connection lost; reconnecting…', notFound: 'No such run.',
  },
  zh: {
    language: 'English', signOut: '更换令牌', tokenTitle: 'API 令牌',
    tokenHelp: '此服务器需要 API 令牌（与 agentctl 和 gRPC 客户端使用的相同）。',
    tokenLabel: '令牌', tokenSubmit: '打开', tokenRejected: '服务器不接受此令牌。',
    tenant: '租户', newRun: '新报告', topic: '主题', collection: '资料集', style: '写法',
    styleAuto: '自动', styleExtractive: '摘录（逐字引用）', styleAbstractive: '概括',
    start: '开始', noCollections: '还没有资料集：请先导入文档（agentctl memory ingest）。',
    runs: '运行记录', noRuns: '还没有运行。', run: '运行', plan: '计划', state: '状态', progress: '步骤',
    created: '创建时间', more: '更多', back: '← 全部运行', steps: '步骤', sources: '找到的资料',
    live: '正在撰写', report: '报告', download: '下载 Markdown', cancel: '取消运行',
    tokens: '词元', toolCalls: '次工具调用', elapsed: '用时', of: '/', attempt: '第几次',
    noSources: '暂无。', waiting: '等待运行开始…', failed: '运行失败', cancelled: '运行已取消',
    references: '参考文献', passageTitle: '引用的段落', close: '关闭', characters: '字',
    ofDocument: '共', document: '文档',
    citedSentence: '段落中高亮的是被引用的句子。',
    sentenceNotFound: '引用这一资料的句子不是对该段落的逐字引用；已高亮整段。',
    loading: '加载中…', reconnecting: '连接中断，正在重连…', notFound: '没有这个运行。',
  },
};

const STATE_NAMES = {
  RUN_STATE_PENDING: 'PENDING', RUN_STATE_RUNNING: 'RUNNING', RUN_STATE_SUCCEEDED: 'SUCCEEDED',
  RUN_STATE_FAILED: 'FAILED', RUN_STATE_CANCELLED: 'CANCELLED',
  STEP_STATE_PENDING: 'PENDING', STEP_STATE_RUNNING: 'RUNNING', STEP_STATE_SUCCEEDED: 'SUCCEEDED',
  STEP_STATE_FAILED: 'FAILED', STEP_STATE_SKIPPED: 'SKIPPED',
};
const STEP_GLYPHS = { PENDING: '·', RUNNING: '▶', SUCCEEDED: '✓', FAILED: '✗', SKIPPED: '–' };
const LIVE_TEXT_LIMIT = 4000;  // characters kept of each step's streamed text

let language = localStorage.getItem('agentd.language') ||
  ((navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en');
let token = sessionStorage.getItem('agentd.token') || '';
let closeCurrentView = () => {};

function t(key) { return STRINGS[language][key] || STRINGS.en[key] || key; }

// el('div', {class: 'x'}, child, 'text', ...): an element; strings become text nodes.
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'onclick' || name === 'onsubmit' || name === 'onchange') node.addEventListener(name.slice(2), value);
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return node;
}

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token) headers.Authorization = 'Bearer ' + token;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method: options.method || 'GET', headers, cache: 'no-store',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
  if (!response.ok) {
    const message = body && body.error && body.error.message ? body.error.message : `HTTP ${response.status}`;
    throw new HttpError(response.status, message);
  }
  return body;
}

function stateName(value) { return STATE_NAMES[value] || String(value || '').replace(/^(RUN|STEP)_STATE_/, ''); }
function number(value) { return Number(value || 0); }
function formatTime(value) { return value ? new Date(value).toLocaleString(language === 'zh' ? 'zh-CN' : 'en-GB') : ''; }
function seconds(from, to) {
  if (!from) return 0;
  return Math.max(0, ((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000);
}
function runInputs(run) {
  try { return JSON.parse(run.inputs_json || '{}') || {}; } catch (e) { return {}; }
}
function codePoints(text) { return Array.from(text); }

// ---- Markdown: the subset reports use (headings, paragraphs, lists, tables, quotes, emphasis,
// inline code, [n] citations), rendered to DOM nodes.

function renderInline(text, onCite) {
  const nodes = [];
  const pattern = /\[(\d{1,4})\]|\*\*([^*]+)\*\*|`([^`]+)`|\*([^*\s][^*]*)\*/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    if (match[1] !== undefined) {
      const n = Number(match[1]);
      nodes.push(el('button', { type: 'button', class: 'cite', 'data-ref': n, onclick: (event) => onCite(n, event.currentTarget) }, `[${n}]`));
    } else if (match[2] !== undefined) {
      nodes.push(el('strong', {}, match[2]));
    } else if (match[3] !== undefined) {
      nodes.push(el('code', {}, match[3]));
    } else {
      nodes.push(el('em', {}, match[4]));
    }
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

function tableCells(line) {
  let inner = line.trim();
  if (inner.startsWith('|')) inner = inner.slice(1);
  if (inner.endsWith('|')) inner = inner.slice(0, -1);
  return inner.split('|').map((cell) => cell.trim());
}

function renderMarkdown(markdown, onCite) {
  const root = el('article', { class: 'report' });
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { i++; continue; }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      root.append(el('h' + Math.min(heading[1].length, 4), {}, renderInline(heading[2], onCite)));
      i++;
      continue;
    }
    if (/^\s*\|/.test(line) && i + 1 < lines.length && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1])) {
      const table = el('table');
      table.append(el('thead', {}, el('tr', {}, tableCells(line).map((cell) => el('th', {}, renderInline(cell, onCite))))));
      const body = el('tbody');
      i += 2;
      while (i < lines.length && /^\s*\|/.test(lines[i])) {
        body.append(el('tr', {}, tableCells(lines[i]).map((cell) => el('td', {}, renderInline(cell, onCite)))));
        i++;
      }
      table.append(body);
      root.append(table);
      continue;
    }
    if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const list = el(ordered ? 'ol' : 'ul');
      while (i < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i])) {
        list.append(el('li', {}, renderInline(lines[i].replace(/^\s*([-*]|\d+\.)\s+/, ''), onCite)));
        i++;
      }
      root.append(list);
      continue;
    }
    if (/^>\s?/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^>\s?/.test(lines[i])) quoted.push(lines[i++].replace(/^>\s?/, ''));
      root.append(el('blockquote', {}, renderInline(quoted.join(' '), onCite)));
      continue;
    }
    // A report's reference list: one source per line, each opening with its [n].
    if (/^\[\d{1,4}\]/.test(line)) {
      const list = el('ol', { class: 'references' });
      while (i < lines.length && /^\[\d{1,4}\]/.test(lines[i])) list.append(el('li', {}, renderInline(lines[i++], onCite)));
      root.append(list);
      continue;
    }
    const paragraph = [];
    while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|\s*\||>|\s*([-*]|\d+\.)\s+|\[\d{1,4}\])/.test(lines[i])) paragraph.push(lines[i++]);
    if (paragraph.length === 0) paragraph.push(lines[i++]);
    root.append(el('p', {}, renderInline(paragraph.join('\n'), onCite)));
  }
  return root;
}

// The text a citation button closes: what stands between it and the citation or block start
// before it (in an extractive report, the quoted sentence).
function citingText(button) {
  let text = '';
  for (let node = button.previousSibling; node; node = node.previousSibling) {
    if (node.nodeType === Node.ELEMENT_NODE && node.classList.contains('cite')) {
      if (text.trim()) break;
      continue;
    }
    text = node.textContent + text;
  }
  return text.trim();
}

// Where `needle` occurs in `haystack` ignoring whitespace: [start, end) in haystack's code
// units, or null.
function findIgnoringSpace(haystack, needle) {
  const exact = haystack.indexOf(needle);
  if (exact >= 0) return [exact, exact + needle.length];
  const wanted = needle.replace(/\s+/g, '');
  if (wanted.length < 4) return null;
  for (let start = 0; start < haystack.length; start++) {
    if (/\s/.test(haystack[start]) || haystack[start] !== wanted[0]) continue;
    let k = 0;
    let j = start;
    while (j < haystack.length && k < wanted.length) {
      if (/\s/.test(haystack[j])) { j++; continue; }
      if (haystack[j] !== wanted[k]) break;
      j++;
      k++;
    }
    if (k === wanted.length) return [start, j];
  }
  return null;
}

// ---- The passage panel.

async function showPassage(reference, sentence) {
  const panel = document.getElementById('passage');
  panel.hidden = false;
  document.body.classList.add('with-passage');
  panel.replaceChildren(el('p', { class: 'note' }, t('loading')));
  const span = reference.span || {};
  const query = new URLSearchParams({
    collection: reference.collection || '', document_id: reference.document_id || '',
    start: String(number(span.start)), end: String(number(span.end)),
  });
  let passage;
  try {
    passage = await api('/api/passage?' + query.toString());
  } catch (error) {
    panel.replaceChildren(el('button', { type: 'button', class: 'plain close', onclick: hidePassage }, t('close')),
      el('p', { class: 'error' }, error.message));
    return;
  }
  const cps = codePoints(passage.text);
  const from = number(passage.start) - number(passage.window_start);
  const to = number(passage.end) - number(passage.window_start);
  const before = cps.slice(0, from).join('');
  const inside = cps.slice(from, to).join('');
  const after = cps.slice(to).join('');
  const mark = el('mark', { class: 'passage-span', 'data-start': passage.start, 'data-end': passage.end });
  // Bounded: the search is quadratic, and a plan's references are the tenant's own words.
  const found = sentence && inside.length <= 20000 && sentence.length <= 2000 ? findIgnoringSpace(inside, sentence) : null;
  if (found) {
    mark.append(inside.slice(0, found[0]), el('mark', { class: 'sentence' }, inside.slice(found[0], found[1])), inside.slice(found[1]));
  } else {
    mark.append(inside);
  }
  const heading = reference.number ? `[${reference.number}] ` : '';
  // replaceChildren writes a null as the text "null" (el() skips them): only the parts present.
  panel.replaceChildren(...[
    el('button', { type: 'button', class: 'plain close', onclick: hidePassage }, t('close')),
    el('h2', {}, heading + (passage.title || passage.document_id)),
    el('div', { class: 'meta' },
      el('span', {}, t('document') + ' ', el('b', {}, passage.source || passage.document_id)),
      el('span', { class: 'offsets' }, `${t('characters')} ${passage.start}–${passage.end} ${t('ofDocument')} ${passage.document_end}`),
      passage.date ? el('span', {}, passage.date) : null),
    sentence ? el('p', { class: 'note' }, found ? t('citedSentence') : t('sentenceNotFound')) : null,
    el('div', { class: 'doc-text' }, before, mark, after)].filter((part) => part !== null));
  mark.scrollIntoView({ block: 'center' });
}

function hidePassage() {
  const panel = document.getElementById('passage');
  panel.hidden = true;
  panel.replaceChildren();
  document.body.classList.remove('with-passage');
  for (const active of document.querySelectorAll('button.cite.active')) active.classList.remove('active');
}

// ---- Views.

function main() { return document.getElementById('main'); }

function showError(error) {
  if (error instanceof HttpError && error.status === 401) return showTokenForm(token ? t('tokenRejected') : '');
  main().append(el('p', { class: 'error' }, error.message));
}

function showTokenForm(message) {
  closeCurrentView();
  hidePassage();
  const input = el('input', { type: 'password', name: 'token', autocomplete: 'current-password', required: true });
  const form = el('form', {
    class: 'token',
    onsubmit: (event) => {
      event.preventDefault();
      token = input.value.trim();
      sessionStorage.setItem('agentd.token', token);
      route();
    },
  }, el('label', {}, t('tokenLabel'), input), el('button', { type: 'submit' }, t('tokenSubmit')));
  main().replaceChildren(el('section', { class: 'card' }, el('h1', {}, t('tokenTitle')), el('p', {}, t('tokenHelp')),
    message ? el('p', { class: 'error' }, message) : null, form));
  input.focus();
}

async function showRunList() {
  const root = main();
  root.replaceChildren(el('p', { class: 'note' }, t('loading')));
  const [collections, listing] = await Promise.all([api('/api/collections'), api('/api/runs?page_size=50')]);
  const form = startForm(collections.collections || []);
  const table = el('table', { class: 'runs' },
    el('thead', {}, el('tr', {}, [t('run'), t('topic'), t('state'), t('progress'), t('created')].map((h) => el('th', {}, h)))));
  const body = el('tbody');
  table.append(body);
  const more = el('button', { type: 'button', class: 'plain', hidden: true }, t('more'));
  let nextPage = '';
  const addRuns = (page) => {
    for (const run of page.runs || []) body.append(runRow(run));
    nextPage = page.next_page_token || '';
    more.hidden = !nextPage;
  };
  more.addEventListener('click', async () => addRuns(await api('/api/runs?page_size=50&page_token=' + encodeURIComponent(nextPage))));
  addRuns(listing);
  root.replaceChildren(
    el('section', { class: 'card' }, el('h2', {}, t('newRun')), form),
    el('section', { class: 'card' }, el('h2', {}, t('runs')),
      (listing.runs || []).length ? table : el('p', { class: 'note' }, t('noRuns')), more));
  // The list refreshes while a run in it is still going.
  const timer = setInterval(async () => {
    if (!(listing.runs || []).some((run) => ['RUNNING', 'PENDING'].includes(stateName(run.state)))) return;
    try {
      const fresh = await api('/api/runs?page_size=50');
      listing.runs = fresh.runs;
      body.replaceChildren(...(fresh.runs || []).map(runRow));
    } catch (e) { /* the next tick tries again */ }
  }, 3000);
  closeCurrentView = () => clearInterval(timer);
}

function runRow(run) {
  const steps = run.steps || [];
  const done = steps.filter((step) => ['SUCCEEDED', 'SKIPPED'].includes(stateName(step.state))).length;
  const state = stateName(run.state);
  const topic = runInputs(run).topic || run.plan;
  // Set through the CSSOM: the page's policy allows no style attributes.
  const bar = el('span');
  bar.style.width = `${steps.length ? Math.round((100 * done) / steps.length) : 0}%`;
  return el('tr', { 'data-run': run.run_id },
    el('td', {}, el('a', { href: '#/runs/' + encodeURIComponent(run.run_id) }, run.run_id)),
    el('td', { class: 'topic' }, String(topic)),
    el('td', {}, el('span', { class: 'state ' + state }, state)),
    el('td', {}, el('span', { class: 'progress' }, bar), `${done}/${steps.length}`),
    el('td', {}, formatTime(run.created_at)));
}

function startForm(collections) {
  if (!collections.length) return el('p', { class: 'note' }, t('noCollections'));
  const topic = el('input', { type: 'text', name: 'topic', required: true, maxlength: 500 });
  const collection = el('select', { name: 'collection' },
    collections.map((c) => el('option', { value: c.name }, `${c.name} (${c.documents})`)));
  const style = el('select', { name: 'style' },
    el('option', { value: 'auto' }, t('styleAuto')),
    el('option', { value: 'extractive' }, t('styleExtractive')),
    el('option', { value: 'abstractive' }, t('styleAbstractive')));
  const submit = el('button', { type: 'submit' }, t('start'));
  const error = el('p', { class: 'error', hidden: true });
  const form = el('form', {
    class: 'start',
    onsubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.hidden = true;
      try {
        const started = await api('/api/runs', { method: 'POST', body: { topic: topic.value, collection: collection.value, style: style.value } });
        location.hash = '#/runs/' + encodeURIComponent(started.run_id);
      } catch (e) {
        if (e instanceof HttpError && e.status === 401) return showTokenForm(t('tokenRejected'));
        error.textContent = e.message;
        error.hidden = false;
        submit.disabled = false;
      }
    },
  }, el('label', {}, t('topic'), topic), el('label', {}, t('collection'), collection), el('label', {}, t('style'), style), submit);
  return el('div', {}, form, error);
}

// ---- One run: a snapshot from GET /api/runs/ID, then its events from the last sequence seen.
// The live part (tokens per step, sources) is kept in sessionStorage with that sequence, so a
// reload resumes the stream where it stopped instead of replaying it.

function savedLive(runId) {
  try {
    const saved = JSON.parse(sessionStorage.getItem('agentd.run.' + runId) || 'null');
    if (saved && typeof saved.sequence === 'number') return saved;
  } catch (e) { /* start over */ }
  return { sequence: 0, text: {}, sources: [] };
}

async function showRun(runId) {
  const root = main();
  root.replaceChildren(el('p', { class: 'note' }, t('loading')));
  let run;
  try {
    run = await api('/api/runs/' + encodeURIComponent(runId));
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) {
      root.replaceChildren(el('a', { href: '#/' }, t('back')), el('p', { class: 'error' }, t('notFound')));
      return;
    }
    throw error;
  }
  const live = savedLive(runId);
  const view = {
    run, live, stopped: false, controller: null,
    steps: new Map((run.steps || []).map((step) => [step.name, Object.assign({}, step)])),
  };
  const status = el('p', { class: 'note', hidden: true });
  const header = el('div');
  const stepsList = el('ol', { class: 'steps' });
  const sourcesList = el('ul', { class: 'sources' });
  const liveBox = el('div');
  const reportBox = el('div');
  root.replaceChildren(
    el('a', { href: '#/' }, t('back')),
    header, status,
    el('div', { class: 'run-grid' },
      el('div', {},
        el('section', { class: 'card' }, el('h3', {}, t('steps')), stepsList),
        el('section', { class: 'card' }, el('h3', {}, t('sources')), sourcesList)),
      el('div', {}, liveBox, reportBox)));
  root.dataset.lastSequence = String(live.sequence);

  const save = () => {
    try { sessionStorage.setItem('agentd.run.' + runId, JSON.stringify(live)); } catch (e) { /* full: no resume */ }
    root.dataset.lastSequence = String(live.sequence);
  };
  const render = () => {
    renderRunHeader(view, header);
    renderSteps(view, stepsList);
    renderSources(view, sourcesList);
    renderLive(view, liveBox);
    renderReport(view, reportBox);
  };
  render();

  const apply = (event) => {
    live.sequence = number(event.sequence);
    const state = view.run;
    if (event.step_started) {
      const step = view.steps.get(event.step_started.step) || { name: event.step_started.step };
      step.state = 'STEP_STATE_RUNNING';
      step.attempts = event.step_started.attempt;
      step.started_at = event.time;
      view.steps.set(step.name, step);
      if (stateName(state.state) === 'PENDING') state.state = 'RUN_STATE_RUNNING';
    } else if (event.step_finished) {
      const step = view.steps.get(event.step_finished.step) || { name: event.step_finished.step };
      step.state = event.step_finished.state;
      step.error = event.step_finished.error;
      step.usage = event.step_finished.usage;
      step.finished_at = event.time;
      view.steps.set(step.name, step);
    } else if (event.token_delta) {
      const name = event.token_delta.step;
      const text = (live.text[name] || '') + event.token_delta.text;
      live.text[name] = text.length > LIVE_TEXT_LIMIT ? text.slice(text.length - LIVE_TEXT_LIMIT) : text;
      live.lastStep = name;
    } else if (event.retrieval_hits) {
      for (const hit of event.retrieval_hits.hits || []) {
        const key = `${hit.collection}/${hit.document_id}/${hit.span ? hit.span.start : 0}`;
        if (!live.sources.some((source) => source.key === key)) live.sources.push(Object.assign({ key }, hit));
      }
    } else if (event.run_started) {
      state.state = 'RUN_STATE_RUNNING';
    } else if (event.run_ended) {
      state.state = event.run_ended.state;
      state.error = event.run_ended.error;
    }
  };

  let renderPending = false;
  const scheduleRender = () => {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => { renderPending = false; render(); save(); });
  };

  const follow = async () => {
    while (!view.stopped) {
      view.controller = new AbortController();
      let ended = false;
      try {
        const headers = token ? { Authorization: 'Bearer ' + token } : {};
        const response = await fetch(`/api/runs/${encodeURIComponent(runId)}/events?after=${live.sequence}`,
          { headers, cache: 'no-store', signal: view.controller.signal });
        if (!response.ok) {
          let message = `HTTP ${response.status}`;
          try { message = (await response.json()).error.message; } catch (e) { /* keep the status */ }
          throw new HttpError(response.status, message);
        }
        status.hidden = true;
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let kind = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) kind = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (kind === 'end') ended = true;
            else if (kind === 'error') throw new HttpError(500, JSON.parse(data).error.message);
            else if (kind === 'message' && data) { apply(JSON.parse(data)); scheduleRender(); }
          }
        }
      } catch (error) {
        if (view.stopped) return;
        if (error instanceof HttpError && (error.status === 401 || error.status === 404)) { showError(error); return; }
        status.textContent = t('reconnecting');
        status.hidden = false;
        await new Promise((resolve) => setTimeout(resolve, 2000));
        continue;
      }
      if (ended) {
        // The snapshot has what events do not carry: the report and the usage totals.
        view.run = await api('/api/runs/' + encodeURIComponent(runId));
        for (const step of view.run.steps || []) view.steps.set(step.name, Object.assign({}, step));
        render();
        save();
        return;
      }
    }
  };
  closeCurrentView = () => {
    view.stopped = true;
    if (view.controller) view.controller.abort();
  };
  follow().catch(showError);
}

function renderRunHeader(view, box) {
  const run = view.run;
  const state = stateName(run.state);
  const inputs = runInputs(run);
  const usage = run.usage || {};
  const limits = run.limits || {};
  const tokensUsed = number(usage.prompt_tokens) + number(usage.completion_tokens);
  const stepTokens = [...view.steps.values()].reduce((sum, step) =>
    sum + number(step.usage && step.usage.prompt_tokens) + number(step.usage && step.usage.completion_tokens), 0);
  const used = Math.max(tokensUsed, stepTokens);
  const cancel = ['RUNNING', 'PENDING'].includes(state)
    ? el('button', {
      type: 'button', class: 'plain', id: 'cancel-run',
      onclick: async () => {
        try { view.run = Object.assign(view.run, await api(`/api/runs/${encodeURIComponent(run.run_id)}/cancel`, { method: 'POST', body: {} })); } catch (e) { showError(e); }
      },
    }, t('cancel'))
    : null;
  box.replaceChildren(
    el('h1', {}, String(inputs.topic || run.plan)),
    el('div', { class: 'meta' },
      el('span', { class: 'state ' + state, id: 'run-state' }, state),
      el('span', {}, run.run_id),
      inputs.collection ? el('span', {}, t('collection') + ' ', el('b', {}, String(inputs.collection))) : null,
      el('span', { class: 'budget' }, el('b', {}, String(used)), ` ${t('of')} ${number(limits.max_tokens)} ${t('tokens')}`),
      el('span', { class: 'budget' }, el('b', {}, String(number(run.tool_calls))), ` ${t('of')} ${number(limits.max_tool_calls)} ${t('toolCalls')}`),
      el('span', { class: 'budget' }, `${t('elapsed')} `, el('b', {}, seconds(run.created_at, run.finished_at).toFixed(1) + ' s'),
        ` ${t('of')} ${number(limits.deadline_seconds)} s`),
      cancel));
}

function renderSteps(view, list) {
  list.replaceChildren(...[...view.steps.values()].map((step) => {
    const state = stateName(step.state) || 'PENDING';
    const tokens = number(step.usage && step.usage.prompt_tokens) + number(step.usage && step.usage.completion_tokens);
    const took = step.started_at && step.finished_at ? seconds(step.started_at, step.finished_at).toFixed(1) + ' s' : '';
    return el('li', { 'data-step': step.name, 'data-state': state },
      el('span', { class: 'glyph ' + state }, STEP_GLYPHS[state] || '·'),
      el('span', { class: 'name' }, step.name, step.error ? el('div', { class: 'error' }, step.error) : null),
      el('span', { class: 'detail' }, [took, tokens ? `${tokens} ${t('tokens')}` : ''].filter(Boolean).join(' · ')));
  }));
}

function renderSources(view, list) {
  const sources = view.live.sources;
  if (!sources.length) { list.replaceChildren(el('li', { class: 'note' }, t('noSources'))); return; }
  // One line per document, with how many of its passages were found.
  const byDocument = new Map();
  for (const source of sources) {
    const key = `${source.collection}/${source.document_id}`;
    if (!byDocument.has(key)) byDocument.set(key, { first: source, count: 0 });
    byDocument.get(key).count++;
  }
  list.replaceChildren(...[...byDocument.values()].map(({ first, count }) =>
    el('li', {}, el('a', { href: '#', onclick: (event) => { event.preventDefault(); showPassage(first, ''); } },
      first.title || first.document_id), count > 1 ? ` ×${count}` : '')));
}

function renderLive(view, box) {
  const state = stateName(view.run.state);
  if (!['RUNNING', 'PENDING'].includes(state)) { box.replaceChildren(); return; }
  let writing = [...view.steps.values()].filter((step) => stateName(step.state) === 'RUNNING' && view.live.text[step.name]);
  // Between model calls, the last text written stays in view.
  if (!writing.length && view.live.lastStep && view.steps.has(view.live.lastStep)) writing = [view.steps.get(view.live.lastStep)];
  const parts = writing.map((step) =>
    el('div', {}, el('div', { class: 'live-step' }, step.name), el('div', { class: 'live' }, view.live.text[step.name])));
  box.replaceChildren(el('section', { class: 'card' }, el('h3', {}, t('live')),
    parts.length ? parts : el('p', { class: 'note' }, view.steps.size ? '…' : t('waiting'))));
}

function renderReport(view, box) {
  const run = view.run;
  const state = stateName(run.state);
  const artifact = run.artifact;
  if (state === 'FAILED' || state === 'CANCELLED') {
    box.replaceChildren(el('section', { class: 'card' },
      el('p', { class: 'error' }, `${state === 'FAILED' ? t('failed') : t('cancelled')}: ${run.error || ''}`)));
    if (!artifact || !artifact.content) return;
  } else if (!artifact || !artifact.content) {
    box.replaceChildren();
    return;
  }
  const references = new Map((artifact.references || []).map((reference) => [number(reference.number), reference]));
  const onCite = (n, button) => {
    const reference = references.get(n);
    if (!reference) return;
    for (const active of document.querySelectorAll('button.cite.active')) active.classList.remove('active');
    if (button) button.classList.add('active');
    showPassage(reference, button && button.closest('article.report') ? citingText(button) : '');
  };
  const download = el('button', {
    type: 'button', id: 'download',
    onclick: () => {
      const blob = new Blob([artifact.content], { type: 'text/markdown;charset=utf-8' });
      const link = el('a', { href: URL.createObjectURL(blob), download: `report-${run.run_id}.md` });
      document.body.append(link);
      link.click();
      setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    },
  }, t('download'));
  const report = renderMarkdown(artifact.content, onCite);
  box.replaceChildren(el('section', { class: 'card' }, el('div', { class: 'actions' }, download), report));
}

// ---- Routing: #/ is the list, #/runs/ID one run.

async function route() {
  closeCurrentView();
  closeCurrentView = () => {};
  hidePassage();
  document.getElementById('language').textContent = t('language');
  document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
  const signOut = document.getElementById('sign-out');
  signOut.textContent = t('signOut');
  try {
    const me = await api('/api/whoami');
    if (!me.authenticated) {
      document.getElementById('tenant').textContent = '';
      return showTokenForm(token ? t('tokenRejected') : '');
    }
    document.getElementById('tenant').textContent = `${t('tenant')}: ${me.tenant}`;
    signOut.hidden = !token;
    const match = /^#\/runs\/(.+)$/.exec(location.hash);
    if (match) await showRun(decodeURIComponent(match[1]));
    else await showRunList();
  } catch (error) {
    main().replaceChildren();
    showError(error);
  }
}

document.getElementById('language').addEventListener('click', () => {
  language = language === 'zh' ? 'en' : 'zh';
  localStorage.setItem('agentd.language', language);
  route();
});
document.getElementById('sign-out').addEventListener('click', () => {
  token = '';
  sessionStorage.removeItem('agentd.token');
  showTokenForm('');
});
window.addEventListener('hashchange', route);
route();
