/*
 * casebook search: the search box on every page and the search page.
 *
 * The index is made by `casebook build` as classic scripts, never loaded
 * with the fetch API, which browsers refuse for local files: the site must
 * work opened from a folder. assets/search-index.js calls
 * casebookSearch.index(manifest);
 * the parts it names (assets/search/t<N>.js: words and where they occur;
 * assets/search/d<N>.js: what results show) call casebookSearch.part(name,
 * data) and are loaded through script tags when a query needs them. Small
 * handbooks have every part inside search-index.js. docs/offline.md
 * describes the format.
 *
 * Matching: the query is folded as the index was (lower case, marks
 * stripped, the letters of FOLD_EXTRA replaced: "lodz" finds "Łódź"), split
 * into words, and every word of two letters or more must start a word of the
 * item. Ranking: title > facets > lessons > body.
 */
(function () {
	'use strict';

	var api = window.casebookSearch = window.casebookSearch || {};
	var script = document.currentScript;
	var root = script ? script.src.replace(/assets\/search\.js(\?.*)?$/, '') : '';

	/* ---- folding: must match cb_utf8_fold in src/cb_utf8.c ---------------- */

	/* Letters that Unicode does not take apart (the table in cb_utf8.c), and
	 * final sigma, which utf8proc's case folding turns into sigma. */
	var FOLD_EXTRA = {
		'\u0141': 'l', '\u0142': 'l', '\u00d8': 'o', '\u00f8': 'o', '\u0110': 'd', '\u0111': 'd',
		'\u00d0': 'd', '\u00f0': 'd', '\u00df': 'ss', '\u1e9e': 'ss', '\u00c6': 'ae', '\u00e6': 'ae',
		'\u0152': 'oe', '\u0153': 'oe', '\u00de': 'th', '\u00fe': 'th', '\u0131': 'i',
		'\u0126': 'h', '\u0127': 'h', '\u0166': 't', '\u0167': 't', '\u03c2': '\u03c3'
	};
	var FOLD_RE = /[\u0141\u0142\u00d8\u00f8\u0110\u0111\u00d0\u00f0\u00df\u1e9e\u00c6\u00e6\u0152\u0153\u00de\u00fe\u0131\u0126\u0127\u0166\u0167\u03c2]/g;
	var MARKS = /\p{M}/gu;
	var WORD = /[\p{L}\p{N}]+/gu;

	function extra(c) { return FOLD_EXTRA[c]; }

	function fold(s) {
		return s.replace(FOLD_RE, extra).normalize('NFKD').toLowerCase().replace(MARKS, '')
			.replace(FOLD_RE, extra);
	}

	function words(s) {
		return fold(s).match(WORD) || [];
	}

	/* The query's distinct words of two letters or more. */
	function queryTerms(q) {
		var seen = {}, out = [];
		words(q).forEach(function (w) {
			if (Array.from(w).length >= 2 && !seen[w]) {
				seen[w] = true;
				out.push(w);
			}
		});
		return out;
	}

	/* ---- loading ------------------------------------------------------- */

	var manifest = null;
	var parts = {};
	var pending = {};

	api.index = function (m) { manifest = m; };
	api.part = function (name, data) { parts[name] = data; };

	function loadScript(key, src, ready) {
		if (ready()) return Promise.resolve();
		if (pending[key]) return pending[key];
		pending[key] = new Promise(function (resolve, reject) {
			var s = document.createElement('script');
			s.src = root + src;
			s.async = true;
			s.onload = function () {
				delete pending[key];
				if (ready()) resolve();
				else reject(new Error('search index: ' + src + ' did not register'));
			};
			s.onerror = function () {
				delete pending[key];
				reject(new Error('search index: cannot load ' + src));
			};
			document.head.appendChild(s);
		});
		return pending[key];
	}

	function loadIndex() {
		return loadScript('index', 'assets/search-index.js', function () { return manifest !== null; });
	}

	function loadPart(name) {
		return loadScript(name, 'assets/search/' + name + '.js', function () { return name in parts; });
	}

	function termPart(term) {
		var key = Array.from(term).slice(0, 2).join('');
		var p = manifest.terms[key];
		return p === undefined ? null : 't' + p;
	}

	function docPart(c) {
		var d = manifest.docs, lo = 0, hi = d.length - 1;
		while (lo < hi) {
			var mid = (lo + hi + 1) >> 1;
			if (d[mid] <= c) lo = mid; else hi = mid - 1;
		}
		return lo;
	}

	/* ---- ranking ------------------------------------------------------- */

	var TITLE = 8, FACET = 4, LESSON = 2, BODY = 1;

	function fieldWeight(f) {
		if (f & TITLE) return 100;
		if (f & FACET) return 30;
		if (f & LESSON) return 10;
		return 3;
	}

	/* item -> best score of one query term, over the words it starts. */
	function termScores(term) {
		var name = termPart(term), scores = new Map();
		if (!name) return scores;
		var part = parts[name], w = part.w, p = part.p;
		for (var i = 0; i < w.length; i++) {
			if (w[i].lastIndexOf(term, 0) !== 0) continue;
			var factor = w[i].length === term.length ? 1 : 0.7;
			var str = p[i], v = 0, cur = 0;
			for (var k = 0; k <= str.length; k++) {
				var c = k < str.length ? str.charCodeAt(k) : 44;
				if (c === 44) {
					v += cur;
					cur = 0;
					var item = v >> 4, s = fieldWeight(v & 15) * factor;
					var old = scores.get(item);
					if (old === undefined || old < s) scores.set(item, s);
				} else {
					cur = cur * 36 + (c <= 57 ? c - 48 : c - 87);
				}
			}
		}
		return scores;
	}

	/* Items matching every term, best first: [{item, score}]. */
	function rank(terms) {
		var lists = terms.map(termScores);
		lists.sort(function (a, b) { return a.size - b.size; });
		var out = [];
		lists[0].forEach(function (score, item) {
			for (var i = 1; i < lists.length; i++) {
				var s = lists[i].get(item);
				if (s === undefined) return;
				score += s;
			}
			out.push({ item: item, score: score });
		});
		out.sort(function (a, b) {
			return b.score - a.score || a.item - b.item;
		});
		return out;
	}

	/* Run a query: resolves to {terms, hits} (hits ranked, not yet shown). */
	function search(q) {
		var terms = queryTerms(q);
		if (!terms.length) return Promise.resolve({ terms: terms, hits: [] });
		return loadIndex().then(function () {
			var names = terms.map(termPart).filter(function (n) { return n; });
			if (names.length < terms.length) return [];
			return Promise.all(names.map(loadPart)).then(function () { return rank(terms); });
		}).then(function (hits) { return { terms: terms, hits: hits }; });
	}

	/* Turn hits into results to show (loads the parts that describe them). */
	function describe(hits, terms) {
		var slots = manifest.slots, need = {};
		hits.forEach(function (h) { need['d' + docPart(Math.floor(h.item / slots))] = true; });
		return Promise.all(Object.keys(need).map(loadPart)).then(function () {
			return hits.map(function (h) {
				var c = Math.floor(h.item / slots), k = h.item % slots;
				var p = docPart(c), rec = parts['d' + p][c - manifest.docs[p]];
				if (k === 0) {
					return {
						kind: 'case', url: rec[1], title: rec[0], meta: rec[2],
						snippet: snippet(rec[4], terms, rec[3])
					};
				}
				var l = rec[5][k - 1];
				return {
					kind: 'lesson', url: rec[1] + '#' + l[0], title: rec[0],
					meta: l[2] ? 'Theme: ' + l[2] : '', snippet: snippet(l[1], terms, '')
				};
			});
		});
	}

	/* ---- snippets ------------------------------------------------------ */

	function esc(s) {
		return s.replace(/[&<>"']/g, function (c) {
			return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
		});
	}

	function matches(word, terms) {
		var f = fold(word);
		for (var i = 0; i < terms.length; i++)
			if (f.lastIndexOf(terms[i], 0) === 0) return true;
		return false;
	}

	/* text as HTML with every word that a term starts in <mark>. */
	function highlight(text, terms) {
		var out = '', last = 0, m, re = new RegExp(WORD.source, 'gu');
		while ((m = re.exec(text)) !== null) {
			if (!matches(m[0], terms)) continue;
			out += esc(text.slice(last, m.index)) + '<mark>' + esc(m[0]) + '</mark>';
			last = m.index + m[0].length;
		}
		return out + esc(text.slice(last));
	}

	var SNIPPET = 180;

	/* About SNIPPET characters of text around its first match, highlighted;
	 * the start of fallback (or of text) when nothing in text matches. */
	function snippet(text, terms, fallback) {
		var m, at = -1, re = new RegExp(WORD.source, 'gu');
		while ((m = re.exec(text)) !== null) {
			if (matches(m[0], terms)) { at = m.index; break; }
		}
		if (at < 0) {
			text = fallback || text;
			at = 0;
		}
		var start = Math.max(0, at - 60), end = Math.min(text.length, start + SNIPPET);
		if (start > 0) {
			var sp = text.indexOf(' ', start);
			if (sp >= 0 && sp < at) start = sp + 1;
		}
		if (end < text.length) {
			var sp2 = text.lastIndexOf(' ', end);
			if (sp2 > at) end = sp2;
		}
		var piece = text.slice(start, end).replace(/\s+/g, ' ');
		return (start > 0 ? '\u2026 ' : '') + highlight(piece, terms) + (end < text.length ? ' \u2026' : '');
	}

	api.fold = fold;
	api.words = words;
	/* For tests and other scripts: resolves to the results of query q. */
	api.query = function (q, max) {
		return search(q).then(function (r) {
			return describe(r.hits.slice(0, max || 10), r.terms).then(function (res) {
				return { total: r.hits.length, results: res };
			});
		});
	};

	/* ---- the search box (a combobox) ------------------------------------ */

	var MAX_OPTIONS = 8;

	function resultHTML(r, terms) {
		var kind = r.kind === 'lesson' ? '<span class="search-kind">Lesson</span> ' : '';
		return '<span class="search-title">' + kind + highlight(r.title, terms) + '</span>' +
			(r.meta ? '<span class="search-meta">' + esc(r.meta) + '</span>' : '') +
			(r.snippet ? '<span class="search-snippet">' + r.snippet + '</span>' : '');
	}

	function setupBox(form) {
		var input = form.querySelector('input[type="search"]');
		var list = form.querySelector('[role="listbox"]');
		var status = form.querySelector('[role="status"]');
		var options = [], active = -1, seq = 0, closeTimer = null;

		function announce(text) {
			if (status.textContent !== text) status.textContent = text;
		}

		function close() {
			list.hidden = true;
			input.setAttribute('aria-expanded', 'false');
			setActive(-1); /* no option stays marked chosen */
		}

		function setActive(i) {
			if (active >= 0 && options[active]) options[active].el.setAttribute('aria-selected', 'false');
			active = i;
			if (i < 0) {
				input.removeAttribute('aria-activedescendant');
				return;
			}
			var el = options[i].el;
			el.setAttribute('aria-selected', 'true');
			input.setAttribute('aria-activedescendant', el.id);
			el.scrollIntoView({ block: 'nearest' });
		}

		function go(url) {
			window.location.href = root + url;
		}

		function allURL(q) {
			return 'search.html?q=' + encodeURIComponent(q);
		}

		function show(q, terms, total, results, t0) {
			list.innerHTML = '';
			options = [];
			active = -1;
			input.removeAttribute('aria-activedescendant');
			results.forEach(function (r, i) {
				var el = document.createElement('div');
				el.id = 'search-option-' + i;
				el.className = 'search-option search-' + r.kind;
				el.setAttribute('role', 'option');
				el.setAttribute('aria-selected', 'false');
				el.innerHTML = resultHTML(r, terms);
				options.push({ el: el, url: r.url });
				list.appendChild(el);
			});
			if (total > results.length) {
				var more = document.createElement('div');
				more.id = 'search-option-all';
				more.className = 'search-option search-all';
				more.setAttribute('role', 'option');
				more.setAttribute('aria-selected', 'false');
				more.textContent = 'All ' + total + ' results for \u201c' + q + '\u201d';
				options.push({ el: more, url: allURL(q) });
				list.appendChild(more);
			}
			if (options.length) {
				list.hidden = false;
				input.setAttribute('aria-expanded', 'true');
			} else {
				close();
			}
			announce(total === 0 ? 'No results for \u201c' + q + '\u201d'
				: total === 1 ? '1 result' : total + ' results');
			form.dispatchEvent(new CustomEvent('casebook:results', {
				detail: { query: q, total: total, ms: performance.now() - t0 }
			}));
		}

		function update() {
			var q = input.value.trim(), mine = ++seq, t0 = performance.now();
			if (!q) {
				close();
				list.innerHTML = '';
				announce('');
				return;
			}
			search(q).then(function (r) {
				if (mine !== seq) return;
				if (!r.terms.length) {
					close();
					announce('Type at least two letters');
					return;
				}
				return describe(r.hits.slice(0, MAX_OPTIONS), r.terms).then(function (res) {
					if (mine === seq) show(q, r.terms, r.hits.length, res, t0);
				});
			}).catch(function (e) {
				if (mine !== seq) return;
				close();
				announce('Search is not available: ' + e.message);
			});
		}

		input.addEventListener('focus', function () {
			loadIndex().catch(function () {});
		});
		input.addEventListener('input', update);
		input.addEventListener('keydown', function (e) {
			if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
				if (list.hidden) {
					if (options.length) {
						list.hidden = false;
						input.setAttribute('aria-expanded', 'true');
					}
					e.preventDefault();
					return;
				}
				var n = options.length;
				if (!n) return;
				e.preventDefault();
				setActive(e.key === 'ArrowDown' ? (active + 1) % n : (active <= 0 ? n - 1 : active - 1));
			} else if (e.key === 'Enter') {
				if (!list.hidden && active >= 0) {
					e.preventDefault();
					go(options[active].url);
				}
				/* otherwise the form goes to the search page */
			} else if (e.key === 'Escape') {
				if (!list.hidden) {
					e.preventDefault();
					close();
				} else if (input.value) {
					e.preventDefault();
					input.value = '';
					update();
				}
			}
		});
		list.addEventListener('mousedown', function (e) { e.preventDefault(); });
		list.addEventListener('click', function (e) {
			for (var i = 0; i < options.length; i++)
				if (options[i].el.contains(e.target)) return go(options[i].url);
		});
		input.addEventListener('blur', function () {
			clearTimeout(closeTimer);
			closeTimer = setTimeout(close, 150);
		});
	}

	/* ---- the search page ------------------------------------------------ */

	var PAGE = 20;

	function setupPage(form) {
		var input = form.querySelector('input[type="search"]');
		var list = document.getElementById('search-page-results');
		var status = document.getElementById('search-page-status');
		var more = document.getElementById('search-page-more');
		var hits = [], terms = [], shown = 0, seq = 0, q = '', t0 = 0;

		function item(r) {
			var li = document.createElement('li');
			li.className = 'search-page-result search-' + r.kind;
			li.innerHTML = '<a href="' + esc(root + r.url) + '">' +
				(r.kind === 'lesson' ? '<span class="search-kind">Lesson</span> ' : '') +
				highlight(r.title, terms) + '</a>' +
				(r.meta ? '<p class="search-meta">' + esc(r.meta) + '</p>' : '') +
				(r.snippet ? '<p class="search-snippet">' + r.snippet + '</p>' : '');
			return li;
		}

		function showMore() {
			var mine = seq, next = hits.slice(shown, shown + PAGE);
			return describe(next, terms).then(function (res) {
				if (mine !== seq) return;
				res.forEach(function (r) { list.appendChild(item(r)); });
				shown += res.length;
				more.hidden = shown >= hits.length;
				form.dispatchEvent(new CustomEvent('casebook:results', {
					detail: { query: q, total: hits.length, ms: performance.now() - t0 }
				}));
			});
		}

		function run() {
			var mine = ++seq;
			q = input.value.trim();
			t0 = performance.now();
			list.innerHTML = '';
			more.hidden = true;
			shown = 0;
			if (!q) {
				status.textContent = 'Type a word to search cases and lessons.';
				return;
			}
			search(q).then(function (r) {
				if (mine !== seq) return;
				hits = r.hits;
				terms = r.terms;
				if (!terms.length) {
					status.textContent = 'Type at least two letters.';
					return;
				}
				status.textContent = hits.length === 0 ? 'No results for \u201c' + q + '\u201d.'
					: (hits.length === 1 ? '1 result' : hits.length + ' results') + ' for \u201c' + q + '\u201d.';
				return showMore();
			}).catch(function (e) {
				if (mine === seq) status.textContent = 'Search is not available: ' + e.message;
			});
		}

		var params = new URLSearchParams(window.location.search);
		input.value = params.get('q') || '';
		input.addEventListener('input', run);
		form.addEventListener('submit', function (e) { e.preventDefault(); run(); });
		more.addEventListener('click', showMore);
		run();
	}

	function init() {
		var box = document.querySelector('form[data-search="box"]');
		var page = document.querySelector('form[data-search="page"]');
		if (box) setupBox(box);
		if (page) setupPage(page);
	}

	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
	else init();
})();
