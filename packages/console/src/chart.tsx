/**
 * One live chart: uPlot on a canvas, drawn from the columns it is given (one point per second), resized
 * with its box. The figure's caption says in words what the chart shows now, for people who cannot see
 * the canvas; `data-total` and `data-last` carry the numbers drawn (the tests read them).
 */
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'

export interface ChartLine {
  readonly label: string
  /** A stroke colour with at least 3:1 contrast on the white background. */
  readonly color: string
  readonly dash?: number[]
  /** Marks each point: a quantile exists only in seconds with requests, often single seconds apart. */
  readonly points?: boolean
  readonly values: readonly (number | null)[]
}

interface Props {
  readonly id: string
  readonly title: string
  /** Appended to axis values: `req/s`, `ms`. */
  readonly unit: string
  readonly x: readonly number[]
  readonly lines: readonly ChartLine[]
  /** The caption's summary of what the chart shows now. */
  readonly summary: string
}

const AXIS = '#374151'
const GRID = '#e5e7eb'
const HEIGHT = 180

export function Chart({ id, title, unit, x, lines, summary }: Props) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const shape = lines.map((l) => `${l.label}:${l.color}`).join('|')

  useEffect(() => {
    const el = box.current
    if (el === null) return
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, max ?? 1)] },
      },
      axes: [
        { stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } },
        {
          stroke: AXIS,
          grid: { stroke: GRID, width: 1 },
          ticks: { stroke: GRID, width: 1 },
          size: unit === 'ms' ? 72 : 56,
          values: (_u, splits) => splits.map((v) => `${formatNumber(v)}${unit === 'ms' ? ' ms' : ''}`),
        },
      ],
      series: [
        {},
        ...lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          width: 2,
          ...(l.dash !== undefined ? { dash: l.dash } : {}),
          points: l.points === true ? { show: true, size: 5, fill: l.color } : { show: false },
          spanGaps: false,
        })),
      ],
    }
    const chart = new uPlot(opts, [[...x], ...lines.map((l) => [...l.values])] as uPlot.AlignedData, el)
    plot.current = chart
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(el.clientWidth, 200), height: HEIGHT }),
    )
    resize.observe(el)
    return () => {
      resize.disconnect()
      chart.destroy()
      plot.current = null
    }
    // Rebuilt only when the lines change (a route picked); new data goes through setData below.
  }, [shape])

  useEffect(() => {
    plot.current?.setData([[...x], ...lines.map((l) => [...l.values])] as uPlot.AlignedData)
  }, [x, lines])

  const main = lines[0]?.values ?? []
  const total = main.reduce<number>((sum, v) => sum + (v ?? 0), 0)
  const last = [...main].reverse().find((v) => v !== null) ?? null
  return (
    <figure
      class="chart"
      data-chart={id}
      data-total={String(total)}
      data-last={last === null ? '' : String(last)}
    >
      <figcaption>
        <span class="chart-title">{title}</span>
        <span class="chart-summary">{summary}</span>
        <span class="chart-legend">
          {lines.map((l) => (
            <span class="chart-key" key={l.label}>
              <span
                class={`swatch${l.dash !== undefined ? ' swatch-dashed' : ''}`}
                data-color={l.color}
                ref={paint(l.color)}
              />
              {l.label}
            </span>
          ))}
        </span>
      </figcaption>
      <div class="chart-plot" ref={box} aria-hidden="true" />
    </figure>
  )
}

/** Colours a legend swatch through the CSSOM (a `style` attribute would need 'unsafe-inline' in the CSP). */
function paint(color: string) {
  return (el: HTMLElement | null) => {
    if (el !== null) el.style.borderColor = color
  }
}

export function formatNumber(v: number): string {
  if (v === 0) return '0'
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}k`
  if (Math.abs(v) >= 10) return String(Math.round(v))
  return String(Math.round(v * 100) / 100)
}
