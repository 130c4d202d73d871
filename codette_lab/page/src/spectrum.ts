/**
 * A track's average spectrum, computed in the page (Hann-windowed FFTs spread over the file), drawn on a
 * canvas on a logarithmic frequency axis, with the analysis's findings marked at their frequencies.
 */

import type { Marker } from "./findings.js";

const SIZE = 4096;
const FRAMES = 48;

/** In-place radix-2 FFT of (re, im), length a power of two. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i += 1) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let length = 2; length <= n; length <<= 1) {
    const angle = (-2 * Math.PI) / length;
    for (let start = 0; start < n; start += length) {
      for (let k = 0; k < length / 2; k += 1) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const a = start + k;
        const b = a + length / 2;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

/** Power (dB) per FFT bin, averaged over frames spread through the track, channels summed. */
export function averageSpectrum(channels: readonly Float32Array[]): Float64Array {
  const length = channels[0]?.length ?? 0;
  const power = new Float64Array(SIZE / 2);
  const starts = length <= SIZE ? [0] : Array.from({ length: FRAMES }, (_, i) => Math.floor((i * (length - SIZE)) / (FRAMES - 1)));
  for (const start of starts) {
    const re = new Float64Array(SIZE);
    const im = new Float64Array(SIZE);
    for (let i = 0; i < SIZE; i += 1) {
      let x = 0;
      for (const channel of channels) x += channel[start + i] ?? 0;
      re[i] = (x / channels.length) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (SIZE - 1)));
    }
    fft(re, im);
    for (let k = 0; k < SIZE / 2; k += 1) power[k]! += (re[k]! ** 2 + im[k]! ** 2) / starts.length;
  }
  return power.map((value) => 10 * Math.log10(value + 1e-20));
}

const COLOURS: Record<string, string> = { critical: "#b3261e", warning: "#a15c00", info: "#1d5fa8" };

/** Draw `spectrum` (from `averageSpectrum` at `rate` Hz) and `marks` on `canvas`, sized to its box. */
export function drawSpectrum(canvas: HTMLCanvasElement, spectrum: Float64Array, rate: number, marks: readonly Marker[]): void {
  const width = Math.max(200, canvas.clientWidth);
  const height = Math.max(120, canvas.clientHeight);
  const scale = window.devicePixelRatio || 1;
  canvas.width = width * scale;
  canvas.height = height * scale;
  const g = canvas.getContext("2d");
  if (g === null) return;
  g.scale(scale, scale);
  g.fillStyle = "#fbfbfd";
  g.fillRect(0, 0, width, height);
  const low = 20;
  const high = rate / 2;
  const x = (frequency: number): number => (Math.log(frequency / low) / Math.log(high / low)) * width;
  const top = Math.max(...spectrum);
  const floor = top - 90;
  const y = (level: number): number => ((top - Math.max(level, floor)) / (top - floor)) * (height - 16) + 4;
  g.strokeStyle = "#d5d8de";
  g.fillStyle = "#555";
  g.font = "11px system-ui, sans-serif";
  for (const tick of [50, 100, 200, 500, 1000, 2000, 5000, 10000]) {
    if (tick >= high) continue;
    g.beginPath();
    g.moveTo(x(tick), 0);
    g.lineTo(x(tick), height);
    g.stroke();
    g.fillText(tick >= 1000 ? `${tick / 1000}k` : `${tick}`, x(tick) + 2, height - 3);
  }
  g.strokeStyle = "#333a45";
  g.lineWidth = 1.5;
  g.beginPath();
  for (let k = 1; k < spectrum.length; k += 1) {
    const frequency = (k * rate) / SIZE;
    if (frequency < low) continue;
    if (k === 1 || (k - 1) * rate < low * SIZE) g.moveTo(x(frequency), y(spectrum[k]!));
    else g.lineTo(x(frequency), y(spectrum[k]!));
  }
  g.stroke();
  let row = 0;
  for (const mark of marks) {
    if (mark.frequency <= low || mark.frequency >= high) continue;
    row += 1; // each label on its own line, so close frequencies stay readable
    g.strokeStyle = g.fillStyle = COLOURS[mark.severity] ?? COLOURS.info!;
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(x(mark.frequency), 0);
    g.lineTo(x(mark.frequency), height - 14);
    g.stroke();
    const label = `${mark.label} ${Math.round(mark.frequency)} Hz`;
    const left = Math.max(2, Math.min(x(mark.frequency) + 3, width - g.measureText(label).width - 2));
    const colour = g.fillStyle;
    g.fillStyle = "rgba(251, 251, 253, 0.85)"; // a backing so the label reads over the curve
    g.fillRect(left - 2, 13 * row - 10, g.measureText(label).width + 4, 13);
    g.fillStyle = colour;
    g.fillText(label, left, 1 + 13 * row);
  }
}
