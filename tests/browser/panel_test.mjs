// The cashier panel in a real browser: Debian's chromium, driven by playwright-core, against
// the real `regulars serve` on a fresh ledger. Exits non-zero with a message on any failure.
//
//   node panel_test.mjs --cli build/default/pos-adapters/cli/regulars
//        --config config/examples/demo-store.json --screenshot build/default/panel-screenshot.png
//
// A missing chromium or playwright-core is a failure, not a skip: CI must run this.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(
    process.argv.slice(2).reduce((pairs, arg, i, all) =>
        (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []));
const cli = args.cli;
const baseConfig = args.config;
const screenshot = args.screenshot;
const chromiumPath = args.chromium || '/usr/bin/chromium';
const CARD = '2900000000018';
const COFFEE = '3760000000012';  // named by the config's products
const MILK = '3760000000029';    // named by nothing: shown by its sku
// The screens a till has: the panel must fit each without scrolling.
const SCREENS = [{ width: 1280, height: 800 }, { width: 1024, height: 768 }];

class Failure extends Error {}
function fail(message) {
  throw new Failure(message);
}
function check(condition, message) {
  if (!condition) fail(message);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'regulars-panel-'));
let server = null;
let serverLog = '';
let browser = null;

async function main() {
  check(cli && baseConfig && screenshot,
        'usage: panel_test.mjs --cli REGULARS --config CONFIG --screenshot FILE.png');
  check(fs.existsSync(cli), `the regulars program is missing: ${cli}`);
  check(fs.existsSync(chromiumPath),
        `chromium is missing at ${chromiumPath}: apt-get install chromium (installer/deps.sh)`);
  let chromium;
  try {
    ({ chromium } = await import(path.join(here, 'node_modules/playwright-core/index.mjs')));
  } catch (e) {
    fail(`playwright-core is missing: run npm ci --prefix tests/browser (${e.message})`);
  }

  // A till config with rules and goodwill, plus the HTTP section of `regulars serve`.
  const token = crypto.randomBytes(32).toString('hex');
  const config = JSON.parse(fs.readFileSync(baseConfig, 'utf8'));
  // The port is picked at start (--port 0) and written to a file, so tests never collide.
  config.http = { listen: '127.0.0.1', port: 8420, token: { secret_hex: token } };
  // A higher tier the customer is on the way to: one more progress bar on a busy screen.
  config.rules.push({ id: 'gold', kind: 'tier', rank: 2, name: { fr: 'Or', en: 'Gold' },
                      reach: { purchases: 12, window_days: 30 }, grace_days: 14,
                      benefits: { percent: 10 } });
  config.products = { [COFFEE]: { fr: 'Café moulu Arabica 250 g', en: 'Arabica ground coffee 250 g' } };
  const configPath = path.join(work, 'store.json');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const portFile = path.join(work, 'port');
  const base = await startServer(configPath, path.join(work, 'ledger.sqlite'), portFile);

  const api = async (method, route, body, auth = token) => {
    const response = await fetch(base + route, {
      method,
      headers: Object.assign({ 'Content-Type': 'application/json' },
                             auth ? { Authorization: 'Bearer ' + auth } : {}),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch (e) { /* checked by the caller */ }
    return { status: response.status, json, text };
  };
  const ok = async (route, body) => {
    const answer = await api('POST', route, body);
    check(answer.status === 200, `POST ${route} answered ${answer.status}: ${answer.text}`);
    return answer.json;
  };

  // The contract's edges the panel relies on: static files open, the API behind the token.
  const page0 = await fetch(base + '/panel/');
  check(page0.status === 200, `GET /panel/ without a token answered ${page0.status}`);
  const denied = await api('GET', '/v1/panel', undefined, null);
  check(denied.status === 401 && denied.json && denied.json.error,
        `GET /v1/panel without a token should be 401 with an error JSON: ${denied.status} ${denied.text}`);

  // Four visits with a pack, coffee and milk each: the fifth pack, in the next basket, is
  // free, and the coffee and milk missing from it are the customer's usual items.
  const enrolled = await ok('/v1/enroll', { card: CARD, first_name: 'Amélie' });
  check(enrolled.customer && enrolled.customer.id, `enroll gave no customer: ${JSON.stringify(enrolled)}`);
  const basket = (n) => ({
    pos_txn_id: `S001-T01-${String(n).padStart(6, '0')}`,
    cashier_id: 'C07',
    currency: 'EUR',
    identifiers: [{ kind: 'card', value: CARD }],
    lines: [{ line: 1, sku: '3400000000001', qty: 1, unit_price: 1290, brand: 'Dodo',
              categories: ['baby/diapers'] }],
  });
  const usualVisit = (n) => {
    const b = basket(n);
    b.lines.push({ line: 2, sku: COFFEE, qty: 1, unit_price: 489, categories: ['grocery/coffee'] },
                 { line: 3, sku: MILK, qty: 2, unit_price: 109, categories: ['grocery/dairy'] });
    return b;
  };
  // The fifth basket also holds bread, so a goodwill gesture has something to come off.
  const fifthBasket = basket(5);
  fifthBasket.lines.push({ line: 2, sku: '2000000000015', qty: 1, unit_price: 245,
                           categories: ['bakery/bread'] });
  for (let n = 1; n <= 4; n++) {
    const receipt = await ok('/v1/commit', usualVisit(n));
    check(receipt.status === 'committed', `visit ${n} was not committed: ${JSON.stringify(receipt)}`);
    const free = (receipt.lines || []).flatMap((l) => l.discounts || [])
        .filter((d) => d.rule === 'diapers-5th');
    check(free.length === 0, `visit ${n} already had the fifth pack free`);
  }

  browser = await chromium.launchPersistentContext(path.join(work, 'chromium-profile'), {
    executablePath: chromiumPath,
    headless: true,
    viewport: SCREENS[0],
    locale: 'fr-FR',
    // As DEPENDENCIES.md says: no sandbox as root, and nothing reaching out to the network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] || await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // Only this server may be reached: the panel has no external assets.
  const outside = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });

  await page.goto(`${base}/panel/#token=${token}&lang=fr`);
  await waitForText(page, '#connection', 'Connecté', 'the panel connected to the live stream');
  await waitForAttr(page, '#event', 'data-event', 'commit', 'the last commit shown on connect');

  // The fifth basket, evaluated through the API: the page follows the stream.
  const fifth = await ok('/v1/evaluate', fifthBasket);
  const freePack = fifth.lines.flatMap((l) => l.discounts || []).find((d) => d.rule === 'diapers-5th');
  check(freePack && freePack.amount === 1290,
        `the fifth basket's receipt has no free pack: ${JSON.stringify(fifth)}`);
  check(fifth.goodwill && fifth.goodwill.budget_left > 0,
        `the fifth basket's receipt has no goodwill budget: ${JSON.stringify(fifth.goodwill)}`);
  await waitForAttr(page, '#event', 'data-event', 'evaluate', 'the evaluation of the fifth basket');

  // The busy screen the cashier works from, at each till size: nothing below the fold.
  check(fifth.suggestions.length >= 2, `the fifth basket has few suggestions: ${JSON.stringify(fifth.suggestions)}`);
  const shots = path.dirname(screenshot);
  fs.mkdirSync(shots, { recursive: true });
  for (const size of SCREENS) {
    await page.setViewportSize(size);
    await checkFitsTheScreen(page, size, fifth.suggestions.length);
    await takeScreenshot(page, path.join(shots, `panel-${size.width}x${size.height}.png`), false);
  }
  await page.setViewportSize(SCREENS[0]);

  const fr = await shown(page);
  // One way to write money in French: the panel's amounts and the server's sentences alike.
  check(!/EUR/.test(fr.text), `the French panel writes "EUR": ${fr.text}`);
  check(/\d,\d\d\u00a0€/.test(fr.progress.map((p) => p.text).join(' ')),
        `the milestone progress does not write euros the French way: ${JSON.stringify(fr.progress)}`);
  // A usual item is named by the config's products, else by its sku.
  check(fr.suggestions.some((text) => text.includes('Café moulu Arabica 250 g')),
        `no suggestion names the coffee: ${JSON.stringify(fr.suggestions)}`);
  check(!fr.suggestions.some((text) => text.includes(COFFEE)),
        `a suggestion shows the coffee's sku: ${JSON.stringify(fr.suggestions)}`);
  check(fr.suggestions.some((text) => text.includes(MILK)),
        `the milk, named by nothing, is not suggested by its sku: ${JSON.stringify(fr.suggestions)}`);
  check(fifth.customer.first_name === 'Amélie', 'the proposal does not greet Amélie by name');
  const name = 'Amélie';
  check(fr.name === name, `the customer shown is "${fr.name}", expected "${name}"`);
  check(fifth.customer.tier_status, 'the customer holds no tier after four visits');
  check(fr.tier === fifth.customer.tier_status.name.fr,
        `the tier shown is "${fr.tier}", expected "${fifth.customer.tier_status.name.fr}"`);
  const freeRow = fr.rewards.find((r) => r.text === freePack.text.fr);
  check(freeRow, `the reward "${freePack.text.fr}" is not shown: ${JSON.stringify(fr.rewards)}`);
  check(freeRow.amount === '−12,90\u00a0€', `the free pack shows "${freeRow.amount}", expected −12,90 €`);
  checkProgress(fr.progress, fifth.progress, 'fr');
  check(fr.budget.includes('Budget restant : ' + euros(fifth.goodwill.budget_left, 'fr')),
        `the goodwill budget shows "${fr.budget}", expected ${euros(fifth.goodwill.budget_left, 'fr')}`);
  check(!fr.goodwillDisabled, 'the goodwill button is disabled with a budget left');
  check(fr.lang === 'fr', `the page language is ${fr.lang}, expected fr`);

  // English, then back to French.
  await page.click('#lang-toggle');
  const en = await shown(page);
  check(en.lang === 'en', 'the language toggle did not switch to English');
  check(en.name === 'Amélie',
        `in English the customer is "${en.name}"`);
  check(en.tier === fifth.customer.tier_status.name.en, `in English the tier is "${en.tier}"`);
  check(en.rewards.some((r) => r.text === freePack.text.en && r.amount === '−€12.90'),
        `in English the rewards are ${JSON.stringify(en.rewards)}`);
  checkProgress(en.progress, fifth.progress, 'en');
  check(en.budget.includes('Budget left: ' + euros(fifth.goodwill.budget_left, 'en')),
        `in English the budget shows "${en.budget}"`);
  check(en.headings.includes('On this basket'), `English headings: ${en.headings}`);
  check(!/EUR/.test(en.text), `the English panel writes "EUR": ${en.text}`);
  check(en.suggestions.some((text) => text.includes('Arabica ground coffee 250 g')),
        `in English no suggestion names the coffee: ${JSON.stringify(en.suggestions)}`);
  await page.click('#lang-toggle');
  const back = await shown(page);
  check(back.lang === 'fr' && back.headings.includes('Sur ce panier'),
        `the toggle did not come back to French: ${back.headings}`);

  // Goodwill: more than the budget is refused with the server's message, then 1,50 € is granted.
  await page.click('#goodwill-button');
  await page.locator('#goodwill-form').waitFor({ state: 'visible', timeout: 5000 });
  const tooMuch = euros(fifth.goodwill.budget_left + 100, 'fr').replace(/\u00a0€$/, '');
  await page.fill('#goodwill-amount', tooMuch);
  await page.fill('#goodwill-reason', 'Attente en caisse');
  const refused = page.waitForResponse((r) => r.url().endsWith('/v1/goodwill'));
  await page.click('#goodwill-grant');
  const refusedStatus = (await refused).status();
  check(refusedStatus >= 400 && refusedStatus < 500,
        `a gesture over the budget answered ${refusedStatus}, expected 4xx`);
  await waitForText(page, '#goodwill-error', 'goodwill_over_budget', 'the over-budget error in the form');
  await waitForText(page, '#goodwill-error', 'Ce montant dépasse le budget de geste restant',
                    'the over-budget error in French');

  await page.fill('#goodwill-amount', '1,50');
  const granted = page.waitForResponse((r) => r.url().endsWith('/v1/goodwill'));
  await page.click('#goodwill-grant');
  const grantResponse = await granted;
  check(grantResponse.status() === 200, `the gesture answered ${grantResponse.status()}`);
  const regranted = await grantResponse.json();
  check(regranted.goodwill.granted === 150, `the gesture granted ${regranted.goodwill.granted}, expected 150`);
  check(regranted.goodwill.budget_left === fifth.goodwill.budget_left - 150,
        `the budget left after 1,50 € is ${regranted.goodwill.budget_left}, ` +
        `expected ${fifth.goodwill.budget_left - 150}`);
  const budgetAfter = 'Budget restant : ' + euros(regranted.goodwill.budget_left, 'fr');
  await waitForText(page, '#goodwill-budget', budgetAfter, 'the budget left decreased by 1,50 €');
  await waitForText(page, '#goodwill-done', 'Geste accordé : 1,50\u00a0€', 'the gesture confirmed');
  const gesture = regranted.lines.flatMap((l) => l.discounts || []).find((d) => d.rule === 'goodwill');
  check(gesture, `the re-evaluated receipt has no goodwill discount: ${JSON.stringify(regranted)}`);
  await waitForText(page, '#rewards', gesture.text.fr, 'the gesture among the rewards');
  const afterGesture = await shown(page);
  check(afterGesture.rewards.some((r) => r.text === freePack.text.fr),
        'the free pack disappeared after the gesture');

  // The POS commits the basket: its receipt carries the gesture but no name (receipts are
  // kept), and the panel still greets Amélie.
  const paid = await ok('/v1/commit', fifthBasket);
  check(paid.status === 'committed' && !paid.customer.first_name,
        `the committed receipt: ${JSON.stringify(paid.customer)}`);
  check(paid.lines.some((l) => (l.discounts || []).some((d) => d.rule === 'goodwill')),
        'the gesture made on the panel is not on the committed receipt');
  await waitForAttr(page, '#event', 'data-event', 'commit', 'the commit of the fifth basket');
  check((await shown(page)).name === 'Amélie', 'the name went away at the commit');

  // A wrong token: the page says plainly it is not authorized, never "waiting for a
  // customer", in either language.
  for (const [lang, title, waiting] of [['en', 'This panel is not authorized', 'Waiting'],
                                        ['fr', 'Panneau non autorisé', 'En attente']]) {
    const intruder = await browser.newPage();
    await intruder.setViewportSize(SCREENS[1]);
    await intruder.goto(`${base}/panel/#token=${'0'.repeat(64)}&lang=${lang}`);
    await waitForText(intruder, '#refused', title, `a wrong token refused (${lang})`);
    const seen = await intruder.evaluate(() => document.body.innerText);
    check(!seen.includes(waiting), `the refused panel (${lang}) also says "${waiting}": ${seen}`);
    check(await intruder.locator('#idle').isHidden() && await intruder.locator('#customer').isHidden(),
          `the refused panel (${lang}) shows the idle or customer screen`);
    if (lang === 'en') {
      await takeScreenshot(intruder, path.join(shots, 'panel-refused-1024x768.png'), false);
    }
    await intruder.close();
  }

  await takeScreenshot(page, screenshot, true);

  // Then a basket with a card nobody enrolled: the page says so, in the cashier's language.
  const stranger = basket(6);
  stranger.identifiers = [{ kind: 'card', value: '2900000000025' }];
  const unknown = await ok('/v1/evaluate', stranger);
  check(unknown.customer === null && unknown.notices.some((n) => n.code === 'unknown_card'),
        `an unenrolled card should leave the basket unrecognized: ${JSON.stringify(unknown)}`);
  await waitForText(page, '#idle-greeting', 'Client non reconnu', 'an unrecognized basket');
  await waitForText(page, '#notices', 'Carte inconnue', 'the unknown card notice');
  check(await page.locator('#customer').isHidden(), 'the last customer is still shown');
  check(pageErrors.length === 0, `the page threw: ${pageErrors.join('; ')}`);
  check(outside.length === 0, `the page reached outside the server: ${outside.join(', ')}`);
  console.log(`panel_test: all checks passed; screenshot ${screenshot}`);
}

async function startServer(configPath, ledger, portFile) {
  // serve opens an existing ledger only: `db init` makes it.
  execFileSync(cli, ['db', 'init', '--config', configPath, '--db', ledger], { stdio: 'ignore' });
  server = spawn(cli, ['serve', '--config', configPath, '--db', ledger, '--port', '0',
                       '--port-file', portFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk) => { serverLog = (serverLog + chunk).slice(-8000); };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  let exited = null;
  server.on('exit', (code, signal) => { exited = signal || code; });
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    check(exited === null, `regulars serve exited (${exited}) before listening`);
    const text = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8').trim() : '';
    if (/^\d+$/.test(text)) {
      const base = `http://127.0.0.1:${text}`;
      try {
        if ((await fetch(base + '/healthz')).ok) return base;
      } catch (e) { /* not accepting yet */ }
    }
    await sleep(100);
  }
  fail('regulars serve did not answer /healthz within 30 s');
}

// The goodwill button and every suggestion inside the viewport, the page not scrollable.
async function checkFitsTheScreen(page, size, suggestions) {
  const seen = await page.evaluate(() => {
    const box = (node) => {
      const r = node.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height };
    };
    return {
      button: box(document.querySelector('#goodwill-button')),
      suggestions: [...document.querySelectorAll('#suggestions li')].map(box),
      rewards: document.querySelectorAll('#rewards li').length,
      bars: document.querySelectorAll('#progress [role=progressbar]').length,
      scroll: document.documentElement.scrollHeight,
      innerHeight,
      innerWidth,
    };
  });
  const where = `at ${size.width}×${size.height}`;
  check(seen.innerWidth === size.width && seen.innerHeight === size.height,
        `${where} the viewport is ${seen.innerWidth}×${seen.innerHeight}`);
  check(seen.rewards >= 2 && seen.bars >= 3,
        `${where} the screen is not busy: ${seen.rewards} rewards, ${seen.bars} progress bars`);
  check(seen.suggestions.length === Math.min(3, suggestions),
        `${where} ${seen.suggestions.length} suggestions shown of ${suggestions}`);
  const inView = (b) => b.height > 0 && b.top >= 0 && b.left >= 0 &&
                        b.bottom <= size.height && b.right <= size.width;
  check(inView(seen.button), `${where} the goodwill button is out of view: ${JSON.stringify(seen.button)}`);
  seen.suggestions.forEach((b, i) =>
    check(inView(b), `${where} suggestion ${i} is out of view: ${JSON.stringify(b)}`));
  check(seen.scroll <= size.height, `${where} the page scrolls: ${seen.scroll} px tall`);
}

async function takeScreenshot(page, file, fullPage) {
  fs.rmSync(file, { force: true });
  await page.screenshot({ path: file, fullPage });
  const png = fs.readFileSync(file);
  check(png.length > 1000 && png.subarray(0, 8).equals(
            Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
        `${file} is not a PNG`);
}

// Integer formatting of minor units, written apart from the panel's own code.
function euros(minor, lang) {
  const units = Math.trunc(minor / 100);
  const cents = String(minor % 100).padStart(2, '0');
  return lang === 'fr' ? `${units},${cents}\u00a0€` : `€${units}.${cents}`;
}

function checkProgress(shownSteps, progress, lang) {
  check(progress && progress.length > 0, 'the receipt has no progress');
  check(shownSteps.length === progress.length,
        `${shownSteps.length} progress bars shown for ${progress.length} in the receipt`);
  progress.forEach((step, i) => {
    const bar = shownSteps[i];
    check(bar.text === step.text[lang], `progress ${i} shows "${bar.text}", expected "${step.text[lang]}"`);
    check(bar.now === Math.min(step.have, step.need) && bar.max === step.need,
          `progress bar ${i} is ${bar.now}/${bar.max}, expected ${step.have}/${step.need}`);
  });
}

// What the page shows, as text (what the cashier reads).
async function shown(page) {
  return page.evaluate(() => {
    const text = (selector) => (document.querySelector(selector)?.textContent || '').trim();
    return {
      lang: document.documentElement.lang,
      name: text('#customer-name'),
      tier: text('#tier-name'),
      headings: [...document.querySelectorAll('#customer h2')].map((h) => h.textContent.trim()),
      rewards: [...document.querySelectorAll('#rewards li')].map((li) => ({
        text: li.querySelector('.reward-text').textContent,
        amount: li.querySelector('.reward-amount').textContent,
      })),
      progress: [...document.querySelectorAll('#progress li')].map((li) => {
        const bar = li.querySelector('[role=progressbar]');
        return { text: li.querySelector('.step-text').textContent,
                 now: Number(bar.getAttribute('aria-valuenow')),
                 max: Number(bar.getAttribute('aria-valuemax')) };
      }),
      budget: text('#goodwill-budget'),
      suggestions: [...document.querySelectorAll('#suggestions li')].map((li) => li.textContent),
      text: document.body.innerText,
      goodwillDisabled: document.querySelector('#goodwill-button').disabled,
    };
  });
}

async function waitForText(page, selector, expected, what) {
  const deadline = Date.now() + 10000;
  let actual = '';
  while (Date.now() < deadline) {
    actual = (await page.locator(selector).textContent({ timeout: 1000 }).catch(() => '')) || '';
    if (actual.includes(expected)) return;
    await sleep(100);
  }
  fail(`${what}: ${selector} shows "${actual.trim()}", expected it to contain "${expected}"`);
}

async function waitForAttr(page, selector, name, expected, what) {
  const deadline = Date.now() + 10000;
  let actual = null;
  while (Date.now() < deadline) {
    actual = await page.locator(selector).getAttribute(name, { timeout: 1000 }).catch(() => null);
    if (actual === expected) return;
    await sleep(100);
  }
  fail(`${what}: ${selector} has ${name}="${actual}", expected "${expected}"`);
}

let status = 0;
try {
  await main();
} catch (e) {
  status = 1;
  console.error(`panel_test: FAILED: ${e instanceof Failure ? e.message : e.stack}`);
  if (serverLog) console.error(`--- regulars serve's output (last lines) ---\n${serverLog}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  fs.rmSync(work, { recursive: true, force: true });
}
process.exit(status);
