// Draws the dashboard's charts from the data the server put in each chart's data-chart attribute (no inline script: CSP).
(function () {
  "use strict";
  var colors = { healthy: "#1f8a4c", degraded: "#b7791f", unhealthy: "#c53030", offline: "#6b46c1", unknown: "#718096" };
  document.querySelectorAll(".chart[data-chart]").forEach(function (element) {
    if (typeof echarts === "undefined") {
      element.textContent = "The chart library did not load.";
      return;
    }
    var data = JSON.parse(element.getAttribute("data-chart"));
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 4 },
      grid: { left: 8, right: 16, bottom: 8, top: 40, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.versions, inverse: true },
      series: data.series.map(function (series) {
        return { name: series.name, type: "bar", stack: "devices", data: series.data, itemStyle: { color: colors[series.name] },
                 label: { show: false } };
      })
    });
    element.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
