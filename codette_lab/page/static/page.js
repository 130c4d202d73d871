/**
 * The join page: connects as the join URL says (token, student name), and wires the tracks, Analyze,
 * Listen, Chat and Live input to the connection. The pickers come from the server's `status_response`
 * (`perspectives`, `analysis_types`), asked again on connecting, when a picker is focused and every 15 s, so a
 * perspective or analysis type defined in a notebook appears at once.
 */
import { AnalysisView } from "./analysis.js";
import { ChatView } from "./chat.js";
import { byId } from "./dom.js";
import { Link, readJoinParameters } from "./link.js";
import { LiveInput } from "./live.js";
import { TrackList } from "./tracks.js";
import { TrackTypes } from "./tracktypes.js";
/** What servers without the lists offer: the built-in analysis types and perspectives. */
const BUILTIN_TYPES = ["spectrum", "dynamics", "loudness", "stereo", "transients", "masking", "quality"];
const BUILTIN_PERSPECTIVES = ["mix_engineering", "audio_theory", "creative_production", "technical_troubleshooting", "workflow_optimization", "teaching"];
const STATUS_EVERY_MS = 15_000;
function named(value, fallback) {
    if (!Array.isArray(value))
        return fallback.map((name) => ({ name, description: "" }));
    return value
        .filter((entry) => typeof entry === "object" && entry !== null && typeof entry.name === "string")
        .map((entry) => ({ name: String(entry.name), description: String(entry.description ?? "") }));
}
async function main() {
    const status = byId("connection");
    const say = (sentence) => {
        byId("tracks-note").textContent = sentence;
    };
    const tracks = new TrackList(byId("track-list"), await TrackTypes.load(), say);
    const analysis = new AnalysisView(tracks);
    const live = new LiveInput();
    const chat = new ChatView(() => {
        const context = tracks.dawContext(analysis.selectedId);
        const liveTrack = live.contextTrack();
        if (liveTrack !== null)
            context.tracks = [...context.tracks, liveTrack];
        return context;
    });
    tracks.onchange = () => analysis.updateTracks();
    analysis.updateTracks();
    const { token, name } = readJoinParameters();
    const nameInput = byId("student-name");
    nameInput.value = name;
    const refreshLists = async (client) => {
        let reply;
        try {
            reply = await client.status();
        }
        catch {
            return;
        }
        const types = named(reply.analysis_types, BUILTIN_TYPES);
        analysis.setTypes(types);
        live.setTypes(types);
        chat.setPerspectives(named(reply.perspectives, BUILTIN_PERSPECTIVES));
    };
    const link = new Link(token, name, {
        state(state, sentence) {
            status.dataset.state = state;
            status.textContent = sentence;
            if (state !== "connected")
                analysis.client = chat.client = live.client = null;
        },
        connected(client) {
            analysis.client = chat.client = live.client = client;
            void refreshLists(client);
        },
    });
    let started = false;
    nameInput.addEventListener("change", () => {
        const chosen = nameInput.value.trim();
        if (chosen === "")
            return;
        const url = new URL(window.location.href);
        url.searchParams.set("name", chosen);
        window.history.replaceState(window.history.state, "", url.pathname + url.search);
        if (started)
            link.rename(chosen);
        else {
            started = true;
            link.rename(chosen);
            link.start();
        }
    });
    for (const picker of ["analyze-type", "chat-perspective", "live-type"]) {
        byId(picker).addEventListener("focus", () => {
            if (link.client !== null)
                void refreshLists(link.client);
        });
    }
    setInterval(() => {
        if (link.client !== null)
            void refreshLists(link.client);
    }, STATUS_EVERY_MS);
    const picker = byId("track-files");
    picker.addEventListener("change", () => {
        void tracks.add(Array.from(picker.files ?? []));
        picker.value = "";
    });
    const drop = byId("drop-zone");
    drop.addEventListener("dragover", (event) => {
        event.preventDefault();
        drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
        event.preventDefault();
        drop.classList.remove("over");
        void tracks.add(Array.from(event.dataTransfer?.files ?? []));
    });
    if (name !== "") {
        started = true;
        link.start();
    }
    else {
        status.dataset.state = "name";
        status.textContent = "Type your name to join the class.";
        nameInput.focus();
    }
}
void main();
