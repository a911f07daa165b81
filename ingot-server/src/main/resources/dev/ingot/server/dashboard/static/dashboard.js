// Draws the dashboard's charts from the data the server put in each chart's data-chart attribute (no inline script: CSP),
// and keeps each element with data-live fresh: its HTML is fetched again every data-every milliseconds until it says it is final.
(function () {
  "use strict";
  var colors = { healthy: "#1f8a4c", degraded: "#b7791f", unhealthy: "#c53030", offline: "#6b46c1", unknown: "#718096" };

  function drawCharts(root) {
    root.querySelectorAll(".chart[data-chart]").forEach(function (element) {
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
    });
  }

  function resizeCharts() {
    if (typeof echarts === "undefined") {
      return;
    }
    document.querySelectorAll(".chart[data-rendered]").forEach(function (element) {
      var chart = echarts.getInstanceByDom(element);
      if (chart) {
        chart.resize();
      }
    });
  }

  function keepLive(element) {
    var every = parseInt(element.getAttribute("data-every"), 10) || 2000;
    var refresh = function () {
      var head = element.querySelector("[data-final]");
      if (head && head.getAttribute("data-final") === "true") {
        return; // final: nothing changes it any more
      }
      fetch(element.getAttribute("data-live"), { credentials: "same-origin", cache: "no-store" }).then(function (response) {
        if (response.status === 401) {
          window.location.href = "/ui/login";
          return null;
        }
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html !== null && html !== undefined) {
          if (typeof echarts !== "undefined") {
            element.querySelectorAll(".chart[data-rendered]").forEach(function (chart) { echarts.dispose(chart); });
          }
          element.innerHTML = html;
          drawCharts(element);
          element.setAttribute("data-refreshed", String(Date.now()));
        }
      }).catch(function () { /* the server is away for a moment: try again at the next beat */ }).finally(function () {
        window.setTimeout(refresh, every);
      });
    };
    window.setTimeout(refresh, every);
  }

  drawCharts(document);
  document.querySelectorAll("[data-live]").forEach(keepLive);
  window.addEventListener("resize", resizeCharts);
})();
