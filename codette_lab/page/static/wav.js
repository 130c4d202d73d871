/**
 * The last seconds of live audio kept in memory, and PCM written as a WAV file: what "analyze what just
 * played" sends in the binary frame.
 */
/** The most recent `seconds` of every channel, overwritten in a ring. */
export class RecentAudio {
    rate;
    seconds;
    rings;
    written = 0;
    constructor(rate, channels, seconds) {
        this.rate = rate;
        this.seconds = seconds;
        this.rings = Array.from({ length: channels }, () => new Float32Array(Math.round(rate * seconds)));
    }
    get channels() {
        return this.rings.length;
    }
    /** Seconds held now (up to `seconds`). */
    get heldSeconds() {
        return Math.min(this.written, this.rings[0]?.length ?? 0) / this.rate;
    }
    push(block) {
        const size = this.rings[0]?.length ?? 0;
        const length = block[0]?.length ?? 0;
        this.rings.forEach((ring, c) => {
            const source = block[Math.min(c, block.length - 1)];
            for (let i = 0; i < length; i += 1)
                ring[(this.written + i) % size] = source[i] ?? 0;
        });
        this.written += length;
    }
    /** What is held, oldest first, one array per channel. */
    snapshot() {
        const size = this.rings[0]?.length ?? 0;
        const held = Math.min(this.written, size);
        const start = (this.written - held) % size;
        return this.rings.map((ring) => {
            const out = new Float32Array(held);
            for (let i = 0; i < held; i += 1)
                out[i] = ring[(start + i) % size] ?? 0;
            return out;
        });
    }
}
/** A 16-bit PCM WAV file of `channels` (each the same length) at `rate` Hz. */
export function wavBytes(channels, rate) {
    const frames = channels[0]?.length ?? 0;
    const dataSize = frames * channels.length * 2;
    const bytes = new Uint8Array(44 + dataSize);
    const view = new DataView(bytes.buffer);
    const text = (offset, value) => {
        for (let i = 0; i < value.length; i += 1)
            view.setUint8(offset + i, value.charCodeAt(i));
    };
    text(0, "RIFF");
    view.setUint32(4, 36 + dataSize, true);
    text(8, "WAVE");
    text(12, "fmt ");
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true); // PCM
    view.setUint16(22, channels.length, true);
    view.setUint32(24, rate, true);
    view.setUint32(28, rate * channels.length * 2, true);
    view.setUint16(32, channels.length * 2, true);
    view.setUint16(34, 16, true);
    text(36, "data");
    view.setUint32(40, dataSize, true);
    let offset = 44;
    for (let i = 0; i < frames; i += 1) {
        for (const channel of channels) {
            const x = Math.max(-1, Math.min(1, channel[i] ?? 0));
            view.setInt16(offset, Math.round(x < 0 ? x * 0x8000 : x * 0x7fff), true);
            offset += 2;
        }
    }
    return bytes;
}
