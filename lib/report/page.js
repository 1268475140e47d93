'use strict'

// The report page's HTML. Everything it needs is inside it; the data is JSON
// in a non-executed script element, escaped so that no text of a URL or an
// error can end that element.

function jsonForScript (value) {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

function inlineScript (text) {
  return text.replace(/<\/(script)/gi, '<\\/$1')
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table#summary td { padding: 2px 12px 2px 0; } table#summary td:first-child { color: #666; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
#waterfall { display: block; border: 1px solid #ddd; }
`

const LEGEND = [['queued', '#c8c8c8'], ['connect', '#f0a030'], ['waiting for first byte', '#4a90d9'],
  ['body', '#3aa757'], ['failed', '#d93025']]
  .map(([name, color]) => `<span><i style="background:${color}"></i>${name}</span>`).join('')

/** The whole page: `data` from reportData, uPlot's assets, and the drawing script. */
function pageHtml (data, uplot, script) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fetchpool report</title>
<style>${uplot.css}</style>
<style>${STYLE}</style>
</head>
<body>
<h1>fetchpool report</h1>
<table id="summary"></table>
<h2>In flight f(t) and throughput</h2>
<div id="concurrency"></div>
<h2>Waterfall</h2>
<p class="legend">${LEGEND}</p>
<p id="waterfall-note"></p>
<div><canvas id="waterfall"></canvas></div>
<script id="report-data" type="application/json">${jsonForScript(data)}</script>
<script>/*
${uplot.license.replace(/\*\//g, '* /')}
*/
${inlineScript(uplot.script)}</script>
<script>${inlineScript(script)}</script>
</body>
</html>
`
}

module.exports = { pageHtml }
