// The console in a real browser: Debian's Chromium, headless, driven by
// playwright-core (never a downloaded browser).
//
//   FERRY_CONSOLE_URL=http://127.0.0.1:PORT/?key=… node tests/console.mjs
//
// Environment:
//   FERRY_CONSOLE_URL             the console's URL (required); a local console's holds ?key=
//   FERRY_CONSOLE_TOKEN           a bearer token, for a console in the controller (token mode)
//   FERRY_CONSOLE_SCREENSHOTS     a folder for a PNG of each screen (docs/console for the README)
//   FERRY_CONSOLE_LOAD_BUDGET_MS  a budget the first load and the namespace step's first page are
//                                 checked against (only when set: they are measurements, printed)
//   FERRY_CONSOLE_FLOW=1          also run the whole flow on the local clusters: add both clusters,
//                                 create a plan in the wizard with a rename and a volume override,
//                                 Stage, Cutover, timeline and volume progress to the end, debug
//                                 view, report, Rollback. It adds the clusters by their kubeconfig
//                                 files (local mode) or their URL, CA and token (token mode), from
//                                 FERRY_CONSOLE_SRC_KUBECONFIG and FERRY_CONSOLE_DST_KUBECONFIG
//                                 (../.localclusters/{src,dst}/kubeconfig) and migrates the
//                                 namespace FERRY_CONSOLE_NAMESPACE (demo) of src. The clusters are
//                                 registered as FERRY_CONSOLE_SRC_NAME and FERRY_CONSOLE_DST_NAME
//                                 (src, dst).
//
// Every screen is checked with axe-core: a critical violation fails. The
// first load (cold cache, to the Overview's heading) is timed and printed.
// The last line is "N passed, M failed".

import { chromium } from "playwright-core";
import axe from "axe-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const base = process.env.FERRY_CONSOLE_URL;
if (!base) {
  console.error("tests/console.mjs: set FERRY_CONSOLE_URL to the console's URL (the one ferry console prints, with ?key=)");
  process.exit(2);
}
const origin = new URL(base).origin;
const shots = process.env.FERRY_CONSOLE_SCREENSHOTS;
const budget = Number(process.env.FERRY_CONSOLE_LOAD_BUDGET_MS ?? 1000);
const flow = process.env.FERRY_CONSOLE_FLOW === "1";
if (shots) mkdirSync(shots, { recursive: true });

let passed = 0;
let failed = 0;
/** check records one result and prints it. */
function check(ok, what, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? `: ${detail}` : ""}`);
  return ok;
}

/** step runs one named part; an exception fails it and the run goes on. */
async function step(what, f) {
  try {
    await f();
  } catch (e) {
    const lines = String(e?.message ?? e).split("\n");
    check(false, what, [lines[0], lines.find((l) => l.includes("waiting for"))?.trim()].filter(Boolean).join(" "));
    // What the page showed, for the log.
    const text = await page.locator("main").innerText({ timeout: 2000 }).catch(() => "");
    console.log(`     the page at ${page.url()} showed: ${text.replace(/\s+/g, " ").slice(0, 600)}`);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
const page = await context.newPage();
page.setDefaultTimeout(15000);

const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(`uncaught: ${e.message}`));
page.on("console", (m) => {
  // CSP violations and failed loads show as console errors; 401 before login and 4xx answers the test provokes do not count.
  if (m.type() === "error" && !/status of 40[13]/.test(m.text())) pageErrors.push(m.text());
});
let jsBytes = 0;
page.on("requestfinished", async (r) => {
  // The bytes as they travelled (gzip or brotli), headers left out.
  if (r.url().startsWith(origin) && r.url().endsWith(".js")) jsBytes += (await r.sizes()).responseBodySize;
});

const h1 = (name) => page.getByRole("heading", { level: 1, name });
/** row is the table row with a cell holding exactly text (PatternFly's tables are grids). */
const row = (text) => page.locator("tr").filter({ has: page.locator("td", { hasText: new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`) }) });

/** a11y runs axe-core on the page as it is; a critical violation fails. */
async function a11y(screen) {
  await page.evaluate(axe.source);
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const critical = r.violations.filter((v) => v.impact === "critical");
  const serious = r.violations.filter((v) => v.impact === "serious");
  for (const v of serious) console.log(`     serious (not failing): ${v.id}: ${v.help} (${v.nodes.length} elements)`);
  check(critical.length === 0, `axe: no critical violation on ${screen}`, critical.map((v) => `${v.id}: ${v.help} at ${v.nodes[0]?.target}`).join("; "));
}

async function shot(name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** go opens a top-level screen from the navigation, with the keyboard. */
async function go(link, heading) {
  const l = page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: link, exact: true });
  await l.focus();
  await page.keyboard.press("Enter");
  await h1(heading).waitFor();
}

