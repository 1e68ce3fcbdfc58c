// Opens a perfstress HTML report in headless Chromium (the distribution's
// /usr/bin/chromium, driven by the pinned playwright-core that
// scripts/install-chromium.sh puts in .ci/.playwright) and prints what the
// report tests check, as one JSON object: the page's script errors and
// console errors, every request it made, its charts (name, points per
// series, series labels and data), its figures (field, raw value, text), and how much of a
// full-page screenshot is not background.
//
// Usage: node scripts/check-report.js PAGE.html [SCREENSHOT.png]
// (with SCREENSHOT.png: the top of the page, 1200 x 1500, is also
// written there, e.g. the README's docs/report.png).
"use strict";

const path = require("path");
const { pathToFileURL } = require("url");
const { chromium } = require(path.join(__dirname, "..", ".ci", ".playwright", "node_modules", "playwright-core"));

async function main() {
  const [page_path, screenshot_path] = process.argv.slice(2);
  if (!page_path) throw new Error("usage: node scripts/check-report.js PAGE.html [SCREENSHOT.png]");
  const url = pathToFileURL(path.resolve(page_path)).href;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const result = { url, errors: [], requests: [] };
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    page.on("pageerror", (error) => result.errors.push("pageerror: " + error.message));
    page.on("console", (message) => {
      if (message.type() === "error") result.errors.push("console: " + message.text());
    });
    page.on("request", (request) => result.requests.push(request.url()));
    page.on("requestfailed", (request) => result.errors.push("request failed: " + request.url()));
    await page.goto(url, { waitUntil: "load", timeout: 20000 });
    await page.waitForSelector("body[data-rendered]", { timeout: 20000 });
    Object.assign(result, await page.evaluate(() => ({
      title: document.title,
      rendered: Number(document.body.getAttribute("data-rendered")),
      charts: Array.from(document.querySelectorAll("figure.chart")).map((figure) => ({
        name: figure.getAttribute("data-chart"),
        run: figure.closest("section.run") ? Number(figure.closest("section.run").getAttribute("data-run")) : null,
        points: figure.getAttribute("data-points").split(" ").filter((n) => n !== "").map(Number),
        x: Number(figure.getAttribute("data-x")),
        canvases: figure.querySelectorAll("canvas").length,
        title: (figure.querySelector(".u-title") || {}).textContent || "",
        operations: figure.hasAttribute("data-operations") ? Number(figure.getAttribute("data-operations")) : null,
        labels: figure.perfstressChart ? figure.perfstressChart.series.slice(1).map((series) => series.label) : [],
        data: figure.perfstressChart ? figure.perfstressChart.data : [],
      })),
      figures: Array.from(document.querySelectorAll("[data-figure]")).map((element) => ({
        field: element.getAttribute("data-figure"),
        run: element.closest("section.run") ? Number(element.closest("section.run").getAttribute("data-run")) : null,
        value: element.hasAttribute("data-value") ? Number(element.getAttribute("data-value")) : null,
        text: element.textContent,
      })),
      verdicts: Array.from(document.querySelectorAll("[class^=verdict-]")).map((element) => element.textContent),
      text: document.body.innerText,
    })));
    // The page's own requests (the decoding below loads a data: URL).
    const requests = result.requests.slice();
    if (screenshot_path) {
      await page.screenshot({ path: screenshot_path, fullPage: true, clip: { x: 0, y: 0, width: 1200, height: 1500 } });
    }
    const png = await page.screenshot({ fullPage: true });
    // The screenshot decoded by the browser itself: the share of pixels
    // that are not the white background, and how many colours there are.
    Object.assign(result, await page.evaluate(async (base64) => {
      const image = new Image();
      image.src = "data:image/png;base64," + base64;
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext("2d");
      context.drawImage(image, 0, 0);
      const pixels = context.getImageData(0, 0, image.width, image.height).data;
      let ink = 0;
      const colours = new Set();
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i] < 250 || pixels[i + 1] < 250 || pixels[i + 2] < 250) ink++;
        if (colours.size < 1000) colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
      }
      return { screenshot: { width: image.width, height: image.height, ink: ink / (pixels.length / 4), colours: colours.size } };
    }, png.toString("base64")));
    result.requests = requests;
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + "\n");
  process.exit(1);
});
