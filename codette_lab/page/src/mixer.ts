/**
 * The page's tracks in Web Audio: each decoded file plays through its own gain (mute and solo) into the
 * speakers, and a tap feeds its samples to a `Meter` while it plays. Listen A/B puts a filter (the server's
 * suggested high-pass or cut) in a track's path, or takes it out, while it plays.
 *
 * The tap is a ScriptProcessorNode: unlike an AudioWorklet it also runs outside a secure context (a
 * classroom server on plain http), and a few tracks' meters are light work for the main thread.
 */

import { Meter } from "./meter.js";

const TAP_FRAMES = 2048;

/** A function given each block of samples (one array per channel) as it plays. */
export type Listener = (block: Float32Array[]) => void;

/** An audio input or a track: a source node metered through a tap. */
export class Tap {
  readonly node: ScriptProcessorNode;
  private readonly listeners: Listener[] = [];

  constructor(context: AudioContext, channels: number) {
    this.node = context.createScriptProcessor(TAP_FRAMES, channels, channels);
    this.node.channelCountMode = "explicit";
    this.node.channelInterpretation = "discrete";
    this.node.onaudioprocess = (event: AudioProcessingEvent) => {
      const input = event.inputBuffer;
      const block = Array.from({ length: input.numberOfChannels }, (_, c) => input.getChannelData(c).slice());
      for (const listener of this.listeners) listener(block);
    };
    const silent = context.createGain(); // a tap must lead to the destination to run; its output is silence
    silent.gain.value = 0;
    this.node.connect(silent).connect(context.destination);
  }

  listen(listener: Listener): void {
    this.listeners.push(listener);
  }
}

/** A filter the server suggested, as Web Audio builds it. */
export interface FilterSpec {
  kind: "highpass" | "peaking";
  frequency: number;
  gainDb: number;
  q: number;
  label: string;
}

let shared: AudioContext | null = null;

/** The page's one AudioContext (created on first use: browsers start audio only after a user gesture). */
export function audioContext(): AudioContext {
  shared ??= new AudioContext();
  if (shared.state === "suspended") void shared.resume();
  return shared;
}

export class PlayableTrack {
  readonly gain: GainNode;
  readonly tap: Tap;
  meter: Meter;
  private source: AudioBufferSourceNode | null = null;
  private filters: AudioNode[] = [];
  onended: (() => void) | null = null;

  constructor(readonly buffer: AudioBuffer) {
    const context = audioContext();
    this.gain = context.createGain();
    this.gain.connect(context.destination);
    this.tap = new Tap(context, buffer.numberOfChannels);
    this.meter = new Meter(buffer.sampleRate, buffer.numberOfChannels);
    this.tap.listen((block) => {
      if (this.source !== null) this.meter.push(block);
    });
  }

  get playing(): boolean {
    return this.source !== null;
  }

  /** Start from the beginning (again), through `filter` when given. */
  play(filter: FilterSpec | null = null): void {
    this.stop();
    const context = audioContext();
    const source = context.createBufferSource();
    source.buffer = this.buffer;
    source.onended = () => {
      if (this.source === source) {
        this.source = null;
        this.onended?.();
      }
    };
    this.source = source;
    this.meter = new Meter(this.buffer.sampleRate, this.buffer.numberOfChannels);
    this.route(filter);
    source.start();
  }

  /** Put `filter` in the path (or take any out) without stopping. */
  route(filter: FilterSpec | null): void {
    const source = this.source;
    if (source === null) return;
    source.disconnect();
    for (const node of this.filters) node.disconnect();
    this.filters = filter === null ? [] : buildFilter(filter);
    let last: AudioNode = source;
    for (const node of this.filters) last = last.connect(node);
    last.connect(this.gain);
    last.connect(this.tap.node);
  }

  stop(): void {
    const source = this.source;
    this.source = null;
    if (source !== null) {
      source.onended = null;
      source.stop();
      source.disconnect();
    }
  }

  setAudible(audible: boolean): void {
    this.gain.gain.value = audible ? 1 : 0;
  }
}

/** A high-pass as two Butterworth sections (24 dB/octave), or one peaking cut. */
function buildFilter(spec: FilterSpec): BiquadFilterNode[] {
  const context = audioContext();
  const make = (type: BiquadFilterType, q: number, gain = 0): BiquadFilterNode => {
    const node = context.createBiquadFilter();
    node.type = type;
    node.frequency.value = spec.frequency;
    node.Q.value = q;
    node.gain.value = gain;
    return node;
  };
  // Web Audio reads a high-pass's Q in dB: the Butterworth sections' Q of 0.5412 and 1.3066 as 20·log10(Q).
  if (spec.kind === "highpass") return [make("highpass", 20 * Math.log10(0.5411961)), make("highpass", 20 * Math.log10(1.306563))];
  return [make("peaking", spec.q, spec.gainDb)];
}