// First load, cold cache: the key exchange (or the token login) and the
// Overview; then twice more, each in a fresh browser context (an empty
// cache) holding the session's cookie. The median of the three counts.
await step("first load", async () => {
  const t0 = Date.now();
  await page.goto(base);
  if (process.env.FERRY_CONSOLE_TOKEN) {
    await page.getByLabel("Bearer token").fill(process.env.FERRY_CONSOLE_TOKEN);
    await page.getByRole("button", { name: "Log in" }).click();
  }
  await h1("Overview").waitFor();
  const times = [Date.now() - t0];
  const firstJs = jsBytes;
  check(!page.url().includes("key="), "the key is gone from the address bar", page.url());
  const cookies = await context.cookies();
  for (let i = 0; i < 2; i++) {
    const c = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await c.addCookies(cookies);
    const p = await c.newPage();
    const t = Date.now();
    await p.goto(`${origin}/`);
    await p.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    times.push(Date.now() - t);
    await c.close();
  }
  const median = [...times].sort((a, b) => a - b)[1];
  console.log(`     first load (cold cache, to the Overview's heading): ${times.join(", ")} ms, median ${median} ms; JavaScript transferred: ${(firstJs / 1024).toFixed(0)} kB`);
  // A measurement, not an assertion: the figure goes to the closing
  // notes; a budget given explicitly is checked.
  if (process.env.FERRY_CONSOLE_LOAD_BUDGET_MS) check(median < budget, `first load under ${budget} ms`, `median ${median} ms`);
});

await step("Overview", async () => {
  await page.getByRole("heading", { name: "Clusters", level: 2, exact: true }).waitFor();
  await a11y("Overview");
  await shot("overview");
  // Keyboard: the first Tab reaches the skip link.
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.textContent ?? "");
  check(/Skip to content/.test(focused), "the first Tab focuses the skip link", focused);
});

for (const [link, heading, file] of [
  ["Clusters", "Clusters", "clusters"],
  ["Repositories", "Replication repositories", "repositories"],
  ["Plans", "Plans", "plans"],
]) {
  await step(heading, async () => {
    await go(link, heading);
    await page.waitForFunction(() => !document.body.innerText.includes("Loading"), null, { timeout: 10000 });
    await a11y(heading);
    await shot(file);
  });
}

await step("Add cluster form", async () => {
  await go("Clusters", "Clusters");
  await page.getByRole("button", { name: "Add cluster" }).first().click();
  await page.getByRole("dialog").waitFor();
  await page.getByRole("dialog").getByRole("button", { name: "Add", exact: true }).click();
  check(await page.getByText("Lower-case letters, digits and '-', e.g. prod-east.").isVisible(), "the add form says what is wrong with an empty name");
  await a11y("the Add cluster form");
  await shot("cluster-add");
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "detached" });
});

await step("Plan wizard", async () => {
  await go("Plans", "Plans");
  await page.goto(`${origin}/plans/new`);
  await page.getByRole("heading", { name: "Create a plan" }).waitFor();
  await a11y("the plan wizard");
  await shot("plan-wizard");
});

if (flow) await runFlow();

// Whatever migration exists: its page, the debug view and the report.
await step("Migration, debug view and report", async () => {
  const list = await page.evaluate(async () => (await (await fetch("/api/migrations")).json()).items ?? []);
  if (list.length === 0) {
    console.log("     no migration exists: the migration, debug and report screens are not checked");
    return;
  }
  list.sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""));
  const name = list.find((m) => m.spec.type !== "Rollback")?.metadata.name ?? list[0].metadata.name;
  await page.goto(`${origin}/migrations/${encodeURIComponent(name)}`);
  await h1(`Migration ${name}`).waitFor();
  await a11y("the migration page");
  await shot("migration");
  await page.getByRole("link", { name: "Debug view" }).click();
  await h1(`Debug view of ${name}`).waitFor();
  await page.waitForFunction(() => !document.body.innerText.includes("Loading the migration's objects"), null, { timeout: 30000 });
  // Open the last node of the tree until it is an object (a leaf) and its YAML shows.
  for (let i = 0; i < 4 && (await page.getByRole("treeitem").count()) && !(await page.locator('pre[aria-label="YAML"]').count()); i++) {
    await page.getByRole("treeitem").last().getByRole("button").first().click();
  }
  if (await page.getByRole("treeitem").count()) {
    await page.locator('pre[aria-label="YAML"]').waitFor();
    check((await page.locator('pre[aria-label="YAML"]').innerText()).includes("kind:"), "the debug view shows an object's YAML");
  }
  await a11y("the debug view");
  await shot("debug");
  await page.goto(`${origin}/migrations/${encodeURIComponent(name)}/report`);
  await h1(`Report of ${name}`).waitFor();
  const dl = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download JSON" }).click();
  const file = await (await dl).path();
  const report = JSON.parse(readFileSync(file, "utf8"));
  check(report.migration === name, "the report downloads as JSON", `migration ${report.migration}`);
  if (flow) {
    check((report.volumes ?? []).some((v) => v.verified), "the cutover's report has its volume verified by checksums", JSON.stringify((report.volumes ?? []).map((v) => [v.claim, v.verified])));
    check(await page.getByText("verified: every file's BLAKE3 checksum matched").first().isVisible(), "the report page shows the verification");
  }
  await a11y("the report");
  await shot("report");
});

