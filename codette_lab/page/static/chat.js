/** Chat: a question with the page's tracks as `daw_context`, a perspective from the server's list, the
 * answers with the perspective that gave them and their confidence. */
import { byId, el, setOptions } from "./dom.js";
export class ChatView {
    context;
    pick = byId("chat-perspective");
    input = byId("chat-input");
    send = byId("chat-send");
    log = byId("chat-log");
    client = null;
    constructor(context) {
        this.context = context;
        this.send.addEventListener("click", () => void this.ask());
        this.input.addEventListener("keydown", (event) => {
            if (event.key === "Enter" && !event.shiftKey) {
                event.preventDefault();
                void this.ask();
            }
        });
    }
    setPerspectives(perspectives) {
        setOptions(this.pick, perspectives.map((entry) => ({ value: entry.name, label: entry.name, title: entry.description })));
    }
    async ask() {
        const question = this.input.value.trim();
        if (question === "")
            return;
        const entry = el("li", { class: "exchange" }, el("p", { class: "question" }, question));
        this.log.prepend(entry);
        if (this.client === null) {
            entry.append(el("p", { class: "error" }, "Not connected: ask again once the page is connected."));
            return;
        }
        this.input.value = "";
        this.send.disabled = true;
        try {
            const reply = await this.client.chat(question, this.pick.value || undefined, this.context());
            const confidence = typeof reply.confidence === "number" ? `${Math.round(reply.confidence * 100)} %` : "—";
            entry.append(el("p", { class: "answer" }, String(reply.response ?? "")), el("p", { class: "meta" }, `${String(reply.perspective ?? "")} · confidence ${confidence}`));
        }
        catch (error) {
            entry.append(el("p", { class: "error" }, error instanceof Error ? error.message : String(error)));
        }
        finally {
            this.send.disabled = false;
        }
    }
}
