// Helpers for the browser tests: Chromium with the flags this environment
// needs, pages that record every problem, axe-core, and the search box.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { chromium } = require('playwright-core');

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
	'--disable-component-update', '--no-first-run'];

function launch() {
	return chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: FLAGS,
	});
}

// file:// URL of a page of a built site.
function siteURL(site, page) {
	const [file, query] = page.split('?');
	return pathToFileURL(path.join(site, file)).href + (query ? `?${query}` : '');
}

// A new page that records console errors, page errors, failed requests and
// any request that leaves the machine (anything but file: and data:).
async function openPage(browser, url) {
	const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
	const problems = [];
	page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()} (${r.failure() && r.failure().errorText})`));
	page.on('request', (r) => {
		if (!/^(file|data|about):/.test(r.url())) problems.push(`network request: ${r.url()}`);
	});
	page.problems = problems;
	await page.goto(url);
	return page;
}

// Serious and critical axe-core violations of the page as it is now. (No
// preload: axe would fetch the stylesheets itself, which file:// refuses.)
async function axeViolations(page) {
	await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
	const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'], preload: false }));
	return res.violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

// Type q into the header's search box and wait until its results are shown.
// Returns the casebook:results event's detail {query, total, ms}.
async function searchBox(page, q) {
	const done = page.evaluate((query) => new Promise((resolve) => {
		const form = document.querySelector('form[data-search="box"]');
		form.addEventListener('casebook:results', function on(e) {
			if (e.detail.query === query) {
				form.removeEventListener('casebook:results', on);
				resolve(e.detail);
			}
		});
	}), q);
	await page.fill('#search-input', '');
	await page.focus('#search-input');
	await page.keyboard.type(q);
	return done;
}

// Time queries through the search box: per query, from the input event to
// the results on screen. Each query runs `rounds` times; the first round of
// a query may load parts of the index (cold), the others find them loaded.
async function timeQueries(page, queries, rounds) {
	await page.focus('#search-input');
	await page.evaluate(() => new Promise((resolve) => {
		const t = setInterval(() => { if (window.casebookSearch && window.casebookSearch.index) { clearInterval(t); resolve(); } }, 10);
	}));
	return page.evaluate(async ({ queries, rounds }) => {
		const form = document.querySelector('form[data-search="box"]');
		const input = document.getElementById('search-input');
		const out = [];
		for (const q of queries) {
			const times = [];
			let total = 0;
			for (let i = 0; i < rounds; i++) {
				input.value = '';
				input.dispatchEvent(new Event('input'));
				const t0 = performance.now();
				const shown = new Promise((resolve) => {
					form.addEventListener('casebook:results', function on(e) {
						if (e.detail.query === q) {
							form.removeEventListener('casebook:results', on);
							total = e.detail.total;
							resolve();
						}
					});
				});
				input.value = q;
				input.dispatchEvent(new Event('input'));
				await shown;
				times.push(performance.now() - t0);
			}
			out.push({ query: q, total, cold: times[0], warm: Math.min(...times.slice(1)) });
		}
		return out;
	}, { queries, rounds });
}

function readJSON(site, rel) {
	return JSON.parse(fs.readFileSync(path.join(site, rel), 'utf8'));
}

module.exports = { launch, siteURL, openPage, axeViolations, searchBox, timeQueries, readJSON, FLAGS };