check(pageErrors.length === 0, "no page errors (uncaught exceptions, CSP violations, failed loads)", pageErrors.slice(0, 5).join(" | "));

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

/** kubeconfig reads server, CA and token of a local cluster's admin kubeconfig. */
function kubeconfig(path) {
  const text = readFileSync(path, "utf8");
  const field = (k) => text.match(new RegExp(`${k}:\\s*(\\S+)`))?.[1] ?? "";
  return { server: field("server"), ca: Buffer.from(field("certificate-authority-data"), "base64").toString(), token: field("token") };
}

/** waitPhase waits until a migration page shows the phase, failing early on Failed. */
async function waitPhase(name, phase, minutes) {
  const deadline = Date.now() + minutes * 60000;
  while (Date.now() < deadline) {
    const m = await page.evaluate(async (n) => (await fetch(`/api/migrations/${encodeURIComponent(n)}`)).json(), name);
    const p = m.status?.phase;
    if (p === phase) return m;
    if (p === "Failed" || p === "Canceled") throw new Error(`${name} ended ${p}: ${(m.status?.errors ?? []).join("; ")}`);
    await page.waitForTimeout(1000);
  }
  throw new Error(`${name} not ${phase} after ${minutes} minutes`);
}

async function runFlow() {
  const lc = join(import.meta.dirname, "../../.localclusters");
  const ns = process.env.FERRY_CONSOLE_NAMESPACE ?? "demo";
  const plan = "console-e2e";
  const srcName = process.env.FERRY_CONSOLE_SRC_NAME ?? "src";
  const dstName = process.env.FERRY_CONSOLE_DST_NAME ?? "dst";
  for (const [name, dir, env] of [
    [srcName, "src", "FERRY_CONSOLE_SRC_KUBECONFIG"],
    [dstName, "dst", "FERRY_CONSOLE_DST_KUBECONFIG"],
  ]) {
    await step(`add cluster ${name}`, async () => {
      const path = resolve(process.env[env] ?? join(lc, dir, "kubeconfig"));
      const kc = kubeconfig(path);
      const local = (await page.evaluate(async () => (await (await fetch("/api/session")).json()).mode)) === "local";
      await go("Clusters", "Clusters");
      const have = await page.evaluate(async () => (await (await fetch("/api/clusters")).json()).items.map((c) => c.metadata.name));
      if (have.includes(name)) {
        console.log(`     cluster ${name} is registered already`);
        return;
      }
      await page.getByRole("button", { name: "Add cluster" }).first().click();
      const d = page.getByRole("dialog");
      await d.locator("#c-name").fill(name);
      if (local) {
        // As `ferry cluster add --kubeconfig`: the file is recorded for the grants of later plans.
        await d.locator("#c-use-kubeconfig").check();
        await d.locator("#c-kubeconfig").fill(path);
      } else {
        await d.locator("#c-server").fill(kc.server);
        await d.locator("#c-token").fill(kc.token);
        await d.locator("#c-ca").fill(kc.ca);
      }
      await d.getByRole("button", { name: "Add", exact: true }).click();
      await d.getByText(/^Ready$|Not ready/).waitFor({ timeout: 180000 });
      check(await d.getByText("Ready", { exact: true }).isVisible(), `cluster ${name} is added and Ready, the check shown as it ran`);
      if (name === srcName) await shot("cluster-ready");
      await d.getByRole("button", { name: "Close" }).first().click();
    });
  }
  let claim = "";
  await step("create a plan in the wizard", async () => {
    await page.goto(`${origin}/plans/new`);
    await page.locator("#p-name").fill(plan);
    await page.locator("#p-src").selectOption(srcName);
    await page.locator("#p-dst").selectOption(dstName);
    const t0 = Date.now();
    await page.getByRole("button", { name: "Next", exact: true }).click();
    await page.getByRole("grid", { name: "Namespaces of the source" }).locator("tbody tr").first().waitFor({ timeout: 30000 });
    const total = await page.evaluate(async (c) => (await (await fetch(`/api/clusters/${c}/namespaces?limit=1`)).json()).total, srcName);
    const ms = Date.now() - t0;
    console.log(`     the namespace step's first page: ${ms} ms (${total} namespaces on ${srcName})`);
    if (process.env.FERRY_CONSOLE_LOAD_BUDGET_MS) check(ms < budget, `the namespace step renders its first page under ${budget} ms`, `${ms} ms`);
    await page.getByLabel("Search namespaces").fill(ns);
    await row(ns).getByRole("checkbox").check();
    await page.getByLabel(`Name of ${ns} on the destination`).fill(`${ns}-console`);
    await shot("plan-namespaces");
    await page.getByRole("button", { name: "Next", exact: true }).click();
    await page.locator('[aria-label="Claims"]').or(page.getByText("No persistent volume claims")).waitFor({ timeout: 120000 });
    const input = page.getByLabel(/^Target name of /).first();
    if (await input.count()) {
      claim = ((await input.getAttribute("aria-label")) ?? "").replace(/^Target name of [^/]+\//, "");
      await input.fill(`${claim}-console`);
      await page.getByLabel(/^Verify .* by checksums after the final copy$/).first().check();
    } else console.log(`     ${ns} has no claims: no volume override to make`);
    await shot("plan-volumes");
    await page.getByRole("button", { name: "Next", exact: true }).click(); // Hooks
    await page.getByRole("button", { name: "Next", exact: true }).click(); // Review
    await page.getByText("The plan can run").waitFor({ timeout: 120000 });
    await a11y("the wizard's review");
    await shot("plan-review");
    // Back to the Namespaces step and forth again: the rename is kept.
    await page.getByRole("button", { name: "Namespaces" }).click();
    check((await page.getByLabel(`Name of ${ns} on the destination`).inputValue()) === `${ns}-console`, "going back keeps the rename");
    await page.getByRole("button", { name: "Review" }).click();
    await page.getByText("The plan can run").waitFor({ timeout: 120000 });
    await page.getByRole("button", { name: "Save plan" }).click();
    await h1("Plans").waitFor();
    const p = await page.evaluate(async (n) => (await fetch(`/api/plans/${n}`)).json(), plan);
    check(p.spec.namespaces?.[0] === `${ns}:${ns}-console`, "the plan has the rename", JSON.stringify(p.spec.namespaces));
    if (claim) check(p.spec.persistentVolumeClaims?.[0]?.targetName === `${claim}-console` && p.spec.persistentVolumeClaims?.[0]?.verify === true, "the plan has the volume override (target name, verify)", JSON.stringify(p.spec.persistentVolumeClaims));
  });
  for (const type of ["Stage", "Cutover"]) {
    await step(`${type} from the Plans page`, async () => {
      await go("Plans", "Plans");
      const b = page.getByRole("button", { name: `${type} plan ${plan}` });
      await b.waitFor();
      await page.waitForFunction((n) => !document.querySelector(`[aria-label="${n}"]`)?.disabled, `${type} plan ${plan}`, { timeout: 120000 });
      await b.click();
      if (type === "Cutover") check(await page.getByLabel(/Stop the application on the source/).isChecked(), "cutover stops the source by default");
      await page.getByRole("dialog").getByRole("button", { name: `Start ${type.toLowerCase()}` }).click();
      await page.waitForURL(/\/migrations\//);
      const name = decodeURIComponent(page.url().split("/migrations/")[1]);
      await page.getByRole("table", { name: "Timeline of the steps" }).waitFor();
      if (type === "Stage") {
        await page.getByText(/Running|Succeeded/).first().waitFor({ timeout: 120000 });
        await shot("migration-running");
      }
      await waitPhase(name, "Succeeded", 15);
      await page.getByRole("heading", { level: 1 }).waitFor();
      const bars = await page.locator(".ferry-timeline__bar--Succeeded").count();
      check(bars > 0, `${type}: the timeline shows the steps' bars`, `${bars} bars`);
      const vol = page.getByRole("progressbar").first();
      if (await vol.count()) check((await vol.getAttribute("aria-valuenow")) === "100", `${type}: the volume progress reached the end`);
      if (type === "Cutover") await shot("migration");
    });
  }
  await step("roll back from the Plans page", async () => {
    await go("Plans", "Plans");
    await row(plan).getByRole("button", { name: "Kebab toggle" }).click();
    await page.getByRole("menuitem", { name: "Rollback" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Roll back" }).click();
    await page.waitForURL(/\/migrations\//);
    const name = decodeURIComponent(page.url().split("/migrations/")[1]);
    await waitPhase(name, "Succeeded", 10);
    check(true, "the rollback succeeded");
  });
}
