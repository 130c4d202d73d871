/**
 * A Codette client in TypeScript: connect, then ping, status, chat and analyze, printing every reply.
 *
 * It uses only the standard WebSocket API, so the same code runs in a browser (a DAW's web UI) and in
 * Node.js 22+ (Node 20.10+ with `--experimental-websocket`). From a checkout, with a server running
 * (`make serve`) and the pinned compiler installed (`scripts/install-test-deps.sh`):
 *
 *   node tests/node/transpile.cjs examples/typescript_client.ts /tmp/client.mjs
 *   node --experimental-websocket /tmp/client.mjs [ws://127.0.0.1:8000/ws]
 *
 * Each reply is printed on one line as `<request> <reply as JSON>`; the exit status is 0 when every reply
 * had the type docs/protocol.md promises, 1 otherwise. In a browser, import `CodetteClient` (or call
 * `main(url)`) instead.
 *
 * The server answers the requests of one connection in order, one reply each, so replies are matched to
 * requests by a simple queue.
 */

export const DEFAULT_URL = "ws://127.0.0.1:8000/ws";

/** Any message of the protocol: a `type` and the fields that type carries. */
export interface Message {
  type: string;
  [field: string]: unknown;
}

/** `analyze.track_data`: which track. */
export interface TrackData {
  track_id?: string | number;
  track_name?: string;
  track_type?: string;
  muted?: boolean;
  soloed?: boolean;
}

/** `analyze.audio_data` as the DAW measured it (the levels-only form). */
export interface AudioLevels {
  peak_level?: number;
  rms_level?: number;
  duration?: number;
  sample_rate?: number;
}

/** The track and its levels, as a DAW would report them: a drum bus peaking close to full scale. */
export const DRUM_BUS: TrackData = {
  track_id: "track_001",
  track_name: "Drum Bus",
  track_type: "drums",
  muted: false,
  soloed: false,
};
export const DRUM_BUS_LEVELS: AudioLevels = { peak_level: -1.0, rms_level: -14.0, duration: 20.0, sample_rate: 44100 };

interface Waiter {
  resolve: (message: Message) => void;
  reject: (error: Error) => void;
}

/** One connection to a Codette server; every request method resolves with that request's reply. */
export class CodetteClient {
  private readonly inbox: Message[] = [];
  private readonly waiting: Waiter[] = [];
  private closedBecause: Error | null = null;

  private constructor(private readonly socket: WebSocket) {
    socket.onmessage = (event: MessageEvent) => this.deliver(JSON.parse(String(event.data)) as Message);
    socket.onclose = (event: CloseEvent) => this.fail(new Error(`connection closed (code ${event.code})`));
  }

  /** Connect to `url` and read the server's welcome (the `connection` message). */
  static async open(url: string = DEFAULT_URL): Promise<{ client: CodetteClient; welcome: Message }> {
    const socket = new WebSocket(url);
    const client = new CodetteClient(socket); // listening before the welcome can arrive
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error(`cannot connect to ${url}; is the server running? (make serve)`));
    });
    return { client, welcome: expectType(await client.next(), "connection") };
  }

  ping(): Promise<Message> {
    return this.request({ type: "ping" }, "pong");
  }

  status(): Promise<Message> {
    return this.request({ type: "status" }, "status_response");
  }

  chat(message: string, perspective = "mix_engineering", dawContext?: object): Promise<Message> {
    const request: Message = { type: "chat", message, perspective };
    if (dawContext !== undefined) request.daw_context = dawContext;
    return this.request(request, "chat_response");
  }

  analyze(track: TrackData, audio: AudioLevels, analysisType = "spectrum"): Promise<Message> {
    const request = { type: "analyze", track_data: track, audio_data: audio, analysis_type: analysisType };
    return this.request(request, "analysis_response");
  }

  close(): void {
    this.socket.close(1000);
  }

  /** Send `message` and resolve with the next reply, which must be of type `expected`. */
  private async request(message: Message, expected: string): Promise<Message> {
    this.socket.send(JSON.stringify(message));
    return expectType(await this.next(), expected, message.type);
  }

  private next(): Promise<Message> {
    const ready = this.inbox.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.closedBecause !== null) return Promise.reject(this.closedBecause);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private deliver(message: Message): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.resolve(message);
    else this.inbox.push(message);
  }

  private fail(error: Error): void {
    this.closedBecause = error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

function expectType(reply: Message, expected: string, request = "connect"): Message {
  if (reply.type !== expected) {
    throw new Error(`${request}: expected a '${expected}' reply, got ${JSON.stringify(reply)}`);
  }
  return reply;
}

function show(label: string, reply: Message): void {
  console.log(`${label} ${JSON.stringify(reply)}`);
}

/** The whole exchange: welcome, ping, status, a question, a levels-only analysis. */
export async function main(url: string = DEFAULT_URL): Promise<void> {
  const { client, welcome } = await CodetteClient.open(url);
  try {
    show("welcome", welcome);
    show("ping", await client.ping());
    show("status", await client.status());
    show("chat", await client.chat("How should I compress a snare?"));
    show("analyze", await client.analyze(DRUM_BUS, DRUM_BUS_LEVELS, "dynamics"));
  } finally {
    client.close();
  }
}

// Run as a script under Node: the server URL is the first argument.
const node = (globalThis as { process?: { argv: string[]; exitCode?: number } }).process;
if (node !== undefined) {
  main(node.argv[2]).catch((error: unknown) => {
    console.error(`typescript_client: ${error instanceof Error ? error.message : String(error)}`);
    node.exitCode = 1;
  });
}
