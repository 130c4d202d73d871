/**
 * The project's one TypeScript client of the Codette protocol (docs/protocol.md), used by the join page and
 * by examples/typescript_client.ts.
 *
 * It needs only the standard WebSocket API, so it runs in a browser and under Node.js 22+ (Node 20.10+ with
 * `--experimental-websocket`). Replies are matched to requests as the server sends them: every reply in the
 * order of its request, except `pong`, which the server sends as soon as it reads the `ping`.
 *
 * Audio is sent as the file's own encoded bytes in one binary frame (`encodeAudioFrame`, the "CDA1" layout
 * of docs/protocol.md); a `Server busy:` reply is retried by itself with growing delays.
 */
/** The magic that opens a binary audio frame. */
export const AUDIO_FRAME_MAGIC = "CDA1";
/** The delays (ms) waited before each new try of a request the server was too busy for. */
export const BUSY_RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 8000, 8000, 8000];
/** An `error` reply, or a connection that ended before the reply came. */
export class CodetteError extends Error {
    reply;
    constructor(message, reply = null) {
        super(message);
        this.reply = reply;
        this.name = "CodetteError";
    }
    /** True when the server said it was too busy and the same request may be sent again later. */
    get busy() {
        return this.reply !== null && isBusyReply(this.reply);
    }
}
/** A connection that got no answer in time (a silent network, a server that hangs), rather than a refusal. */
export class CodetteTimeout extends CodetteError {
    constructor(message) {
        super(message);
        this.name = "CodetteTimeout";
    }
}
/** True for an `error` reply whose message starts with `Server busy:`. */
export function isBusyReply(reply) {
    return reply.type === "error" && typeof reply.message === "string" && reply.message.startsWith("Server busy:");
}
/**
 * One binary frame holding an `analyze` request and the files' bytes: "CDA1", the header's length (unsigned
 * 32-bit big-endian), the header (UTF-8 JSON), then each file's bytes in the order the header names them.
 */
