/**
 * The page's connection: the join URL's token and name, keepalive pings, reconnection with growing delays,
 * and a sentence for the student when the server refuses.
 *
 * The token is read from the address bar once, removed from it (history.replaceState) and kept for this tab
 * only (sessionStorage), so a reload still connects; it is never written to the console. A browser WebSocket
 * does not tell why a handshake was refused, so after a failed connect the page asks `/health` with the token
 * as `Authorization: Bearer`: 401 means no token, 403 a wrong one (the `X-Codette-Refusal` header says which,
 * or that the page's origin or host name was refused), 200 a server that refused the page's origin.
 */
import { CodetteClient, CodetteTimeout } from "./client.js";
/** Seconds between keepalive pings, and the most a pong may take (docs/protocol.md). */
export const PING_EVERY_MS = 30_000;
export const PONG_WITHIN_MS = 5_000;
/** Delays before each reconnect (ms); the last repeats. */
export const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000];
const TOKEN_KEY = "codette-token";
/** The join URL's token (then removed from the address bar) and student name. */
export function readJoinParameters() {
    const url = new URL(window.location.href);
    const given = url.searchParams.get("token");
    if (given !== null) {
        sessionStorage.setItem(TOKEN_KEY, given);
        url.searchParams.delete("token");
        window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    }
    return { token: sessionStorage.getItem(TOKEN_KEY), name: url.searchParams.get("name") ?? "" };
}
export class Link {
    token;
    name;
    events;
    client = null;
    attempt = 0;
    timer = null;
    pinger = null;
    stopped = false;
    constructor(token, name, events) {
        this.token = token;
        this.name = name;
        this.events = events;
        window.addEventListener("online", () => (this.client === null ? this.soon() : this.checkAlive()));
        window.addEventListener("offline", () => this.checkAlive());
        document.addEventListener("visibilitychange", () => {
            if (document.visibilityState === "visible")
                this.checkAlive();
        });
    }
    /** The WebSocket URL of this page's server, with the token and the student's name. */
    socketUrl() {
        const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
        const query = new URLSearchParams();
        if (this.token !== null)
            query.set("token", this.token);
        if (this.name !== "")
            query.set("name", this.name);
        return `${scheme}//${window.location.host}/ws?${query.toString()}`;
    }
    start() {
        this.stopped = false;
        void this.connect();
    }
    /** Reconnect under another student name (or set it before `start`). */
    rename(name) {
        this.name = name;
        this.client?.close();
    }
    async connect() {
        this.timer = null;
        this.events.state("connecting", this.attempt === 0 ? "Connecting…" : `Reconnecting (try ${this.attempt + 1})…`);
        let opened;
        try {
            opened = await CodetteClient.open(this.socketUrl());
        }
        catch (error) {
            if (error instanceof CodetteTimeout)
                this.schedule("The server did not answer; trying again");
            else
                await this.refused();
            return;
        }
        const { client, welcome } = opened;
        this.attempt = 0;
        this.client = client;
        client.onclose = (code) => this.lost(client, code);
        this.pinger = setInterval(() => this.checkAlive(), PING_EVERY_MS);
        this.events.state("connected", `Connected as ${this.name || "a student with no name"}`);
        this.events.connected(client, welcome);
    }
    /** Ask for a pong; a connection that gives none within PONG_WITHIN_MS is closed and made again. */
    checkAlive() {
        const client = this.client;
        if (client === null) {
            this.soon();
            return;
        }
        const late = setTimeout(() => this.drop(client), PONG_WITHIN_MS);
        client.ping().then(() => clearTimeout(late), () => clearTimeout(late));
    }
    /** A connection that stopped answering (a lost network, a laptop that slept): give it up and connect anew
     * at once, without waiting for a closing handshake that cannot come. */
    drop(client) {
        if (this.client !== client)
            return;
        this.client = null;
        if (this.pinger !== null)
            clearInterval(this.pinger);
        client.close();
        this.schedule("The server stopped answering; reconnecting");
    }
    lost(client, code) {
        if (this.client !== client)
            return;
        this.client = null;
        if (this.pinger !== null)
            clearInterval(this.pinger);
        const why = code === 1012 ? "The server is restarting" : "The connection was lost";
        this.schedule(`${why} (code ${code}); reconnecting`);
    }
    /** Why the handshake failed, from /health (its status and X-Codette-Refusal); retried unless refused. */
    async refused() {
        let status = 0;
        let reason = "";
        try {
            const headers = this.token === null ? {} : { Authorization: `Bearer ${this.token}` };
            const response = await fetch("/health", { headers, cache: "no-store", signal: AbortSignal.timeout(PONG_WITHIN_MS) });
            status = response.status;
            reason = response.headers.get("X-Codette-Refusal") ?? "";
        }
        catch {
            status = 0;
        }
        if (reason === "token-missing" || status === 401) {
            this.events.state("refused", "This server needs the class token: open the join link your teacher gave you (it ends with ?token=…).");
        }
        else if (reason === "token-wrong" || (status === 403 && reason !== "origin" && reason !== "host")) {
            this.events.state("refused", "The class token in this link is wrong: ask your teacher for the join link again.");
        }
        else if (reason === "origin" || reason === "host" || status === 200) {
            this.schedule("", RECONNECT_DELAYS_MS[RECONNECT_DELAYS_MS.length - 1]); // a refusal may be lifted: try again now and then
            this.events.state("refused", `The server refused this page's address (${window.location.host}): ask your teacher to allow it or to hand out the join link the server printed.`);
            return;
        }
        else {
            this.schedule("The server cannot be reached; trying again");
            return;
        }
        this.stopped = true;
    }
    /** Connect again after the next delay; `sentence` (when not empty) says why, and when. */
    schedule(sentence, delay = RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)]) {
        if (this.stopped || this.timer !== null)
            return;
        this.attempt += 1;
        if (sentence !== "")
            this.events.state("waiting", `${sentence} in ${Math.round(delay / 100) / 10} s…`);
        this.timer = setTimeout(() => void this.connect(), delay * (0.8 + 0.4 * Math.random()));
    }
    /** Try now when the network comes back or the laptop wakes. */
    soon() {
        if (this.client !== null || this.stopped)
            return;
        if (this.timer !== null)
            clearTimeout(this.timer);
        this.timer = null;
        void this.connect();
    }
}
