/**
 * The page's tracks: audio files added by drag-and-drop or the file picker, decoded by the browser, each with
 * a name, a track type guessed from it (changeable), play/stop/solo/mute and live meters. Their levels make
 * the `daw_context` of every chat and the levels of levels-only analyses.
 */

import { db, el, fill, setOptions } from "./dom.js";
import { measureWhole, type Levels } from "./meter.js";
import { audioContext, PlayableTrack } from "./mixer.js";
import { averageSpectrum } from "./spectrum.js";
import type { TrackTypes } from "./tracktypes.js";

export interface Track {
  id: string;
  name: string;
  type: string;
  fileName: string;
  bytes: Uint8Array;
  player: PlayableTrack;
  /** Levels of the whole file, measured once when it was added. */
  whole: Levels;
  spectrum: Float64Array;
  muted: boolean;
  soloed: boolean;
  row: HTMLElement;
}

/** A file name without its extension, as a track name. */
function nameOf(fileName: string): string {
  return fileName.replace(/\.[^.]+$/, "") || fileName;
}

export class TrackList {
  readonly tracks: Track[] = [];
  private counter = 0;
  private frame = 0;
  /** Called when tracks are added, removed or renamed. */
  onchange: () => void = () => undefined;

  constructor(
    private readonly list: HTMLElement,
    private readonly types: TrackTypes,
    private readonly say: (sentence: string) => void,
  ) {}

  /** Decode and add each file; a file the browser cannot decode is named in a sentence and skipped. */
  async add(files: Iterable<File>): Promise<void> {
    const added: string[] = [];
    const failed: string[] = [];
    for (const file of files) {
      this.say(`Decoding ${file.name}…`);
      try {
        const bytes = new Uint8Array(await file.arrayBuffer());
        const buffer = await audioContext().decodeAudioData(bytes.slice().buffer);
        this.push(file.name, bytes, buffer);
        added.push(file.name);
      } catch {
        failed.push(file.name);
      }
    }
    const parts = [];
    if (added.length > 0) parts.push(`Added ${added.join(", ")}.`);
    if (failed.length > 0) parts.push(`Not audio this browser can decode: ${failed.join(", ")}.`);
    this.say(parts.join(" "));
    this.onchange();
  }

