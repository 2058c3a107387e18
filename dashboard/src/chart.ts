// The dashboard's time chart. The only module importing uPlot: views hand it columnar data
// `[xs, ...ys]` with xs in epoch ms and never see uPlot's own types or its seconds-based x.

import uPlot from 'uplot';

export interface TimeChartOptions {
  /** plot height in CSS pixels (default 240) */
  height?: number;
  /** label of the y axis, e.g. "temperature" */
  yLabel?: string;
  /** one label per y column of setData's data */
  seriesLabels: string[];
  /** default true: x is epoch ms (shown as time); false: x is a plain number */
  xTime?: boolean;
  /** drag across the plot to select an x range (epoch ms when xTime); the chart itself does not zoom */
  onRangeSelect?(fromMs: number, toMs: number): void;
}

export interface TimeChart {
  /** `[xs, ...ys]`, xs ascending (epoch ms when xTime); missing y values are null and spanned */
  setData(data: (number | null)[][]): void;
  setSeriesLabels(labels: string[]): void;
  destroy(): void;
}

const DEFAULT_HEIGHT = 240;
/** Width used while the container is hidden (display: none measures 0). */
const FALLBACK_WIDTH = 600;
/** Colours readable on the dark theme (styles.css), cycled beyond ten series. */
const PALETTE = ['#4e9eff', '#ffa94d', '#51cf66', '#ff6b6b', '#b197fc', '#f783ac', '#66d9e8', '#ffd43b', '#a9e34b', '#ced4da'];
const AXIS_TEXT = '#b8c0cc';
const GRID = 'rgba(255, 255, 255, 0.08)';

/** Up to 4 significant decimals, without trailing zeros: a legend readable for any magnitude. */
function formatValue(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  const decimals = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 1 ? 2 : 4;
  return String(Number(value.toFixed(decimals)));
}

export function createTimeChart(container: HTMLElement, options: TimeChartOptions): TimeChart {
  const height = options.height ?? DEFAULT_HEIGHT;
  const xTime = options.xTime ?? true;
  let labels = [...options.seriesLabels];
  /** the data as given (x in the caller's unit), kept to rebuild the plot when labels change */
  let lastData: (number | null)[][] = [[], ...labels.map(() => [])];
  let plot: uPlot | null = null;
  let destroyed = false;

  const width = () => (container.clientWidth > 0 ? container.clientWidth : FALLBACK_WIDTH);

  function plotOptions(): uPlot.Options {
    const axis = { stroke: AXIS_TEXT, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } };
    return {
      width: width(),
      height,
      scales: { x: { time: xTime } },
      axes: [axis, { ...axis, label: options.yLabel, size: 60, values: (_u, ticks) => ticks.map((t) => formatValue(t)) }],
      legend: { live: true },
      cursor: {
        // Selecting draws a band; the view decides what the range means (refetch, decimated).
        drag: { x: options.onRangeSelect !== undefined, y: false, setScale: false },
      },
      hooks: {
        setSelect: [
          (u) => {
            const onRangeSelect = options.onRangeSelect;
            if (!onRangeSelect || u.select.width < 2) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            if (Number.isFinite(from) && Number.isFinite(to) && to > from) {
              onRangeSelect(xTime ? from * 1000 : from, xTime ? to * 1000 : to);
            }
          },
        ],
      },
      series: [
        { label: xTime ? 'time' : 'x' },
        ...labels.map((label, i) => ({
          label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          // Readings arrive at different instants per series: join points across nulls.
          spanGaps: true,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => formatValue(v),
        })),
      ],
    };
  }

  /** uPlot wants exactly one y column per series and x in seconds for a time scale. */
  function toPlotData(data: (number | null)[][]): uPlot.AlignedData {
    const xs = (data[0] ?? []).map((x) => (x == null ? Number.NaN : xTime ? x / 1000 : x));
    const length = xs.length;
    const ys = labels.map((_, i) => data[i + 1] ?? new Array<number | null>(length).fill(null));
    return [xs, ...ys] as uPlot.AlignedData;
  }

  function build(): void {
    plot?.destroy();
    plot = new uPlot(plotOptions(), toPlotData(lastData), container);
  }

  build();

  // Follow the container's width (laptop, wall display, resized window); a hidden container
  // measures 0 and is skipped: the observer fires again when it is shown.
  const resize = new ResizeObserver(() => {
    if (plot && container.clientWidth > 0 && plot.width !== container.clientWidth) {
      plot.setSize({ width: container.clientWidth, height });
    }
  });
  resize.observe(container);

  return {
    setData(data) {
      if (destroyed) return;
      lastData = data;
      const columns = data.length - 1;
      if (columns > labels.length) {
        // More columns than labels: name the extra ones rather than drop their data.
        labels = [...labels, ...Array.from({ length: columns - labels.length }, (_, i) => `series ${labels.length + i + 1}`)];
        build();
        return;
      }
      plot?.setData(toPlotData(data));
    },
    setSeriesLabels(next) {
      if (destroyed) return;
      if (next.length === labels.length && next.every((label, i) => label === labels[i])) return;
      labels = [...next];
      // uPlot's legend is built with the series; rebuilding is simpler and cheap next to a redraw.
      build();
    },
    destroy() {
      destroyed = true;
      resize.disconnect();
      plot?.destroy();
      plot = null;
    },
  };
}