export function encodeAudioFrame(header, files) {
    const headerBytes = new TextEncoder().encode(JSON.stringify(header));
    const size = 8 + headerBytes.length + files.reduce((total, file) => total + file.length, 0);
    const frame = new Uint8Array(size);
    frame.set(new TextEncoder().encode(AUDIO_FRAME_MAGIC), 0);
    new DataView(frame.buffer).setUint32(4, headerBytes.length, false);
    frame.set(headerBytes, 8);
    let offset = 8 + headerBytes.length;
    for (const file of files) {
        frame.set(file, offset);
        offset += file.length;
    }
    return frame;
}
/** The `audio_data` of a file sent in the frame: how many bytes it has and the user's name for it. */
function attachmentOf(file) {
    const attachment = { bytes: file.bytes.length };
    if (file.name !== undefined)
        attachment.name = file.name;
    return { attachment };
}
function wait(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
/** One connection to a Codette server; every request method resolves with that request's reply. */
export class CodetteClient {
    socket;
    inbox = [];
    waiting = [];
    pongs = [];
    closedBecause = null;
    /** Called once when the connection ends, with the close code (1006 when there was none). */
    onclose = null;
    constructor(socket) {
        this.socket = socket;
        socket.binaryType = "arraybuffer";
        socket.onmessage = (event) => this.deliver(JSON.parse(String(event.data)));
        socket.onclose = (event) => {
            this.fail(new CodetteError(`connection closed (code ${event.code})`));
            this.onclose?.(event.code);
        };
    }
    /** Connect to `url` and read the server's welcome (the `connection` message), within `timeoutMs`. */
    static async open(url, timeoutMs = 10_000) {
        const socket = new WebSocket(url);
        const client = new CodetteClient(socket); // listening before the welcome can arrive
        let timer;
        const late = new Promise((_, reject) => {
            timer = setTimeout(() => {
                socket.close();
                reject(new CodetteTimeout(`no answer from ${url} within ${timeoutMs / 1000} s`));
            }, timeoutMs);
        });
        try {
            await Promise.race([
                late,
                new Promise((resolve, reject) => {
                    socket.onopen = () => resolve();
                    socket.onerror = () => reject(new CodetteError(`cannot connect to ${url}; is the server running? (make serve)`));
                }),
            ]);
            socket.onerror = null;
            const welcome = await Promise.race([late, client.next(client.waiting)]);
            return { client, welcome: expectType(welcome, "connection", "connect") };
        }
        finally {
            clearTimeout(timer);
        }
    }
    /** True while the connection is open. */
    get open() {
        return this.socket.readyState === WebSocket.OPEN;
    }
    /** A `ping`, resolved by the next `pong` (the server answers pings at once, ahead of other replies). */
    ping() {
        this.socket.send(JSON.stringify({ type: "ping" }));
        return this.next(this.pongs).then((reply) => expectType(reply, "pong", "ping"));
    }
    status() {
        return this.request({ type: "status" }, "status_response");
    }
    chat(message, perspective, dawContext) {
        const request = { type: "chat", message };
        if (perspective !== undefined)
            request.perspective = perspective;
        if (dawContext !== undefined)
            request.daw_context = dawContext;
        return this.request(request, "chat_response");
    }
    /** A levels-only analysis (the original API's form). */
    analyze(track, audio, analysisType = "spectrum") {
        const request = { type: "analyze", track_data: track, audio_data: audio, analysis_type: analysisType };
        return this.request(request, "analysis_response");
    }
    /**
     * An analysis of the audio itself: `file`'s own bytes (and `other`'s, for `masking`) in one binary frame.
     * A `Server busy:` reply is retried after the delays of `BUSY_RETRY_DELAYS_MS`.
     */
    async analyzeFile(track, file, analysisType = "spectrum", other, options = {}) {
        const header = { type: "analyze", track_data: track, audio_data: attachmentOf(file), analysis_type: analysisType };
        const files = [file.bytes];
        if (other !== undefined) {
            header.other_track = { track_data: other.track, audio_data: attachmentOf(other.file) };
            files.push(other.file.bytes);
        }
        return this.retryingBusy(encodeAudioFrame(header, files), options);
    }
    /** Any `analyze` request as JSON (samples, file paths, levels), retried while the server is busy. */
    analyzeMessage(request, options = {}) {
        return this.retryingBusy(JSON.stringify(request), options);
    }
    /** Send `frame` until its reply is not `Server busy:` (or the delays run out); expect an analysis. */
    async retryingBusy(frame, options) {
        for (let attempt = 0;; attempt += 1) {
            const reply = await this.exchange(frame, options.onProgress);
            const delay = BUSY_RETRY_DELAYS_MS[attempt];
            if (!isBusyReply(reply) || delay === undefined)
                return expectType(reply, "analysis_response", "analyze");
            options.onBusy?.(String(reply.message), delay);
            await wait(delay);
        }
    }
    /** Close the connection (1000, normal closure). */
    close() {
        this.socket.close(1000);
    }
    /** Send `message` and resolve with its reply, which must be of type `expected`. */
    async request(message, expected) {
        return expectType(await this.exchange(JSON.stringify(message)), expected, message.type);
    }
    /** Send one frame and resolve with the next in-order reply; report how much of a large frame has left. */
    exchange(frame, onProgress) {
        if (this.closedBecause !== null)
            return Promise.reject(this.closedBecause);
        this.socket.send(frame);
        const reply = this.next(this.waiting);
        if (onProgress !== undefined && typeof frame !== "string")
            this.watchUpload(frame.length, onProgress, reply);
        return reply;
    }
    /** Report the share of `size` bytes the socket has handed on, until its buffer empties or the reply comes. */
    watchUpload(size, onProgress, reply) {
        let answered = false;
        reply.then(() => (answered = true), () => (answered = true));
        const look = () => {
            const sent = Math.min(1, Math.max(0, 1 - this.socket.bufferedAmount / size));
            onProgress(answered ? 1 : sent);
            if (!answered && sent < 1)
                setTimeout(look, 50);
        };
        look();
    }
    next(queue) {
        if (queue === this.waiting) {
            const ready = this.inbox.shift();
            if (ready !== undefined)
                return Promise.resolve(ready);
        }
        if (this.closedBecause !== null)
            return Promise.reject(this.closedBecause);
        return new Promise((resolve, reject) => queue.push({ resolve, reject }));
    }
    deliver(message) {
        if (message.type === "pong") {
            this.pongs.shift()?.resolve(message);
            return;
        }
        const waiter = this.waiting.shift();
        if (waiter !== undefined)
            waiter.resolve(message);
        else
            this.inbox.push(message);
    }
    fail(error) {
        this.closedBecause = error;
        for (const waiter of [...this.waiting.splice(0), ...this.pongs.splice(0)])
            waiter.reject(error);
    }
}
/** `reply` when it has the type `expected`; an `error` reply, or any other, becomes a `CodetteError`. */
export function expectType(reply, expected, request) {
    if (reply.type === expected)
        return reply;
    if (reply.type === "error")
        throw new CodetteError(String(reply.message), reply);
    throw new CodetteError(`${request}: expected a '${expected}' reply, got ${JSON.stringify(reply)}`, reply);
}
/** Base64 of little-endian float32 PCM, channels interleaved: `audio_data.samples` for servers without frames. */
export function samplesBase64(channels) {
    const frames = channels[0]?.length ?? 0;
    const interleaved = new Float32Array(frames * channels.length);
    channels.forEach((channel, c) => {
        for (let i = 0; i < frames; i += 1)
            interleaved[i * channels.length + c] = channel[i] ?? 0;
    });
    const bytes = new Uint8Array(interleaved.buffer); // little-endian on every platform a browser runs on
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000)
        text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
}
