/**
 * A Codette client in TypeScript: connect, then ping, status, chat and analyze, printing every reply.
 *
 * It is built on the project's one TypeScript client (codette_lab/page/src/client.ts, the join page's too),
 * which uses only the standard WebSocket API, so the same code runs in a browser (a DAW's web UI) and in
 * Node.js 22+ (Node 20.10+ with `--experimental-websocket`). From a checkout, with a server running
 * (`make serve`) and the pinned compiler installed (`scripts/install-test-deps.sh`):
 *
 *   tests/node/node_modules/.bin/tsc --strict --target es2022 --module esnext --outDir /tmp/ts examples/typescript_client.ts
 *   echo '{"type": "module"}' > /tmp/ts/package.json
 *   node --experimental-websocket /tmp/ts/examples/typescript_client.js [ws://127.0.0.1:8000/ws] [song.flac]
 *
 * Given an audio file (WAV, FLAC, OGG, MP3, AIFF), it then sends the file's own bytes for a `quality` analysis
 * in one binary frame (the `CDA1` frame of docs/protocol.md), printed as `analyze_file`; a `Server busy:`
 * reply is retried by the client after growing delays.
 *
 * Each reply is printed on one line as `<request> <reply as JSON>`; the exit status is 0 when every reply
 * had the type docs/protocol.md promises, 1 otherwise. In a browser, import `CodetteClient` (or call
 * `main(url)`) instead.
 */

import { CodetteClient, type AudioLevels, type Message, type TrackData } from "../codette_lab/page/src/client.js";

export { CodetteClient };
export const DEFAULT_URL = "ws://127.0.0.1:8000/ws";

/** The track and its levels, as a DAW would report them: a drum bus peaking close to full scale. */
export const DRUM_BUS: TrackData = {
  track_id: "track_001",
  track_name: "Drum Bus",
  track_type: "drums",
  muted: false,
  soloed: false,
};
export const DRUM_BUS_LEVELS: AudioLevels = { peak_level: -1.0, rms_level: -14.0, duration: 20.0, sample_rate: 44100 };

function show(label: string, reply: Message): void {
  console.log(`${label} ${JSON.stringify(reply)}`);
}

/** The bytes of a file, read with Node's own module (loaded by name, so the browser library is all tsc needs). */
async function readFile(path: string): Promise<Uint8Array> {
  const fsModule = "node:fs/promises";
  const fs = (await import(fsModule)) as { readFile(path: string): Promise<Uint8Array> };
  return new Uint8Array(await fs.readFile(path));
}

/** The whole exchange: welcome, ping, status, a question, a levels-only analysis; then `audioFile`'s analysis. */
export async function main(url: string = DEFAULT_URL, audioFile?: string): Promise<void> {
  const { client, welcome } = await CodetteClient.open(url);
  try {
    show("welcome", welcome);
    show("ping", await client.ping());
    show("status", await client.status());
    show("chat", await client.chat("How should I compress a snare?", "mix_engineering"));
    show("analyze", await client.analyze(DRUM_BUS, DRUM_BUS_LEVELS, "dynamics"));
    if (audioFile !== undefined) {
      const name = audioFile.split(/[\\/]/).pop() ?? audioFile;
      const track: TrackData = { track_id: "file_001", track_name: name };
      show("analyze_file", await client.analyzeFile(track, { bytes: await readFile(audioFile), name }, "quality"));
    }
  } finally {
    client.close();
  }
}

// Run as a script under Node: the server URL is the first argument.
const node = (globalThis as { process?: { argv: string[]; exitCode?: number } }).process;
if (node !== undefined) {
  main(node.argv[2], node.argv[3]).catch((error: unknown) => {
    console.error(`typescript_client: ${error instanceof Error ? error.message : String(error)}`);
    node.exitCode = 1;
  });
}
