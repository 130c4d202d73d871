/**
 * Analyze: any track with any analysis type the server offers (`masking` against a second track), the
 * audio sent as the file's own bytes with upload progress (or, with "levels only", the levels the page
 * measured); the answer shown with its findings marked on the track's spectrum; and Listen, the track as it
 * is or through a filter the answer suggested, switched while it plays.
 */

import { CodetteError, samplesBase64, type CodetteClient, type Message } from "./client.js";
import { byId, el, fill, setOptions } from "./dom.js";
import { showAnalysis } from "./answer.js";
import { markers, suggestedFilters, type Marker } from "./findings.js";
import type { FilterSpec } from "./mixer.js";
import { drawSpectrum } from "./spectrum.js";
import type { Track, TrackList } from "./tracks.js";

/** The text a server without binary audio frames answers one with. */
const NO_FRAMES = "Invalid JSON format";

export class AnalysisView {
  private readonly trackPick = byId<HTMLSelectElement>("analyze-track");
  private readonly typePick = byId<HTMLSelectElement>("analyze-type");
  private readonly otherPick = byId<HTMLSelectElement>("analyze-other");
  private readonly levelsOnly = byId<HTMLInputElement>("analyze-levels-only");
  private readonly button = byId<HTMLButtonElement>("analyze-run");
  private readonly progress = byId<HTMLProgressElement>("analyze-progress");
  private readonly note = byId<HTMLElement>("analyze-note");
  private readonly result = byId<HTMLElement>("analyze-result");
  private readonly canvas = byId<HTMLCanvasElement>("spectrum");
  private readonly marks = byId<HTMLElement>("spectrum-marks");
  private readonly listenPick = byId<HTMLSelectElement>("listen-version");
  private readonly listenPlay = byId<HTMLButtonElement>("listen-play");
  private readonly listenNote = byId<HTMLElement>("listen-note");
  private filters: FilterSpec[] = [];
  private currentMarks: Marker[] = [];
  private analyzed: Track | null = null;
  private framesUnsupported = false;
  client: CodetteClient | null = null;

  constructor(private readonly tracks: TrackList) {
    this.button.addEventListener("click", () => void this.run());
    this.typePick.addEventListener("change", () => this.showOther());
    this.listenPlay.addEventListener("click", () => this.listen());
    this.listenPick.addEventListener("change", () => this.reroute());
    this.trackPick.addEventListener("change", () => this.drawChosen());
    window.addEventListener("resize", () => this.drawChosen());
  }

  /** The analysis types the server lists (names and descriptions). */
  setTypes(types: { name: string; description: string }[]): void {
    setOptions(this.typePick, types.map((type) => ({ value: type.name, label: type.name, title: type.description })));
    this.showOther();
  }

  /** The track pickers after tracks change. */
  updateTracks(): void {
    const options = this.tracks.tracks.map((track) => ({ value: track.id, label: track.name }));
    setOptions(this.trackPick, options);
    setOptions(this.otherPick, options);
    if (this.otherPick.value === this.trackPick.value && options.length > 1) this.otherPick.value = options[1]!.value;
    this.button.disabled = options.length === 0;
    this.drawChosen();
  }

  /** The track chosen for analysis (the selected track of chats too). */
  get selectedId(): string | null {
    return this.trackPick.value || null;
  }

  private showOther(): void {
    byId("analyze-other-row").hidden = this.typePick.value !== "masking";
  }

  private drawChosen(marks = this.analyzed?.id === this.trackPick.value ? this.currentMarks : []): void {
    const track = this.tracks.find(this.trackPick.value);
    if (track !== undefined) drawSpectrum(this.canvas, track.spectrum, track.player.buffer.sampleRate, marks);
  }

