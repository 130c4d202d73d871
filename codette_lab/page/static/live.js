/**
 * Live input: an audio input (a loopback device the DAW's master or a bus feeds) metered in the page, the
 * last seconds kept, levels-only analyses sent at a steady rate, and "analyze what just played" on demand or
 * every N seconds (the kept audio written as WAV and sent in the binary frame).
 *
 * Browsers allow capture only in a secure context (https, or http on localhost); elsewhere the page says so.
 */
import { showAnalysis } from "./answer.js";
import { byId, db, setOptions } from "./dom.js";
import { Meter } from "./meter.js";
import { audioContext, Tap } from "./mixer.js";
import { RecentAudio, wavBytes } from "./wav.js";
const TRACK = { track_id: "live_input", track_name: "Live input", track_type: "master" };
export class LiveInput {
    start = byId("live-start");
    note = byId("live-note");
    levels = byId("live-levels");
    keep = byId("live-keep");
    levelsEvery = byId("live-levels-every");
    analyzeEvery = byId("live-analyze-every");
    typePick = byId("live-type");
    analyzeNow = byId("live-analyze");
    result = byId("live-result");
    meter = null;
    recent = null;
    stream = null;
    timers = [];
    busy = false;
    client = null;
    constructor() {
        if (!window.isSecureContext || navigator.mediaDevices?.getUserMedia === undefined) {
            this.start.disabled = true;
            this.note.textContent =
                "Live input needs a secure page: open it as https://… (ask your teacher for an encrypted classroom) or on this computer as http://localhost.";
            return;
        }
        this.start.addEventListener("click", () => void (this.stream === null ? this.begin() : this.end()));
        this.analyzeNow.addEventListener("click", () => void this.analyzeRecent());
        this.levelsEvery.addEventListener("change", () => this.schedule());
        this.analyzeEvery.addEventListener("change", () => this.schedule());
    }
    /** The live input as one more track of a chat's `daw_context` (its levels now), or null when off. */
    contextTrack() {
        if (this.stream === null || this.meter === null)
            return null;
        const now = this.meter.levels();
        const track = { ...TRACK, muted: false, soloed: false, sample_rate: this.meter.rate };
        if (Number.isFinite(now.peak) && now.peak > -200)
            track.peak_level = now.peak;
        if (Number.isFinite(now.rms))
            track.rms_level = now.rms;
        if (Number.isFinite(now.shortTerm))
            track.loudness_lufs = now.shortTerm;
        return track;
    }
    setTypes(types) {
        setOptions(this.typePick, types.filter((type) => type.name !== "masking").map((type) => ({ value: type.name, label: type.name, title: type.description })));
    }
    async begin() {
        try {
            this.stream = await navigator.mediaDevices.getUserMedia({
                audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
            });
        }
        catch (error) {
            this.note.textContent = `No audio input: ${error instanceof Error ? error.message : String(error)}`;
            return;
        }
        const context = audioContext();
        const source = context.createMediaStreamSource(this.stream);
        const channels = Math.max(1, source.channelCount);
        const tap = new Tap(context, channels);
        this.meter = new Meter(context.sampleRate, channels);
        this.recent = new RecentAudio(context.sampleRate, channels, Math.max(1, Number(this.keep.value) || 30));
        tap.listen((block) => {
            this.meter?.push(block);
            this.recent?.push(block);
        });
        source.connect(tap.node);
        const label = this.stream.getAudioTracks()[0]?.label ?? "the audio input";
        this.note.textContent = `Listening to ${label}.`;
        this.start.textContent = "Stop input";
        this.analyzeNow.disabled = false;
        this.schedule();
        this.show();
    }
    end() {
        for (const track of this.stream?.getTracks() ?? [])
            track.stop();
        this.stream = null;
        this.start.textContent = "Start input";
        this.analyzeNow.disabled = true;
        this.schedule();
        this.note.textContent = "Input stopped.";
    }
    schedule() {
        for (const timer of this.timers)
            clearInterval(timer);
        this.timers = [];
        if (this.stream === null)
            return;
        const levelsEvery = Number(this.levelsEvery.value);
        if (levelsEvery > 0)
            this.timers.push(setInterval(() => void this.sendLevels(), levelsEvery * 1000));
        const analyzeEvery = Number(this.analyzeEvery.value);
        if (analyzeEvery > 0)
            this.timers.push(setInterval(() => void this.analyzeRecent(), analyzeEvery * 1000));
    }
    show() {
        if (this.stream === null || this.meter === null)
            return;
        const now = this.meter.levels();
        this.levels.dataset.integrated = Number.isFinite(now.integrated) ? now.integrated.toFixed(2) : "";
        this.levels.dataset.peak = now.peakHold.toFixed(2);
        this.levels.textContent =
            `peak ${db(now.peak, "dBFS")} (max ${db(now.peakHold, "dBFS")}) · RMS ${db(now.rms, "dBFS")} · ` +
                `M ${db(now.momentary, "LUFS")} · S ${db(now.shortTerm, "LUFS")} · I ${db(now.integrated, "LUFS")} · ` +
                `${(this.recent?.heldSeconds ?? 0).toFixed(0)} s kept`;
        requestAnimationFrame(() => this.show());
    }
    /** A levels-only analysis of the input's last moments, as a DAW reports its meters. */
    async sendLevels() {
        if (this.client === null || this.meter === null || this.busy)
            return;
        const now = this.meter.levels();
        if (!Number.isFinite(now.rms))
            return;
        const audio = { peak_level: now.peak, rms_level: now.rms, sample_rate: this.meter.rate };
        try {
            const reply = await this.client.analyze(TRACK, audio, "loudness");
            this.levels.dataset.levelsAnswers = String(Number(this.levels.dataset.levelsAnswers ?? "0") + 1);
            byId("live-levels-answer").textContent = String(reply.analysis.codette_insights ?? "");
        }
        catch (error) {
            byId("live-levels-answer").textContent = error instanceof Error ? error.message : String(error);
        }
    }
    /** "Analyze what just played": the kept audio as WAV in the binary frame. */
    async analyzeRecent() {
        const recent = this.recent;
        if (this.client === null || recent === null || this.busy || recent.heldSeconds < 0.5)
            return;
        this.busy = true;
        this.analyzeNow.disabled = true;
        try {
            const file = { bytes: wavBytes(recent.snapshot(), recent.rate), name: "live-input.wav" };
            const reply = await this.client.analyzeFile(TRACK, file, this.typePick.value || "loudness");
            showAnalysis(this.result, reply.analysis);
            this.result.dataset.type = String(reply.analysis.analysis_type ?? "");
        }
        catch (error) {
            this.result.textContent = error instanceof Error ? error.message : String(error);
        }
        finally {
            this.busy = false;
            this.analyzeNow.disabled = this.stream === null;
        }
    }
}
