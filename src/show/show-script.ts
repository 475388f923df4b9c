/**
 * The browser script of `show` (`/assets/show.js`): draws each chart from the JSON element the
 * page holds for it, with Chart.js (`/assets/chart.umd.min.js`). The tables beside each chart
 * hold the same numbers, so a browser without JavaScript loses only the drawing.
 */
export const SHOW_SCRIPT = `'use strict'
;(function () {
  if (typeof Chart === 'undefined') return
  var palette = ['#2456c8', '#12724a', '#b42318', '#9a6700', '#6941c6', '#0e7490', '#c11574',
    '#475467', '#e04f16', '#1570ef']
  var read = function (id) {
    var el = document.getElementById(id)
    return el ? JSON.parse(el.textContent) : null
  }
  document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
    var spec = read(canvas.getAttribute('data-chart'))
    if (!spec) return
    var datasets = spec.datasets.map(function (d, i) {
      var color = d.color || palette[i % palette.length]
      var out = { label: d.label, data: d.data, backgroundColor: d.colors || color,
        borderColor: color, type: d.type || spec.type, yAxisID: d.axis || 'y' }
      if (out.type === 'line') { out.backgroundColor = color; out.tension = 0.2 }
      return out
    })
    var scales = { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked,
      beginAtZero: true, title: { display: !!spec.yTitle, text: spec.yTitle || '' } } }
    if (spec.y2Title) scales.y2 = { position: 'right', beginAtZero: true,
      grid: { drawOnChartArea: false }, title: { display: true, text: spec.y2Title } }
    new Chart(canvas, { type: spec.type, data: { labels: spec.labels, datasets: datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        scales: scales, plugins: { legend: { position: 'bottom' } } } })
    canvas.setAttribute('data-drawn', 'true')
  })
})()
`