  private push(fileName: string, bytes: Uint8Array, buffer: AudioBuffer): void {
    this.counter += 1;
    const channels = Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c));
    const name = nameOf(fileName);
    const track: Track = {
      id: `page_${String(this.counter).padStart(3, "0")}`,
      name,
      type: this.types.guess(name),
      fileName,
      bytes,
      player: new PlayableTrack(buffer),
      whole: measureWhole(channels, buffer.sampleRate),
      spectrum: averageSpectrum(channels),
      muted: false,
      soloed: false,
      row: el("li", { class: "track" }),
    };
    track.player.onended = () => this.refresh();
    this.tracks.push(track);
    this.list.append(track.row);
    this.render(track);
  }

  find(id: string): Track | undefined {
    return this.tracks.find((track) => track.id === id);
  }

  private render(track: Track): void {
    const name = el("input", { type: "text", value: track.name, "aria-label": "Track name", class: "track-name" });
    name.addEventListener("change", () => {
      track.name = name.value.trim() || nameOf(track.fileName);
      this.onchange();
    });
    const type = el("select", { "aria-label": `Track type of ${track.name}`, class: "track-type" });
    setOptions(type, this.types.table.track_types.map((value) => ({ value, label: value })));
    type.value = track.type;
    type.addEventListener("change", () => {
      track.type = type.value;
      this.onchange();
    });
    const play = el("button", { type: "button", class: "play" }, "Play");
    play.addEventListener("click", () => {
      if (track.player.playing) track.player.stop();
      else track.player.play();
      this.refresh();
    });
    const solo = el("button", { type: "button", class: "solo", "aria-pressed": "false" }, "Solo");
    solo.addEventListener("click", () => {
      track.soloed = !track.soloed;
      this.refresh();
    });
    const mute = el("button", { type: "button", class: "mute", "aria-pressed": "false" }, "Mute");
    mute.addEventListener("click", () => {
      track.muted = !track.muted;
      this.refresh();
    });
    const whole = track.whole;
    fill(
      track.row,
      el("div", { class: "track-head" }, name, type),
      el("div", { class: "track-file", title: track.fileName }, track.fileName),
      el("div", { class: "track-controls" }, play, solo, mute),
      el("meter", { class: "level", min: "-60", max: "0", low: "-18", high: "-6", optimum: "-24", value: "-60", "aria-label": "Peak level" }),
      el("div", { class: "meter-text", "aria-live": "off" }, "stopped"),
      el(
        "div",
        { class: "track-whole" },
        `Whole file: peak ${db(whole.peak, "dBFS")}, RMS ${db(whole.rms, "dBFS")}, ${db(whole.integrated, "LUFS")} integrated`,
      ),
    );
  }

  /** Buttons, gains and meters after any change; keeps the meters moving while something plays. */
  refresh(): void {
    const anySolo = this.tracks.some((track) => track.soloed);
    for (const track of this.tracks) {
      track.player.setAudible(!track.muted && (!anySolo || track.soloed));
      const play = track.row.querySelector("button.play");
      if (play !== null) play.textContent = track.player.playing ? "Stop" : "Play";
      track.row.querySelector("button.solo")?.setAttribute("aria-pressed", String(track.soloed));
      track.row.querySelector("button.mute")?.setAttribute("aria-pressed", String(track.muted));
      this.showMeter(track);
    }
    if (this.frame === 0 && this.tracks.some((track) => track.player.playing)) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.refresh();
      });
    }
  }

  private showMeter(track: Track): void {
    const bar = track.row.querySelector("meter");
    const text = track.row.querySelector(".meter-text");
    if (bar === null || text === null) return;
    if (!track.player.playing) {
      bar.value = -60;
      text.textContent = "stopped";
      track.row.dataset.peak = "";
      track.row.dataset.rms = "";
      return;
    }
    const now = track.player.meter.levels();
    bar.value = Math.max(-60, now.peak);
    track.row.dataset.peak = now.peak.toFixed(2);
    track.row.dataset.rms = now.rms.toFixed(2);
    text.textContent = `peak ${db(now.peak, "dBFS")} · RMS ${db(now.rms, "dBFS")} · M ${db(now.momentary, "LUFS")} · S ${db(now.shortTerm, "LUFS")}`;
  }

  /** The track's facts as `analyze.track_data`. */
  trackData(track: Track): Record<string, unknown> {
    return { track_id: track.id, track_name: track.name, track_type: track.type, muted: track.muted, soloed: track.soloed };
  }

  /** The levels the page measured, as `analyze.audio_data` of a levels-only analysis. */
  levels(track: Track): Record<string, number> {
    const levels: Record<string, number> = {
      duration: track.player.buffer.duration,
      sample_rate: track.player.buffer.sampleRate,
    };
    if (Number.isFinite(track.whole.peak) && track.whole.peak > -200) levels.peak_level = track.whole.peak;
    if (Number.isFinite(track.whole.rms)) levels.rms_level = track.whole.rms;
    return levels;
  }

  /** Every track with its levels, and the selected one: the `daw_context` of a chat. */
  dawContext(selectedId: string | null): Record<string, unknown> {
    const tracks = this.tracks.map((track) => {
      const entry: Record<string, unknown> = { ...this.trackData(track), ...this.levels(track) };
      if (Number.isFinite(track.whole.integrated)) entry.loudness_lufs = track.whole.integrated;
      return entry;
    });
    const context: Record<string, unknown> = { daw: "Codette join page", tracks };
    const selected = tracks.find((track) => track.track_id === selectedId);
    if (selected !== undefined) {
      context.selected_track_id = selectedId;
      context.selected_track = selected;
    }
    return context;
  }
}
