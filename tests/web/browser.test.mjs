// End-to-end tests of lossd's pages in a real browser: Debian's chromium, headless, driven by
// playwright-core (no browser download). Every number the page shows is compared with what
// the API itself answers for the same request.
//
//   LOSSD=build/lossd SCREENSHOT=docs/playground.png node --test tests/web/browser.test.mjs
//
// LOSSD: the binary (default build/lossd). SCREENSHOT: where to save the playground's picture
// (default build/playground.png). CHROMIUM: the browser (default /usr/bin/chromium).
import assert from "node:assert/strict";
import {execFileSync, spawn} from "node:child_process";
import {mkdtempSync, rmSync} from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {after, before, describe, test} from "node:test";
import {chromium} from "playwright-core";

const LOSSD = process.env.LOSSD || "build/lossd";
const SCREENSHOT = process.env.SCREENSHOT || "build/playground.png";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 90000; // generous: the machine may be shared and loaded

async function freePort() {
  const srv = net.createServer();
  await new Promise((ok) => srv.listen(0, "127.0.0.1", ok));
  const {port} = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

// Starts lossd with extra flags; resolves once /healthz answers.
async function startLossd(flags) {
  const port = await freePort();
  const proc = spawn(LOSSD, ["--port", String(port), "--bind", "127.0.0.1", ...flags],
                     {stdio: ["ignore", "ignore", "pipe"]});
  let log = "";
  proc.stderr.on("data", (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return {proc, base};
    } catch (e) { /* not up yet */ }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  proc.kill();
  throw new Error(`lossd did not start:\n${log}`);
}

// A fresh profile per run and the flags a closed-network machine needs.
async function launch() {
  const profile = mkdtempSync(path.join(os.tmpdir(), "lossd-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: {width: 1280, height: 900},
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-quic"],
  });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT);
  return {context, profile};
}

// Watches a page: any request to another origin or any script error fails the test.
function watch(page, base) {
  const problems = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith("data:")) problems.push(`request to ${r.url()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

async function api(base, method, urlPath, body, key) {
  const headers = {"Content-Type": "application/json"};
  if (key) headers.Authorization = `Bearer ${key}`;
  const res = await fetch(`${base}${urlPath}`, {method, headers,
    body: body === undefined ? undefined : JSON.stringify(body)});
  return {status: res.status, json: await res.json()};
}

describe("the page at / (no API key)", () => {
  let lossd, browser, page, problems;

  before(async () => {
    lossd = await startLossd([]);
    browser = await launch();
    page = await browser.context.newPage();
    problems = watch(page, lossd.base);
    await page.goto(`${lossd.base}/`);
    await page.waitForSelector("#families[data-state=done]", {timeout: TIMEOUT});
  });

  after(async () => {
    await browser?.context.close();
    if (browser) rmSync(browser.profile, {recursive: true, force: true});
    lossd?.proc.kill();
  });

  test("shows every loss of the catalogue by family, each with a formula", async () => {
    const cat = (await api(lossd.base, "GET", "/v1/losses")).json.losses;
    const shown = await page.$$eval("article.loss", (els) => els.map((e) => ({
      name: e.dataset.loss,
      family: e.closest("section.family").dataset.family,
      formula: e.querySelector(".formula:not(.missing)") !== null,
      aliases: e.querySelector(".aliases")?.textContent || "",
    })));
    assert.equal(shown.length, cat.length);
    for (const e of cat) {
      const s = shown.find((x) => x.name === e.name);
      assert.ok(s, `${e.name} is shown`);
      assert.equal(s.family, e.family, `${e.name} is under its family`);
      assert.ok(s.formula, `${e.name} has a formula`);
      for (const a of e.aliases) assert.match(s.aliases, new RegExp(`\\b${a}\\b`), `${e.name} alias ${a}`);
    }
  });

  test("try it: the value shown is the API's, and the curl shown gives it too", async () => {
    await page.selectOption("#try-loss", "huber");
    const body = await page.inputValue("#try-body");
    await page.click("#try-form button[type=submit]");
    await page.waitForSelector("#try-out[data-state=done]", {timeout: TIMEOUT});
    const shown = JSON.parse(await page.getAttribute("#try-value", "data-value"));
    const direct = await api(lossd.base, "POST", "/v1/loss/huber", JSON.parse(body));
    assert.equal(direct.status, 200);
    assert.deepEqual(shown, direct.json.value);
    assert.equal(await page.textContent("#try-status"), "HTTP 200");
    const curl = await page.textContent("#try-curl");
    assert.ok(curl.startsWith(`curl -s ${lossd.base}/v1/loss/huber `), curl);
    const out = JSON.parse(execFileSync("sh", ["-c", curl], {encoding: "utf8"}));
    assert.deepEqual(out, direct.json);
  });

  test("try it: an error is shown with its code", async () => {
    await page.selectOption("#try-loss", "mse");
    await page.fill("#try-body", '{"predictions": [1, 2], "targets": [1, 2, 3]}');
    await page.click("#try-form button[type=submit]");
    await page.waitForSelector("#try-out[data-state=error]", {timeout: TIMEOUT});
    assert.equal(await page.textContent("#try-status"), "HTTP 400");
    assert.match(await page.textContent("#try-value"), /^shape_mismatch: /);
  });

  test("playground: the focal curves for 5 gammas are the API's numbers", async () => {
    await page.click("#preset-focal-gamma");
    await page.waitForSelector("#plot[data-state=done]", {timeout: TIMEOUT});
    const read = (chart) => page.$$eval(`${chart} path.series`, (ps) => ps.map((p) => ({
      loss: p.dataset.loss, params: JSON.parse(p.dataset.params),
      x: JSON.parse(p.dataset.x), y: JSON.parse(p.dataset.y), d: p.getAttribute("d"),
    })));
    const losses = await read("#chart-loss"), grads = await read("#chart-grad");
    assert.deepEqual(losses.map((s) => s.params.gamma), [0, 0.5, 1, 2, 5]);
    assert.equal(grads.length, 5);
    for (const [i, s] of losses.entries()) {
      assert.equal(s.loss, "focal");
      assert.ok(s.x.length >= 100, "a real sweep");
      assert.ok(s.d.length > 100, "a drawn path");
      const direct = await api(lossd.base, "POST", "/v1/loss/focal", {
        predictions: s.x, targets: s.x.map(() => 1), reduction: "none", gradient: true, ...s.params});
      assert.equal(direct.status, 200);
      assert.deepEqual(s.y, direct.json.value, `loss curve gamma=${s.params.gamma}`);
      assert.deepEqual(grads[i].x, s.x);
      assert.deepEqual(grads[i].y, direct.json.gradient.predictions, `gradient curve gamma=${s.params.gamma}`);
    }
    // The seed's picture: gamma = 0 is plain cross-entropy, and a larger gamma lowers the loss
    // of well-classified examples.
    const mid = losses[0].x.findIndex((x) => x >= 0.6);
    for (let i = 1; i < 5; i++) assert.ok(losses[i].y[mid] < losses[i - 1].y[mid]);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.mouse.move(330, 690); // a crosshair on the loss chart, as a visitor sees it
    await page.screenshot({path: SCREENSHOT});
  });

  test("playground: bce vs focal puts two losses on one chart", async () => {
    await page.click("#preset-bce-vs-focal");
    await page.waitForSelector("#plot[data-state=done]", {timeout: TIMEOUT});
    const names = await page.$$eval("#chart-loss path.series", (ps) => ps.map((p) => p.dataset.loss));
    assert.deepEqual(names, ["bce", "focal"]);
  });

  test("nothing was fetched from outside lossd and no script failed", () => {
    assert.deepEqual(problems, []);
  });
});

describe("the page and /docs with --api-key", () => {
  const KEY = "browser-test-key";
  let lossd, browser, page, problems;

  before(async () => {
    lossd = await startLossd(["--api-key", KEY]);
    browser = await launch();
    page = await browser.context.newPage();
    problems = watch(page, lossd.base);
  });

  after(async () => {
    await browser?.context.close();
    if (browser) rmSync(browser.profile, {recursive: true, force: true});
    lossd?.proc.kill();
  });

  test("the page loads without the key and asks for it", async () => {
    await page.goto(`${lossd.base}/`);
    await page.waitForSelector("#families[data-state=unauthorized]", {state: "attached", timeout: TIMEOUT});
    assert.match(await page.textContent("#status"), /API key/);
  });

  test("with the key entered, the catalogue loads and requests succeed", async () => {
    await page.fill("#api-key", KEY);
    await page.dispatchEvent("#api-key", "change");
    await page.waitForSelector("#families[data-state=done]", {timeout: TIMEOUT});
    await page.waitForSelector("#plot[data-state=done]", {timeout: TIMEOUT});
    await page.selectOption("#try-loss", "cross_entropy");
    await page.click("#try-form button[type=submit]");
    await page.waitForSelector("#try-out[data-state=done]", {timeout: TIMEOUT});
    const direct = await api(lossd.base, "POST", "/v1/loss/cross_entropy",
                             JSON.parse(await page.inputValue("#try-body")), KEY);
    assert.deepEqual(JSON.parse(await page.getAttribute("#try-value", "data-value")), direct.json.value);
    assert.match(await page.textContent("#try-curl"), /Authorization: Bearer \$LOSSD_API_KEY/);
  });

  test("/docs executes a request against this lossd with the key", async () => {
    await page.goto(`${lossd.base}/docs`);
    const op = page.locator("#operations-catalogue-getLoss");
    await op.waitFor({timeout: TIMEOUT});
    await op.locator(".opblock-summary").click();
    await op.locator("button.try-out__btn").click();
    await op.locator("tr[data-param-name=name] select").selectOption("huber");
    await op.locator("button.execute").click();
    const status = op.locator(".live-responses-table .response .response-col_status");
    await status.waitFor({timeout: TIMEOUT});
    assert.equal((await status.textContent()).trim(), "200");
    const body = await op.locator(".live-responses-table .response-col_description pre").first().textContent();
    const direct = await api(lossd.base, "GET", "/v1/losses/huber", undefined, KEY);
    assert.deepEqual(JSON.parse(body), direct.json);
    const url = await op.locator(".request-url pre").textContent();
    assert.equal(url.trim(), `${lossd.base}/v1/losses/huber`);
  });

  test("nothing was fetched from outside lossd and no script failed", () => {
    assert.deepEqual(problems, []);
  });
});
