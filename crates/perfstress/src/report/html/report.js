// The perfstress HTML report: builds the page from the JSON document in
// #report-data (the runs' results files and timelines, as written by
// --test-results and --timeline, and the comparisons). Text goes into the
// page through textContent only; charts are uPlot's. Nothing here computes
// a figure of the results: the page shows the results file's numbers,
// formatted. The charts over time draw the timeline's lines; the only
// arithmetic is a rate over an interval's length (each process's ops/s,
// and a too-short last interval folded into the one before it).
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var root = document.getElementById("report");
  root.textContent = "";

  // Okabe-Ito: distinct under the common colour-vision deficiencies.
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];
  var DASHES = [[], [6, 3], [2, 2], [8, 3, 2, 3], [1, 3]];
  var charts = [];

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        if (attrs[name] !== undefined && attrs[name] !== null) node.setAttribute(name, String(attrs[name]));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function isNum(value) { return typeof value === "number" && isFinite(value); }

  // A number for reading: 4 significant digits, thousands separated.
  function num(value, digits) {
    if (!isNum(value)) return "n/a";
    var abs = Math.abs(value);
    if (abs >= 10000) return Math.round(value).toLocaleString("en-US");
    if (abs >= 1000) return value.toLocaleString("en-US", { maximumFractionDigits: 1 });
    if (abs === 0) return "0";
    return Number(value.toPrecision(digits || 4)).toString();
  }
  function withUnit(value, unit) { return isNum(value) ? num(value) + " " + unit : "n/a"; }
  // A legend's value: a dash while the cursor is off the chart.
  function legend(unit) { return function (u, value) { return isNum(value) ? num(value) + " " + unit : "–"; }; }
  function bytes(value) {
    if (!isNum(value)) return "n/a";
    var units = ["B", "KiB", "MiB", "GiB", "TiB"], index = 0, scaled = value;
    while (Math.abs(scaled) >= 1024 && index < units.length - 1) { scaled /= 1024; index++; }
    return num(scaled) + " " + units[index];
  }
  function percent(fraction) { return isNum(fraction) ? num(fraction * 100) + " %" : "n/a"; }
  function ms(value) { return withUnit(value, "ms"); }

  // A figure of the results file: the raw value stays in data-value, so a
  // reader (or a test) can check it against the file.
  function figure(text, field, value) {
    return el("span", { "data-figure": field, "data-value": isNum(value) ? value : null }, text);
  }

  function table(headers, rows, numeric) {
    var head = el("tr");
    headers.forEach(function (header, index) {
      head.appendChild(el("th", { "class": numeric && numeric[index] ? "num" : null, scope: "col" }, header));
    });
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr");
      row.forEach(function (cell, index) {
        tr.appendChild(el("td", { "class": numeric && numeric[index] ? "num" : null }, cell));
      });
      body.appendChild(tr);
    });
    return el("table", null, el("thead", null, head), body);
  }

  function card(label, content) {
    return el("div", { "class": "card" }, el("div", { "class": "label" }, label), el("div", { "class": "value" }, content));
  }

  function chartWidth() { return Math.max(320, Math.min(root.clientWidth || 1000, 1072)); }

  // A uPlot chart in a figure whose data-points says how many points each
  // series holds (what a test checks against the timeline).
  function chart(parent, name, title, caption, series, columns, options) {
    options = options || {};
    var points = columns.slice(1).map(function (column) {
      return column.filter(function (value) { return value !== null && value !== undefined; }).length;
    });
    var fig = el("figure", { "class": "chart", "data-chart": name, "data-points": points.join(" "), "data-x": columns[0].length });
    parent.appendChild(fig);
    var opts = {
      title: title,
      width: chartWidth(),
      height: options.height || 260,
      scales: options.scales || { x: { time: false } },
      axes: options.axes || [{ label: "seconds since the start" }, { label: options.yLabel || "" }],
      series: [{ label: options.xLabel || "s", value: options.xValue || function (u, value) { return isNum(value) ? num(value) : "–"; } }].concat(series.map(function (serie, index) {
        return Object.assign({
          stroke: PALETTE[index % PALETTE.length],
          dash: DASHES[Math.floor(index / PALETTE.length) % DASHES.length],
          width: 1.5,
          spanGaps: false,
          points: { show: columns[0].length <= 120 }
        }, serie);
      })),
      hooks: options.hooks || {}
    };
    if (options.axes === undefined && options.yLabel) opts.axes[1].size = 70;
    var plot = new uPlot(opts, columns, fig);
    charts.push(plot);
    // For a reader's console (or a test): the chart's series and data.
    fig.perfstressChart = plot;
    if (caption) fig.appendChild(el("figcaption", null, caption));
    return plot;
  }

  // A status interval's length, in seconds.
  function seconds(line) { return line.end_seconds - line.start_seconds; }

  // Two intervals' counts by key added (errors by group).
  function addCounts(a, b) {
    var sum = {};
    [a || {}, b || {}].forEach(function (counts) {
      Object.keys(counts).forEach(function (key) { sum[key] = (sum[key] || 0) + counts[key]; });
    });
    return sum;
  }

  // A phase's last interval `last` drawn with the one before it, `before`:
  // one point at the phase's end with both intervals' operations and
  // errors (so the counts still add up to the results), rates over both
  // lengths, the memory at the end and the slowest operation of both.
  // The latency percentiles stay `before`'s: they cannot be combined, and
  // the short interval holds few operations.
  function fold(before, last) {
    var length = last.end_seconds - before.start_seconds;
    var merged = Object.assign({}, last, {
      interval: before.interval,
      start_seconds: before.start_seconds,
      operations: before.operations + last.operations,
      errors: addCounts(before.errors, last.errors),
      rss_bytes: isNum(last.rss_bytes) ? last.rss_bytes : before.rss_bytes,
      folded: true
    });
    merged.operations_per_second = length > 0 ? merged.operations / length : null;
    merged.cpu_percent = isNum(before.cpu_percent)
      ? (before.cpu_percent * seconds(before) + (isNum(last.cpu_percent) ? last.cpu_percent * seconds(last) : 0)) / length
      : last.cpu_percent;
    if (before.latency_ms && last.latency_ms) {
      merged.latency_ms = Object.assign({}, before.latency_ms, {
        count: before.latency_ms.count + last.latency_ms.count,
        max: Math.max(before.latency_ms.max, last.latency_ms.max)
      });
    } else {
      merged.latency_ms = before.latency_ms || last.latency_ms;
    }
    if (before.process_operations && last.process_operations) {
      merged.process_operations = before.process_operations.map(function (operations, index) { return operations + (last.process_operations[index] || 0); });
    }
    return merged;
  }

  // The timeline as the charts draw it. Its phases (the warm-up, the timed
  // run or each of its iterations, which count their intervals and seconds
  // from 0 again) follow each other on one axis of seconds since the run
  // started, so x never goes back, and every chart of the run shares it.
  // A phase's last interval shorter than a quarter of the status interval
  // (it ends just after a tick) is folded into the one before it: its rate
  // alone would be a spike or a vertical segment.
  function prepare(timeline) {
    var segments = [];
    timeline.forEach(function (line, index) {
      var previous = timeline[index - 1];
      if (!previous || line.phase !== previous.phase || line.iteration !== previous.iteration || line.interval <= previous.interval) {
        segments.push({ phase: line.phase, iteration: line.iteration, lines: [] });
      }
      segments[segments.length - 1].lines.push(line);
    });
    var step = 0;
    timeline.forEach(function (line) { if (!line.final) step = Math.max(step, seconds(line)); });
    var points = [], offset = 0, folded = 0;
    segments.forEach(function (segment, index) {
      var lines = segment.lines.slice();
      var last = lines[lines.length - 1];
      if (lines.length > 1 && last.final && step > 0 && seconds(last) < step / 4) {
        lines.splice(lines.length - 2, 2, fold(lines[lines.length - 2], last));
        folded++;
      }
      segment.start = offset;
      lines.forEach(function (line) { points.push({ line: line, x: offset + line.end_seconds, segment: index }); });
      segment.end = offset + Math.max(0, last.end_seconds);
      offset = segment.end;
    });
    var iterations = segments.filter(function (segment) { return segment.iteration !== undefined && segment.iteration !== null; });
    return {
      points: points,
      x: points.map(function (point) { return point.x; }),
      lines: points.map(function (point) { return point.line; }),
      segments: segments,
      iterations: iterations.length > 0,
      warmup: segments.filter(function (segment) { return segment.phase === "warmup"; }).map(function (segment) { return [segment.start, segment.end]; }),
      folded: folded
    };
  }

  // The warm-up shaded, and with --iterations each iteration's start
  // marked and named.
  function timeHooks(axis) {
    var marks = axis.iterations ? axis.segments.filter(function (segment) { return segment.phase === "run"; }) : [];
    return {
      drawClear: [function (u) {
        var ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = "rgba(0, 0, 0, 0.07)";
        axis.warmup.forEach(function (band) {
          var left = u.valToPos(band[0], "x", true), right = u.valToPos(band[1], "x", true);
          ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
        });
        ctx.restore();
      }],
      draw: [function (u) {
        if (!marks.length) return;
        var ctx = u.ctx, ratio = window.devicePixelRatio || 1;
        ctx.save();
        ctx.strokeStyle = "#777";
        ctx.fillStyle = "#444";
        ctx.lineWidth = ratio;
        ctx.setLineDash([4 * ratio, 3 * ratio]);
        ctx.font = Math.round(11 * ratio) + "px system-ui, sans-serif";
        ctx.textBaseline = "top";
        marks.forEach(function (segment) {
          var left = Math.round(u.valToPos(segment.start, "x", true));
          ctx.beginPath();
          ctx.moveTo(left, u.bbox.top);
          ctx.lineTo(left, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.fillText("iteration " + segment.iteration, left + 4 * ratio, u.bbox.top + 3 * ratio);
        });
        ctx.restore();
      }]
    };
  }

  // The name of the process (or host) at `index` of process_operations.
  function processLabel(results, index) {
    var hosts = results.hosts || [];
    return hosts.length ? "host " + (hosts[index] ? hosts[index].host : index + 1) : "process " + (index + 1);
  }

  function opsChart(parent, run, axis, hooks) {
    var lines = axis.lines, results = run.results;
    var rate = function (line) { return isNum(line.operations_per_second) ? line.operations_per_second : null; };
    var series = [], columns = [axis.x];
    if (axis.iterations) {
      // One series per phase: the warm-up, then each iteration.
      axis.segments.forEach(function (segment, index) {
        series.push({ label: segment.phase === "warmup" ? "warm-up" : "iteration " + segment.iteration, value: legend("ops/s") });
        columns.push(axis.points.map(function (point) { return point.segment === index ? rate(point.line) : null; }));
      });
    } else {
      series.push({ label: "ops/s", value: legend("ops/s") });
      columns.push(lines.map(rate));
    }
    var processes = 0;
    lines.forEach(function (line) { processes = Math.max(processes, (line.process_operations || []).length); });
    if (processes > 1) {
      if (!axis.iterations) series[0].label = "all " + ((results.hosts || []).length ? "hosts" : "processes");
      series.forEach(function (serie) { serie.width = 2.5; });
      for (var index = 0; index < processes; index++) {
        series.push({ label: processLabel(results, index), width: 1.25, dash: [5, 3], value: legend("ops/s") });
        columns.push(lines.map(function (line) {
          var operations = (line.process_operations || [])[index];
          // The process's share of the interval's rate: its operations
          // over the same length (so the processes add up to the total).
          return isNum(operations) && isNum(line.operations_per_second) ? operations / seconds(line) : null;
        }));
      }
    }
    var operations = 0;
    lines.forEach(function (line) { if (line.phase === "run") operations += line.operations; });
    var plot = chart(parent, "ops", "Operations per second",
      "Each status interval's completed operations per second" +
        (processes > 1 ? ", all together (solid) and each " + ((results.hosts || []).length ? "host" : "process") + "'s (dashed; they add up to the total)" : "") +
        (axis.iterations ? ", each iteration its own series" : "") + ". The timed run's intervals hold " + num(operations) + " operations.",
      series, columns, { yLabel: "ops/s", hooks: hooks });
    plot.root.parentNode.setAttribute("data-operations", String(operations));
  }

  // The leak slope as a line over the timed run (one timed run: with
  // --iterations the slope is the iterations' mean): it has the results'
  // slope and, as the least-squares line does, passes through the mean of
  // the samples it was fitted to (the RSS at each tick of the timed run).
  function slopeLine(axis, slope) {
    var runs = axis.segments.filter(function (segment) { return segment.phase === "run"; });
    if (!isNum(slope) || runs.length !== 1) return null;
    var samples = runs[0].lines.filter(function (line) { return !line.final && isNum(line.rss_bytes); });
    if (samples.length < 3) return null;
    var meanX = 0, meanY = 0;
    samples.forEach(function (line) { meanX += line.end_seconds / samples.length; meanY += line.rss_bytes / samples.length; });
    return axis.points.map(function (point) {
      return axis.segments[point.segment] === runs[0]
        ? (meanY + slope / 60 * (point.line.end_seconds - meanX)) / 1048576
        : null;
    });
  }

  function timelineCharts(parent, run) {
    var timeline = run.timeline;
    var results = run.results;
    if (!timeline.length) {
      parent.appendChild(el("p", { "class": "note" }, "No timeline: give --timeline PATH with the results file to `report`, or run with --report, for the charts over time."));
      return;
    }
    var axis = prepare(timeline);
    var hooks = timeHooks(axis);
    var lines = axis.lines;
    parent.appendChild(el("h3", null, "Over time"));
    parent.appendChild(el("p", { "class": "note" }, "Each point is a status interval, at its end, in seconds since the run started." +
      (axis.warmup.length ? " Shaded: the warm-up." : "") +
      (axis.iterations ? " Dashed vertical lines: each iteration's start (the iterations ran one after another; each counts its intervals from 0 again in the timeline)." : "") +
      (axis.folded ? " A phase's last interval shorter than a quarter of the status interval is drawn with the one before it (their operations and errors added, rates over both)." : "")));
    opsChart(parent, run, axis, hooks);

    if (lines.some(function (line) { return line.latency_ms; })) {
      // On the run's whole time axis (the warm-up has none), as the other
      // charts, so that they line up.
      var pick = function (name) { return lines.map(function (line) { return line.latency_ms ? line.latency_ms[name] : null; }); };
      chart(parent, "latency", "Latency per interval (service time)", "Percentiles of each interval's operations, in milliseconds.",
        ["p50", "p90", "p99", "max"].map(function (name) { return { label: name, value: legend("ms") }; }),
        [axis.x, pick("p50"), pick("p90"), pick("p99"), pick("max")], { yLabel: "ms", hooks: hooks });
    }

    var groups = {};
    lines.forEach(function (line) { Object.keys(line.errors || {}).forEach(function (key) { groups[key] = true; }); });
    var keys = Object.keys(groups).sort();
    if (keys.length || results.errors) {
      chart(parent, "errors", "Errors per interval, by group", "Failed operations in each status interval (stress mode).",
        keys.map(function (key) { return { label: key, value: legend("errors") }; }),
        [axis.x].concat(keys.map(function (key) { return lines.map(function (line) { return (line.errors && line.errors[key]) || 0; }); })),
        { yLabel: "errors", hooks: hooks });
    }

    if (lines.some(function (line) { return isNum(line.cpu_percent); })) {
      chart(parent, "cpu", "CPU use", "Every process's CPU in each interval, in percent of one core (200 % = two cores busy).",
        [{ label: "CPU", value: legend("%") }],
        [axis.x, lines.map(function (line) { return isNum(line.cpu_percent) ? line.cpu_percent : null; })],
        { yLabel: "% of a core", hooks: hooks });
    }
    if (lines.some(function (line) { return isNum(line.rss_bytes); })) {
      var slope = results.memory_growth_bytes_per_minute;
      var rssSeries = [{ label: "RSS", value: legend("MiB") }];
      var rssColumns = [axis.x, lines.map(function (line) { return isNum(line.rss_bytes) ? line.rss_bytes / 1048576 : null; })];
      var trend = slopeLine(axis, slope);
      if (trend) {
        rssSeries.push({ label: "leak slope", dash: [6, 4], width: 1.25, points: { show: false }, spanGaps: true, value: legend("MiB") });
        rssColumns.push(trend);
      }
      chart(parent, "rss", "Resident memory (RSS)",
        "Every process's resident memory at each interval's end, in MiB." +
        (isNum(slope) ? " Growth over the timed run (the leak slope): " + bytes(slope) + "/min" +
          (trend ? ", dashed: the least-squares line through the timed run's samples." : ".") : ""),
        rssSeries, rssColumns, { yLabel: "MiB", hooks: hooks });
    }
  }

  // The percentile spectrum on a "nines" axis: x = -log10(1 - p/100), so
  // 90 %, 99 %, 99.9 % ... are evenly spaced.
  function spectrumChart(parent, runs) {
    var series = [], columns = [];
    runs.forEach(function (run) {
      [["latency", "service time"], ["corrected_latency", "corrected latency"]].forEach(function (kind) {
        var latency = run.results[kind[0]];
        if (!latency || !latency.spectrum_ms) return;
        var points = latency.spectrum_ms.filter(function (point) { return point.percentile < 100; });
        series.push({ label: (runs.length > 1 ? run.label + ": " : "") + kind[1], value: legend("ms") });
        columns.push(points);
      });
    });
    if (!series.length) return;
    var xs = [];
    columns.forEach(function (points) { points.forEach(function (point) { if (xs.indexOf(point.percentile) < 0) xs.push(point.percentile); }); });
    xs.sort(function (a, b) { return a - b; });
    var nines = function (p) { return -Math.log10(1 - p / 100); };
    var aligned = [xs.map(nines)].concat(columns.map(function (points) {
      return xs.map(function (p) {
        var point = points.filter(function (candidate) { return candidate.percentile === p; })[0];
        return point ? point.ms : null;
      });
    }));
    var ticks = [50, 90, 99, 99.9, 99.99, 99.999];
    chart(parent, "spectrum", "Latency by percentile", "The timed run's latency at each percentile, in milliseconds (log scale), on a nines axis." +
      (series.length > 1 ? " With --rate, corrected latency counts from each operation's scheduled start." : ""),
      series.map(function (serie) { serie.spanGaps = true; serie.points = { show: true }; return serie; }), aligned, {
        xLabel: "percentile",
        xValue: function (u, value) { return isNum(value) ? num(100 * (1 - Math.pow(10, -value)), 6) + " %" : "–"; },
        scales: { x: { time: false, range: [nines(50) - 0.05, nines(99.999) + 0.1] }, y: { distr: 3 } },
        axes: [
          { label: "percentile", splits: function () { return ticks.map(nines); }, values: function () { return ticks.map(function (p) { return p + "%"; }); } },
          { label: "ms", size: 70 }
        ]
      });
  }

  function iterationsSection(parent, run) {
    var iterations = run.results.iterations || [];
    var stats = run.results.iteration_statistics;
    if (iterations.length < 2) return;
    parent.appendChild(el("h3", null, "Iterations"));
    var ops = stats && stats.operations_per_second;
    parent.appendChild(el("p", null, "ops/s over " + iterations.length + " timed runs: mean ",
      figure(withUnit(ops && ops.mean, "ops/s"), "iteration_statistics.operations_per_second.mean", ops && ops.mean),
      ", 95 % confidence interval ", figure(num(ops && ops.ci_low), "iteration_statistics.operations_per_second.ci_low", ops && ops.ci_low),
      " to ", figure(withUnit(ops && ops.ci_high, "ops/s"), "iteration_statistics.operations_per_second.ci_high", ops && ops.ci_high),
      ", standard deviation " + withUnit(ops && ops.standard_deviation, "ops/s") + "."));
    var x = iterations.map(function (_, index) { return index + 1; });
    var constant = function (value) { return x.map(function () { return isNum(value) ? value : null; }); };
    chart(parent, "iterations", "ops/s per iteration", "Each timed run's ops/s, with the mean and its 95 % confidence interval (dashed).",
      [
        { label: "ops/s", width: 0, points: { show: true, size: 8 }, value: legend("ops/s") },
        { label: "mean", stroke: PALETTE[1], points: { show: false } },
        { label: "CI low", stroke: PALETTE[2], dash: [5, 4], points: { show: false } },
        { label: "CI high", stroke: PALETTE[2], dash: [5, 4], points: { show: false } }
      ],
      [x, iterations.map(function (it) { return it.operations_per_second; }), constant(ops && ops.mean), constant(ops && ops.ci_low), constant(ops && ops.ci_high)],
      { xLabel: "iteration", yLabel: "ops/s", scales: { x: { time: false, range: [0.5, iterations.length + 0.5] } }, axes: [{ label: "iteration", incrs: [1] }, { label: "ops/s", size: 70 }] });
    var latencyNames = Object.keys(iterations[0].latency_ms || {});
    parent.appendChild(table(["iteration", "ops/s", "operations"].concat(latencyNames.map(function (name) { return name + " (ms)"; })),
      iterations.map(function (it, index) {
        return [String(index + 1), num(it.operations_per_second), num(it.total_operations)].concat(latencyNames.map(function (name) { return num(it.latency_ms[name]); }));
      }), [false, true, true].concat(latencyNames.map(function () { return true; }))));
  }

  function optionsTable(results) {
    var rows = [
      ["test", results.test_name],
      ["duration", withUnit(results.duration_seconds, "s")],
      ["warm-up", withUnit(results.warmup_seconds, "s")],
      ["parallel", String(results.parallel)],
      ["processes", String(results.processes)],
      ["sync", String(results.sync)]
    ];
    if (isNum(results.target_rate)) rows.push(["rate", withUnit(results.target_rate, "ops/s")]);
    rows.push(["test options", (results.test_options || []).join(" ") || "(none)"]);
    return table(["option", "value"], rows);
  }

  function environmentTable(results) {
    var environment = results.environment || {};
    var rows = Object.keys(environment).map(function (key) {
      var value = environment[key];
      return [key.replace(/_/g, " "), value === null ? "n/a" : typeof value === "object" ? JSON.stringify(value) : String(value)];
    });
    if (!rows.length) rows.push(["perfstress version", String(results.perfstress_version)]);
    return table(["", "value"], rows);
  }

  function latencyTable(results) {
    var kinds = [["latency", "service time"], ["corrected_latency", "corrected latency"]].filter(function (kind) { return results[kind[0]]; });
    if (!kinds.length) return null;
    var names = Object.keys(results[kinds[0][0]].percentiles_ms).sort(function (a, b) { return parseFloat(a.slice(1)) - parseFloat(b.slice(1)); });
    var rows = names.map(function (name) {
      return [name.slice(1) + " %"].concat(kinds.map(function (kind) {
        var value = results[kind[0]].percentiles_ms[name];
        return figure(ms(value), kind[0] + ".percentiles_ms." + name, value);
      }));
    });
    ["mean_ms", "min_ms", "max_ms"].forEach(function (field) {
      rows.push([field.replace("_ms", "")].concat(kinds.map(function (kind) {
        return figure(ms(results[kind[0]][field]), kind[0] + "." + field, results[kind[0]][field]);
      })));
    });
    rows.push(["operations timed"].concat(kinds.map(function (kind) { return num(results[kind[0]].count); })));
    var numeric = [false].concat(kinds.map(function () { return true; }));
    return table(["percentile"].concat(kinds.map(function (kind) { return kind[1] + " (ms)"; })), rows, numeric);
  }

  function errorsBlock(parent, results) {
    var errors = results.errors;
    if (!errors) return;
    parent.appendChild(el("h3", null, "Errors"));
    parent.appendChild(el("p", null,
      figure(num(errors.total), "errors.total", errors.total), " of " + num(errors.attempted) + " operations failed (",
      figure(percent(errors.rate), "errors.rate", errors.rate), "; allowed " + percent(errors.max_error_rate) + ": ",
      el("span", { "class": errors.within_limit ? "pass" : "fail" }, errors.within_limit ? "within the limit" : "over the limit"), ")."));
    if (!(errors.groups || []).length) return;
    parent.appendChild(table(["group", "errors", "share", "first error"], errors.groups.map(function (group) {
      return [el("code", null, group.key), num(group.count), percent(group.share), el("pre", null, (group.first_error || []).join("\n"))];
    }), [false, true, true, false]));
  }

  function thresholdsTable(runs) {
    var expressions = [];
    runs.forEach(function (run) { (run.results.thresholds || []).forEach(function (t) { if (expressions.indexOf(t.threshold) < 0) expressions.push(t.threshold); }); });
    if (!expressions.length) return null;
    return table(["threshold"].concat(runs.map(function (run) { return run.label; })), expressions.map(function (expression) {
      return [el("code", null, expression)].concat(runs.map(function (run) {
        var result = (run.results.thresholds || []).filter(function (t) { return t.threshold === expression; })[0];
        if (!result) return "not checked";
        return el("span", { "class": result.passed ? "pass" : "fail" }, (result.passed ? "passed" : "FAILED") + " (measured " + num(result.measured) + ")");
      }));
    }));
  }

  function cards(parent, results) {
    parent.appendChild(el("div", { "class": "cards" },
      card("operations per second", figure(withUnit(results.operations_per_second, "ops/s"), "operations_per_second", results.operations_per_second)),
      card("operations", figure(num(results.total_operations), "total_operations", results.total_operations)),
      card("time per operation", figure(isNum(results.seconds_per_operation) ? ms(results.seconds_per_operation * 1000) : "n/a", "seconds_per_operation", results.seconds_per_operation)),
      card("average CPU", figure(withUnit(results.average_cpu_use, "% of a core"), "average_cpu_use", results.average_cpu_use)),
      card("average memory (RSS)", figure(bytes(results.average_memory_use), "average_memory_use", results.average_memory_use)),
      isNum(results.peak_memory_use) ? card("peak memory", figure(bytes(results.peak_memory_use), "peak_memory_use", results.peak_memory_use)) : null,
      isNum(results.memory_growth_bytes_per_minute) ? card("memory growth", figure(bytes(results.memory_growth_bytes_per_minute) + "/min", "memory_growth_bytes_per_minute", results.memory_growth_bytes_per_minute)) : null,
      isNum(results.allocations_per_operation) ? card("allocations per operation", figure(num(results.allocations_per_operation), "allocations_per_operation", results.allocations_per_operation)) : null,
      isNum(results.late_starts) ? card("late starts (--rate)", figure(num(results.late_starts), "late_starts", results.late_starts)) : null
    ));
  }

  function resultsTables(parent, results) {
    var latency = latencyTable(results);
    if (latency) {
      parent.appendChild(el("h3", null, "Latency"));
      parent.appendChild(latency);
      if (isNum(results.latency.clock_resolution_ns)) parent.appendChild(el("p", { "class": "note" }, "Clock resolution " + withUnit(results.latency.clock_resolution_ns, "ns") + "."));
    }
    errorsBlock(parent, results);
  }

  function runSection(run, index, several) {
    var section = el("section", { "class": "run", "data-run": index });
    root.appendChild(section);
    var results = run.results;
    section.appendChild(el("h2", null, several ? "Run " + (index + 1) + ": " + run.label : "Results"));
    // The figures, then the charts, then the tables behind them.
    cards(section, results);
    timelineCharts(section, run);
    spectrumChart(section, [run]);
    resultsTables(section, results);
    var thresholds = thresholdsTable([run]);
    if (thresholds) { section.appendChild(el("h3", null, "Thresholds")); section.appendChild(thresholds); }
    iterationsSection(section, run);
    section.appendChild(el("h3", null, "Options"));
    section.appendChild(optionsTable(results));
    section.appendChild(el("h3", null, "Environment"));
    section.appendChild(environmentTable(results));
  }

  function estimate(value) {
    if (!value) return "n/a";
    return num(value.mean) + (value.count > 1 ? " [" + num(value.ci_low) + ", " + num(value.ci_high) + "]" : "");
  }

  function comparisonSection(comparisons, runs) {
    var section = el("section", { "class": "comparison" });
    root.appendChild(section);
    section.appendChild(el("h2", null, "Comparison"));
    comparisons.forEach(function (comparison) {
      section.appendChild(el("h3", null, comparison.new_label + " against " + comparison.old_label));
      (comparison.option_differences || []).concat(comparison.machine_differences || []).forEach(function (warning) {
        section.appendChild(el("p", { "class": "warning" }, "Warning: " + warning));
      });
      section.appendChild(table(["metric", "old (mean [95 % CI])", "new (mean [95 % CI])", "change", "change 95 % CI", "p", "verdict"],
        comparison.metrics.map(function (metric) {
          var ci = metric.change_ci_percent;
          return [metric.metric, estimate(metric.old), estimate(metric.new),
            figure((metric.change_percent >= 0 ? "+" : "") + num(metric.change_percent, 3) + " %", "comparison.change_percent", metric.change_percent),
            ci ? "[" + num(ci[0], 3) + " %, " + num(ci[1], 3) + " %]" : "n/a",
            isNum(metric.p_value) ? num(metric.p_value, 3) : "n/a",
            el("span", { "class": "verdict-" + metric.verdict.replace("_", "-") }, metric.verdict === "regressed" ? "REGRESSED" : metric.verdict.replace("_", " "))];
        }), [false, true, true, true, true, true, false]));
      section.appendChild(el("p", { "class": "note" }, "Changes under " + num(comparison.noise_threshold_percent) + " % are no change, however significant (Welch's t-test on the iterations, 95 %)."));
    });
    if (runs.length > 1) {
      section.appendChild(el("h3", null, "Side by side"));
      var row = function (label, pick) { return [label].concat(runs.map(function (run) { return pick(run.results); })); };
      var p = function (kind, name) { return function (r) { return r[kind] ? ms(r[kind].percentiles_ms[name]) : "n/a"; }; };
      section.appendChild(table(["figure"].concat(runs.map(function (run) { return run.label; })), [
        row("ops/s", function (r) { return withUnit(r.operations_per_second, "ops/s"); }),
        row("operations", function (r) { return num(r.total_operations); }),
        row("p50 latency", p("latency", "p50")),
        row("p99 latency", p("latency", "p99")),
        row("max latency", function (r) { return r.latency ? ms(r.latency.max_ms) : "n/a"; }),
        row("errors", function (r) { return r.errors ? num(r.errors.total) + " (" + percent(r.errors.rate) + ")" : "0"; }),
        row("average CPU", function (r) { return withUnit(r.average_cpu_use, "% of a core"); }),
        row("average memory", function (r) { return bytes(r.average_memory_use); }),
        row("iterations", function (r) { return String((r.iterations || []).length || 1); }),
        row("options", function (r) { return "parallel " + r.parallel + ", processes " + r.processes + ((r.test_options || []).length ? ", " + r.test_options.join(" ") : ""); })
      ], [false].concat(runs.map(function () { return true; }))));
      var thresholds = thresholdsTable(runs);
      if (thresholds) { section.appendChild(el("h3", null, "Thresholds")); section.appendChild(thresholds); }
      var withTimeline = runs.filter(function (run) { return run.timeline.length; });
      if (withTimeline.length > 1) {
        var aligned = uPlot.join(withTimeline.map(function (run) {
          var axis = prepare(run.timeline);
          return [axis.x, axis.lines.map(function (line) { return isNum(line.operations_per_second) ? line.operations_per_second : null; })];
        }));
        chart(section, "ops-compared", "Operations per second, run by run", "Each run's ops/s per status interval, from its start (warm-up included).",
          withTimeline.map(function (run) { return { label: run.label, spanGaps: true, value: legend("ops/s") }; }),
          aligned, { yLabel: "ops/s" });
      }
      spectrumChart(section, runs);
    }
  }

  var runs = data.runs;
  var first = runs[0] ? runs[0].results : {};
  var title = runs.length > 1 ? "perfstress: " + runs.length + " runs of " + first.test_name + " compared" : "perfstress: " + first.test_name;
  document.title = title;
  root.appendChild(el("h1", null, title));
  root.appendChild(el("p", { "class": "subtitle" },
    runs.length > 1 ? "The first run is the reference; each later run is compared with it." : "perfstress " + first.perfstress_version +
      (first.environment && first.environment.git_commit ? ", commit " + first.environment.git_commit : "")));
  if (data.comparisons.length || runs.length > 1) comparisonSection(data.comparisons, runs);
  runs.forEach(function (run, index) { runSection(run, index, runs.length > 1); });
  root.appendChild(el("footer", null, "Built by perfstress " + data.perfstress_version + " with " + data.chart_library + " (MIT). This page is self-contained: it makes no network request."));

  var resize = null;
  window.addEventListener("resize", function () {
    clearTimeout(resize);
    resize = setTimeout(function () { charts.forEach(function (plot) { plot.setSize({ width: chartWidth(), height: plot.height }); }); }, 100);
  });
  window.addEventListener("beforeprint", function () { charts.forEach(function (plot) { plot.setSize({ width: 680, height: plot.height }); }); });
  window.addEventListener("afterprint", function () { charts.forEach(function (plot) { plot.setSize({ width: chartWidth(), height: plot.height }); }); });
  document.body.setAttribute("data-rendered", String(charts.length));
})();
