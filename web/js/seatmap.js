//! A section's seat map on one canvas: every seat is a cell in a grid whose index is arithmetic
//! (row start + seat number), so finding the seat under the pointer or a label's cell is a lookup,
//! not a search. A batch of changes repaints only the cells that changed; nothing is rebuilt.
//! The keyboard moves a focus seat (arrows) and picks it (Enter or Space); a live region says
//! which seat has focus and what state it is in.

import { h } from './dom.js';

export const AVAILABLE = 0;
export const HELD = 1;
export const SOLD = 2;
const LOADING = 3;
const CODES = { available: AVAILABLE, held: HELD, sold: SOLD };
const WORDS = ['available', 'held by someone', 'sold', 'loading'];
const COLOURS = ['#1a7f37', '#d4a72c', '#8c959f', '#eaeef2'];
const PICKED = '#0550ae';
const FOCUS = '#111111';

export class SeatMap {
  /**
   * rows: [{row, seats}] as the event lists them; label: the section's name for the reader;
   * maxPick: how many seats may be picked at once; onChange(pickedLabels) after each pick.
   */
  constructor({ rows, label, maxPick = 8, onChange = () => {}, cell = 0 }) {
    this.rows = rows.map((r) => ({ row: String(r.row), seats: r.seats }));
    this.rowIndex = new Map(this.rows.map((r, i) => [r.row, i]));
    this.rowStart = new Int32Array(this.rows.length + 1);
    this.rows.forEach((r, i) => {
      this.rowStart[i + 1] = this.rowStart[i] + r.seats;
    });
    this.count = this.rowStart[this.rows.length];
    this.widest = Math.max(1, ...this.rows.map((r) => r.seats));
    this.offset = this.rows.map((r) => Math.floor((this.widest - r.seats) / 2));
    this.cell = cell || (this.widest > 120 ? 6 : this.widest > 40 ? 10 : 22);
    this.status = new Uint8Array(this.count).fill(LOADING);
    this.picked = new Uint8Array(this.count);
    this.pickedCount = 0;
    this.tally = [0, 0, 0, this.count];
    this.focus = 0;
    this.maxPick = maxPick;
    this.onChange = onChange;

    this.canvas = h('canvas', {
      tabindex: '0',
      role: 'application',
      'aria-roledescription': 'seat map',
      'aria-label': `Seat map of ${label}: arrow keys move between seats, Enter or Space picks a seat`,
    });
    this.live = h('p', { class: 'seat-focus', 'aria-live': 'polite' });
    this.summary = h('p', { class: 'seat-summary' });
    this.element = h(
      'div',
      { class: 'seatmap' },
      h('div', { class: 'seatmap-scroll' }, this.canvas),
      legend(),
      this.summary,
      this.live,
    );
    this.context = null;
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.canvas.addEventListener('click', (e) => this.click(e));
    this.canvas.addEventListener('focus', () => {
      this.paint(this.context, this.focus);
      this.say();
    });
    this.canvas.addEventListener('blur', () => this.paint(this.context, this.focus));
    this.draw();
  }

  /** The index of seat label `<row>-<n>`, or -1. */
  indexOf(label) {
    const dash = label.lastIndexOf('-');
    const r = this.rowIndex.get(label.slice(0, dash));
    const n = Number(label.slice(dash + 1));
    if (r === undefined || !(n >= 1 && n <= this.rows[r].seats)) return -1;
    return this.rowStart[r] + n - 1;
  }

  labelOf(index) {
    const r = this.rowOf(index);
    return `${this.rows[r].row}-${index - this.rowStart[r] + 1}`;
  }

