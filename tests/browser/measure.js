// Time search queries on a built site in headless Chromium.
//
//   node tests/browser/measure.js SITE [TARGET_MS]
//
// Prints, per query, the time from typing to results on screen the first
// time (parts of the index loaded on demand) and the best of the next runs,
// and the long tasks (> 50 ms) seen meanwhile. With TARGET_MS, exits 1 when
// a first or later query takes longer. Used by bench/b_offline.sh.
'use strict';

const lib = require('./lib');

const QUERIES = ['citizens', 'school meals', 'co', 'volunteers police', 'neighbourhood watch', 'loka'];

(async () => {
	const [site, target] = process.argv.slice(2);
	if (!site) {
		console.error('usage: node tests/browser/measure.js SITE [TARGET_MS]');
		process.exit(2);
	}
	const browser = await lib.launch();
	let over = 0;
	try {
		const page = await lib.openPage(browser, lib.siteURL(site, 'search.html'));
		await page.evaluate(() => {
			window.__long = [];
			new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__long.push(e.duration)))
				.observe({ entryTypes: ['longtask'] });
		});
		const t0 = Date.now();
		const times = await lib.timeQueries(page, QUERIES, 6);
		const long = await page.evaluate(() => window.__long);
		for (const r of times) {
			const bad = target && (r.cold > Number(target) || r.warm > Number(target));
			if (bad) over++;
			console.log(`query "${r.query}": ${r.total} results; first ${r.cold.toFixed(1)} ms, then ${r.warm.toFixed(1)} ms${bad ? '  OVER TARGET' : ''}`);
		}
		console.log(`long tasks (> 50 ms): ${long.length ? long.map((d) => `${d.toFixed(0)} ms`).join(', ') : 'none'}`);
		console.log(`measured in ${((Date.now() - t0) / 1000).toFixed(1)} s; problems reported by the page: ${page.problems.length ? page.problems.join('; ') : 'none'}`);
		if (page.problems.length) over++;
	} finally {
		await browser.close();
	}
	if (target) console.log(over ? `search: over the ${target} ms target` : `search: every query under ${target} ms`);
	process.exit(over ? 1 : 0);
})();