  private async run(): Promise<void> {
    const track = this.tracks.find(this.trackPick.value);
    const client = this.client;
    if (track === undefined) return;
    if (client === null) {
      this.note.textContent = "Not connected: the analysis will work once the page is connected again.";
      return;
    }
    const type = this.typePick.value;
    const other = type === "masking" ? this.tracks.find(this.otherPick.value) : undefined;
    if (type === "masking" && (other === undefined || other === track)) {
      this.note.textContent = "Masking compares two tracks: add a second track and pick it as the other track.";
      return;
    }
    this.button.disabled = true;
    this.result.dataset.state = "busy";
    delete this.result.dataset.retries;
    this.progress.value = 0;
    this.note.textContent = `Analyzing ${track.name} (${type})…`;
    try {
      const reply = await this.ask(client, track, type, other);
      const analysis = reply.analysis as Record<string, unknown>;
      this.analyzed = track;
      showAnalysis(this.result, analysis);
      this.result.dataset.type = String(analysis.analysis_type ?? type);
      this.currentMarks = markers(analysis);
      fill(this.marks, ...this.currentMarks.map((mark) => el("li", { "data-severity": mark.severity }, `${mark.label}: ${Math.round(mark.frequency)} Hz`)));
      this.drawChosen();
      this.offerListening(analysis);
      this.note.textContent = `Analyzed ${track.name} (${type}).`;
      this.result.dataset.state = "done";
    } catch (error) {
      this.note.textContent = error instanceof Error ? error.message : String(error);
      this.result.dataset.type = "";
      this.result.dataset.state = "failed";
    } finally {
      this.progress.value = 1;
      this.button.disabled = false;
    }
  }

  private async ask(client: CodetteClient, track: Track, type: string, other: Track | undefined): Promise<Message> {
    if (this.levelsOnly.checked) return client.analyze(this.tracks.trackData(track), this.tracks.levels(track), type);
    const options = {
      onProgress: (sent: number) => (this.progress.value = sent),
      onBusy: (message: string, delay: number) => {
        this.note.textContent = `${message} Trying again in ${delay / 1000} s…`;
        this.result.dataset.retries = String(Number(this.result.dataset.retries ?? "0") + 1);
      },
    };
    const otherAudio = other === undefined ? undefined : { track: this.tracks.trackData(other), file: { bytes: other.bytes, name: other.fileName } };
    if (!this.framesUnsupported) {
      try {
        return await client.analyzeFile(this.tracks.trackData(track), { bytes: track.bytes, name: track.fileName }, type, otherAudio, options);
      } catch (error) {
        if (!(error instanceof CodetteError && error.reply?.message === NO_FRAMES)) throw error;
        this.framesUnsupported = true; // an older server: send the decoded samples instead
      }
    }
    return this.askWithSamples(client, track, type, other);
  }

  private askWithSamples(client: CodetteClient, track: Track, type: string, other: Track | undefined): Promise<Message> {
    const audio = (chosen: Track): Record<string, unknown> => {
      const buffer = chosen.player.buffer;
      const channels = Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c));
      return { samples: samplesBase64(channels), channels: channels.length, sample_rate: buffer.sampleRate };
    };
    const request: Message = { type: "analyze", track_data: this.tracks.trackData(track), audio_data: audio(track), analysis_type: type };
    if (other !== undefined) request.other_track = { track_data: this.tracks.trackData(other), audio_data: audio(other) };
    return client.analyzeMessage(request);
  }

  private offerListening(analysis: Record<string, unknown>): void {
    this.filters = suggestedFilters(analysis);
    setOptions(this.listenPick, [
      { value: "-1", label: "as it is" },
      ...this.filters.map((filter, i) => ({ value: String(i), label: filter.label })),
    ]);
    this.listenPick.value = "-1";
    byId("listen").hidden = false;
    this.listenNote.textContent = this.filters.length === 0 ? "The answer suggests no filter to try." : "Pick a version while it plays to hear A/B.";
  }

  private chosenFilter(): FilterSpec | null {
    return this.filters[Number(this.listenPick.value)] ?? null;
  }

  private listen(): void {
    const track = this.analyzed;
    if (track === null) return;
    if (track.player.playing) track.player.stop();
    else track.player.play(this.chosenFilter());
    this.tracks.refresh();
    this.listenPlay.textContent = track.player.playing ? "Stop" : "Play";
    track.player.onended = () => {
      this.listenPlay.textContent = "Play";
      this.tracks.refresh();
    };
    this.reroute();
  }

  private reroute(): void {
    const filter = this.chosenFilter();
    this.analyzed?.player.route(filter);
    byId("listen").dataset.version = filter === null ? "as it is" : filter.label;
  }
}
