//! A small line chart of tickets sold over time, drawn as one SVG polyline (no chart library is
//! needed for one series); it keeps the last points and redraws on each new one.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 320;
const HEIGHT = 120;
const MAX_POINTS = 600;

function node(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

export class SalesChart {
  constructor(label) {
    this.points = [];
    this.svg = node('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': label, class: 'chart', preserveAspectRatio: 'none' });
    this.svg.append(node('rect', { width: WIDTH, height: HEIGHT, fill: '#f6f8fa' }));
    this.line = node('polyline', { fill: 'none', stroke: '#0550ae', 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke' });
    this.svg.append(this.line);
    this.caption = document.createElement('p');
    this.caption.className = 'chart-caption';
  }

  /** Adds the number sold at time `at` (ms) and redraws. */
  add(at, sold) {
    const last = this.points[this.points.length - 1];
    if (last && last.sold === sold && at - last.at < 1000) return;
    this.points.push({ at, sold });
    if (this.points.length > MAX_POINTS) this.points.shift();
    const first = this.points[0].at;
    const span = Math.max(1000, at - first);
    const top = Math.max(1, ...this.points.map((p) => p.sold));
    const coords = this.points.map((p) => `${((p.at - first) / span) * WIDTH},${HEIGHT - 4 - (p.sold / top) * (HEIGHT - 8)}`);
    if (this.points.length === 1) coords.push(`${WIDTH},${coords[0].split(',')[1]}`);
    this.line.setAttribute('points', coords.join(' '));
    this.caption.textContent = `Sold over the last ${Math.round(span / 1000)} s: from ${this.points[0].sold} to ${sold}`;
  }
}