  rowOf(index) {
    let lo = 0;
    let hi = this.rows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.rowStart[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Every seat's state at once ([{seat, status}]): the whole map is drawn again. */
  setAll(seats) {
    this.status.fill(LOADING);
    for (const { seat, status } of seats) {
      const i = this.indexOf(seat);
      if (i >= 0) this.status[i] = CODES[status] ?? LOADING;
    }
    this.tally = [0, 0, 0, 0];
    for (let i = 0; i < this.count; i += 1) {
      this.tally[this.status[i]] += 1;
      if (this.picked[i] && this.status[i] !== AVAILABLE) this.unpick(i);
    }
    this.draw();
    this.sum();
  }

  /** A batch of changed seats: only their cells are repainted. */
  apply(changes) {
    const context = this.context;
    let unpicked = false;
    for (const { seat, status } of changes) {
      const i = this.indexOf(seat);
      if (i < 0) continue;
      const code = CODES[status] ?? LOADING;
      if (this.status[i] === code) continue;
      this.tally[this.status[i]] -= 1;
      this.tally[code] += 1;
      this.status[i] = code;
      if (this.picked[i] && code !== AVAILABLE) {
        this.unpick(i);
        unpicked = true;
      }
      this.paint(context, i);
    }
    this.sum();
    if (unpicked) this.onChange(this.pickedLabels());
  }

  pickedLabels() {
    const labels = [];
    for (let i = 0; i < this.count; i += 1) if (this.picked[i]) labels.push(this.labelOf(i));
    return labels;
  }

  clearPicks() {
    for (let i = 0; i < this.count; i += 1) {
      if (this.picked[i]) {
        this.picked[i] = 0;
        this.paint(this.context, i);
      }
    }
    this.pickedCount = 0;
    this.onChange([]);
  }

  unpick(i) {
    this.picked[i] = 0;
    this.pickedCount -= 1;
  }

  toggle(i) {
    if (this.picked[i]) {
      this.unpick(i);
    } else if (this.status[i] === AVAILABLE && this.pickedCount < this.maxPick) {
      this.picked[i] = 1;
      this.pickedCount += 1;
    }
    this.paint(this.context, i);
    this.say();
    this.onChange(this.pickedLabels());
  }

  x(i, r) {
    return (this.offset[r] + i - this.rowStart[r]) * this.cell;
  }

  draw() {
    const dpr = window.devicePixelRatio || 1;
    const width = this.widest * this.cell;
    const height = this.rows.length * this.cell;
    this.canvas.width = Math.ceil(width * dpr);
    this.canvas.height = Math.ceil(height * dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    const context = this.canvas.getContext('2d', { alpha: false });
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, width, height);
    this.context = context;
    const gap = this.cell > 8 ? 2 : 1;
    const size = this.cell - gap;
    for (let code = 0; code < COLOURS.length; code += 1) {
      context.beginPath();
      for (let r = 0; r < this.rows.length; r += 1) {
        const y = r * this.cell;
        for (let i = this.rowStart[r]; i < this.rowStart[r + 1]; i += 1) {
          if (this.status[i] === code && !this.picked[i]) context.rect(this.x(i, r), y, size, size);
        }
      }
      context.fillStyle = COLOURS[code];
      context.fill();
    }
    for (let i = 0; i < this.count; i += 1) if (this.picked[i]) this.paint(context, i);
    this.paint(context, this.focus);
  }

  paint(context, i) {
    if (!context || i < 0 || i >= this.count) return;
    const r = this.rowOf(i);
    const x = this.x(i, r);
    const y = r * this.cell;
    const gap = this.cell > 8 ? 2 : 1;
    const size = this.cell - gap;
    context.fillStyle = '#ffffff';
    context.fillRect(x, y, this.cell, this.cell);
    context.fillStyle = this.picked[i] ? PICKED : COLOURS[this.status[i]];
    context.fillRect(x, y, size, size);
    if (i === this.focus && document.activeElement === this.canvas) {
      context.strokeStyle = FOCUS;
      context.lineWidth = 1;
      context.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1);
    }
  }

  sum() {
    const [available, held, sold] = this.tally;
    this.summary.textContent = `${available} available · ${held} held · ${sold} sold`;
  }

  say() {
    const i = this.focus;
    const r = this.rowOf(i);
    const pick = this.picked[i] ? ', picked' : '';
    this.live.textContent = `Row ${this.rows[r].row}, seat ${i - this.rowStart[r] + 1}: ${WORDS[this.status[i]]}${pick}`;
  }

  moveFocus(to) {
    const from = this.focus;
    this.focus = Math.max(0, Math.min(this.count - 1, to));
    this.paint(this.context, from);
    this.paint(this.context, this.focus);
    this.say();
  }

  key(event) {
    const i = this.focus;
    const r = this.rowOf(i);
    const column = this.offset[r] + i - this.rowStart[r];
    const toRow = (target) => {
      if (target < 0 || target >= this.rows.length) return i;
      const n = Math.max(0, Math.min(this.rows[target].seats - 1, column - this.offset[target]));
      return this.rowStart[target] + n;
    };
    switch (event.key) {
      case 'ArrowLeft':
        if (i > this.rowStart[r]) this.moveFocus(i - 1);
        break;
      case 'ArrowRight':
        if (i < this.rowStart[r + 1] - 1) this.moveFocus(i + 1);
        break;
      case 'ArrowUp':
        this.moveFocus(toRow(r - 1));
        break;
      case 'ArrowDown':
        this.moveFocus(toRow(r + 1));
        break;
      case 'Enter':
      case ' ':
        this.toggle(i);
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  click(event) {
    const box = this.canvas.getBoundingClientRect();
    const r = Math.floor((event.clientY - box.top) / this.cell);
    const column = Math.floor((event.clientX - box.left) / this.cell);
    if (r < 0 || r >= this.rows.length) return;
    const n = column - this.offset[r];
    if (n < 0 || n >= this.rows[r].seats) return;
    const i = this.rowStart[r] + n;
    this.moveFocus(i);
    this.toggle(i);
  }
}

function legend() {
  const item = (colour, text) => h('li', {}, h('span', { class: 'swatch', style: `background:${colour}` }), text);
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Seat colours' },
    item(COLOURS[AVAILABLE], 'available'),
    item(COLOURS[HELD], 'held'),
    item(COLOURS[SOLD], 'sold'),
    item(PICKED, 'your pick'),
  );
}
