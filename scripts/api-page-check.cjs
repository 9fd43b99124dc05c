// The API page (GET /docs) in headless Chromium, as a person would use it: every operation of
// the served document is listed, and "Try it out" on GET /profile with a token answers 200.
// Nothing but the local server is reachable: any other request fails the check.
//
// usage: node scripts/api-page-check.cjs BASE_URL TOKEN SCREENSHOT.png
//   (NODE_PATH holds playwright-core; CHROMIUM is the browser, default Debian's)
"use strict";
const { chromium } = require("playwright-core");

const [base, token, screenshot] = process.argv.slice(2);
if (!base || !token || !screenshot) {
  console.error("usage: api-page-check.cjs BASE_URL TOKEN SCREENSHOT.png");
  process.exit(2);
}
const origin = new URL(base).origin;

async function main() {
  const document = await (await fetch(`${base}/openapi.json`)).json();
  const expected = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of Object.keys(item)) expected.push(`${method.toUpperCase()} ${path}`);
  }

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/lib/chromium/chromium",
    // As root there is no sandbox; and no name resolves, so nothing outside could load.
    args: ["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const elsewhere = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin || url.startsWith("data:")) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));

    await page.goto(`${base}/docs`);
    await page.locator(".opblock").first().waitFor();
    await page.waitForFunction(
      (count) => document.querySelectorAll(".opblock").length >= count,
      expected.length,
    );
    const listed = await page.$$eval(".opblock", (blocks) =>
      blocks.map((block) => {
        const method = block.querySelector(".opblock-summary-method").textContent.trim();
        const path = block.querySelector(".opblock-summary-path").getAttribute("data-path");
        return `${method} ${path}`;
      }),
    );
    const missing = expected.filter((operation) => !listed.includes(operation));
    if (missing.length || listed.length !== expected.length) {
      throw new Error(`listed ${listed.length} of ${expected.length}; missing: ${missing}`);
    }
    await page.screenshot({ path: screenshot });

    // Authorize with the token, as the page's padlock asks.
    await page.locator("button.authorize").first().click();
    await page.locator(".auth-container input").first().fill(token);
    await page.locator(".auth-btn-wrapper button.authorize").first().click();
    await page.locator(".auth-btn-wrapper button.btn-done").first().click();

    // Try it out: GET /profile.
    const operation = page
      .locator(".opblock-get")
      .filter({ has: page.locator('.opblock-summary-path[data-path="/profile"]') });
    await operation.locator(".opblock-summary-control").click();
    await operation.locator("button.try-out__btn").click();
    await operation.locator("button.execute").click();
    const status = operation.locator(".live-responses-table .response .response-col_status");
    await status.first().waitFor();
    const code = (await status.first().textContent()).trim();
    const body = await operation.locator(".live-responses-table .microlight").first().textContent();
    if (code !== "200" || !body.includes('"userId"')) {
      throw new Error(`Try it out on GET /profile answered ${code}: ${body.slice(0, 300)}`);
    }
    if (elsewhere.length) throw new Error(`the page asked for other hosts: ${elsewhere}`);
    if (errors.length) throw new Error(`the page's scripts failed: ${errors}`);
    console.log(
      `api page: ${listed.length} operations listed, Try it out on GET /profile answered 200, ` +
        `nothing loaded from elsewhere; screenshot ${screenshot}`,
    );
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(`api page check failed: ${error.message}`);
  process.exit(1);
});
