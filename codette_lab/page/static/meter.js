/**
 * Level meters computed in the page from the samples themselves: sample peak, RMS, and BS.1770-4 loudness
 * (momentary 400 ms, short-term 3 s, integrated with the -70 LUFS absolute and -10 LU relative gates), the
 * K-weighting filters designed at the audio's own sample rate.
 *
 * Samples are fed in blocks of any size (`push`); loudness is kept per 100 ms step, so momentary and
 * short-term values and the gated integral come from whole steps, as BS.1770's 75 %-overlapping blocks do.
 */
/** The two K-weighting stages (the shelf, then the high-pass) at `rate` Hz, as BS.1770-4 defines them. */
export function kWeighting(rate) {
    let k = Math.tan((Math.PI * 1681.974450955533) / rate);
    const vh = Math.pow(10, 3.999843853973347 / 20);
    const vb = Math.pow(vh, 0.4996667741545416);
    let q = 0.7071752369554196;
    let a0 = 1 + k / q + k * k;
    const shelf = [
        (vh + (vb * k) / q + k * k) / a0,
        (2 * (k * k - vh)) / a0,
        (vh - (vb * k) / q + k * k) / a0,
        (2 * (k * k - 1)) / a0,
        (1 - k / q + k * k) / a0,
    ];
    k = Math.tan((Math.PI * 38.13547087602444) / rate);
    q = 0.5003270373238773;
    a0 = 1 + k / q + k * k;
    const highPass = [1, -2, 1, (2 * (k * k - 1)) / a0, (1 - k / q + k * k) / a0];
    return [shelf, highPass];
}
/** Decibels of a power (mean square) or amplitude ratio; -Infinity for silence. */
export function powerDb(power) {
    return power > 0 ? 10 * Math.log10(power) : -Infinity;
}
/** LUFS of a K-weighted channel-summed mean square. */
export function lufs(power) {
    return power > 0 ? -0.691 + 10 * Math.log10(power) : -Infinity;
}
class ChannelFilter {
    stages;
    state = [0, 0, 0, 0, 0, 0, 0, 0]; // x1 x2 y1 y2 of each stage
    constructor(stages) {
        this.stages = stages;
    }
    /** The K-weighted square of each sample, summed. */
    sumOfSquares(samples) {
        const [s, h] = this.stages;
        const z = this.state;
        let sum = 0;
        for (let i = 0; i < samples.length; i += 1) {
            const x = samples[i] ?? 0;
            const y1 = s[0] * x + s[1] * z[0] + s[2] * z[1] - s[3] * z[2] - s[4] * z[3];
            z[1] = z[0];
            z[0] = x;
            z[3] = z[2];
            z[2] = y1;
            const y2 = h[0] * y1 + h[1] * z[4] + h[2] * z[5] - h[3] * z[6] - h[4] * z[7];
            z[5] = z[4];
            z[4] = y1;
            z[7] = z[6];
            z[6] = y2;
            sum += y2 * y2;
        }
        return sum;
    }
}
export class Meter {
    rate;
    channels;
    windowSeconds;
    /** K-weighted mean squares of each finished 100 ms step, summed over channels. */
    steps = [];
    filters = [];
    stepLength;
    stepFill = 0;
    stepSum = 0;
    recent = [];
    peakHold = 0;
    constructor(rate, channels, windowSeconds = 0.3) {
        this.rate = rate;
        this.channels = channels;
        this.windowSeconds = windowSeconds;
        this.stepLength = Math.round(rate / 10);
        for (let c = 0; c < channels; c += 1)
            this.filters.push(new ChannelFilter(kWeighting(rate)));
    }
    /** Feed one block: one array per channel, all the same length. */
    push(block) {
        const length = block[0]?.length ?? 0;
        let peak = 0;
        let squares = 0;
        for (const channel of block) {
            for (let i = 0; i < channel.length; i += 1) {
                const x = channel[i] ?? 0;
                const magnitude = Math.abs(x);
                if (magnitude > peak)
                    peak = magnitude;
                squares += x * x;
            }
        }
        this.peakHold = Math.max(this.peakHold, peak);
        this.recent.push({ peak, squares, count: length * block.length });
        let kept = 0;
        for (let i = this.recent.length - 1; i >= 0; i -= 1) {
            kept += (this.recent[i]?.count ?? 0) / block.length;
            if (kept >= this.windowSeconds * this.rate) {
                this.recent = this.recent.slice(i);
                break;
            }
        }
        for (let start = 0; start < length;) {
            const take = Math.min(length - start, this.stepLength - this.stepFill);
            block.forEach((channel, c) => (this.stepSum += this.filters[c].sumOfSquares(channel.subarray(start, start + take))));
            this.stepFill += take;
            start += take;
            if (this.stepFill === this.stepLength) {
                this.steps.push(this.stepSum / this.stepLength);
                this.stepFill = 0;
                this.stepSum = 0;
            }
        }
    }
    /** Mean of the last `count` steps' power, or 0 before that many have passed. */
    window(count, end = this.steps.length) {
        if (end < count)
            return 0;
        let sum = 0;
        for (let i = end - count; i < end; i += 1)
            sum += this.steps[i] ?? 0;
        return sum / count;
    }
    /** BS.1770-4 integrated loudness of everything fed so far (gated 400 ms blocks, 75 % overlap). */
    integrated() {
        const blocks = [];
        for (let end = 4; end <= this.steps.length; end += 1)
            blocks.push(this.window(4, end));
        const loud = blocks.filter((power) => lufs(power) > -70);
        if (loud.length === 0)
            return -Infinity;
        const relative = lufs(loud.reduce((a, b) => a + b, 0) / loud.length) - 10;
        const gated = loud.filter((power) => lufs(power) > relative);
        return gated.length === 0 ? -Infinity : lufs(gated.reduce((a, b) => a + b, 0) / gated.length);
    }
    levels() {
        let peak = 0;
        let squares = 0;
        let count = 0;
        for (const part of this.recent) {
            peak = Math.max(peak, part.peak);
            squares += part.squares;
            count += part.count;
        }
        return {
            peak: 20 * Math.log10(peak || 1e-12),
            peakHold: 20 * Math.log10(this.peakHold || 1e-12),
            rms: powerDb(count > 0 ? squares / count : 0),
            momentary: lufs(this.window(4)),
            shortTerm: lufs(this.window(30)),
            integrated: this.integrated(),
        };
    }
}
/** Peak, RMS (dBFS) and integrated loudness of a whole decoded buffer: the levels a DAW reports of a track. */
export function measureWhole(channels, rate) {
    const meter = new Meter(rate, channels.length, Infinity);
    const size = 1 << 16;
    const length = channels[0]?.length ?? 0;
    for (let start = 0; start < length; start += size)
        meter.push(channels.map((channel) => channel.subarray(start, start + size)));
    return meter.levels();
}
