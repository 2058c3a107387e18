// The live temperature chart. The only module importing uPlot: the rest of the dashboard hands it
// aligned columnar data and device names.

import uPlot from 'uplot';
import type { AlignedSeries } from './series.js';

const HEIGHT = 320;
/** 20 distinguishable colours (one per charted device), cycled beyond. */
const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
  '#393b79', '#e6550d', '#31a354', '#ad494a', '#6b6ecf', '#bd9e39', '#de9ed6', '#3182bd', '#637939', '#843c39',
];

export interface LiveChart {
  /** `names[i]` labels column `data[i + 1]`; new names become new series, in order. */
  update(names: readonly string[], data: AlignedSeries): void;
  destroy(): void;
}

export function createLiveChart(container: HTMLElement): LiveChart {
  const width = () => Math.max(300, container.clientWidth);
  const options: uPlot.Options = {
    width: width(),
    height: HEIGHT,
    scales: { x: { time: true } },
    axes: [{}, { label: 'temperature (°C)', size: 60 }],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    series: [{ label: 'time' }],
  };
  const plot = new uPlot(options, [[]], container);
  let seriesCount = 0;

  // Follow the container's width (laptop screens, resized windows).
  const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: HEIGHT }));
  resize.observe(container);

  return {
    update(names, data) {
      while (seriesCount < names.length) {
        plot.addSeries({
          label: names[seriesCount],
          stroke: PALETTE[seriesCount % PALETTE.length],
          width: 1.5,
          spanGaps: true, // devices report at different instants: join their points across gaps
          points: { show: false },
          value: (_u, v) => (v == null ? '—' : `${v.toFixed(2)} °C`),
        });
        seriesCount++;
      }
      plot.setData(data as uPlot.AlignedData);
    },
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}
