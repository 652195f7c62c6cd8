// The run viewer in a real browser (headless chromium through puppeteer-core): the viewer asks
// for the token and refuses a wrong one; a report run started from its form is watched to the
// end, the model's text showing while its step runs; a citation opens its passage, and the highlighted text is the document's own text at the
// offsets shown (read here from the file that was ingested); the report downloads as the run's
// Markdown; a reload resumes the event stream after the last sequence seen; the page switches to
// Chinese; another tenant gets 404 and no token 401; and the console shows no error.
// Run by run_viewer_browser_test.sh.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const base = process.env.AGENTD_HTTP_URL;
const artifacts = process.env.ARTIFACTS;
const alice = 'viewer-alice-token-0001';
const bob = 'viewer-bob-token-000001';
const topic = '中国AI Agent市场规模与增长';

async function api(route, token) {
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  const response = await fetch(base + route, { headers });
  return { status: response.status, body: await response.json().catch(() => null) };
}

const errors = [];
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--lang=en-US'],
});
let failed = false;
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  page.on('console', (message) => { if (message.type() === 'error') errors.push('console: ' + message.text()); });
  page.on('pageerror', (error) => errors.push('page: ' + error.message));
  const shot = (name) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

  // The token: asked for, a wrong one refused, the right one accepted.
  await page.goto(base + '/', { waitUntil: 'networkidle0' });
  await page.waitForSelector('form.token input[name=token]');
  await shot('01-token.png');
  await page.type('form.token input[name=token]', 'not-a-token');
  await page.click('form.token button[type=submit]');
  await page.waitForFunction(() => document.querySelector('section.card .error')?.textContent.includes('did not accept'));
  await page.type('form.token input[name=token]', alice);
  await page.click('form.token button[type=submit]');
  await page.waitForSelector('form.start');
  assert.match(await page.$eval('#tenant', (node) => node.textContent), /alice/);

  // A report run from the form, watched until it has ended.
  await page.type('form.start input[name=topic]', topic);
  await page.select('form.start select[name=collection]', 'reports');
  await page.select('form.start select[name=style]', 'extractive');
  await page.click('form.start button[type=submit]');
  await page.waitForFunction(() => location.hash.startsWith('#/runs/'));
  const runId = decodeURIComponent((await page.evaluate(() => location.hash)).slice('#/runs/'.length));
  // The live view: the text the model writes shows while its step runs.
  // Checked in the page at one moment, as the browser paints it.
  await page.waitForFunction(() => (document.querySelector('.live')?.textContent.length ?? 0) > 20 &&
    document.querySelector('#run-state')?.textContent === 'RUNNING', { polling: 'mutation', timeout: 120000 });
  await shot('02-live.png');
  await page.waitForFunction(() => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(document.querySelector('#run-state')?.textContent),
    { timeout: 180000 });
  assert.equal(await page.$eval('#run-state', (node) => node.textContent), 'SUCCEEDED');
  await page.waitForSelector('article.report button.cite');
  await shot('03-report.png');

  const run = (await api('/api/runs/' + encodeURIComponent(runId), alice)).body;
  assert.equal(run.state, 'RUN_STATE_SUCCEEDED');
  const stepStates = await page.$$eval('ol.steps li', (items) => items.map((item) => item.dataset.state));
  assert.equal(stepStates.length, run.steps.length, 'every step of the run is listed');
  assert.ok(stepStates.every((state) => state === 'SUCCEEDED'), `steps: ${stepStates}`);
  assert.ok((await page.$$('ul.sources li a')).length > 0, 'the sources found are listed');
  assert.equal(await page.$eval('article.report h1', (node) => node.textContent), run.artifact.content.split('\n')[0].replace(/^#\s+/, ''));
  // What streamed live was kept with its sequence: the generated text of the writing steps.
  const live = JSON.parse(await page.evaluate((id) => sessionStorage.getItem('agentd.run.' + id), runId));
  assert.equal(live.sequence, Number(run.last_sequence));
  assert.ok(Object.values(live.text).some((text) => text.length > 20), 'tokens streamed into the live view');

  // A citation in the report's text opens its passage: the highlighted text is the document's
  // text at the offsets shown, and the quoted sentence is marked inside it.
  const cites = await page.$$('article.report p button.cite');
  assert.ok(cites.length > 0);
  await cites[0].click();
  await page.waitForSelector('#passage mark.passage-span');
  const shown = await page.$eval('#passage mark.passage-span', (node) => ({
    start: Number(node.dataset.start), end: Number(node.dataset.end), text: node.textContent,
    sentence: node.querySelector('mark.sentence')?.textContent ?? null,
    offsets: document.querySelector('#passage .offsets').textContent,
  }));
  const number = await cites[0].evaluate((node) => Number(node.dataset.ref));
  const reference = run.artifact.references.find((item) => item.number === number);
  assert.equal(shown.start, Number(reference.span.start));
  assert.equal(shown.end, Number(reference.span.end));
  assert.ok(shown.offsets.includes(`${shown.start}–${shown.end}`), shown.offsets);
  const documentText = Array.from(fs.readFileSync(reference.source, 'utf8'));
  assert.equal(shown.text, documentText.slice(shown.start, shown.end).join(''), 'the highlighted passage is the document at those offsets');
  assert.ok(shown.sentence && shown.sentence.length >= 8, 'the cited sentence is marked');
  const citing = await cites[0].evaluate((node) => {
    let text = '';
    for (let sibling = node.previousSibling; sibling; sibling = sibling.previousSibling) {
      if (sibling.nodeType === Node.ELEMENT_NODE && sibling.classList.contains('cite')) break;
      text = sibling.textContent + text;
    }
    return text;
  });
  assert.equal(shown.sentence.replace(/\s+/g, ''), citing.replace(/\s+/g, ''), 'the marked sentence is the one that cites');
  await shot('04-citation.png');
  // A document of the Sources list opens its passage with no sentence to mark: nothing in the
  // panel but the passage and its heading ("null" was written where the note would be).
  await page.click('ul.sources li a');
  await page.waitForSelector('#passage mark.passage-span');
  const parts = await page.$eval('#passage', (panel) => [...panel.childNodes].map((node) => node.textContent));
  assert.ok(!parts.includes('null'), `the passage panel shows "null": ${JSON.stringify(parts)}`);

  // Download as Markdown: the run's artifact, byte for byte.
  const downloads = fs.mkdtempSync(path.join(artifacts, 'download-'));
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await page.click('#download');
  const file = path.join(downloads, `report-${runId}.md`);
  // Chromium may create the file before it has written it (a CI run read it empty): wait for
  // the whole artifact's bytes, not for the name.
  const expectedBytes = Buffer.byteLength(run.artifact.content, 'utf8');
  const written = () => fs.existsSync(file) && fs.statSync(file).size >= expectedBytes;
  for (let i = 0; i < 300 && !written(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(fs.readFileSync(file, 'utf8'), run.artifact.content);

  // A reload resumes the event stream after the last sequence seen instead of replaying it.
  const eventRequests = [];
  page.on('request', (request) => { if (request.url().includes('/events')) eventRequests.push(request.url()); });
  await page.reload({ waitUntil: 'networkidle0' });
  await page.waitForSelector('article.report button.cite');
  assert.ok(eventRequests.length > 0, 'the reloaded page asked for events');
  assert.ok(eventRequests.every((url) => url.endsWith(`after=${run.last_sequence}`)), eventRequests.join(', '));

  // Chinese.
  await page.click('#language');
  await page.waitForFunction(() => document.querySelector('#download')?.textContent === '下载 Markdown');
  assert.equal(await page.$eval('html', (node) => node.lang), 'zh-CN');
  await shot('05-zh.png');

  // The run list shows the run; the other tenant and no token get nothing.
  await page.goto(base + '/#/', { waitUntil: 'networkidle0' });
  await page.waitForSelector(`tr[data-run="${runId}"]`);
  await shot('06-runs.png');
  assert.equal((await api('/api/runs/' + encodeURIComponent(runId), bob)).status, 404);
  assert.equal((await api('/api/runs/' + encodeURIComponent(runId) + '/events?after=0', bob)).status, 404);
  const bobsRuns = (await api('/api/runs', bob)).body;
  assert.equal((bobsRuns.runs || []).length, 0);
  const passage = `/api/passage?collection=reports&document_id=${encodeURIComponent(reference.document_id)}&start=${reference.span.start}&end=${reference.span.end}`;
  assert.equal((await api(passage, bob)).status, 404, "another tenant cannot read the passage");
  assert.equal((await api('/api/runs', null)).status, 401);
  assert.deepEqual((await api('/api/whoami', 'wrong')).body.authenticated, false);

  assert.deepEqual(errors, [], 'no console errors');
  console.log(`run viewer: run ${runId}, citation [${number}] at ${shown.start}–${shown.end} matches the document; screenshots in ${artifacts}`);
} catch (error) {
  failed = true;
  console.error(error);
  if (errors.length) console.error('browser errors:', errors);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
